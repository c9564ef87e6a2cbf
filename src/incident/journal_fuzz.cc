// Fuzzes the incident journal's reader: any bytes must parse to frames, a torn tail, or a
// kCorruption status, never a crash, a hang or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "incident/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  tyto::Result<tyto::incident::journal::ParsedFile> parsed = tyto::incident::journal::ParseFile(bytes);
  if (parsed.ok() && parsed->good_bytes > size) __builtin_trap();
  // A parsed file re-encodes to frames that parse again.
  if (parsed.ok()) {
    std::string again = tyto::incident::journal::FileHeader();
    for (const auto& frame : parsed->frames) again += tyto::incident::journal::EncodeFrame(frame);
    tyto::Result<tyto::incident::journal::ParsedFile> reparsed = tyto::incident::journal::ParseFile(again);
    if (!reparsed.ok() || reparsed->frames.size() != parsed->frames.size() || !reparsed->problem.empty()) {
      __builtin_trap();
    }
  }
  return 0;
}
