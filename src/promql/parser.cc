// A recursive-descent (precedence-climbing) parser with the grammar, precedence and error
// messages of Prometheus's yacc grammar (promql/parser/generated_parser.y), then the type checks
// of its checkAST. Stops at the first error, as Prometheus reports only its first.
#include "promql/parser.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>

#include "common/units.h"
#include "promql/functions.h"
#include "promql/lex.h"

namespace tyto::promql {
namespace {

constexpr int kPowPrecedence = 6;

std::optional<BinaryOp> BinaryOpFor(TokenType t) {
  switch (t) {
    case TokenType::kAdd: return BinaryOp::kAdd;
    case TokenType::kSub: return BinaryOp::kSub;
    case TokenType::kMul: return BinaryOp::kMul;
    case TokenType::kDiv: return BinaryOp::kDiv;
    case TokenType::kMod: return BinaryOp::kMod;
    case TokenType::kPow: return BinaryOp::kPow;
    case TokenType::kAtan2: return BinaryOp::kAtan2;
    case TokenType::kEqlc: return BinaryOp::kEql;
    case TokenType::kNeq: return BinaryOp::kNeq;
    case TokenType::kGtr: return BinaryOp::kGtr;
    case TokenType::kLss: return BinaryOp::kLss;
    case TokenType::kGte: return BinaryOp::kGte;
    case TokenType::kLte: return BinaryOp::kLte;
    case TokenType::kAnd: return BinaryOp::kAnd;
    case TokenType::kOr: return BinaryOp::kOr;
    case TokenType::kUnless: return BinaryOp::kUnless;
    case TokenType::kTrimUpper: return BinaryOp::kTrimUpper;
    case TokenType::kTrimLower: return BinaryOp::kTrimLower;
    default: return std::nullopt;
  }
}

// Prometheus's %left/%right lines, lowest first.
int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr: return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless: return 2;
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte: return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub: return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
    case BinaryOp::kAtan2:
    case BinaryOp::kTrimUpper:
    case BinaryOp::kTrimLower: return 5;
    case BinaryOp::kPow: return kPowPrecedence;
  }
  return 0;
}

std::optional<AggregateOp> AggregateOpFor(TokenType t) {
  switch (t) {
    case TokenType::kSum: return AggregateOp::kSum;
    case TokenType::kAvg: return AggregateOp::kAvg;
    case TokenType::kCount: return AggregateOp::kCount;
    case TokenType::kMin: return AggregateOp::kMin;
    case TokenType::kMax: return AggregateOp::kMax;
    case TokenType::kGroup: return AggregateOp::kGroup;
    case TokenType::kStddev: return AggregateOp::kStddev;
    case TokenType::kStdvar: return AggregateOp::kStdvar;
    case TokenType::kTopk: return AggregateOp::kTopk;
    case TokenType::kBottomk: return AggregateOp::kBottomk;
    case TokenType::kQuantile: return AggregateOp::kQuantile;
    case TokenType::kCountValues: return AggregateOp::kCountValues;
    case TokenType::kLimitk: return AggregateOp::kLimitk;
    case TokenType::kLimitRatio: return AggregateOp::kLimitRatio;
    default: return std::nullopt;
  }
}

// Keywords Prometheus's metric_identifier rule accepts as metric names.
bool KeywordIsMetricName(TokenType t) {
  switch (t) {
    case TokenType::kBy:
    case TokenType::kWithout:
    case TokenType::kOffset:
    case TokenType::kStart:
    case TokenType::kEnd:
    case TokenType::kStep:
    case TokenType::kRange:
    case TokenType::kAnchored:
    case TokenType::kSmoothed:
    case TokenType::kAnd:
    case TokenType::kOr:
    case TokenType::kUnless:
    case TokenType::kFill:
    case TokenType::kFillLeft:
    case TokenType::kFillRight:
    case TokenType::kMinOf:
    case TokenType::kMaxOf:
      return true;
    default:
      return IsAggregatorToken(t);
  }
}

// Words usable as a label name in grouping lists (identifiers and keywords).
bool IsWordToken(TokenType t) {
  return t == TokenType::kIdentifier || IsAggregatorToken(t) || IsKeywordToken(t) || t == TokenType::kAnd ||
         t == TokenType::kOr || t == TokenType::kUnless || t == TokenType::kAtan2;
}

std::string GoFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  std::snprintf(buf, sizeof(buf), "%f", v);
  return buf;
}

Result<double> DurationSeconds(const Expr& e, double step_s, double range_s) {
  if (e.kind() == NodeKind::kNumberLiteral) return e.As<NumberLiteral>().value;
  if (e.kind() != NodeKind::kDuration) return InvalidArgument("not a duration expression");
  const auto& d = e.As<DurationExpr>();
  switch (d.op) {
    case DurationExpr::Op::kStep: return step_s;
    case DurationExpr::Op::kRange: return range_s;
    case DurationExpr::Op::kNegate: {
      TYTO_ASSIGN_OR_RETURN(double v, DurationSeconds(*d.rhs, step_s, range_s));
      return -v;
    }
    case DurationExpr::Op::kMinOf:
    case DurationExpr::Op::kMaxOf:
    case DurationExpr::Op::kBinary: {
      TYTO_ASSIGN_OR_RETURN(double a, DurationSeconds(*d.lhs, step_s, range_s));
      TYTO_ASSIGN_OR_RETURN(double b, DurationSeconds(*d.rhs, step_s, range_s));
      if (d.op == DurationExpr::Op::kMinOf) return std::min(a, b);
      if (d.op == DurationExpr::Op::kMaxOf) return std::max(a, b);
      switch (d.binary) {
        case BinaryOp::kAdd: return a + b;
        case BinaryOp::kSub: return a - b;
        case BinaryOp::kMul: return a * b;
        case BinaryOp::kDiv:
          if (b == 0) return InvalidArgument("division by zero");
          return a / b;
        case BinaryOp::kMod:
          if (b == 0) return InvalidArgument("modulo by zero");
          return std::fmod(a, b);
        case BinaryOp::kPow: return std::pow(a, b);
        default: return InvalidArgument("unexpected operator in duration expression");
      }
    }
  }
  return InvalidArgument("unexpected duration expression");
}

Result<std::chrono::milliseconds> SecondsToMillis(double s) {
  double ms = s * 1000;
  if (!std::isfinite(ms) || std::fabs(ms) >= 9.2e18) return InvalidArgument("duration out of range");
  // Rounded, not truncated: 1.001 s is 1000.9999999999999 ms in binary.
  return std::chrono::milliseconds(std::llround(ms));
}

class Parser {
 public:
  Parser(std::string_view in, const ParseOptions& opt) : in_(in), lex_(in), opt_(opt) {}

  Result<ExprPtr> Run() {
    if (Peek().type == TokenType::kEOF) {
      Fail(0, "no expression found in input");
      return err_;
    }
    ExprPtr e = ParseExpr(0);
    if (e && Peek().type != TokenType::kEOF) Unexpected("", "");
    if (!err_.ok()) return err_;
    Check(*e);
    if (!err_.ok()) return err_;
    return e;
  }

 private:
  // --- tokens and errors ---

  // By value: a reference into the lookahead would dangle after Take().
  Token Peek(size_t k = 0) {
    while (la_.size() <= k) la_.push_back(lex_.Next());
    return la_[k];
  }
  Token Take() {
    Token t = Peek();
    la_.pop_front();
    last_end_ = t.end();
    return t;
  }
  bool ok() const { return err_.ok(); }

  void Fail(int pos, const std::string& msg) {
    if (!err_.ok()) return;
    int line = 1;
    int last_break = -1;
    for (int i = 0; i < pos && i < static_cast<int>(in_.size()); ++i) {
      if (in_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    err_ = InvalidArgument(std::to_string(line) + ":" + std::to_string(pos - last_break) + ": parse error: " + msg);
  }

  // "unexpected <token> [in <context>][, expected <expected>]" at the next token; a lexer error
  // is reported as it is.
  std::nullptr_t Unexpected(std::string_view context, std::string_view expected) {
    const Token& t = Peek();
    if (t.type == TokenType::kError) {
      Fail(t.pos, std::string(t.text));
      return nullptr;
    }
    std::string msg = "unexpected " + TokenDescription(t);
    if (!context.empty()) msg += " in " + std::string(context);
    if (!expected.empty()) msg += ", expected " + std::string(expected);
    Fail(t.pos, msg);
    return nullptr;
  }

  bool Deeper(int pos) {
    if (++depth_ > opt_.max_depth) {
      Fail(pos, "expression nests too deeply (more than " + std::to_string(opt_.max_depth) + " levels)");
      return false;
    }
    return true;
  }

  struct DepthScope {
    explicit DepthScope(int& d) : d_(d), saved_(d) {}
    ~DepthScope() { d_ = saved_; }
    DepthScope(const DepthScope&) = delete;
    DepthScope& operator=(const DepthScope&) = delete;
    int& d_;
    int saved_;
  };

  // --- expressions ---

  ExprPtr ParseExpr(int min_prec) {
    DepthScope scope(depth_);
    if (!Deeper(Peek().pos)) return nullptr;
    ExprPtr lhs = ParseUnary();
    while (lhs && ok()) {
      const Token& t = Peek();
      std::optional<BinaryOp> op = BinaryOpFor(t.type);
      if (!op || Precedence(*op) < min_prec) break;
      if (!Deeper(t.pos)) return nullptr;
      Take();
      auto b = std::make_unique<BinaryExpr>();
      b->op = *op;
      if (!ParseBinaryModifiers(*b)) return nullptr;
      ExprPtr rhs = ParseExpr(*op == BinaryOp::kPow ? Precedence(*op) : Precedence(*op) + 1);
      if (!rhs) return nullptr;
      b->lhs = std::move(lhs);
      b->rhs = std::move(rhs);
      lhs = std::move(b);
    }
    return ok() ? std::move(lhs) : nullptr;
  }

  bool ParseBinaryModifiers(BinaryExpr& b) {
    VectorMatching vm;
    if (Peek().type == TokenType::kBool) {
      Take();
      b.return_bool = true;
    }
    TokenType t = Peek().type;
    if (t == TokenType::kOn || t == TokenType::kIgnoring) {
      Take();
      vm.on = t == TokenType::kOn;
      if (!ParseGroupingLabels(vm.matching_labels)) return false;
      t = Peek().type;
      if (t == TokenType::kGroupLeft || t == TokenType::kGroupRight) {
        Take();
        vm.card = t == TokenType::kGroupLeft ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        if (Peek().type == TokenType::kLeftParen && !ParseGroupingLabels(vm.include)) return false;
      }
    }
    while (opt_.fill_modifiers && Peek(1).type == TokenType::kLeftParen &&
           (Peek().type == TokenType::kFill || Peek().type == TokenType::kFillLeft ||
            Peek().type == TokenType::kFillRight)) {
      TokenType which = Take().type;
      Take();  // (
      std::optional<double> v = ParseSignedNumber("fill modifier");
      if (!v) return false;
      if (Peek().type != TokenType::kRightParen) {
        Unexpected("fill modifier", "\")\"");
        return false;
      }
      Take();
      if (which != TokenType::kFillRight) vm.fill_left = v;
      if (which != TokenType::kFillLeft) vm.fill_right = v;
    }
    b.matching = std::move(vm);
    return true;
  }

  std::optional<double> ParseSignedNumber(std::string_view context) {
    double sign = 1;
    if (Peek().type == TokenType::kAdd || Peek().type == TokenType::kSub) {
      if (Take().type == TokenType::kSub) sign = -1;
    }
    const Token& t = Peek();
    if (t.type == TokenType::kNumber) {
      std::optional<double> v = Number(Take());
      if (!v) return std::nullopt;
      return sign * *v;
    }
    if (t.type == TokenType::kDuration) {
      std::optional<double> v = DurationLiteral(Take());
      if (!v) return std::nullopt;
      return sign * *v;
    }
    Unexpected(context, "number");
    return std::nullopt;
  }

  bool ParseGroupingLabels(std::vector<std::string>& out) {
    if (Peek().type != TokenType::kLeftParen) {
      Unexpected("grouping opts", "\"(\"");
      return false;
    }
    Take();
    for (;;) {
      const Token& t = Peek();
      if (t.type == TokenType::kRightParen) break;
      if (t.type == TokenType::kString) {
        out.push_back(Unquote(Take().text));
      } else if (IsWordToken(t.type) && IsLegacyLabelName(t.text)) {
        out.emplace_back(Take().text);
      } else {
        Unexpected("grouping opts", "label");
        return false;
      }
      if (Peek().type == TokenType::kComma) {
        Take();
      } else if (Peek().type != TokenType::kRightParen) {
        Unexpected("grouping opts", "\",\" or \")\"");
        return false;
      }
    }
    Take();
    return true;
  }

  ExprPtr ParseUnary() {
    const Token& t = Peek();
    if (t.type != TokenType::kAdd && t.type != TokenType::kSub) return ParsePostfix(ParsePrimary());
    Token op = Take();
    // Unary operators bind like multiplication: only ^ (and the postfix modifiers) bind tighter.
    ExprPtr operand = ParseExpr(kPowPrecedence);
    if (!operand) return nullptr;
    if (operand->kind() == NodeKind::kNumberLiteral) {
      auto& n = operand->As<NumberLiteral>();
      if (op.type == TokenType::kSub) n.value = -n.value;
      n.pos.start = op.pos;
      return operand;
    }
    auto u = std::make_unique<UnaryExpr>();
    u->op = op.type == TokenType::kSub ? BinaryOp::kSub : BinaryOp::kAdd;
    u->expr = std::move(operand);
    u->start = op.pos;
    return u;
  }

  ExprPtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case TokenType::kNumber: {
        Token tok = Take();
        std::optional<double> v = Number(tok);
        if (!v) return nullptr;
        auto n = std::make_unique<NumberLiteral>();
        n->value = *v;
        n->pos = {tok.pos, tok.end()};
        return n;
      }
      case TokenType::kDuration: {
        Token tok = Take();
        std::optional<double> v = DurationLiteral(tok);
        if (!v) return nullptr;
        auto n = std::make_unique<NumberLiteral>();
        n->value = *v;
        n->duration = true;
        n->pos = {tok.pos, tok.end()};
        return n;
      }
      case TokenType::kString: {
        Token tok = Take();
        auto s = std::make_unique<StringLiteral>();
        s->value = Unquote(tok.text);
        s->pos = {tok.pos, tok.end()};
        return s;
      }
      case TokenType::kLeftParen: {
        Token open = Take();
        ExprPtr inner = ParseExpr(0);
        if (!inner) return nullptr;
        if (Peek().type != TokenType::kRightParen) return Unexpected("", "");
        Take();
        auto p = std::make_unique<ParenExpr>();
        p->expr = std::move(inner);
        p->pos = {open.pos, last_end_};
        return p;
      }
      case TokenType::kLeftBrace:
        return ParseVectorSelector(nullptr);
      default:
        break;
    }
    if (IsAggregatorToken(t.type)) {
      TokenType next = Peek(1).type;
      if (next == TokenType::kLeftParen || next == TokenType::kBy || next == TokenType::kWithout) {
        return ParseAggregate();
      }
      switch (next) {
        case TokenType::kIdentifier:
        case TokenType::kMetricIdentifier:
        case TokenType::kNumber:
        case TokenType::kDuration:
        case TokenType::kString: {
          Take();
          return Unexpected("aggregation", "");
        }
        default:
          break;
      }
    }
    bool keyword_function = t.type == TokenType::kStep || t.type == TokenType::kRange || t.type == TokenType::kStart ||
                            t.type == TokenType::kEnd || t.type == TokenType::kMinOf || t.type == TokenType::kMaxOf;
    if ((t.type == TokenType::kIdentifier || keyword_function) && Peek(1).type == TokenType::kLeftParen) {
      return ParseCall(keyword_function);
    }
    if (t.type == TokenType::kIdentifier || t.type == TokenType::kMetricIdentifier || KeywordIsMetricName(t.type)) {
      Token name = Take();
      return ParseVectorSelector(&name);
    }
    return Unexpected("", "");
  }

  std::optional<double> Number(const Token& t) {
    std::string s(t.text);
    // Go's strconv.ParseInt(s, 0, 64) first (0x.., 0.. octal), then ParseFloat.
    bool octal = s.size() > 1 && s[0] == '0' && s.find_first_not_of("01234567") == std::string::npos;
    bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (octal || hex) {
      errno = 0;
      char* end = nullptr;
      unsigned long long v = std::strtoull(s.c_str() + (hex ? 2 : 1), &end, hex ? 16 : 8);
      if (errno == 0 && *end == '\0' && v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
        return static_cast<double>(v);
      }
      if (hex) {
        Fail(t.pos, "error parsing number: strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax");
        return std::nullopt;
      }
    }
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || s.empty()) {
      Fail(t.pos, "error parsing number: strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax");
      return std::nullopt;
    }
    if (errno == ERANGE && std::isinf(v)) {
      Fail(t.pos, "error parsing number: strconv.ParseFloat: parsing " + GoQuote(s) + ": value out of range");
      return std::nullopt;
    }
    return v;
  }

  // Seconds.
  std::optional<double> DurationLiteral(const Token& t) {
    Result<std::chrono::milliseconds> d = ParseDuration(t.text);
    if (!d.ok()) {
      Fail(t.pos, "not a valid duration string: " + GoQuote(t.text));
      return std::nullopt;
    }
    return static_cast<double>(d->count()) / 1000.0;
  }

  ExprPtr ParseAggregate() {
    Token op = Take();
    auto a = std::make_unique<AggregateExpr>();
    a->op = *AggregateOpFor(op.type);
    bool grouped = false;
    if (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout) {
      a->without = Take().type == TokenType::kWithout;
      if (!ParseGroupingLabels(a->grouping)) return nullptr;
      grouped = true;
    }
    if (Peek().type != TokenType::kLeftParen) return Unexpected("aggregation", "");
    std::vector<ExprPtr> args;
    if (!ParseCallArgs(args)) return nullptr;
    if (!grouped && (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout)) {
      a->without = Take().type == TokenType::kWithout;
      if (!ParseGroupingLabels(a->grouping)) return nullptr;
    }
    a->pos = {op.pos, last_end_};
    if ((a->op == AggregateOp::kLimitk || a->op == AggregateOp::kLimitRatio) && !opt_.experimental_functions) {
      Fail(op.pos, "limitk() and limit_ratio() are experimental and must be enabled with "
                   "--enable-feature=promql-experimental-functions");
      return nullptr;
    }
    if (args.empty()) {
      Fail(op.pos, "no arguments for aggregate expression provided");
      return nullptr;
    }
    size_t want = AggregateTakesParam(a->op) ? 2 : 1;
    if (args.size() != want) {
      Fail(op.pos, "wrong number of arguments for aggregate expression provided, expected " + std::to_string(want) +
                       ", got " + std::to_string(args.size()));
      return nullptr;
    }
    if (want == 2) a->param = std::move(args[0]);
    a->expr = std::move(args[want - 1]);
    return a;
  }

  // ( [expr {, expr}] )
  bool ParseCallArgs(std::vector<ExprPtr>& args) {
    Take();  // (
    if (Peek().type == TokenType::kRightParen) {
      Take();
      return true;
    }
    for (;;) {
      ExprPtr e = ParseExpr(0);
      if (!e) return false;
      args.push_back(std::move(e));
      if (Peek().type == TokenType::kComma) {
        Token comma = Take();
        if (Peek().type == TokenType::kRightParen) {
          Fail(comma.pos, "trailing commas not allowed in function call args");
          return false;
        }
        continue;
      }
      if (Peek().type != TokenType::kRightParen) {
        Unexpected("", "");
        return false;
      }
      Take();
      return true;
    }
  }

  // `keyword`: step(), range(), start(), end(), min_of(), max_of(), keywords written in any case.
  ExprPtr ParseCall(bool keyword) {
    Token name = Take();
    auto c = std::make_unique<Call>();
    if (!ParseCallArgs(c->args)) return nullptr;
    c->pos = {name.pos, last_end_};
    std::string lower(name.text);
    if (keyword) {
      for (char& ch : lower) ch = static_cast<char>((ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch);
    }
    c->func = LookupFunction(lower);
    if (c->func == nullptr) {
      Fail(name.pos, "unknown function with name " + GoQuote(name.text));
      return nullptr;
    }
    if (c->func->experimental && !opt_.experimental_functions) {
      Fail(name.pos, "function " + GoQuote(name.text) + " is not enabled");
      return nullptr;
    }
    return c;
  }

  static bool IsMatchOp(TokenType t) {
    return t == TokenType::kAssign || t == TokenType::kNeq || t == TokenType::kEqlRegex || t == TokenType::kNeqRegex;
  }

  bool AddMatcher(VectorSelector& vs, MatchType type, std::string name, std::string value, int pos) {
    Result<Matcher> m = Matcher::Make(type, std::move(name), std::move(value));
    if (!m.ok()) {
      Fail(pos, m.status().message());
      return false;
    }
    vs.matchers.push_back(std::move(*m));
    return true;
  }

  ExprPtr ParseVectorSelector(const Token* name) {
    auto vs = std::make_unique<VectorSelector>();
    vs->pos.start = name != nullptr ? name->pos : Peek().pos;
    vs->pos.end = last_end_;
    if (name != nullptr) vs->name = std::string(name->text);
    if (Peek().type == TokenType::kLeftBrace) {
      Take();
      for (;;) {
        const Token& t = Peek();
        if (t.type == TokenType::kRightBrace) break;
        if (t.type == TokenType::kIdentifier || t.type == TokenType::kString) {
          Token label = Take();
          std::string label_name = t.type == TokenType::kString ? Unquote(label.text) : std::string(label.text);
          if (label.type == TokenType::kString && !IsMatchOp(Peek().type)) {
            // {"metric.name", ...}: a quoted metric name.
            if (!AddMatcher(*vs, MatchType::kEqual, "__name__", label_name, label.pos)) return nullptr;
          } else {
            if (!IsMatchOp(Peek().type)) return Unexpected("label matching", "label matching operator");
            TokenType op = Take().type;
            if (Peek().type != TokenType::kString) return Unexpected("label matching", "string");
            std::string value = Unquote(Take().text);
            MatchType type = op == TokenType::kAssign ? MatchType::kEqual
                             : op == TokenType::kNeq  ? MatchType::kNotEqual
                             : op == TokenType::kEqlRegex ? MatchType::kRegexMatch
                                                          : MatchType::kRegexNoMatch;
            if (!AddMatcher(*vs, type, label_name, value, label.pos)) return nullptr;
          }
        } else {
          return Unexpected("label matching", "identifier or \"}\"");
        }
        if (Peek().type == TokenType::kComma) {
          Take();
        } else if (Peek().type != TokenType::kRightBrace) {
          return Unexpected("label matching", "\",\" or \"}\"");
        }
      }
      Take();
      vs->pos.end = last_end_;
    }
    if (!vs->name.empty() && !AddMatcher(*vs, MatchType::kEqual, "__name__", vs->name, vs->pos.start)) return nullptr;
    return vs;
  }

  // --- postfix modifiers: [range], [range:step], offset, @, anchored, smoothed ---

  ExprPtr ParsePostfix(ExprPtr e) {
    while (e && ok()) {
      const Token& t = Peek();
      switch (t.type) {
        case TokenType::kLeftBracket:
          if (!Deeper(t.pos)) return nullptr;
          e = ParseRangeOrSubquery(std::move(e));
          break;
        case TokenType::kOffset:
          e = ParseOffset(std::move(e));
          break;
        case TokenType::kAt:
          e = ParseAt(std::move(e));
          break;
        case TokenType::kAnchored:
        case TokenType::kSmoothed:
          if (!opt_.extended_range_selectors) return e;
          e = ParseExtendedModifier(std::move(e));
          break;
        default:
          return e;
      }
    }
    return ok() ? std::move(e) : nullptr;
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr e) {
    Token open = Take();
    Duration range;
    if (!ParseDurationSlot(range, /*offset=*/false, "subquery selector", "number or duration")) return nullptr;
    if (Peek().type == TokenType::kRightBracket) {
      Token close = Take();
      std::string err;
      if (e->kind() != NodeKind::kVectorSelector) {
        err = "ranges only allowed for vector selectors";
      } else if (e->As<VectorSelector>().offset.value.count() != 0 || e->As<VectorSelector>().offset.expr) {
        err = "no offset modifiers allowed before range";
      } else if (e->As<VectorSelector>().at != AtModifier::kNone) {
        err = "no @ modifiers allowed before range";
      }
      if (!err.empty()) {
        Fail(open.pos, err);
        return nullptr;
      }
      if (!CheckPositive(range, open.pos + 1)) return nullptr;
      auto m = std::make_unique<MatrixSelector>();
      m->selector.reset(&e.release()->As<VectorSelector>());
      m->range = std::move(range);
      m->end = close.end();
      return m;
    }
    if (Peek().type != TokenType::kColon) return Unexpected("subquery or range", "\":\" or \"]\"");
    Take();
    auto sq = std::make_unique<SubqueryExpr>();
    if (Peek().type != TokenType::kRightBracket) {
      if (!ParseDurationSlot(sq->step, false, "subquery selector", "number or duration or \"]\"")) return nullptr;
      if (Peek().type != TokenType::kRightBracket) return Unexpected("subquery selector", "\"]\"");
      if (!CheckPositive(sq->step, open.pos + 1)) return nullptr;
    }
    Take();
    if (!CheckPositive(range, open.pos + 1)) return nullptr;
    sq->expr = std::move(e);
    sq->range = std::move(range);
    sq->end = last_end_;
    return sq;
  }

  bool CheckPositive(const Duration& d, int pos) {
    if (d.IsConstant() && d.value.count() <= 0) {
      Fail(pos, "duration must be greater than 0");
      return false;
    }
    return true;
  }

  ExprPtr ParseOffset(ExprPtr e) {
    Take();
    Duration d;
    if (!ParseDurationSlot(d, /*offset=*/true, "offset", "number or duration")) return nullptr;
    Duration* slot = nullptr;
    int* end = nullptr;
    switch (e->kind()) {
      case NodeKind::kVectorSelector:
        slot = &e->As<VectorSelector>().offset;
        end = &e->As<VectorSelector>().pos.end;
        break;
      case NodeKind::kMatrixSelector:
        slot = &e->As<MatrixSelector>().selector->offset;
        end = &e->As<MatrixSelector>().end;
        break;
      case NodeKind::kSubquery:
        slot = &e->As<SubqueryExpr>().offset;
        end = &e->As<SubqueryExpr>().end;
        break;
      default:
        Fail(e->position().start,
             "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
        return nullptr;
    }
    if (slot->value.count() != 0 || slot->expr) {
      Fail(e->position().start, "offset may not be set multiple times");
      return nullptr;
    }
    *slot = std::move(d);
    *end = last_end_;
    return e;
  }

  ExprPtr ParseAt(ExprPtr e) {
    Take();
    AtModifier at = AtModifier::kTimestamp;
    int64_t ts = 0;
    TokenType t = Peek().type;
    if (t == TokenType::kStart || t == TokenType::kEnd) {
      Take();
      if (Peek().type != TokenType::kLeftParen) return Unexpected("@", "\"(\"");
      Take();
      if (Peek().type != TokenType::kRightParen) return Unexpected("@", "\")\"");
      Take();
      at = t == TokenType::kStart ? AtModifier::kStart : AtModifier::kEnd;
    } else {
      if (t != TokenType::kNumber && t != TokenType::kDuration && t != TokenType::kAdd && t != TokenType::kSub) {
        return Unexpected("@", "timestamp");
      }
      std::optional<double> v = ParseSignedNumber("@");
      if (!v) return nullptr;
      double ms = *v * 1000;
      if (!std::isfinite(ms) || std::fabs(ms) >= 9.2e18) {
        Fail(e->position().start, "timestamp out of bounds for @ modifier: " + GoFloatF(*v));
        return nullptr;
      }
      ts = static_cast<int64_t>(std::llround(ms));
    }
    AtModifier* slot = nullptr;
    int64_t* ts_slot = nullptr;
    int* end = nullptr;
    switch (e->kind()) {
      case NodeKind::kVectorSelector: {
        auto& vs = e->As<VectorSelector>();
        slot = &vs.at, ts_slot = &vs.timestamp_ms, end = &vs.pos.end;
        break;
      }
      case NodeKind::kMatrixSelector: {
        auto& m = e->As<MatrixSelector>();
        slot = &m.selector->at, ts_slot = &m.selector->timestamp_ms, end = &m.end;
        break;
      }
      case NodeKind::kSubquery: {
        auto& sq = e->As<SubqueryExpr>();
        slot = &sq.at, ts_slot = &sq.timestamp_ms, end = &sq.end;
        break;
      }
      default:
        Fail(e->position().start,
             "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
        return nullptr;
    }
    if (*slot != AtModifier::kNone) {
      Fail(e->position().start, "@ <timestamp> may not be set multiple times");
      return nullptr;
    }
    *slot = at;
    *ts_slot = ts;
    *end = last_end_;
    return e;
  }

  ExprPtr ParseExtendedModifier(ExprPtr e) {
    Token t = Take();
    VectorSelector* vs = nullptr;
    int* end = nullptr;
    if (e->kind() == NodeKind::kVectorSelector) {
      vs = &e->As<VectorSelector>();
      end = &vs->pos.end;
    } else if (e->kind() == NodeKind::kMatrixSelector) {
      vs = e->As<MatrixSelector>().selector.get();
      end = &e->As<MatrixSelector>().end;
    } else {
      Fail(t.pos, std::string(t.type == TokenType::kAnchored ? "anchored" : "smoothed") +
                      " modifier must be preceded by an instant vector selector or range vector selector");
      return nullptr;
    }
    if (vs->anchored || vs->smoothed) {
      Fail(t.pos, "anchored and smoothed modifiers may not be set multiple times or together");
      return nullptr;
    }
    (t.type == TokenType::kAnchored ? vs->anchored : vs->smoothed) = true;
    *end = last_end_;
    return e;
  }

  // --- durations ---

  // Fills `d` from a range/step (a full duration expression when enabled) or an offset (a
  // signed literal, or one parenthesised or function-like duration expression).
  bool ParseDurationSlot(Duration& d, bool offset, std::string_view context, std::string_view expected) {
    ExprPtr e;
    if (!opt_.duration_expressions) {
      double sign = 1;
      if (offset && Peek().type == TokenType::kSub) {
        Take();
        sign = -1;
      }
      const Token& t = Peek();
      if (t.type != TokenType::kNumber && t.type != TokenType::kDuration) {
        Unexpected(context, expected);
        return false;
      }
      Token tok = Take();
      std::optional<double> v = tok.type == TokenType::kNumber ? Number(tok) : DurationLiteral(tok);
      if (!v) return false;
      return SetDuration(d, sign * *v, nullptr, tok.pos);
    }
    int pos = Peek().pos;
    e = offset ? ParseDurationUnary(/*offset=*/true, context, expected) : ParseDurationExpr(0, context, expected);
    if (!e) return false;
    if (e->kind() == NodeKind::kNumberLiteral) return SetDuration(d, e->As<NumberLiteral>().value, nullptr, pos);
    std::unique_ptr<DurationExpr> de(&e.release()->As<DurationExpr>());
    d.expr = std::move(de);
    if (!d.IsConstant()) return true;
    Result<double> s = DurationSeconds(*d.expr, 0, 0);
    if (!s.ok()) {
      Fail(pos, s.status().message());
      return false;
    }
    return SetDuration(d, *s, nullptr, pos);
  }

  bool SetDuration(Duration& d, double seconds, std::nullptr_t, int pos) {
    Result<std::chrono::milliseconds> ms = SecondsToMillis(seconds);
    if (!ms.ok()) {
      Fail(pos, ms.status().message());
      return false;
    }
    d.value = *ms;
    return true;
  }

  ExprPtr ParseDurationExpr(int min_prec, std::string_view context, std::string_view expected) {
    DepthScope scope(depth_);
    if (!Deeper(Peek().pos)) return nullptr;
    ExprPtr lhs = ParseDurationUnary(false, context, expected);
    while (lhs && ok()) {
      const Token& t = Peek();
      std::optional<BinaryOp> op = BinaryOpFor(t.type);
      if (!op || Precedence(*op) < 4 || *op == BinaryOp::kAtan2 || Precedence(*op) < min_prec) break;
      if (!Deeper(t.pos)) return nullptr;
      Take();
      ExprPtr rhs = ParseDurationExpr(*op == BinaryOp::kPow ? Precedence(*op) : Precedence(*op) + 1, context, expected);
      if (!rhs) return nullptr;
      auto d = std::make_unique<DurationExpr>();
      d->op = DurationExpr::Op::kBinary;
      d->binary = *op;
      d->pos = {lhs->position().start, rhs->position().end};
      d->lhs = std::move(lhs);
      d->rhs = std::move(rhs);
      lhs = std::move(d);
    }
    return ok() ? std::move(lhs) : nullptr;
  }

  // In an offset only one atom follows the sign: `offset -2 ^ 2` is (x offset -2) ^ 2.
  ExprPtr ParseDurationUnary(bool offset, std::string_view context, std::string_view expected) {
    const Token& t = Peek();
    if (t.type != TokenType::kAdd && t.type != TokenType::kSub) return ParseDurationAtom(context, expected);
    Token op = Take();
    ExprPtr operand = offset ? ParseDurationAtom(context, expected)
                             : ParseDurationExpr(kPowPrecedence, context, expected);
    if (!operand) return nullptr;
    if (op.type == TokenType::kAdd) return operand;
    if (operand->kind() == NodeKind::kNumberLiteral) {
      auto& n = operand->As<NumberLiteral>();
      n.value = -n.value;
      n.pos.start = op.pos;
      return operand;
    }
    auto d = std::make_unique<DurationExpr>();
    d->op = DurationExpr::Op::kNegate;
    d->pos = {op.pos, operand->position().end};
    d->rhs = std::move(operand);
    return d;
  }

  ExprPtr ParseDurationAtom(std::string_view context, std::string_view expected) {
    const Token& t = Peek();
    switch (t.type) {
      case TokenType::kNumber:
      case TokenType::kDuration: {
        Token tok = Take();
        std::optional<double> v = tok.type == TokenType::kNumber ? Number(tok) : DurationLiteral(tok);
        if (!v) return nullptr;
        auto n = std::make_unique<NumberLiteral>();
        n->value = *v;
        n->duration = tok.type == TokenType::kDuration;
        n->pos = {tok.pos, tok.end()};
        return n;
      }
      case TokenType::kLeftParen: {
        Token open = Take();
        ExprPtr inner = ParseDurationExpr(0, context, expected);
        if (!inner) return nullptr;
        if (Peek().type != TokenType::kRightParen) return Unexpected("duration expression", "\")\"");
        Take();
        if (inner->kind() == NodeKind::kDuration) {
          auto& d = inner->As<DurationExpr>();
          if (d.wrapped) {
            // ((x)): keep one pair of parentheses around a node.
          }
          d.wrapped = true;
          d.pos = {open.pos, last_end_};
        }
        return inner;
      }
      case TokenType::kStep:
      case TokenType::kRange: {
        if (Peek(1).type != TokenType::kLeftParen) break;
        Token name = Take();
        Take();
        if (Peek().type != TokenType::kRightParen) return Unexpected("duration expression", "\")\"");
        Take();
        auto d = std::make_unique<DurationExpr>();
        d->op = name.type == TokenType::kStep ? DurationExpr::Op::kStep : DurationExpr::Op::kRange;
        d->pos = {name.pos, last_end_};
        return d;
      }
      case TokenType::kMinOf:
      case TokenType::kMaxOf: {
        if (Peek(1).type != TokenType::kLeftParen) break;
        Token name = Take();
        Take();
        ExprPtr a = ParseDurationExpr(0, context, expected);
        if (!a) return nullptr;
        if (Peek().type != TokenType::kComma) return Unexpected("duration expression", "\",\"");
        Take();
        ExprPtr b = ParseDurationExpr(0, context, expected);
        if (!b) return nullptr;
        if (Peek().type != TokenType::kRightParen) return Unexpected("duration expression", "\")\"");
        Take();
        auto d = std::make_unique<DurationExpr>();
        d->op = name.type == TokenType::kMinOf ? DurationExpr::Op::kMinOf : DurationExpr::Op::kMaxOf;
        d->lhs = std::move(a);
        d->rhs = std::move(b);
        d->pos = {name.pos, last_end_};
        return d;
      }
      default:
        break;
    }
    return Unexpected(context, expected);
  }

  // --- type checks (Prometheus's checkAST), children first ---

  void ExpectType(Expr& e, ValueType want, const std::string& context) {
    ValueType got = Check(e);
    if (ok() && got != want) {
      Fail(e.position().start, "expected type " + std::string(ValueTypeName(want)) + " in " + context + ", got " +
                                   std::string(ValueTypeName(got)));
    }
  }

  ValueType Check(Expr& e) {
    if (!ok()) return ValueType::kNone;
    switch (e.kind()) {
      case NodeKind::kNumberLiteral:
      case NodeKind::kStringLiteral:
      case NodeKind::kDuration:
        return e.type();
      case NodeKind::kParen:
        Check(*e.As<ParenExpr>().expr);
        return e.type();
      case NodeKind::kMatrixSelector:
        Check(*e.As<MatrixSelector>().selector);
        return e.type();
      case NodeKind::kVectorSelector:
        CheckVectorSelector(e.As<VectorSelector>());
        return e.type();
      case NodeKind::kSubquery: {
        ValueType t = Check(*e.As<SubqueryExpr>().expr);
        if (ok() && t == ValueType::kMatrix) {
          Fail(e.position().start, "subquery is only allowed on instant vector, got " +
                                       std::string(ValueTypeApiName(t)) + " instead");
        }
        return e.type();
      }
      case NodeKind::kUnary: {
        ValueType t = Check(*e.As<UnaryExpr>().expr);
        if (ok() && t != ValueType::kScalar && t != ValueType::kVector) {
          Fail(e.position().start, "unary expression only allowed on expressions of type scalar or instant vector, got " +
                                       GoQuote(ValueTypeName(t)));
        }
        return e.type();
      }
      case NodeKind::kAggregate: {
        auto& a = e.As<AggregateExpr>();
        ExpectType(*a.expr, ValueType::kVector, "aggregation expression");
        if (a.param) {
          ExpectType(*a.param, a.op == AggregateOp::kCountValues ? ValueType::kString : ValueType::kScalar,
                     "aggregation parameter");
        }
        return e.type();
      }
      case NodeKind::kCall:
        CheckCall(e.As<Call>());
        return e.type();
      case NodeKind::kBinary:
        CheckBinary(e.As<BinaryExpr>());
        return e.type();
    }
    return ValueType::kNone;
  }

  void CheckVectorSelector(VectorSelector& vs) {
    int start = vs.pos.start;
    if (!vs.name.empty()) {
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        if (vs.matchers[i].name() == "__name__") {
          Fail(start, "metric name must not be set twice: " + GoQuote(vs.name) + " or " + GoQuote(vs.matchers[i].value()));
          return;
        }
      }
      return;
    }
    if (vs.bypass_empty_matcher_check) return;
    for (const Matcher& m : vs.matchers) {
      if (!m.MatchesEmpty()) return;
    }
    Fail(start, "vector selector must contain at least one non-empty matcher");
  }

  void CheckCall(Call& c) {
    const Function& f = *c.func;
    const std::string quoted = GoQuote(f.name);
    size_t nargs = f.arg_types.size();
    size_t got = c.args.size();
    int start = c.pos.start;
    if (f.variadic == 0) {
      if (nargs != got) {
        Fail(start, "expected " + std::to_string(nargs) + " argument(s) in call to " + quoted + ", got " +
                        std::to_string(got));
        return;
      }
    } else {
      size_t na = nargs - 1;
      if (na > got) {
        Fail(start, "expected at least " + std::to_string(na) + " argument(s) in call to " + quoted + ", got " +
                        std::to_string(got));
        return;
      }
      if (f.variadic > 0 && na + static_cast<size_t>(f.variadic) < got) {
        Fail(start, "expected at most " + std::to_string(na + static_cast<size_t>(f.variadic)) +
                        " argument(s) in call to " + quoted + ", got " + std::to_string(got));
        return;
      }
    }
    if (f.name == "info" && got > 1) {
      if (c.args[1]->kind() != NodeKind::kVectorSelector) {
        Fail(c.args[1]->position().start, "expected label selectors as the second argument to \"info\" function, got " +
                                              std::string(ValueTypeApiName(c.args[1]->type())));
        return;
      }
      c.args[1]->As<VectorSelector>().bypass_empty_matcher_check = true;
    }
    for (size_t i = 0; i < got && ok(); ++i) {
      size_t k = i;
      if (k >= nargs) {
        if (f.variadic == 0) break;
        k = nargs - 1;
      }
      // Which functions accept an anchored or smoothed range is checked when the query runs,
      // as Prometheus does (the error has no position).
      ExpectType(*c.args[i], f.arg_types[k], "call to function " + quoted);
      if (!ok()) return;
    }
  }

  void CheckBinary(BinaryExpr& b) {
    ValueType lt = Check(*b.lhs);
    ValueType rt = Check(*b.rhs);
    if (!ok()) return;
    int op_pos = b.lhs->position().end;
    std::string op = GoQuote(BinaryOpName(b.op));
    VectorMatching& vm = *b.matching;
    if (b.return_bool && !IsComparison(b.op)) {
      Fail(op_pos, "bool modifier can only be used on comparison operators");
      return;
    }
    if (IsComparison(b.op) && !b.return_bool && lt == ValueType::kScalar && rt == ValueType::kScalar) {
      Fail(op_pos, "comparisons between scalars must use BOOL modifier");
      return;
    }
    if (IsSetOperator(b.op) && vm.card == Cardinality::kOneToOne) vm.card = Cardinality::kManyToMany;
    if (vm.on) {
      for (const std::string& l1 : vm.matching_labels) {
        for (const std::string& l2 : vm.include) {
          if (l1 == l2) {
            Fail(op_pos, "label " + GoQuote(l1) + " must not occur in ON and GROUP clause at once");
            return;
          }
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      Fail(b.lhs->position().start, "binary expression must contain only scalar and instant vector types");
      return;
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      Fail(b.rhs->position().start, "binary expression must contain only scalar and instant vector types");
      return;
    }
    int start = b.position().start;
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty() || vm.on) {
        Fail(start, "vector matching only allowed between instant vectors");
        return;
      }
      if (vm.fill_left || vm.fill_right) {
        Fail(start, "filling in missing series only allowed between instant vectors");
        return;
      }
      b.matching.reset();
    } else if (IsSetOperator(b.op)) {
      if (vm.card == Cardinality::kOneToMany || vm.card == Cardinality::kManyToOne) {
        Fail(start, "no grouping allowed for " + op + " operation");
        return;
      }
      if (vm.card != Cardinality::kManyToMany) {
        Fail(start, "set operations must always be many-to-many");
        return;
      }
      if (vm.fill_left || vm.fill_right) {
        Fail(start, "filling in missing series not allowed for set operators");
        return;
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOperator(b.op)) {
      Fail(start, "set operator " + op + " not allowed in binary scalar expression");
    }
  }

  std::string_view in_;
  Lexer lex_;
  ParseOptions opt_;
  std::deque<Token> la_;
  int last_end_ = 0;
  int depth_ = 0;
  Status err_;
};

}  // namespace

Result<ExprPtr> Parse(std::string_view query, const ParseOptions& options) {
  return Parser(query, options).Run();
}

Result<std::chrono::milliseconds> EvaluateDuration(const Expr& duration, std::chrono::milliseconds step,
                                                   std::chrono::milliseconds range) {
  TYTO_ASSIGN_OR_RETURN(double s, DurationSeconds(duration, static_cast<double>(step.count()) / 1000.0,
                                                  static_cast<double>(range.count()) / 1000.0));
  return SecondsToMillis(s);
}

}  // namespace tyto::promql
