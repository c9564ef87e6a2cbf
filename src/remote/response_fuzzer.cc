// libFuzzer target: a remote store's query API answers (response.h) are outside input. Any bytes
// must give a Status or a well-formed result (samples within range, ascending, series sorted).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "remote/response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  std::vector<tyto::remote::RemoteSeries> series;
  const int64_t mint = 1000, maxt = 2'000'000'000'000;
  if (tyto::remote::DecodeMatrix(body, mint, maxt, &series).ok()) {
    for (size_t i = 0; i < series.size(); ++i) {
      if (i > 0 && !(series[i - 1].labels < series[i].labels)) std::abort();
      const auto& s = series[i].samples;
      if (s.empty()) std::abort();
      for (size_t k = 0; k < s.size(); ++k) {
        if (s[k].t < mint || s[k].t > maxt) std::abort();
        if (k > 0 && s[k - 1].t >= s[k].t) std::abort();
      }
    }
  }
  std::vector<std::string> strings;
  (void)tyto::remote::DecodeStringList(body, &strings);
  (void)tyto::remote::ErrorMessage(body);
  return 0;
}
