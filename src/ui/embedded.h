// Files compiled into the binary at build time (src/ui/CMakeLists.txt, embed_files.cmake):
// the built web UI (web/dist, or TYTO_UI_DIST) and the built-in dashboards (dashboards/*.json at
// the repository root), so that `tyto serve` needs nothing installed beside it.
#pragma once

#include <span>
#include <string_view>

namespace tyto::ui {

struct EmbeddedFile {
  std::string_view path;      // relative to its folder, '/'-separated: "assets/index-3f2a.js"
  std::string_view contents;  // its bytes as in the source tree at build time; static storage
};

// Every file of the built UI, sorted by path; empty when the UI was not built before the binary
// (then index.html is missing too, and the server explains how to build it).
std::span<const EmbeddedFile> EmbeddedUiAssets();

// Every dashboards/*.json, sorted by name.
std::span<const EmbeddedFile> EmbeddedDashboards();

}  // namespace tyto::ui
