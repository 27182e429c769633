// logging.format: text lines and JSON lines (one object each, escaped), with the request id of
// the thread's HTTP request.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"

namespace semantic::log {
namespace {

constexpr long long kMs = 1700000000123LL;  // 2023-11-14T22:13:20.123Z

class LogFormatTest : public ::testing::Test {
 protected:
  ~LogFormatTest() override { SetFormat(Format::kText); }
};

TEST_F(LogFormatTest, TextLine) {
  SetFormat(Format::kText);
  EXPECT_EQ(FormatLine(Level::kInfo, kMs, "", "hello"), "22:13:20.123 info  hello");
  EXPECT_EQ(FormatLine(Level::kWarn, kMs, "req_1", "hello"), "22:13:20.123 warn  [req_1] hello");
}

TEST_F(LogFormatTest, JsonLineIsOneObject) {
  SetFormat(Format::kJson);
  const std::string msg = "quote \" backslash \\ newline \n tab \t bell \x07 caf\xc3\xa9";
  const std::string line = FormatLine(Level::kError, kMs, "req-9", msg);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], msg);
  EXPECT_EQ(j["request_id"], "req-9");
  EXPECT_FALSE(
      nlohmann::json::parse(FormatLine(Level::kDebug, kMs, "", "x")).contains("request_id"));
}

TEST_F(LogFormatTest, RequestIdIsPerThread) {
  SetRequestId("req_a");
  std::string other = "unset";
  std::thread([&] { other = RequestId(); }).join();
  EXPECT_EQ(RequestId(), "req_a");
  EXPECT_EQ(other, "");
  SetRequestId("");
  EXPECT_EQ(RequestId(), "");
}

}  // namespace
}  // namespace semantic::log
