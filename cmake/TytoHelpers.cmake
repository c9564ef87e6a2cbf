# Helpers that give every library, binary and test the same flags.
#
#   tyto_library(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#       One static library per subsystem folder; DEPS are public (their headers appear in ours).
#   tyto_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s])
#       A GoogleTest program registered with CTest (one CTest entry per program, so that start-up
#       cost is paid once; gtest filters select cases).

set(TYTO_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # Checks the GUARDED_BY/REQUIRES annotations of src/common/mutex.h.
  list(APPEND TYTO_WARNINGS -Wthread-safety)
endif()
if(TYTO_WERROR)
  list(APPEND TYTO_WARNINGS -Werror)
endif()

if(TYTO_SANITIZE)
  string(REPLACE "," ";" _tyto_sanitizers "${TYTO_SANITIZE}")
  set(TYTO_SANITIZE_FLAGS "")
  foreach(s IN LISTS _tyto_sanitizers)
    list(APPEND TYTO_SANITIZE_FLAGS -fsanitize=${s})
  endforeach()
  list(APPEND TYTO_SANITIZE_FLAGS -fno-omit-frame-pointer)
  if("undefined" IN_LIST _tyto_sanitizers)
    # Every UBSan finding aborts, except pointer-overflow, which must stay recoverable so that
    # tests/sanitizers/ubsan.supp can silence one known bug in a third-party header; with
    # halt_on_error=1 (scripts/test.sh) any other pointer-overflow still aborts.
    list(APPEND TYTO_SANITIZE_FLAGS -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow)
  endif()
  # Line tables are enough for sanitizer stack traces and link far faster than full debug info;
  # scripts/test.sh builds these with -O1, as the sanitizers' documentation advises (tests run
  # several times faster than at -O0, findings are the same).
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    add_compile_options(${TYTO_SANITIZE_FLAGS} -gline-tables-only)
  else()
    add_compile_options(${TYTO_SANITIZE_FLAGS} -g1)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND "address" IN_LIST _tyto_sanitizers)
    # Coverage feedback for the libFuzzer targets in tests/fuzz, which link these libraries.
    set(TYTO_FUZZ ON)
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
  add_link_options(${TYTO_SANITIZE_FLAGS})
  add_compile_definitions(TYTO_SANITIZED=1)
endif()

function(tyto_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${TYTO_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

function(tyto_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${TYTO_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()

# libFuzzer targets for parsers of outside input and of stored files; clang only (the sanitizer
# build sets TYTO_FUZZ; call this inside `if(TYTO_FUZZ)`). CTest runs each for TYTO_FUZZ_SECONDS
# from its seed corpus (new inputs go to the build tree, never into the repository). Longer runs:
# docs/testing.md.
#   tyto_fuzzer(NAME SOURCE DEPS SEEDS_DIR [DICT])
set(TYTO_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzzer runs under CTest")
function(tyto_fuzzer name source deps seeds)
  add_executable(${name} ${source})
  target_compile_options(${name} PRIVATE ${TYTO_WARNINGS} -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${deps})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus-${name})
  set(extra "")
  if(ARGC GREATER 4)
    set(extra "-dict=${ARGV4}")
  endif()
  add_test(NAME ${name}
           COMMAND sh -c "mkdir -p ${out} && exec $<TARGET_FILE:${name}> -max_total_time=${TYTO_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -max_len=65536 ${extra} ${out} ${seeds}")
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()
