// Model profiles (config/model_profiles.h): a profile overrides exactly the [model] options it
// sets; anything else in it is an error naming file, line and key, and leaves the settings alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "config/model_profiles.h"

namespace semantic::config {
namespace {

std::string WriteProfile(const std::string& text) {
  static std::atomic<int> counter{0};
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("semantic_profile_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + ".toml"))
          .string();
  std::ofstream(path) << text;
  return path;
}

TEST(ModelProfiles, OverridesOnlyTheModelOptionsItSets) {
  Settings s = Defaults();
  s.model.max_batch = 5;
  s.server.port = 9999;
  const std::string p = WriteProfile(
      "[model]\npath = \"m/other.gguf\"\nserved_name = \"other\"\nkv_dtype = \"q8_0\"\n"
      "context_length = 4096\ndefault_temperature = 0.2\n");
  ASSERT_TRUE(ApplyProfile(p, "", &s).ok());
  EXPECT_EQ(s.model.path, "m/other.gguf");
  EXPECT_EQ(s.model.served_name, "other");
  EXPECT_EQ(s.model.kv_dtype, KvDtype::kQ8_0);
  EXPECT_EQ(s.model.context_length, 4096);
  EXPECT_DOUBLE_EQ(s.model.default_temperature, 0.2);
  EXPECT_EQ(s.model.max_batch, 5);  // not in the profile: kept
  EXPECT_EQ(s.server.port, 9999);
  std::filesystem::remove(p);
}

TEST(ModelProfiles, AcceptsTheModelSectionAliases) {
  Settings s = Defaults();
  const std::string p = WriteProfile("[mlx]\nmodel_id = \"x.gguf\"\nkv_bits = 4\n");
  ASSERT_TRUE(ApplyProfile(p, "", &s).ok());
  EXPECT_EQ(s.model.path, "x.gguf");
  EXPECT_EQ(s.model.kv_dtype, KvDtype::kQ4_0);
  std::filesystem::remove(p);
}

void ExpectRejected(const std::string& text, const std::string& needle) {
  Settings s = Defaults();
  const Settings before = s;
  const std::string p = WriteProfile(text);
  const Status st = ApplyProfile(p, "", &s);
  EXPECT_FALSE(st.ok()) << text;
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(p), std::string::npos) << st.message();
  EXPECT_EQ(s.model.path, before.model.path);
  EXPECT_EQ(s.model.context_length, before.model.context_length);
  std::filesystem::remove(p);
}

TEST(ModelProfiles, RejectsOtherSectionsBadValuesAndAliases) {
  ExpectRejected("[model]\ncontext_length = 4096\n[server]\nport = 1\n", "server.port");
  ExpectRejected("[model]\ncontext_lenght = 4096\n", "context_lenght");
  ExpectRejected("[model]\ncontext_length = 5\n", "context_length");
  ExpectRejected("[model]\nkv_dtype = \"q3\"\n", "kv_dtype");
  ExpectRejected("[aliases]\n\"gpt-4\" = \"default\"\n", "[aliases]");
  ExpectRejected("[model\npath = 1\n", ":");
}

TEST(ModelProfiles, MissingFileIsAnError) {
  Settings s = Defaults();
  const Status st = ApplyProfile("/nonexistent/profile.toml", "", &s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/profile.toml"), std::string::npos);
}

}  // namespace
}  // namespace semantic::config
