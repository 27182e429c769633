// Parsing, validating and printing option values: sizes with units, durations, booleans, enums,
// lists. Error messages name the problem only; the caller adds the key and where it came from.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "config/option.h"

namespace semantic::config {

// "2GiB", "512 MiB", "1.5GB", "4096" (bytes), "64k" (binary). Never negative.
Expected<int64_t> ParseSize(std::string_view text);
// "500ms", "30s", "10m", "1h30m", "2d", "45" (seconds). Result in milliseconds.
Expected<int64_t> ParseDurationMs(std::string_view text);
// Shortest exact spelling: 2147483648 → "2GiB", 1000 → "1000B"; 90000 → "1m30s".
std::string FormatSize(int64_t bytes);
std::string FormatDuration(int64_t ms);

// Text from an environment variable, a flag or a declaration's default → checked Value.
// `home` replaces a leading ~ in kPath values.
Expected<Value> ParseText(const OptionDecl& decl, std::string_view text, const std::string& home);
// A value read from TOML (bool, int64, double, string or string list as the file had it) →
// checked Value; rejects a TOML type that does not fit the option.
Expected<Value> ParseToml(const OptionDecl& decl, const Value& raw, const std::string& home);
// Applies range, choice and custom checks; canonicalizes enum spelling.
Status Validate(const OptionDecl& decl, Value& value);
// Rewrites an alias's value into the option's own syntax (e.g. kv_bits 4 → "q4_0").
Expected<std::string> TranslateAlias(AliasValue kind, std::string_view text);

// Plain text as it would be given in env or on a flag ("2GiB", "a,b", "true").
std::string FormatText(const OptionDecl& decl, const Value& value);
// A TOML literal ("\"2GiB\"", "[\"a\", \"b\"]", "8192", "true").
std::string FormatToml(const OptionDecl& decl, const Value& value);
// TOML string literal with escapes.
std::string QuoteToml(std::string_view s);
// Describes a TOML/raw value's type for error messages ("an integer", "a string").
const char* RawTypeName(const Value& raw);

}  // namespace semantic::config
