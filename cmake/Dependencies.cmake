# Every third-party dependency, from Debian 12 packages (see docs/dependencies.md for why each).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)          # Asio + Beast are header-only
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)   # Debian's RE2 ships pkg-config only
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)   # remote write bodies (libsnappy-dev)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)   # zstd request bodies (libzstd-dev)
if(TYTO_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TYTO_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# yaml-cpp 0.7's package config names its target yaml-cpp (no namespace).
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp INTERFACE IMPORTED)
  target_link_libraries(yaml-cpp::yaml-cpp INTERFACE yaml-cpp)
endif()
if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  target_include_directories(RapidJSON::RapidJSON INTERFACE ${RapidJSON_INCLUDE_DIRS} ${RAPIDJSON_INCLUDE_DIRS})
endif()
