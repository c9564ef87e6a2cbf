# Runs web/tests/browser.mjs against this build's tyto (ctest's ui_browser_test). Fails, saying
# what is missing and how to get it, when node, Chromium, playwright-core or the built UI is
# absent: a browser test that cannot run must not pass.
#   cmake -DNODE=... -DCHROMIUM=... -DWEB_DIR=... -DUI_DIST=... -DTYTO=... -P run_browser_test.cmake
set(missing "")
if(NOT NODE OR NOT EXISTS "${NODE}")
  list(APPEND missing "node (scripts/install-deps.sh installs Debian's nodejs)")
endif()
if(NOT EXISTS "${CHROMIUM}")
  list(APPEND missing "Chromium at ${CHROMIUM} (scripts/install-deps.sh --test installs Debian's chromium)")
endif()
if(NOT EXISTS "${WEB_DIR}/node_modules/playwright-core/package.json")
  list(APPEND missing "playwright-core in ${WEB_DIR}/node_modules (scripts/build-ui.sh runs npm ci)")
endif()
if(NOT EXISTS "${UI_DIST}/index.html")
  list(APPEND missing "the built UI ${UI_DIST}/index.html (scripts/build-ui.sh, then rebuild tyto so that it embeds it)")
endif()
if(missing)
  list(JOIN missing "\n  - " text)
  message(FATAL_ERROR "ui_browser_test cannot run; missing:\n  - ${text}\n"
                      "Install them, or configure with -DTYTO_UI_TESTS=OFF to leave the browser test out.")
endif()

execute_process(COMMAND "${NODE}" tests/browser.mjs "${TYTO}" --chromium "${CHROMIUM}"
                WORKING_DIRECTORY "${WEB_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ui_browser_test failed (exit status ${rc}); the problems are listed above")
endif()
