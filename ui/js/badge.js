// The cache badge of a turn, defined here only (docs/user-guide.md explains it): how much of the
// prompt the server read from its KV cache, from usage.prompt_tokens_details.cached_tokens.
//   COLD  no prompt token came from the cache (the whole prompt was computed)
//   WARM  some did
//   HOT   at least HOT_FRACTION of the prompt did
export const HOT_FRACTION = 0.9;

export function cacheBadge(cachedTokens, promptTokens) {
  if (!promptTokens || !cachedTokens) return "COLD";
  return cachedTokens / promptTokens >= HOT_FRACTION ? "HOT" : "WARM";
}

// Updates a badge element: its text, data-state (COLD/WARM/HOT) and a tooltip with the counts.
export function setBadge(elem, cachedTokens, promptTokens) {
  const state = promptTokens === undefined ? "NEW" : cacheBadge(cachedTokens, promptTokens);
  elem.textContent = state === "NEW" ? "NEW" : state;
  elem.dataset.state = state;
  elem.className = "badge badge-" + state.toLowerCase();
  elem.title = promptTokens === undefined
    ? "no turn yet"
    : `${cachedTokens} of ${promptTokens} prompt tokens read from the cache`;
}
