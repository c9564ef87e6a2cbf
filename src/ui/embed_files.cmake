# Writes OUTPUT, a C++ file holding every file under DIR that GLOB matches (relative to DIR,
# sorted by path) as a byte array, and FUNCTION() in namespace tyto::ui returning them as
# ui::EmbeddedFile spans (src/ui/embedded.h). Run at build time by CMakeLists.txt (cmake -P),
# again whenever one of the files changes; the output is replaced only when its text changes, so
# an unchanged set recompiles nothing. Files whose names hold characters other than letters,
# digits and . _ - / @ + ~ are left out with a warning (they could not be named in a URL as is).
#   cmake -DDIR=<dir> -DGLOB=<pattern, e.g. *.json or **> -DOUTPUT=<file.cc> -DFUNCTION=<name> -P embed_files.cmake
if(NOT DIR OR NOT GLOB OR NOT OUTPUT OR NOT FUNCTION)
  message(FATAL_ERROR "embed_files.cmake: set DIR, GLOB, OUTPUT and FUNCTION")
endif()

if(GLOB STREQUAL "**")
  file(GLOB_RECURSE files LIST_DIRECTORIES false "${DIR}/*")
else()
  file(GLOB files LIST_DIRECTORIES false "${DIR}/${GLOB}")
endif()
list(SORT files)

set(arrays "")
set(entries "")
set(i 0)
foreach(f IN LISTS files)
  file(RELATIVE_PATH rel "${DIR}" "${f}")
  if(NOT rel MATCHES "^[A-Za-z0-9._@+~/-]+$")
    message(WARNING "embed_files.cmake: not embedding ${f}: its name has characters a URL would escape")
    continue()
  endif()
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # A trailing 0 keeps the array non-empty for an empty file; the size excludes it.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "// ${rel}\nconstexpr unsigned char kFile${i}[] = {${bytes}0x00};\n")
  string(APPEND entries "      {\"${rel}\", std::string_view(reinterpret_cast<const char*>(kFile${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()

if(i EQUAL 0)
  set(body "  return {};")
else()
  set(body "  static const EmbeddedFile kFiles[] = {
${entries}  };
  return kFiles;")
endif()

set(text "// Generated at build time by src/ui/embed_files.cmake from ${DIR}/${GLOB}: do not edit.
#include \"ui/embedded.h\"

namespace tyto::ui {
namespace {

${arrays}
}  // namespace

std::span<const EmbeddedFile> ${FUNCTION}() {
${body}
}

}  // namespace tyto::ui
")

file(WRITE "${OUTPUT}.tmp" "${text}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
