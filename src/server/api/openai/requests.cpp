// Validation of /v1/chat/completions and /v1/completions bodies (OpenAI semantics and ranges).
#include "server/api/openai/requests.h"

#include <algorithm>

namespace semantic::server::openai {
namespace {

// Fields shared by both endpoints. Defaults follow OpenAI: temperature 1, top_p 1, no top-k.
bool ParseGeneration(const nlohmann::json& body, Fields& f, GenerationFields* g) {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) {
    f.Fail("model", "'model' is required");
    return false;
  }
  if (!it->is_string()) {
    f.Fail("model", std::string("'model' must be a string, got ") + JsonTypeName(*it));
    return false;
  }
  g->model = it->get<std::string>();
  g->sampling.temperature = 1.0f;
  g->sampling.top_p = 1.0f;
  g->sampling.top_k = 0;
  g->sampling.min_p = 0.0f;
  g->sampling.seed = ~0ull;
  std::optional<double> temperature, top_p, presence, frequency;
  std::optional<long long> max_tokens, max_completion_tokens, seed, n, top_logprobs, top_k;
  std::optional<bool> stream, logprobs;
  std::optional<std::string> user, session, cache_salt;
  f.Number("temperature", 0.0, 2.0, &temperature);
  f.Number("top_p", 0.0, 1.0, &top_p);
  f.Number("presence_penalty", -2.0, 2.0, &presence);
  f.Number("frequency_penalty", -2.0, 2.0, &frequency);
  f.Int("max_tokens", 1, 1 << 20, &max_tokens);
  f.Int("max_completion_tokens", 1, 1 << 20, &max_completion_tokens);
  f.Int("seed", -(1LL << 62), 1LL << 62, &seed);
  f.Int("n", 1, 128, &n);
  f.Int("top_k", 0, 1 << 20, &top_k);
  f.Bool("stream", &stream);
  f.String("user", &user);
  f.String("session_id", &session);
  f.String("cache_salt", &cache_salt);
  f.StringOrList("stop", 4, &g->stop);
  if (!f.ok()) return false;
  if (n && *n != 1) {
    f.Fail("n", "only n=1 is supported, got " + std::to_string(*n));
    return false;
  }
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) {
      f.Fail("stream_options", "'stream_options' must be an object");
      return false;
    }
    Fields sf(*so, "stream_options.");
    std::optional<bool> include_usage;
    if (!sf.Bool("include_usage", &include_usage)) {
      f.Fail(sf.error().param, sf.error().message);
      return false;
    }
    g->include_usage = include_usage.value_or(false);
  }
  if (temperature) g->sampling.temperature = static_cast<float>(*temperature);
  g->temperature_set = temperature.has_value();
  if (top_p) g->sampling.top_p = static_cast<float>(*top_p);
  if (top_k) g->sampling.top_k = static_cast<int>(*top_k);
  if (presence) g->sampling.presence_penalty = static_cast<float>(*presence);
  if (frequency) g->sampling.frequency_penalty = static_cast<float>(*frequency);
  if (presence || frequency) g->sampling.penalty_last_n = -1;
  if (seed) g->sampling.seed = static_cast<uint64_t>(*seed);
  if (max_completion_tokens) g->max_tokens = static_cast<int>(*max_completion_tokens);
  else if (max_tokens) g->max_tokens = static_cast<int>(*max_tokens);
  g->stream = stream.value_or(false);
  g->session_id = session;
  g->user = user;
  g->cache_salt = cache_salt.value_or("");
  return true;
}

bool ParseLogprobs(Fields& f, GenerationFields* g, bool chat) {
  if (chat) {
    std::optional<bool> logprobs;
    std::optional<long long> top;
    f.Bool("logprobs", &logprobs);
    f.Int("top_logprobs", 0, 20, &top);
    if (!f.ok()) return false;
    if (top && !logprobs.value_or(false)) {
      f.Fail("top_logprobs", "'top_logprobs' requires 'logprobs': true");
      return false;
    }
    g->logprobs = logprobs.value_or(false);
    g->top_logprobs = static_cast<int>(top.value_or(0));
  } else {
    std::optional<long long> lp;
    f.Int("logprobs", 0, 5, &lp);
    if (!f.ok()) return false;
    g->logprobs = lp.has_value();
    g->top_logprobs = static_cast<int>(lp.value_or(0));
  }
  return true;
}

// Message content: a string, or an array of {type: "text", text} parts (joined), or null.
bool ContentText(const nlohmann::json& c, const std::string& where, Fields& f, std::string* out) {
  if (c.is_null()) return true;
  if (c.is_string()) {
    *out = c.get<std::string>();
    return true;
  }
  if (!c.is_array()) {
    f.Fail(where, "'" + where + "' must be a string or an array of content parts, got " +
                      JsonTypeName(c));
    return false;
  }
  for (size_t i = 0; i < c.size(); ++i) {
    const auto& part = c[i];
    const std::string pw = where + "[" + std::to_string(i) + "]";
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      f.Fail(pw, "'" + pw + "' must be an object with a string 'type'");
      return false;
    }
    const std::string type = part["type"];
    if (type != "text") {
      f.Fail(pw + ".type", "content part type '" + type + "' is not supported (only 'text')");
      return false;
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      f.Fail(pw + ".text", "'" + pw + ".text' must be a string");
      return false;
    }
    *out += part["text"].get<std::string>();
  }
  return true;
}

// tools: [{type: "function", function: {name, description?, parameters?}}].
std::optional<ApiError> CheckTools(const nlohmann::json& tools) {
  for (size_t i = 0; i < tools.size(); ++i) {
    const auto& t = tools[i];
    const std::string w = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || t.value("type", nlohmann::json()) != "function") {
      return BadRequest("'" + w + "' must be an object with \"type\": \"function\"", w);
    }
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) {
      return BadRequest("'" + w + ".function' must be an object", w + ".function");
    }
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
      return BadRequest("'" + w + ".function.name' must be a non-empty string",
                        w + ".function.name");
    }
  }
  return std::nullopt;
}

// An assistant message's tool_calls: [{id?, type?: "function", function: {name, arguments}}],
// arguments a JSON string (or an object); `where` is "messages[i].tool_calls".
std::optional<ApiError> CheckToolCalls(const nlohmann::json& calls, const std::string& where) {
  if (!calls.is_array()) {
    return BadRequest("'" + where + "' must be an array, got " + JsonTypeName(calls), where);
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    const std::string w = where + "[" + std::to_string(i) + "]";
    if (!c.is_object()) return BadRequest("'" + w + "' must be an object", w);
    if (auto id = c.find("id"); id != c.end() && !id->is_string() && !id->is_null()) {
      return BadRequest("'" + w + ".id' must be a string", w + ".id");
    }
    if (auto t = c.find("type"); t != c.end() && !t->is_null() && *t != "function") {
      return BadRequest("'" + w + ".type' must be \"function\"", w + ".type");
    }
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) {
      return BadRequest("'" + w + ".function' must be an object", w + ".function");
    }
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
      return BadRequest("'" + w + ".function.name' must be a non-empty string",
                        w + ".function.name");
    }
    auto args = fn->find("arguments");
    if (args != fn->end() && !args->is_string() && !args->is_object() && !args->is_null()) {
      return BadRequest(
          "'" + w + ".function.arguments' must be a JSON string, got " + JsonTypeName(*args),
          w + ".function.arguments");
    }
  }
  return std::nullopt;
}

// tool_choice: "none" | "auto" | "required" | {type: "function", function: {name}}, and
// parallel_tool_calls. A forced call needs tools, and a named one a tool of that name.
std::optional<ApiError> ParseToolChoice(const nlohmann::json& body, const nlohmann::json& tools,
                                        Fields& f, ToolChoice* out) {
  std::optional<bool> parallel;
  if (!f.Bool("parallel_tool_calls", &parallel)) return f.error();
  out->parallel = parallel.value_or(true);
  auto it = body.find("tool_choice");
  if (it == body.end() || it->is_null()) return std::nullopt;
  const char* kShape =
      "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", "
      "\"function\": {\"name\": ...}}";
  if (it->is_string()) {
    const std::string mode = *it;
    if (mode == "none")
      out->mode = ToolChoice::Mode::kNone;
    else if (mode == "auto")
      out->mode = ToolChoice::Mode::kAuto;
    else if (mode == "required")
      out->mode = ToolChoice::Mode::kRequired;
    else
      return BadRequest(std::string(kShape) + ", got \"" + mode + "\"", "tool_choice");
  } else if (it->is_object() && it->value("type", nlohmann::json()) == "function" &&
             it->contains("function") && (*it)["function"].is_object() &&
             (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
    out->mode = ToolChoice::Mode::kNamed;
    out->name = (*it)["function"]["name"];
  } else {
    return BadRequest(kShape, "tool_choice");
  }
  const bool forced =
      out->mode == ToolChoice::Mode::kRequired || out->mode == ToolChoice::Mode::kNamed;
  if (forced && (!tools.is_array() || tools.empty())) {
    return BadRequest("'tool_choice' forces a tool call, but 'tools' is empty or missing",
                      "tool_choice");
  }
  if (out->mode == ToolChoice::Mode::kNamed) {
    const auto names = ToolNames(tools);
    if (std::find(names.begin(), names.end(), out->name) == names.end()) {
      return BadRequest("'tool_choice.function.name': no tool named '" + out->name + "' in 'tools'",
                        "tool_choice.function.name");
    }
  }
  return std::nullopt;
}

}  // namespace

ApiResult<ChatRequest> ParseChatRequest(const nlohmann::json& body) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  ChatRequest r;
  Fields f(body);
  if (!ParseGeneration(body, f, &r.gen) || !ParseLogprobs(f, &r.gen, true)) return f.error();
  auto it = body.find("messages");
  if (it == body.end()) return BadRequest("'messages' is required", "messages", "missing_required_parameter");
  if (!it->is_array()) {
    return BadRequest(std::string("'messages' must be an array, got ") + JsonTypeName(*it),
                      "messages");
  }
  if (it->empty()) return BadRequest("'messages' must contain at least one message", "messages");
  static const char* kRoles[] = {"system", "developer", "user", "assistant", "tool"};
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& m = (*it)[i];
    const std::string w = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return BadRequest("'" + w + "' must be an object", w);
    if (!m.contains("role") || !m["role"].is_string()) {
      return BadRequest("'" + w + ".role' is required and must be a string", w + ".role");
    }
    const std::string role = m["role"];
    bool known = false;
    for (const char* k : kRoles) known |= role == k;
    if (!known) {
      return BadRequest("'" + w + ".role' must be one of system, developer, user, assistant, "
                        "tool; got '" + role + "'", w + ".role");
    }
    if (!m.contains("content") && !(role == "assistant" && m.contains("tool_calls"))) {
      return BadRequest("'" + w + ".content' is required", w + ".content");
    }
    std::string text;
    if (m.contains("content") && !ContentText(m["content"], w + ".content", f, &text)) {
      return f.error();
    }
    for (const char* k : {"name", "tool_call_id"}) {
      if (auto v = m.find(k); v != m.end() && !v->is_string() && !v->is_null()) {
        return BadRequest("'" + w + "." + k + "' must be a string, got " + JsonTypeName(*v),
                          w + "." + k);
      }
    }
    if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
      if (auto e = CheckToolCalls(*calls, w + ".tool_calls")) return *e;
    }
    nlohmann::json out = {{"role", role == "developer" ? "system" : role}, {"content", text}};
    for (const char* k : {"name", "tool_calls", "tool_call_id"})
      if (m.contains(k) && !m[k].is_null()) out[k] = m[k];
    r.messages.push_back(std::move(out));
  }
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return BadRequest("'tools' must be an array", "tools");
    if (auto e = CheckTools(*t)) return *e;
    r.tools = *t;
  }
  if (auto e = ParseToolChoice(body, r.tools, f, &r.tool_choice)) return *e;
  return r;
}

ApiResult<CompletionRequest> ParseCompletionRequest(const nlohmann::json& body, int n_vocab) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  CompletionRequest r;
  Fields f(body);
  if (!ParseGeneration(body, f, &r.gen) || !ParseLogprobs(f, &r.gen, false)) return f.error();
  std::optional<bool> echo;
  if (!f.Bool("echo", &echo)) return f.error();
  r.echo = echo.value_or(false);
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) {
    return BadRequest("'prompt' is required", "prompt", "missing_required_parameter");
  }
  if (it->is_string()) {
    r.prompt_text = it->get<std::string>();
  } else if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
    r.prompt_is_tokens = true;
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& v = (*it)[i];
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= n_vocab) {
        return BadRequest("'prompt[" + std::to_string(i) + "]' must be a token id in [0, " +
                              std::to_string(n_vocab) + "), got " + v.dump(),
                          "prompt");
      }
      r.prompt_tokens.push_back(v.get<int32_t>());
    }
  } else if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    r.prompt_text = (*it)[0].get<std::string>();
  } else {
    return BadRequest("'prompt' must be a string or an array of token ids (batches of prompts "
                      "are not supported)", "prompt");
  }
  return r;
}

}  // namespace semantic::server::openai
