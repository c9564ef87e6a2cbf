#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to every test run: installs what is missing, then
# builds and runs the whole suite twice:
#   build/       release (-O2, g++), the build users get, with the web UI built first (so tyto
#                embeds it) and its browser test (ctest ui_browser_test: headless Chromium)
#   build-asan/  clang with AddressSanitizer + UndefinedBehaviorSanitizer and -Wthread-safety,
#                plus a short run of every fuzzer
#   build-tsan/  clang with ThreadSanitizer, for the programs that run threads against each other
# Set TYTO_TEST_BUILDS="release" (or "asan", "tsan") to run some of them. Each fuzzer runs for
# TYTO_FUZZ_SECONDS (10 here, a smoke run that keeps CI within its time; longer runs by hand, see
# docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
jobs=$(nproc)
builds=${TYTO_TEST_BUILDS:-"release asan tsan"}
# Under TSan only what exercises concurrency, to keep CI time down.
tsan_tests="http_test server_test tsdb_test tsdb_wal_test scrape_loop_test forward_test collect_runner_test collect_discovery_test
  inference_test eventstore_test quality_test judge_test rules_engine_test incident_test
  alertmanager_integrations_test alertmanager_dispatch_test nats_test cluster_test cluster_alerting_test"

for b in $builds; do
  case $b in
    release)
      dir=build
      scripts/build-ui.sh
      cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Release -DTYTO_WERROR=ON -DTYTO_UI_TESTS=ON >/dev/null ;;
    asan)
      dir=build-asan
      cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 -DCMAKE_CXX_COMPILER=clang++ \
        -DTYTO_SANITIZE=address,undefined -DTYTO_WERROR=ON -DTYTO_BUILD_BENCHMARKS=OFF -DTYTO_UI_TESTS=OFF \
        -DTYTO_FUZZ_SECONDS="${TYTO_FUZZ_SECONDS:-10}" >/dev/null ;;
    tsan)
      dir=build-tsan
      cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O1 -DCMAKE_CXX_COMPILER=clang++ \
        -DTYTO_SANITIZE=thread -DTYTO_WERROR=ON -DTYTO_BUILD_BENCHMARKS=OFF -DTYTO_UI_TESTS=OFF >/dev/null ;;
    *) echo "unknown build '$b'" >&2; exit 2 ;;
  esac
  echo "=== $b build ($dir) ==="
  if [[ $b == tsan ]]; then
    cmake --build $dir -j "$jobs" --target $tsan_tests
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    (cd $dir && ctest --output-on-failure -j "$jobs" --timeout 600 -R "^($(echo $tsan_tests | tr ' ' '|'))\$")
    continue
  fi
  cmake --build $dir -j "$jobs"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/sanitizers/ubsan.supp
  # The sanitizer build skips the tests labelled `engines` (ClickHouse and the scale-out end to
  # end: minutes of external servers, run in the release stage); their code's unit tests run.
  skip=()
  if [[ $b == asan ]]; then skip=(-LE engines); fi
  (cd $dir && ctest --output-on-failure -j "$jobs" --timeout 600 "${skip[@]}")
done
echo "All tests passed (${builds})."
