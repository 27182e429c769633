// Generated text from the option table: the reference page, the default TOML file and the
// effective configuration with provenance. Output is deterministic so tests can compare it.
#include "config/render.h"

#include <algorithm>

#include "config/value_parse.h"

namespace semantic::config {
namespace {

// The default as a Value, without ~ expansion (the file and docs show it as declared).
Value DefaultValue(const OptionDecl& d) {
  auto v = ParseText(d, d.default_text, /*home=*/"");
  return v.ok() ? *v : Value(d.default_text);
}

std::string MdEscape(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string DefaultShown(const OptionDecl& d) {
  if (d.default_text.empty()) return "*empty*";
  return "`" + MdEscape(FormatText(d, DefaultValue(d))) + "`";
}

// Wraps `text` into lines of at most `width` characters, each starting with `prefix`.
std::string Wrap(const std::string& text, const std::string& prefix, size_t width = 99) {
  std::string out, line = prefix;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (line.size() > prefix.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = prefix;
    }
    line += (line.size() > prefix.size() ? " " : "") + word;
    start = end + 1;
  }
  return out + line + "\n";
}

std::string AllFlags(const OptionDecl& d) {
  std::string out = "`" + d.FlagName() + "`";
  for (const auto& f : d.short_flags) out += ", `" + f + "`";
  return out;
}

std::string MaskSecret(const OptionDecl& d, const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    return s->empty() ? "\"\"" : "\"****\"";
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    std::string out = "[";
    for (size_t i = 0; i < list->size(); ++i) out += (i ? ", " : "") + std::string("\"****\"");
    return out + "]";
  }
  return FormatToml(d, v);
}

}  // namespace

std::string ConstraintText(const OptionDecl& d) {
  if (d.type == OptionType::kEnum) {
    std::string out = "one of ";
    for (size_t i = 0; i < d.choices.size(); ++i) out += (i ? ", " : "") + d.choices[i];
    return out;
  }
  if (!d.has_range) return "";
  auto bound = [&d](double x) {
    switch (d.type) {
      case OptionType::kSize:
        return FormatSize(static_cast<int64_t>(x));
      case OptionType::kDuration:
        return FormatDuration(static_cast<int64_t>(x));
      case OptionType::kFloat:
        return FormatText(d, Value(x));
      default:
        return std::to_string(static_cast<int64_t>(x));
    }
  };
  return bound(d.min) + " to " + bound(d.max);
}

std::string HelpText(const OptionDecl& d) {
  std::string out = d.help;
  if (d.type == OptionType::kEnum) {
    out += " One of: " + ConstraintText(d).substr(7) + ".";
  } else if (d.has_range) {
    out += " Range: " + ConstraintText(d) + ".";
  }
  if (d.live) out += " Reloaded on SIGHUP.";
  return out;
}

std::string RenderEffective(const LoadedConfig& cfg) {
  std::string out =
      "# Effective configuration (precedence: flag > env > file > default); each value's source "
      "follows it.\n";
  const auto& opts = Options();
  for (const auto& section : Sections()) {
    std::vector<std::pair<std::string, std::string>> rows;  // "key = value", "# origin"
    size_t width = 0;
    for (size_t i = 0; i < opts.size(); ++i) {
      const OptionDecl& d = opts[i];
      if (d.section != section || d.type == OptionType::kIgnored) continue;
      const Value v = d.binding.get(cfg.settings, d);
      std::string line = d.key + " = " + (d.secret ? MaskSecret(d, v) : FormatToml(d, v));
      const Origin& o = cfg.origins[i];
      std::string origin = "# " + o.ToString() + (o.as.empty() ? "" : " (as " + o.as + ")");
      width = std::max(width, line.size());
      rows.push_back({std::move(line), std::move(origin)});
    }
    out += "\n[" + section + "]\n";
    for (const auto& [line, origin] : rows) {
      out += line + std::string(width + 2 - line.size(), ' ') + origin + "\n";
    }
  }
  return out;
}

std::string RenderDefaultToml() {
  std::string out =
      "# semantic configuration: every option at its default value.\n"
      "# Generated from src/config/options.cpp by `semantic config --default-toml`; a unit test "
      "fails\n"
      "# when it is stale. Use it as a starting point for --config FILE; docs/configuration.md "
      "explains\n"
      "# each option, its environment variable and its flag.\n";
  for (const auto& section : Sections()) {
    out += "\n[" + section + "]\n";
    for (const auto& d : Options()) {
      if (d.section != section || d.type == OptionType::kIgnored) continue;
      out += Wrap(HelpText(d), "# ");
      out += d.key + " = " + FormatToml(d, DefaultValue(d)) + "\n";
    }
  }
  out +=
      "\n# Model names a client may send -> a served model (\"default\" or its id); `*` and `?`\n"
      "# match any run of characters / one character; the first match wins. None by default.\n"
      "[aliases]\n"
      "# \"gpt-4o\" = \"default\"\n"
      "# \"claude-sonnet-*\" = \"default\"\n";
  return out;
}

std::string RenderMarkdown() {
  std::string out = R"(# Configuration

<!-- Generated from src/config/options.cpp by `semantic config --markdown > docs/configuration.md`.
     Do not edit by hand: a unit test fails when this file differs from the declarations. -->

Every option of `semantic serve` is declared once, in `src/config/options.cpp`, with its TOML key,
environment variable, flag, default, help and validation. This page, `config/default.toml` and
`semantic serve --help` are generated from those declarations.

## Where values come from

From lowest to highest precedence (a later source overrides an earlier one, option by option):

1. **Defaults**, listed below and in `config/default.toml`.
2. **TOML files**: `--config FILE`, repeatable (a later file wins). Without `--config`, the
   comma-separated files in `SEMANTIC_CONFIG`, if set.
3. **Environment**: `SEMANTIC_<SECTION>__<KEY>`, e.g. `SEMANTIC_SERVER__PORT=9000`.
4. **Flags**: `--<section>-<key>`, e.g. `--server-port 9000`, and the short forms listed per option
   (`-p 9000`, `--port 9000`).

`semantic config [--config FILE] [flags]` prints the effective configuration with the source of
each value (`default`, `file:PATH:LINE`, `env:NAME` or `flag:--name`), and accepts the same flags
as `semantic serve`. `semantic config --default-toml` and `semantic config --markdown` print the
generated files.

An unknown section or key, a value of the wrong type, a value out of range, an unknown enum choice
or size unit is an error that names the option and its source; every problem is reported at once and
the server does not start. Secrets (`server.api_keys`, `server.admin_key`) are masked by
`semantic config`.

## Reloading (SIGHUP)

`kill -HUP <pid>` makes a running `semantic serve` read its configuration again: the same files
(`--config` or `SEMANTIC_CONFIG`), its environment and its flags, and `server.api_key_file`. The
options marked "Reloaded on SIGHUP" below take effect for the requests that start afterwards
(rate-limit buckets keep their level; a lowered limit cuts them). Any other option that changed is
logged as needing a restart and keeps its running value. A file that fails to parse or validate,
or a key file that cannot be read, is logged as an error and changes nothing. Each reload counts in
`semantic_config_reloads_total{result="ok"|"error"}` (docs/metrics.md).

## Value syntax

| Type | TOML | Environment and flags |
|---|---|---|
| integer, number | `8192`, `0.7` | `8192`, `0.7` |
| boolean | `true`, `false` | `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` |
| enum | `"q8_0"` (any letter case) | `q8_0` |
| size | `"2GiB"`, `"512MiB"`, `"1.5GB"`, or an integer number of bytes | `2GiB`. Units: B, KiB, MiB, GiB, TiB (also K, M, G, T), KB, MB, GB, TB (powers of 1000) |
| duration | `"30s"`, `"500ms"`, `"10m"`, `"1h30m"`, `"2d"`, or a number of seconds | `30s`; a plain number is seconds |
| list | `["a", "b"]` or `"a,b"` | `a,b` |
| path | `"~/dir"`; a leading `~` is replaced by `$HOME` | `~/dir` |

## Compatibility with agent-memory

The original project's names are accepted as well:

- Section `[mlx]` is another name for `[model]`, in files and in environment variables
  (`SEMANTIC_MLX__MAX_BATCH_SIZE`).
- The flat form `SEMANTIC_<SECTION>_<KEY>` (`SEMANTIC_MLX_MODEL_ID`, `SEMANTIC_SERVER_PORT`,
  `SEMANTIC_AGENT_CACHE_DIR`) works for every option. An unknown name in this form is only a
  warning, because other programs share the `SEMANTIC_` prefix; in the `__` form it is an error.
- Old key names, in the table below, are aliases; some convert the value.
- Options that have no effect here are accepted with a warning (last table).

| Name | Means |
|---|---|
)";
  const auto& opts = Options();
  for (const auto& d : opts) {
    for (const auto& a : d.aliases) {
      std::string means = "`" + d.Name() + "`";
      if (a.value == AliasValue::kMebibytes) means += "; a plain number is MiB";
      if (a.value == AliasValue::kKvBits)
        means += ": `4` → `q4_0`, `8` → `q8_0`, `16` or `none` → `f16`";
      out += "| `" + a.name + "` | " + means + " |\n";
    }
    for (const auto& e : d.env_aliases) out += "| env `" + e + "` | `" + d.Name() + "` |\n";
  }
  out += "\n| Accepted, no effect | Why |\n|---|---|\n";
  for (const auto& d : opts) {
    if (d.type == OptionType::kIgnored)
      out += "| `" + d.Name() + "` | " + MdEscape(d.help) + " |\n";
  }
  out += R"(
## Limits

What one request may ask of the server, and the answer when it asks for more. Every refusal is a
4xx in the error shape of the route's dialect (OpenAI or Anthropic) naming the limit, never a 5xx;
`tests/py/test_limits.py` tries each one and `tests/py/test_bad_inputs.py` runs the bad-input
catalogue (see docs/robustness.md).

| Limit | Default | Beyond it |
|---|---|---|
)";
  const std::pair<const char*, const char*> kLimits[] = {
      {"server.max_body", "413 `request_too_large`"},
      {"server.max_header_bytes", "431 `headers_too_large`"},
      {"server.max_json_depth", "400 `json_too_deep`"},
      {"server.max_messages", "400 `too_many_messages`, param `messages`"},
      {"server.max_output_tokens",
       "400 `max_tokens_exceeded`, param `max_tokens` (or `max_completion_tokens`)"},
      {"server.read_timeout", "408 `request_timeout` (a body stalled); a stalled header: closed"},
      {"server.write_timeout", "the stream ends, the request is cancelled"},
      {"server.idle_timeout", "the connection is closed"},
      {"server.request_timeout",
       "the output ends: `finish_reason` `length`, `stop_reason` `max_tokens`"},
      {"scheduler.max_queue", "429 `server_overloaded` with Retry-After"},
  };
  for (const auto& [name, answer] : kLimits) {
    for (const auto& d : opts) {
      if (d.Name() == name) {
        out += "| `" + d.Name() + "` | " + DefaultShown(d) + " | " + answer + " |\n";
      }
    }
  }
  out +=
      "| request line (method, path, query) | 8 KiB (HTTP library) | 414 `uri_too_long` |\n"
      "| one header line | 8 KiB (HTTP library) | 400 `bad_http_request` |\n";
  for (const auto& section : Sections()) {
    out += "\n## [" + section + "]" +
           (section == "model" ? " (also [mlx])" : section == "server" ? " (also [security])" : "") +
           "\n\n";
    out += "| Key | Type | Default | Description |\n|---|---|---|---|\n";
    for (const auto& d : opts) {
      if (d.section != section || d.type == OptionType::kIgnored) continue;
      std::string desc = MdEscape(HelpText(d));
      desc += "<br>Env `" + d.EnvName() + "`";
      for (const auto& e : d.env_aliases) desc += ", `" + e + "`";
      desc += "; flag " + AllFlags(d) + ".";
      if (!d.aliases.empty()) {
        desc += " Also ";
        for (size_t i = 0; i < d.aliases.size(); ++i) {
          desc += (i ? ", " : "") + std::string("`") + d.aliases[i].name + "`";
        }
        desc += ".";
      }
      if (d.secret) desc += " Secret: masked by `semantic config`.";
      out += "| `" + d.key + "` | " + TypeName(d.type) + " | " + DefaultShown(d) + " | " + desc +
             " |\n";
    }
  }
  out += R"(
## [aliases]

Model names a client may send, each mapped to a served model: `"name" = "model"`, where the model
is `"default"` (the served model) or the served model's id. The name may hold `*` (any run of
characters) and `?` (one character). Entries are tried in file order and the first match decides;
a later file replaces an earlier file's entry for the same name. Names without `*`/`?` are also
listed by `GET /v1/models`. A target that is not served stops `semantic serve` with an error naming
the alias. Without aliases, the OpenAI routes accept the model's own names (its id, `default`,
`semantic`) and the Anthropic routes also accept any `claude-*` name (Claude Code sends those).

```toml
[aliases]
"gpt-4o" = "default"
"claude-sonnet-*" = "default"
"claude-haiku-*" = "SmolLM2-135M-Instruct.Q4_1"
```
)";
  return out;
}

}  // namespace semantic::config
