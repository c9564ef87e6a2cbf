#!/usr/bin/env bash
# Builds the web UI (web/ -> web/dist), which the C++ build then embeds into the tyto binary
# (served at /ui/). Needs node >= 18 and npm (scripts/install-deps.sh installs Debian's).
#
#   1. `npm ci` in web/, only when web/package-lock.json changed since the last install (a stamp
#      in web/node_modules records its hash), so a rebuild works offline;
#   2. `npm run build` (tsc --noEmit, then vite build into web/dist), only when a file of web/
#      (other than node_modules/, dist/ and tests/) changed since the last build (another stamp),
#      or dist is gone.
#
# Usage: scripts/build-ui.sh [--force]   (--force: install and build whatever the stamps say)
set -euo pipefail
cd "$(dirname "$0")/../web"

force=0
[[ ${1:-} == --force ]] && force=1

for tool in node npm; do
  command -v "$tool" >/dev/null || {
    echo "build-ui: '$tool' not found: run scripts/install-deps.sh (Debian's nodejs and npm), or build without the UI" >&2
    exit 1
  }
done
major=$(node -p 'process.versions.node.split(".")[0]')
if ((major < 18)); then
  echo "build-ui: node $(node --version) is too old: the UI's toolchain needs node 18 or newer" >&2
  exit 1
fi

# Hash of the given files (sorted by name), one line.
hash_files() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

install_stamp=node_modules/.tyto-install-stamp
want_install=$(hash_files package.json package-lock.json)
if ((force)) || [[ ! -f $install_stamp || $(cat "$install_stamp") != "$want_install" ]]; then
  echo "build-ui: npm ci (package-lock.json changed since the last install)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_install" >"$install_stamp"
else
  echo "build-ui: node_modules is current"
fi

build_stamp=node_modules/.tyto-build-stamp
mapfile -d '' sources < <(find . \( -path ./node_modules -o -path ./dist -o -path ./tests \) -prune -o -type f -print0 | sort -z)
want_build=$(hash_files "${sources[@]}")
if ((force)) || [[ ! -f dist/index.html || ! -f $build_stamp || $(cat "$build_stamp") != "$want_build" ]]; then
  echo "build-ui: npm run build -> web/dist"
  rm -f "$build_stamp"
  npm run build --silent
  echo "$want_build" >"$build_stamp"
else
  echo "build-ui: web/dist is current"
fi
