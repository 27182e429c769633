// The cache badge of a turn (docs/user-guide.md explains it): how much of the prompt the server
// read from its KV cache (usage.prompt_tokens_details.cached_tokens of a chat completion).
//   COLD  no prompt token came from the cache (the whole prompt was computed)
//   WARM  some did, less than HOT_FRACTION of the prompt
//   HOT   at least HOT_FRACTION of the prompt did
// The same rule as the coordination API's `cache_state` (CacheState in
// src/server/api/coordination/format.cpp), which the UI shows as given for coordination turns:
// change both together.
export const HOT_FRACTION = 0.5;

export function cacheBadge(cachedTokens, promptTokens) {
  if (!promptTokens || !cachedTokens) return "COLD";
  return cachedTokens / promptTokens >= HOT_FRACTION ? "HOT" : "WARM";
}

// Updates a badge element: its text, data-state (COLD/WARM/HOT) and a tooltip with the counts.
// `state` (the server's cache_state) wins over the rule when given.
export function setBadge(elem, cachedTokens, promptTokens, state) {
  state = state || (promptTokens === undefined ? "NEW" : cacheBadge(cachedTokens, promptTokens));
  elem.textContent = state === "NEW" ? "NEW" : state;
  elem.dataset.state = state;
  elem.className = "badge badge-" + state.toLowerCase();
  elem.title = promptTokens === undefined
    ? "no turn yet"
    : `${cachedTokens} of ${promptTokens} prompt tokens read from the cache`;
}
