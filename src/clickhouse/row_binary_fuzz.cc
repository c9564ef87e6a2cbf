// Fuzzes RowBinaryReader over replies: any bytes read as rows of strings, arrays, integers and
// nullables end in kCorruption or success, never past the input or into a huge allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "clickhouse/row_binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tyto::clickhouse::RowBinaryReader r(std::string_view(reinterpret_cast<const char*>(data), size));
  bool null = false;
  for (int i = 0; i < 1000 && !r.done(); ++i) {
    bool ok = true;
    switch (i % 6) {
      case 0: ok = r.String().ok(); break;
      case 1: ok = r.StringArray().ok(); break;
      case 2: ok = r.Int64().ok(); break;
      case 3: ok = r.NullableString(&null).ok(); break;
      case 4: ok = r.FixedString(16).ok(); break;
      default: ok = r.VarUInt().ok(); break;
    }
    if (!ok) break;
  }
  return 0;
}
