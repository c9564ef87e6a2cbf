#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running Tyto: installs what is missing,
# builds the web UI (web/dist, which the C++ build embeds) and the release binary, and starts
# `tyto serve --demo` on its embedded default (data in ./data, HTTP on 127.0.0.1:9800, the UI at
# /ui/): a simulated AI fleet is served on local ports and scraped, so there is live data at once.
# Extra arguments go to `tyto serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build-ui.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTYTO_BUILD_TESTS=OFF -DTYTO_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build --target tyto

echo "Starting Tyto on http://127.0.0.1:9800 (data in ./data) with a simulated demo fleet."
echo "Open the UI: http://127.0.0.1:9800/ui/"
echo "Try: curl http://127.0.0.1:9800/api/v1/targets"
exec build/apps/tyto/tyto serve --demo --data-dir ./data --listen 127.0.0.1:9800 "$@"
