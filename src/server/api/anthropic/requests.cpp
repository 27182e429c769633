// Validation of Anthropic Messages bodies (Anthropic's ranges: temperature 0-1, max_tokens >= 0).
#include "server/api/anthropic/requests.h"

#include <algorithm>

#include "server/api/anthropic/cache_control.h"
#include "server/api/anthropic/conversation.h"

namespace semantic::server::anthropic {

using nlohmann::json;

namespace {

constexpr size_t kMaxStopSequences = 64;

// An optional field that must be an object when present; its string `type` must be one of
// `types` (nullptr-terminated). Returns the object or nullptr.
const json* TypedObject(const json& body, const char* key, const char* const* types, Fields& f) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  if (!it->is_object()) {
    f.Fail(key, std::string(key) + ": must be an object, got " + JsonTypeName(*it));
    return nullptr;
  }
  auto t = it->find("type");
  std::string allowed;
  for (const char* const* p = types; *p; ++p) {
    allowed += (allowed.empty() ? "" : ", ") + std::string(*p);
    if (t != it->end() && t->is_string() && *t == *p) return &*it;
  }
  f.Fail(std::string(key) + ".type", std::string(key) + ".type: must be one of " + allowed);
  return nullptr;
}

void ParseChoiceAndThinking(const json& body, Fields& f, ToolChoice* choice) {
  static const char* const kChoices[] = {"auto", "any", "tool", "none", nullptr};
  if (const json* c = TypedObject(body, "tool_choice", kChoices, f)) {
    Fields cf(*c, "tool_choice.");
    std::optional<std::string> name;
    std::optional<bool> no_parallel;
    cf.String("name", &name);
    cf.Bool("disable_parallel_tool_use", &no_parallel);
    const std::string type = (*c)["type"];
    if (cf.ok() && type == "tool" && !name)
      cf.Fail("tool_choice.name", "tool_choice.name: required when tool_choice.type is 'tool'");
    if (!cf.ok()) f.Fail(cf.error().param, cf.error().message);
    using Mode = ToolChoice::Mode;
    choice->mode = type == "none"   ? Mode::kNone
                   : type == "any"  ? Mode::kRequired
                   : type == "tool" ? Mode::kNamed
                                    : Mode::kAuto;
    choice->name = name.value_or("");
    choice->parallel = !no_parallel.value_or(false);
  }
  static const char* const kThinking[] = {"enabled", "disabled", "adaptive", nullptr};
  if (const json* t = TypedObject(body, "thinking", kThinking, f)) {
    Fields tf(*t, "thinking.");
    std::optional<long long> budget;
    if (!tf.Int("budget_tokens", 0, 1LL << 30, &budget))
      f.Fail(tf.error().param, tf.error().message);
  }
}

// tool_choice any/tool needs tools; tool needs one of that name (deferred tools are not there).
std::optional<ApiError> CheckForcedTool(const ToolChoice& c, const json& tools) {
  using Mode = ToolChoice::Mode;
  if (c.mode != Mode::kRequired && c.mode != Mode::kNamed) return std::nullopt;
  if (!tools.is_array() || tools.empty()) {
    return BadRequest(
        "tool_choice: forcing a tool call needs `tools` (none were given, or all "
        "are deferred)",
        "tool_choice");
  }
  const auto names = ToolNames(tools);
  if (c.mode == Mode::kNamed && std::find(names.begin(), names.end(), c.name) == names.end()) {
    return BadRequest("tool_choice.name: no tool named '" + c.name + "' in `tools`",
                      "tool_choice.name");
  }
  return std::nullopt;
}

bool ParseStops(const json& body, Fields& f, std::vector<std::string>* out) {
  auto it = body.find("stop_sequences");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_array()) {
    f.Fail("stop_sequences",
           std::string("stop_sequences: must be an array of strings, got ") + JsonTypeName(*it));
    return false;
  }
  if (it->size() > kMaxStopSequences) {
    f.Fail("stop_sequences", "stop_sequences: at most " + std::to_string(kMaxStopSequences) +
                                 " are allowed, got " + std::to_string(it->size()));
    return false;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      f.Fail("stop_sequences", "stop_sequences." + std::to_string(i) + ": must be a string, got " +
                                   JsonTypeName((*it)[i]));
      return false;
    }
    out->push_back((*it)[i].get<std::string>());
  }
  return true;
}

bool ParseMetadata(const json& body, Fields& f, std::optional<std::string>* user_id) {
  auto it = body.find("metadata");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_object()) {
    f.Fail("metadata", std::string("metadata: must be an object, got ") + JsonTypeName(*it));
    return false;
  }
  Fields mf(*it, "metadata.");
  if (!mf.String("user_id", user_id)) f.Fail(mf.error().param, mf.error().message);
  return f.ok();
}

}  // namespace

std::string SplitAssistantPrefill(json* messages) {
  if (messages->empty() || (*messages)[messages->size() - 1]["role"] != "assistant" ||
      (*messages)[messages->size() - 1].contains("tool_calls")) {
    return "";
  }
  std::string prefill = (*messages)[messages->size() - 1]["content"].get<std::string>();
  messages->erase(messages->size() - 1);
  return prefill;
}

ApiResult<MessagesRequest> ParseMessagesRequest(const json& body, bool count_tokens) {
  if (!body.is_object()) return BadRequest("request body must be a JSON object");
  MessagesRequest r;
  Fields f(body);
  std::optional<std::string> model;
  if (!f.String("model", &model)) return f.error();
  if (!model) return BadRequest("model: field required", "model");
  r.model = *model;
  std::optional<long long> max_tokens, top_k;
  std::optional<double> temperature, top_p;
  std::optional<bool> stream;
  f.Int("max_tokens", 0, 1 << 24, &max_tokens);
  f.Number("temperature", 0.0, 1.0, &temperature);
  f.Number("top_p", 0.0, 1.0, &top_p);
  f.Int("top_k", 0, 1 << 20, &top_k);
  f.Bool("stream", &stream);
  if (!f.ok()) return f.error();
  if (!max_tokens && !count_tokens) return BadRequest("max_tokens: field required", "max_tokens");
  if (!ParseStops(body, f, &r.stop_sequences) || !ParseMetadata(body, f, &r.user_id)) {
    return f.error();
  }
  ParseChoiceAndThinking(body, f, &r.tool_choice);
  if (!f.ok()) return f.error();
  // Anthropic's defaults: temperature 1 (unless the server sets its own), no top-p/top-k cut.
  r.sampling.temperature = temperature ? static_cast<float>(*temperature) : 1.0f;
  r.temperature_set = temperature.has_value();
  r.sampling.top_p = top_p ? static_cast<float>(*top_p) : 1.0f;
  r.sampling.top_k = top_k ? static_cast<int>(*top_k) : 0;
  r.sampling.min_p = 0.0f;
  r.sampling.seed = ~0ull;
  if (max_tokens) r.max_tokens = static_cast<int>(*max_tokens);
  r.stream = stream.value_or(false);
  r.cache_hold_ms = CacheHoldMs(body);

  auto messages = body.find("messages");
  if (messages == body.end() || messages->is_null()) {
    return BadRequest("messages: field required", "messages");
  }
  auto system = body.find("system");
  auto chat = ConvertMessages(system == body.end() ? nullptr : &*system, *messages);
  if (auto* e = std::get_if<ApiError>(&chat)) return *e;
  r.messages = std::move(std::get<json>(chat));
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    auto tools = ConvertTools(*t);
    if (auto* e = std::get_if<ApiError>(&tools)) return *e;
    r.tools = std::move(std::get<json>(tools));
  }
  if (auto e = CheckForcedTool(r.tool_choice, r.tools)) return *e;
  return r;
}

}  // namespace semantic::server::anthropic
