// UiAssets: the files of the built web UI as the server sends them, from the binary (embedded at
// build time from web/dist) or, for UI development, from a directory (tyto.yml ui.assets_dir)
// read at each request so that a rebuild shows without restarting the server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::ui {

class UiAssets {
 public:
  // The files compiled into the binary.
  static std::shared_ptr<const UiAssets> Embedded();
  // The files under `dir`. Fails when it has no index.html (it is not a built UI).
  static Result<std::shared_ptr<const UiAssets>> FromDirectory(Env* env, std::string dir);

  // Whether there is a UI to serve (index.html exists); false for a binary built before the UI.
  bool built() const;
  // The file at `path`, relative to the UI's root ("index.html", "assets/app-1f2e.js"); nullopt
  // when there is none. The caller has refused paths with "..", NUL or a leading '/'.
  std::optional<std::string> Read(std::string_view path) const;
  // Where the files come from, for logs and the not-built page: "embedded" or the directory.
  std::string source() const { return dir_.empty() ? "embedded" : dir_; }

 private:
  UiAssets(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
  Env* env_;
  std::string dir_;  // empty: embedded
};

// The Content-Type for a file name, by its extension ("app.js" -> "text/javascript;
// charset=utf-8"); application/octet-stream when unknown.
std::string_view ContentTypeOf(std::string_view path);

// Whether a path below /ui/ tries to leave it: a "." or ".." segment, a NUL or a backslash.
bool LeavesUiRoot(std::string_view path);

// Whether a path below /ui/ is safe to look up as a file: it does not leave the root, has no
// empty segment and no leading '/'.
bool SafeAssetPath(std::string_view path);

// The page /ui/ shows when the binary holds no built UI: what happened and how to build it.
std::string NotBuiltPage();

}  // namespace tyto::ui
