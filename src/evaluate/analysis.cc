#include "evaluate/analysis.h"

#include <algorithm>
#include <array>
#include <string>

#include "evaluate/stop_words.h"

namespace tyto::evaluate {
namespace {

constexpr size_t kMaxRemembered = size_t{64} << 10;
constexpr size_t kRemembered = 4;

struct Remembered {
  std::string text;
  std::shared_ptr<const Analysis> analysis;
};

}  // namespace

void AnalyzeInto(std::string_view text, Analysis* out) {
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  out->tokens.clear();
  out->tokens.reserve(text.size() / 5 + 8);
  ForEachWord(text, [&](const Word& w) {
    Token t;
    t.word = HashWord(w.text);
    t.hash = StemChanges(w) ? WordKey(w, /*stem=*/true) : t.word;  // most words stem to themselves
    t.begin = w.begin;
    t.end = w.end;
    t.stop = StopWordMask(t.word);
    t.letters = static_cast<uint16_t>(std::min<uint32_t>(w.letters, 0xFFFF));
    t.script = w.script;
    t.bytes = static_cast<uint8_t>(std::min<size_t>(w.text.size(), 0xFF));
    out->tokens.push_back(t);
  });
}

std::shared_ptr<const Analysis> Analyze(std::string_view text) {
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  if (text.size() > kMaxRemembered) {
    auto a = std::make_shared<Analysis>();
    AnalyzeInto(text, a.get());
    return a;
  }
  thread_local std::array<Remembered, kRemembered> remembered;
  thread_local size_t next = 0;
  for (const Remembered& r : remembered) {
    if (r.analysis != nullptr && r.text == text) return r.analysis;
  }
  auto a = std::make_shared<Analysis>();
  AnalyzeInto(text, a.get());
  Remembered& slot = remembered[next++ % kRemembered];
  slot.text.assign(text);
  slot.analysis = a;
  return a;
}

}  // namespace tyto::evaluate
