#include "judge/reply.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdio>
#include <cstdlib>

#include "events/decode_limits.h"
#include "scrape/text_lexing.h"

namespace tyto::judge {

namespace {

constexpr size_t kSnippetBytes = 200;
constexpr size_t kMaxSearchBytes = 64 * 1024;
constexpr int kMaxCandidateObjects = 32;

std::string Snippet(std::string_view text) { return "\"" + scrape::Printable(text, kSnippetBytes) + "\""; }

std::string FormatScore(double score) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", score);
  return buf;
}

int64_t TokenCount(const rapidjson::Value& usage, const char* name) {
  const auto it = usage.FindMember(name);
  if (it == usage.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() < 0) return 0;
  return it->value.GetInt64();
}

// Explanations become log records and UI text: valid UTF-8, bounded, on one line.
std::string CleanExplanation(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxExplanationBytes + 8));
  bool space = false;
  for (char c : text) {
    if (out.size() > kMaxExplanationBytes + 4) break;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  events::RepairUtf8(&out);
  events::TruncateUtf8(&out, kMaxExplanationBytes);
  return out;
}

Status OutOfRange(double score, std::string_view content) {
  return InvalidArgument("the judge's score " + FormatScore(score) + " is outside 1 to 5: " + Snippet(content));
}

// The first JSON object at or after `text`'s start with a numeric top-level "score". Sets
// *found when one is found (then the result is its verdict or why its score is unusable).
Result<Verdict> FindJsonVerdict(std::string_view text, bool* found) {
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseValidateEncodingFlag;
  int candidates = 0;
  for (size_t at = text.find('{'); at != std::string_view::npos && candidates < kMaxCandidateObjects;
       at = text.find('{', at + 1), ++candidates) {
    rapidjson::Document doc;
    doc.Parse<kFlags>(text.data() + at, text.size() - at);
    if (doc.HasParseError() || !doc.IsObject()) continue;
    const rapidjson::Value& object = doc;
    const auto score = object.FindMember("score");
    if (score == object.MemberEnd() || !score->value.IsNumber()) continue;
    *found = true;
    const double s = score->value.GetDouble();
    if (!(s >= 1 && s <= 5)) return OutOfRange(s, text);
    Verdict v;
    v.score = s;
    const auto explanation = object.FindMember("explanation");
    if (explanation != object.MemberEnd() && explanation->value.IsString()) {
      v.explanation = CleanExplanation({explanation->value.GetString(), explanation->value.GetStringLength()});
    }
    return v;
  }
  return InvalidArgument("no JSON object with a numeric score");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithScoreWord(std::string_view text, size_t at) {
  constexpr std::string_view kWord = "score";
  if (text.size() - at < kWord.size()) return false;
  for (size_t i = 0; i < kWord.size(); ++i) {
    if (Lower(text[at + i]) != kWord[i]) return false;
  }
  return true;
}

// "Score: 4", "score = 4/5", "**Score:** 3.5", "'score': '4'": the word, then spaces, quotes or
// asterisks around exactly one ':' or '=', then a number of at most 6 digits before and after a
// point.
Result<Verdict> FindTextVerdict(std::string_view text, bool* found) {
  for (size_t at = 0; at < text.size(); ++at) {
    if (!StartsWithScoreWord(text, at)) continue;
    size_t i = at + 5;
    int separators = 0;
    for (; i < text.size() && i < at + 16; ++i) {
      const char c = text[i];
      if (c == ':' || c == '=') {
        ++separators;
      } else if (c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '*') {
        break;
      }
    }
    if (separators != 1 || i >= text.size() || !IsDigit(text[i])) continue;
    const size_t start = i;
    while (i < text.size() && i - start < 6 && IsDigit(text[i])) ++i;
    if (i + 1 < text.size() && text[i] == '.' && IsDigit(text[i + 1])) {
      const size_t point = ++i;
      while (i < text.size() && i - point < 6 && IsDigit(text[i])) ++i;
    }
    const std::string number(text.substr(start, i - start));
    const double s = std::strtod(number.c_str(), nullptr);
    *found = true;
    if (!(s >= 1 && s <= 5)) return OutOfRange(s, text);
    Verdict v;
    v.score = s;
    v.explanation = CleanExplanation(text);
    return v;
  }
  return InvalidArgument("no score in the text");
}

}  // namespace

Result<Completion> ParseCompletion(std::string_view body) {
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::Document doc;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    return InvalidArgument(std::string("reply is not JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) +
                           " at byte " + std::to_string(doc.GetErrorOffset()) + "): " + Snippet(body));
  }
  const rapidjson::Value& root = doc;
  if (!root.IsObject()) return InvalidArgument("reply is not a JSON object: " + Snippet(body));
  if (const auto error = root.FindMember("error"); error != root.MemberEnd() && !error->value.IsNull()) {
    const rapidjson::Value& e = error->value;
    if (e.IsObject()) {
      const auto message = e.FindMember("message");
      if (message != e.MemberEnd() && message->value.IsString()) {
        return InvalidArgument("reply is an error: " +
                               Snippet({message->value.GetString(), message->value.GetStringLength()}));
      }
    }
    return InvalidArgument("reply is an error: " + Snippet(body));
  }
  const auto choices = root.FindMember("choices");
  if (choices == root.MemberEnd() || !choices->value.IsArray() || choices->value.Empty()) {
    return InvalidArgument("reply has no choices: " + Snippet(body));
  }
  const rapidjson::Value& choice = choices->value[0];
  if (!choice.IsObject()) return InvalidArgument("reply's choices[0] is not an object: " + Snippet(body));
  Completion c;
  if (const auto finish = choice.FindMember("finish_reason");
      finish != choice.MemberEnd() && finish->value.IsString()) {
    c.finish_reason.assign(finish->value.GetString(), finish->value.GetStringLength());
  }
  const auto message = choice.FindMember("message");
  if (message == choice.MemberEnd() || !message->value.IsObject()) {
    return InvalidArgument("reply's choices[0] has no message: " + Snippet(body));
  }
  const auto content = message->value.FindMember("content");
  if (content == message->value.MemberEnd() || !content->value.IsString()) {
    return InvalidArgument("reply's choices[0].message has no text content (finish_reason " + Snippet(c.finish_reason) +
                           "): " + Snippet(body));
  }
  c.content.assign(content->value.GetString(), content->value.GetStringLength());
  if (const auto usage = root.FindMember("usage"); usage != root.MemberEnd() && usage->value.IsObject()) {
    c.prompt_tokens = TokenCount(usage->value, "prompt_tokens");
    c.completion_tokens = TokenCount(usage->value, "completion_tokens");
  }
  return c;
}

Result<Verdict> ParseVerdict(std::string_view content) {
  std::string_view text = content.substr(0, kMaxSearchBytes);
  constexpr std::string_view kEndOfThinking = "</think>";
  if (const size_t end = text.rfind(kEndOfThinking); end != std::string_view::npos) {
    text.remove_prefix(end + kEndOfThinking.size());
  }
  bool found = false;
  auto json = FindJsonVerdict(text, &found);
  if (found) return json;
  auto prose = FindTextVerdict(text, &found);
  if (found) return prose;
  return InvalidArgument("the judge's answer has no score (want {\"score\": 1-5, \"explanation\": \"...\"}): " +
                         Snippet(content));
}

double NormalizedScore(double score) { return (score - 1) / 4; }

std::string ScoreLabel(double score) { return "score_" + FormatScore(score); }

}  // namespace tyto::judge
