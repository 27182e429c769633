// Value syntax of configuration options: sizes with units, durations, booleans, enums, lists,
// ranges, and the agent-memory alias conversions.
#include <gtest/gtest.h>

#include "config/option.h"
#include "config/value_parse.h"

namespace semantic::config {
namespace {

const OptionDecl& Opt(const char* section, const char* key) {
  const int i = FindOption(section, key);
  EXPECT_GE(i, 0) << section << "." << key;
  return Options().at(i);
}

TEST(ConfigValue, SizesWithUnits) {
  EXPECT_EQ(*ParseSize("2GiB"), 2ll << 30);
  EXPECT_EQ(*ParseSize("512 MiB"), 512ll << 20);
  EXPECT_EQ(*ParseSize("1.5GB"), 1500000000ll);
  EXPECT_EQ(*ParseSize("4096"), 4096);
  EXPECT_EQ(*ParseSize("64k"), 65536);
  EXPECT_EQ(*ParseSize("1tb"), 1000000000000ll);
  EXPECT_EQ(*ParseSize("0"), 0);
  auto bad = ParseSize("2GX");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown size unit 'GX'"), std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(ParseSize("GiB").ok());
  EXPECT_FALSE(ParseSize("-1GiB").ok());
  EXPECT_FALSE(ParseSize("").ok());
}

TEST(ConfigValue, Durations) {
  EXPECT_EQ(*ParseDurationMs("500ms"), 500);
  EXPECT_EQ(*ParseDurationMs("30s"), 30000);
  EXPECT_EQ(*ParseDurationMs("10m"), 600000);
  EXPECT_EQ(*ParseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(*ParseDurationMs("2d"), 172800000);
  EXPECT_EQ(*ParseDurationMs("45"), 45000);
  EXPECT_EQ(*ParseDurationMs("0.5"), 500);
  EXPECT_EQ(*ParseDurationMs("0"), 0);
  auto bad = ParseDurationMs("5x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown duration unit 'x'"), std::string::npos);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("-3s").ok());
  EXPECT_FALSE(ParseDurationMs("s").ok());
}

TEST(ConfigValue, FormatRoundTrips) {
  for (int64_t bytes : {0ll, 1ll, 1000ll, 1024ll, 16ll << 20, 2ll << 30, (3ll << 40) + 1}) {
    EXPECT_EQ(*ParseSize(FormatSize(bytes)), bytes) << FormatSize(bytes);
  }
  EXPECT_EQ(FormatSize(2ll << 30), "2GiB");
  EXPECT_EQ(FormatSize(1000), "1000B");
  for (int64_t ms : {0ll, 1ll, 999ll, 1000ll, 90000ll, 5400000ll, 86400000ll + 1}) {
    EXPECT_EQ(*ParseDurationMs(FormatDuration(ms)), ms) << FormatDuration(ms);
  }
  EXPECT_EQ(FormatDuration(90500), "1m30s500ms");
}

TEST(ConfigValue, TextParsingPerType) {
  const std::string home = "/home/u";
  EXPECT_EQ(std::get<int64_t>(*ParseText(Opt("server", "port"), " 9000 ", home)), 9000);
  EXPECT_FALSE(ParseText(Opt("server", "port"), "90x", home).ok());
  EXPECT_FALSE(ParseText(Opt("server", "port"), "9000.0", home).ok());
  EXPECT_EQ(std::get<double>(*ParseText(Opt("model", "default_temperature"), "0.7", home)), 0.7);
  EXPECT_FALSE(ParseText(Opt("model", "default_temperature"), "nan", home).ok());
  for (const char* t : {"true", "1", "YES", "on"}) {
    EXPECT_TRUE(std::get<bool>(*ParseText(Opt("metrics", "enabled"), t, home))) << t;
  }
  for (const char* t : {"false", "0", "no", "Off"}) {
    EXPECT_FALSE(std::get<bool>(*ParseText(Opt("metrics", "enabled"), t, home))) << t;
  }
  EXPECT_FALSE(ParseText(Opt("metrics", "enabled"), "maybe", home).ok());
  // Enum spelling is canonicalized.
  EXPECT_EQ(std::get<std::string>(*ParseText(Opt("model", "kv_dtype"), "Q8_0", home)), "q8_0");
  EXPECT_EQ(std::get<std::string>(*ParseText(Opt("logging", "level"), "INFO", home)), "info");
  // Lists: comma-separated, trimmed, empty items dropped.
  auto list = ParseText(Opt("server", "cors_origins"), " http://a:3000, ,https://b ", home);
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(std::get<std::vector<std::string>>(*list),
            (std::vector<std::string>{"http://a:3000", "https://b"}));
  EXPECT_FALSE(ParseText(Opt("server", "cors_origins"), "ftp://x", home).ok());
  // Paths: ~ expands, ~user does not.
  EXPECT_EQ(std::get<std::string>(*ParseText(Opt("agent", "cache_dir"), "~/c", home)), "/home/u/c");
  EXPECT_EQ(std::get<std::string>(*ParseText(Opt("agent", "cache_dir"), "~bob/c", home)), "~bob/c");
}

TEST(ConfigValue, RangesAreInclusiveAndNamed) {
  const auto& port = Opt("server", "port");
  EXPECT_TRUE(ParseText(port, "1", "").ok());
  EXPECT_TRUE(ParseText(port, "65535", "").ok());
  auto bad = ParseText(port, "0", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "0 is out of range [1, 65535]");
  auto small = ParseText(Opt("server", "max_body"), "10B", "");
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().message(), "10B is out of range [1KiB, 1GiB]");
}

TEST(ConfigValue, TomlTypesMustFit) {
  const auto& ctx = Opt("model", "context_length");
  auto s = ParseToml(ctx, Value(std::string("8192")), "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "expected an integer, got a string");
  EXPECT_FALSE(ParseToml(ctx, Value(8192.0), "").ok());
  EXPECT_EQ(std::get<int64_t>(*ParseToml(ctx, Value(int64_t{4096}), "")), 4096);
  // Sizes take an integer of bytes or a string with a unit; durations integer seconds too.
  EXPECT_EQ(
      std::get<int64_t>(*ParseToml(Opt("model", "cache_budget"), Value(int64_t{1} << 30), "")),
      1 << 30);
  EXPECT_EQ(std::get<int64_t>(*ParseToml(Opt("server", "shutdown_timeout"), Value(int64_t{5}), "")),
            5000);
  EXPECT_FALSE(ParseToml(Opt("metrics", "enabled"), Value(std::string("true")), "").ok());
  EXPECT_FALSE(ParseToml(Opt("model", "kv_dtype"), Value(int64_t{4}), "").ok());
  // A float option accepts an integer.
  EXPECT_EQ(
      std::get<double>(*ParseToml(Opt("model", "default_temperature"), Value(int64_t{1}), "")),
      1.0);
}

TEST(ConfigValue, AliasConversions) {
  EXPECT_EQ(*TranslateAlias(AliasValue::kKvBits, "4"), "q4_0");
  EXPECT_EQ(*TranslateAlias(AliasValue::kKvBits, "8"), "q8_0");
  EXPECT_EQ(*TranslateAlias(AliasValue::kKvBits, "None"), "f16");
  EXPECT_EQ(*TranslateAlias(AliasValue::kKvBits, "16"), "f16");
  EXPECT_FALSE(TranslateAlias(AliasValue::kKvBits, "3").ok());
  EXPECT_EQ(*TranslateAlias(AliasValue::kMebibytes, "8192"), "8192MiB");
  EXPECT_EQ(*TranslateAlias(AliasValue::kMebibytes, "4GiB"), "4GiB");
}

}  // namespace
}  // namespace semantic::config
