// UiAssets: paths, content types, the embedded set and a development directory.
#include "ui/assets.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"
#include "ui/embedded.h"

namespace tyto::ui {
namespace {

TEST(AssetsTest, SafePaths) {
  EXPECT_TRUE(SafeAssetPath("index.html"));
  EXPECT_TRUE(SafeAssetPath("assets/app-1f2e.js"));
  EXPECT_FALSE(SafeAssetPath(""));
  EXPECT_FALSE(SafeAssetPath("/etc/passwd"));
  EXPECT_FALSE(SafeAssetPath("../secret"));
  EXPECT_FALSE(SafeAssetPath("assets/../../x"));
  EXPECT_FALSE(SafeAssetPath("assets/./x"));
  EXPECT_FALSE(SafeAssetPath("assets//x"));
  EXPECT_FALSE(SafeAssetPath("assets/"));
  EXPECT_FALSE(SafeAssetPath(std::string_view("a\0b", 3)));
  EXPECT_FALSE(SafeAssetPath("a\\..\\b"));
}

TEST(AssetsTest, ContentTypes) {
  EXPECT_EQ(ContentTypeOf("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("assets/a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("assets/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeOf("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeOf("f.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeOf("README"), "application/octet-stream");
}

TEST(AssetsTest, EmbeddedFilesAreSortedAndReadable) {
  auto files = EmbeddedUiAssets();
  auto assets = UiAssets::Embedded();
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(files[i - 1].path, files[i].path);
    }
    auto read = assets->Read(files[i].path);
    ASSERT_TRUE(read.has_value()) << files[i].path;
    EXPECT_EQ(*read, files[i].contents);
  }
  bool has_index = false;
  for (const EmbeddedFile& f : files) has_index = has_index || f.path == "index.html";
  EXPECT_EQ(assets->built(), has_index);
  EXPECT_FALSE(assets->Read("no/such/file.js").has_value());
  EXPECT_NE(NotBuiltPage().find("scripts/build-ui.sh"), std::string::npos);
}

TEST(AssetsTest, DirectoryNeedsIndexHtml) {
  testing::TempDir tmp;
  Env* env = Env::Default();
  auto none = UiAssets::FromDirectory(env, tmp.path());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("has no index.html"), std::string::npos);
  ASSERT_TRUE(env->CreateDirs(tmp.path() + "/assets").ok());
  ASSERT_TRUE(WriteFileAtomically(env, tmp.path() + "/index.html", "<html>").ok());
  ASSERT_TRUE(WriteFileAtomically(env, tmp.path() + "/assets/a.js", "js").ok());
  auto dir = UiAssets::FromDirectory(env, tmp.path() + "/");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_TRUE((*dir)->built());
  EXPECT_EQ((*dir)->Read("assets/a.js").value_or(""), "js");
  EXPECT_FALSE((*dir)->Read("assets").has_value());
  EXPECT_FALSE((*dir)->Read("../x").has_value());
}

}  // namespace
}  // namespace tyto::ui
