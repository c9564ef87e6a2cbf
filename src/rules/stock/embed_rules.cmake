# Writes OUTPUT, a C++ file holding every RULES_DIR/*.yml (sorted by name) as a byte array, and
# StockRuleFiles() returning them. Run by CMakeLists.txt at build time (cmake -P), again whenever
# one of the files changes. The file is replaced only when its text changes, so an unchanged rule
# set recompiles nothing.
#   cmake -DRULES_DIR=<dir> -DOUTPUT=<file.cc> -P embed_rules.cmake
if(NOT RULES_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_rules.cmake: set RULES_DIR and OUTPUT")
endif()

file(GLOB files "${RULES_DIR}/*.yml")
list(SORT files)

set(arrays "")
set(entries "")
set(i 0)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # A trailing 0 keeps the array non-empty for an empty file; the size excludes it.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "// ${name}\nconstexpr unsigned char kFile${i}[] = {${bytes}0x00};\n")
  string(APPEND entries "      {\"${name}\", std::string(reinterpret_cast<const char*>(kFile${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()

set(text "// Generated at build time by src/rules/stock/embed_rules.cmake from rules/*.yml: do not edit.
#include \"rules/stock/stock_rules.h\"

namespace tyto::rules {
namespace {

${arrays}
}  // namespace

std::vector<StockFile> StockRuleFiles() {
  return {
${entries}  };
}

}  // namespace tyto::rules
")

file(WRITE "${OUTPUT}.tmp" "${text}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
