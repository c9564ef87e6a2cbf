// The PromQL lexer: turns a query into tokens as Prometheus's promql/parser/lex.go does, pulled
// one at a time by the parser. Also the quoting helpers the printer shares with it.
#pragma once

#include <string>
#include <string_view>

namespace tyto::promql {

enum class TokenType {
  kEOF,
  kError,  // text holds the message; pos where it happened
  kIdentifier,
  kMetricIdentifier,  // an identifier containing ':'
  kNumber,
  kDuration,
  kString,
  kLeftParen, kRightParen, kLeftBrace, kRightBrace, kLeftBracket, kRightBracket,
  kComma, kColon, kAssign,  // '=' (label matching)
  // Operators.
  kAdd, kSub, kMul, kDiv, kMod, kPow, kEqlc, kNeq, kLss, kLte, kGtr, kGte, kEqlRegex, kNeqRegex, kAt,
  kTrimUpper, kTrimLower,  // </ and >/
  kAnd, kOr, kUnless, kAtan2,
  // Aggregators.
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar, kTopk, kBottomk, kQuantile,
  kCountValues, kLimitk, kLimitRatio,
  // Keywords.
  kBool, kBy, kWithout, kOn, kIgnoring, kGroupLeft, kGroupRight, kOffset, kStart, kEnd, kStep,
  kRange, kAnchored, kSmoothed, kFill, kFillLeft, kFillRight, kMinOf, kMaxOf,
};

struct Token {
  TokenType type = TokenType::kEOF;
  std::string_view text;  // the token as written (for kError: the message)
  int pos = 0;            // byte offset of its first character
  int end() const { return pos + static_cast<int>(text.size()); }
};

bool IsAggregatorToken(TokenType t);
bool IsKeywordToken(TokenType t);   // bool, by, ..., max_of
bool IsOperatorToken(TokenType t);  // + ... atan2, @

// How Prometheus names a token in "unexpected ..." messages: `identifier "foo"`, `<op:+>`,
// `<aggr:sum>`, `<by>`, `"("`, `number "1"`, `end of input`.
std::string TokenDescription(const Token& t);

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  // The next token; kEOF forever at the end. After a kError token the lexer returns kEOF.
  Token Next();

 private:
  Token Make(TokenType t, size_t start);
  Token Error(std::string msg, size_t at);
  Token LexInsideBraces();
  Token LexNumberOrDuration(size_t start);
  Token LexString(size_t start);
  Token LexWord(size_t start);
  bool ScanNumber();

  std::string_view in_;
  size_t pos_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool failed_ = false;
  std::string error_;  // storage for the last error's message
};

// Whether `s` is a label name without quotes: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsLegacyLabelName(std::string_view s);
// Whether `s` is a metric name without quotes: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsLegacyMetricName(std::string_view s);

// Go's strconv.Quote: "..." with \" \\ \n \t \xNN \uNNNN escapes; readable UTF-8 stays as is.
std::string GoQuote(std::string_view s);

// The value of a quoted string token ("...", '...' or `...`), as Go's strconv.Unquote reads it.
// The lexer has already checked the escapes, so this only fails on a bug.
std::string Unquote(std::string_view token);

}  // namespace tyto::promql
