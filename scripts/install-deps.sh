#!/usr/bin/env bash
# Installs what Tyto needs to build and test, from Debian 12 packages only. Idempotent: a
# package already installed is skipped, and apt is not touched when nothing is missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite needs)
# node and npm build the web UI (scripts/build-ui.sh); they are installed from Debian (node 18)
# unless a node 18 or newer is already on the PATH (e.g. from NodeSource), which is kept.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git ca-certificates
  # libraries (see docs/dependencies.md for why each)
  libboost-dev libssl-dev zlib1g-dev libyaml-cpp-dev libfmt-dev libcli11-dev rapidjson-dev libre2-dev
  libsnappy-dev libsqlite3-dev libnats-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # used by the run command to show that the server is up
  curl
)
# The web UI's toolchain: Debian's nodejs and npm, unless a recent enough node is there already
# (NodeSource's nodejs package conflicts with Debian's npm, so packages are not the test).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 18)) || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if [[ ${1:-} == --test ]]; then
  packages+=(
    chromium                   # the UI's browser test (web/tests/browser.mjs) drives it headless
    clang libclang-rt-14-dev   # the sanitizer (ASan+UBSan) and -Wthread-safety build
    openssl                    # TLS tests make throwaway certificates
    prometheus                 # the agent's forwarding test uses Debian's Prometheus as a receiver
    prometheus-alertmanager    # alerting tests forward to Debian's Alertmanager and read it back
    ccache                     # faster rebuilds
    clickhouse-server clickhouse-client  # scale-out tests: events, traces and logs in ClickHouse 18.16
    nats-server                # scale-out tests: agent -> server transport and shared state (JetStream)
    victoria-metrics           # scale-out tests: the remote metrics store
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
