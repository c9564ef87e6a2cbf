#include "ui/assets.h"

#include <algorithm>

#include "ui/embedded.h"

namespace tyto::ui {

std::shared_ptr<const UiAssets> UiAssets::Embedded() {
  return std::shared_ptr<const UiAssets>(new UiAssets(nullptr, ""));
}

Result<std::shared_ptr<const UiAssets>> UiAssets::FromDirectory(Env* env, std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!env->FileExists(dir + "/index.html")) {
    return InvalidArgument("ui.assets_dir: " + dir +
                           " has no index.html (expected a built UI: cd web && npm run build, then web/dist)");
  }
  return std::shared_ptr<const UiAssets>(new UiAssets(env, std::move(dir)));
}

bool UiAssets::built() const { return Read("index.html").has_value(); }

std::optional<std::string> UiAssets::Read(std::string_view path) const {
  if (!SafeAssetPath(path)) return std::nullopt;
  if (dir_.empty()) {
    auto files = EmbeddedUiAssets();
    auto it = std::lower_bound(files.begin(), files.end(), path,
                               [](const EmbeddedFile& f, std::string_view p) { return f.path < p; });
    if (it == files.end() || it->path != path) return std::nullopt;
    return std::string(it->contents);
  }
  const std::string full = dir_ + "/" + std::string(path);
  Result<std::string> text = env_->ReadFile(full);  // a directory or a missing file fails alike
  if (!text.ok()) return std::nullopt;
  return std::move(text).value();
}

std::string_view ContentTypeOf(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "webmanifest") return "application/manifest+json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  if (ext == "ttf") return "font/ttf";
  if (ext == "wasm") return "application/wasm";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

namespace {

// Whether any '/'-separated segment of `path` satisfies `bad`.
template <typename Pred>
bool AnySegment(std::string_view path, Pred bad) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (bad(path.substr(start, end - start))) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

bool LeavesUiRoot(std::string_view path) {
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return true;
  return AnySegment(path, [](std::string_view seg) { return seg == "." || seg == ".."; });
}

bool SafeAssetPath(std::string_view path) {
  if (path.empty() || path.front() == '/' || LeavesUiRoot(path)) return false;
  return !AnySegment(path, [](std::string_view seg) { return seg.empty(); });
}

std::string NotBuiltPage() {
  return R"(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Tyto: web UI not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1b1f24;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e8eb;background:#111418}a{color:#7cb7ff}}
code,pre{font-family:ui-monospace,monospace;background:rgba(127,127,127,.15);padding:.1rem .3rem;border-radius:4px}pre{padding:.6rem}</style>
</head>
<body>
<h1>The web UI is not built into this binary</h1>
<p>This Tyto server was compiled before the web UI was built, so it has no UI to show here.
Everything else works: the Prometheus-compatible API, Grafana, the <code>tyto</code> command.</p>
<p>To get the UI, build it (this needs Node.js 18 or newer), then rebuild Tyto, which embeds it:</p>
<pre>scripts/build-ui.sh
cmake --build build</pre>
<p>Or point a running server at a built UI with <code>ui: {assets_dir: web/dist}</code> in tyto.yml.</p>
<p>Meanwhile: <a href="/api/v1/status/buildinfo">build information</a>,
<a href="/api/v1/targets">targets</a>, <a href="/api/v1/alerts">alerts</a>,
<a href="/api/v1/dashboards">dashboards</a>, <a href="/metrics">Tyto's own metrics</a>.</p>
</body>
</html>
)";
}

}  // namespace tyto::ui
