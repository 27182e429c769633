// The embedded web UI: the files of ui/ are in the binary byte for byte, a request path names a
// file only by its exact embedded name (no traversal, no prefix tricks), content types by
// extension.
#include "server/http/static_ui.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace semantic::server {
namespace {

// An embedded name's source: "scenarios/x.yaml" is scenarios/x.yaml, anything else is ui/<name>.
std::string ReadSourceFile(const std::string& rel) {
  const bool scenario = rel.rfind("scenarios/", 0) == 0;
  std::ifstream in(std::string(SEMANTIC_SOURCE_DIR) + (scenario ? "/" : "/ui/") + rel,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(StaticUiTest, EmbedsEveryUiFileByteForByte) {
  ASSERT_FALSE(UiAssets().empty());
  bool index = false, app = false;
  for (const UiAsset& a : UiAssets()) {
    EXPECT_EQ(a.body, ReadSourceFile(std::string(a.path))) << a.path;
    EXPECT_EQ(a.etag.size(), 16u) << a.path;
    index |= a.path == "index.html";
    app |= a.path == "js/app.js";
  }
  EXPECT_TRUE(index);
  EXPECT_TRUE(app);
}

TEST(StaticUiTest, RootAndSlashServeIndex) {
  for (const char* p : {"/ui", "/ui/", "/ui/index.html"}) {
    auto f = FindUiFile(p);
    ASSERT_TRUE(f) << p;
    EXPECT_EQ(f->asset->path, "index.html");
    EXPECT_EQ(f->content_type, "text/html; charset=utf-8");
  }
  auto js = FindUiFile("/ui/js/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
}

TEST(StaticUiTest, OnlyExactEmbeddedNamesResolve) {
  for (const char* p :
       {"/ui/../CMakeLists.txt", "/ui/js/../index.html", "/ui/./index.html", "/ui//index.html",
        "/ui/%2e%2e/CMakeLists.txt", "/ui/js/../../../etc/passwd", "/ui/../../etc/passwd", "/ui/js",
        "/ui/js/", "/ui/nothing.html", "/ui/index.html/", "/ui/INDEX.HTML", "/uix", "/ui.html",
        "/index.html", "/", "", "/ui/\\index.html"}) {
    EXPECT_FALSE(FindUiFile(p)) << p;
  }
}

TEST(StaticUiTest, ContentTypesByExtension) {
  EXPECT_EQ(UiContentType("a/b.css"), "text/css; charset=utf-8");
  EXPECT_EQ(UiContentType("x.svg"), "image/svg+xml");
  EXPECT_EQ(UiContentType("x.json"), "application/json");
  EXPECT_EQ(UiContentType("x.png"), "image/png");
  EXPECT_EQ(UiContentType("scenarios/gossip.yaml"), "application/yaml");
  EXPECT_EQ(UiContentType("x"), "application/octet-stream");
  EXPECT_EQ(UiContentType("x.html.bak"), "application/octet-stream");
}

}  // namespace
}  // namespace semantic::server
