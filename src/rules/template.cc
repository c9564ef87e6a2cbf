// Parsing templates: a lexer in Go text/template's terms (text, delimiters with trim markers,
// comments, operands) and a recursive-descent parser into template_internal's tree.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "rules/template.h"
#include "rules/template_internal.h"

namespace tyto::rules {
namespace template_internal {

std::string LineColumn(std::string_view text, size_t pos) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(pos - line_start + 1);
}

namespace {

enum class Tok {
  kText, kLeftDelim, kRightDelim, kIdent, kField, kVariable, kDot, kString, kNumber,
  kPipe, kLeftParen, kRightParen, kDeclare, kAssign, kComma, kEof
};

struct Token {
  Tok kind;
  std::string value;  // text, identifier, field name (without the dot), variable, literal
  size_t pos;
  bool adjacent;  // no space before it inside an action
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Status Run(std::vector<Token>* out) {
    size_t i = 0;
    bool trim_next = false;
    while (i <= text_.size()) {
      size_t open = text_.find("{{", i);
      size_t end = open == std::string_view::npos ? text_.size() : open;
      size_t start = i;
      if (trim_next) {
        while (start < end && IsSpace(text_[start])) ++start;
      }
      size_t stop = end;
      bool left_trim = open != std::string_view::npos && open + 3 < text_.size() && text_[open + 2] == '-' &&
                       IsSpace(text_[open + 3]);
      if (left_trim) {
        while (stop > start && IsSpace(text_[stop - 1])) --stop;
      }
      if (stop > start) out->push_back({Tok::kText, std::string(text_.substr(start, stop - start)), start, false});
      if (open == std::string_view::npos) break;
      size_t p = open + 2 + (left_trim ? 2 : 0);
      // A comment: {{/* ... */}}, nothing else in the action.
      if (text_.substr(p, 2) == "/*") {
        size_t close = text_.find("*/", p + 2);
        if (close == std::string_view::npos) return Error(open, "unclosed comment");
        size_t q = close + 2;
        bool right_trim = false;
        if (text_.substr(q, 4) == " -}}") {
          right_trim = true;
          q += 4;
        } else if (text_.substr(q, 2) == "}}") {
          q += 2;
        } else {
          return Error(close, "comment ends before closing delimiter");
        }
        trim_next = right_trim;
        i = q;
        continue;
      }
      out->push_back({Tok::kLeftDelim, "", open, false});
      TYTO_RETURN_IF_ERROR(LexAction(open, p, out, &i, &trim_next));
    }
    out->push_back({Tok::kEof, "", text_.size(), false});
    return Status::Ok();
  }

 private:
  Status Error(size_t pos, std::string_view what) {
    return InvalidArgument("template: " + LineColumn(text_, pos) + ": " + std::string(what));
  }

  Status LexAction(size_t open, size_t p, std::vector<Token>* out, size_t* next, bool* trim_next) {
    int parens = 0;
    bool adjacent = true;
    while (true) {
      if (p >= text_.size()) return Error(open, "unclosed action");
      char c = text_[p];
      if (parens == 0 && IsSpace(c) && text_.substr(p + 1, 3) == "-}}") {
        out->push_back({Tok::kRightDelim, "", p, false});
        *next = p + 4;
        *trim_next = true;
        return Status::Ok();
      }
      if (text_.substr(p, 2) == "}}") {
        if (parens > 0) return Error(p, "unclosed left paren");
        out->push_back({Tok::kRightDelim, "", p, adjacent});
        *next = p + 2;
        *trim_next = false;
        return Status::Ok();
      }
      if (IsSpace(c)) {
        ++p;
        adjacent = false;
        continue;
      }
      size_t start = p;
      Token tok{Tok::kEof, "", start, adjacent};
      adjacent = true;
      if (c == '|') {
        tok.kind = Tok::kPipe;
        ++p;
      } else if (c == '(') {
        tok.kind = Tok::kLeftParen;
        ++parens;
        ++p;
      } else if (c == ')') {
        if (parens == 0) return Error(p, "unexpected right paren");
        --parens;
        tok.kind = Tok::kRightParen;
        ++p;
      } else if (c == ',') {
        tok.kind = Tok::kComma;
        ++p;
      } else if (c == ':' && p + 1 < text_.size() && text_[p + 1] == '=') {
        tok.kind = Tok::kDeclare;
        p += 2;
      } else if (c == '=') {
        tok.kind = Tok::kAssign;
        ++p;
      } else if (c == '"') {
        tok.kind = Tok::kString;
        TYTO_RETURN_IF_ERROR(LexQuoted(&p, &tok.value));
      } else if (c == '`') {
        size_t close = text_.find('`', p + 1);
        if (close == std::string_view::npos) return Error(p, "unterminated raw quoted string");
        tok.kind = Tok::kString;
        tok.value = std::string(text_.substr(p + 1, close - p - 1));
        p = close + 1;
      } else if (c == '$') {
        ++p;
        while (p < text_.size() && IsAlnum(text_[p])) ++p;
        tok.kind = Tok::kVariable;
        tok.value = std::string(text_.substr(start, p - start));
      } else if (c == '.' && !(p + 1 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[p + 1])))) {
        ++p;
        while (p < text_.size() && IsAlnum(text_[p])) ++p;
        if (p == start + 1) {
          tok.kind = Tok::kDot;
        } else {
          tok.kind = Tok::kField;
          tok.value = std::string(text_.substr(start + 1, p - start - 1));
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
                 ((c == '-' || c == '+') && p + 1 < text_.size() &&
                  (std::isdigit(static_cast<unsigned char>(text_[p + 1])) || text_[p + 1] == '.'))) {
        ++p;
        while (p < text_.size() && (IsAlnum(text_[p]) || text_[p] == '.' ||
                                    ((text_[p] == '+' || text_[p] == '-') &&
                                     (text_[p - 1] == 'e' || text_[p - 1] == 'E')))) {
          ++p;
        }
        tok.kind = Tok::kNumber;
        tok.value = std::string(text_.substr(start, p - start));
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (p < text_.size() && IsAlnum(text_[p])) ++p;
        tok.kind = Tok::kIdent;
        tok.value = std::string(text_.substr(start, p - start));
      } else {
        return Error(p, std::string("unexpected character '") + c + "' in action");
      }
      out->push_back(std::move(tok));
    }
  }

  Status LexQuoted(size_t* p, std::string* value) {
    size_t start = *p;
    size_t i = start + 1;
    while (true) {
      if (i >= text_.size() || text_[i] == '\n') return Error(start, "unterminated quoted string");
      char c = text_[i];
      if (c == '"') break;
      if (c != '\\') {
        *value += c;
        ++i;
        continue;
      }
      if (i + 1 >= text_.size()) return Error(start, "unterminated quoted string");
      char e = text_[i + 1];
      i += 2;
      switch (e) {
        case 'n': *value += '\n'; break;
        case 't': *value += '\t'; break;
        case 'r': *value += '\r'; break;
        case 'a': *value += '\a'; break;
        case 'b': *value += '\b'; break;
        case 'f': *value += '\f'; break;
        case 'v': *value += '\v'; break;
        case '\\': *value += '\\'; break;
        case '"': *value += '"'; break;
        case 'x': {
          if (i + 2 > text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[i])) ||
              !std::isxdigit(static_cast<unsigned char>(text_[i + 1]))) {
            return Error(i - 2, "invalid escape in quoted string");
          }
          *value += static_cast<char>(std::strtol(std::string(text_.substr(i, 2)).c_str(), nullptr, 16));
          i += 2;
          break;
        }
        default:
          return Error(i - 2, std::string("unknown escape sequence '\\") + e + "' in quoted string");
      }
    }
    *p = i + 1;
    return Status::Ok();
  }

  std::string_view text_;
};

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens) : text_(text), tokens_(std::move(tokens)) {
    vars_ = {"$", "$labels", "$externalLabels", "$externalURL", "$value"};
  }

  Result<Node> ParseAll() {
    Node root;
    root.kind = Node::Kind::kList;
    std::string stop;
    TYTO_RETURN_IF_ERROR(ParseList(&root.list, &stop));
    if (stop == "end") return Error(last_keyword_pos_, "unexpected {{end}}");
    if (stop == "else") return Error(last_keyword_pos_, "unexpected {{else}}");
    return root;
  }

 private:
  Status Error(size_t pos, std::string_view what) {
    return InvalidArgument("template: " + LineColumn(text_, pos) + ": " + std::string(what));
  }
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(next_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Take() {
    const Token& t = tokens_[std::min(next_, tokens_.size() - 1)];
    if (next_ < tokens_.size() - 1) ++next_;
    return t;
  }
  Status Expect(Tok kind, std::string_view context) {
    const Token& t = Peek();
    if (t.kind != kind) return Error(t.pos, "unexpected " + Describe(t) + " in " + std::string(context));
    Take();
    return Status::Ok();
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEof: return "EOF";
      case Tok::kRightDelim: return "\"}}\"";
      case Tok::kRightParen: return "\")\"";
      case Tok::kLeftParen: return "\"(\"";
      case Tok::kPipe: return "\"|\"";
      case Tok::kComma: return "\",\"";
      case Tok::kDeclare: return "\":=\"";
      case Tok::kAssign: return "\"=\"";
      case Tok::kField: return "<." + t.value + ">";
      case Tok::kText: return "text";
      case Tok::kLeftDelim: return "\"{{\"";
      default: return "<" + t.value + ">";
    }
  }

  // Parses nodes until EOF, {{end}} or {{else}}; `stop` says which ("", "end", "else").
  Status ParseList(std::vector<Node>* list, std::string* stop) {
    if (++depth_ > Template::kMaxDepth) return Error(Peek().pos, "template nests too deeply");
    while (true) {
      const Token& t = Peek();
      if (t.kind == Tok::kEof) break;
      if (t.kind == Tok::kText) {
        Node n;
        n.kind = Node::Kind::kText;
        n.pos = t.pos;
        n.text = t.value;
        list->push_back(std::move(n));
        Take();
        continue;
      }
      // A left delimiter.
      Take();
      const Token& kw = Peek();
      if (kw.kind == Tok::kIdent && (kw.value == "end" || kw.value == "else")) {
        *stop = kw.value;
        last_keyword_pos_ = kw.pos;
        Take();
        if (*stop == "end") TYTO_RETURN_IF_ERROR(Expect(Tok::kRightDelim, "end"));
        --depth_;
        return Status::Ok();
      }
      Node n;
      TYTO_RETURN_IF_ERROR(ParseAction(&n));
      list->push_back(std::move(n));
    }
    stop->clear();
    --depth_;
    return Status::Ok();
  }

  Status ParseAction(Node* n) {
    const Token& kw = Peek();
    n->pos = kw.pos;
    if (kw.kind == Tok::kIdent) {
      if (kw.value == "if") return ParseControl(Node::Kind::kIf, n);
      if (kw.value == "with") return ParseControl(Node::Kind::kWith, n);
      if (kw.value == "range") return ParseControl(Node::Kind::kRange, n);
      if (kw.value == "break" || kw.value == "continue") {
        if (range_depth_ == 0) return Error(kw.pos, "{{" + kw.value + "}} outside {{range}}");
        n->kind = kw.value == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
        Take();
        return Expect(Tok::kRightDelim, kw.value);
      }
      if (kw.value == "define" || kw.value == "template" || kw.value == "block") {
        return Error(kw.pos, "{{" + kw.value + "}} is not supported");
      }
    }
    n->kind = Node::Kind::kAction;
    Result<std::shared_ptr<const Pipeline>> pipe = ParsePipeline("command", Tok::kRightDelim, false);
    if (!pipe.ok()) return pipe.status();
    n->pipeline = std::move(*pipe);
    return Status::Ok();
  }

  // if/with/range: the keyword is next. Consumes through the matching {{end}}.
  Status ParseControl(Node::Kind kind, Node* n) {
    std::string keyword = Take().value;
    n->kind = kind;
    size_t vars_before = vars_.size();
    Result<std::shared_ptr<const Pipeline>> pipe = ParsePipeline(keyword, Tok::kRightDelim, kind == Node::Kind::kRange);
    if (!pipe.ok()) return pipe.status();
    n->pipeline = std::move(*pipe);
    if (kind == Node::Kind::kRange) ++range_depth_;
    std::string stop;
    Status s = ParseList(&n->list, &stop);
    if (kind == Node::Kind::kRange) --range_depth_;
    TYTO_RETURN_IF_ERROR(s);
    if (stop.empty()) return Error(n->pos, "unexpected EOF: {{" + keyword + "}} has no {{end}}");
    if (stop == "else") {
      const Token& t = Peek();
      if (t.kind == Tok::kIdent && ((kind == Node::Kind::kIf && t.value == "if") ||
                                    (kind == Node::Kind::kWith && t.value == "with"))) {
        // {{else if ...}}: an if in the else branch that shares this {{end}}.
        Node inner;
        inner.pos = t.pos;
        if (++depth_ > Template::kMaxDepth) return Error(t.pos, "template nests too deeply");
        TYTO_RETURN_IF_ERROR(ParseControl(kind, &inner));
        --depth_;
        n->else_list.push_back(std::move(inner));
      } else {
        TYTO_RETURN_IF_ERROR(Expect(Tok::kRightDelim, "else"));
        std::string else_stop;
        TYTO_RETURN_IF_ERROR(ParseList(&n->else_list, &else_stop));
        if (else_stop != "end") {
          return Error(else_stop.empty() ? n->pos : last_keyword_pos_,
                       else_stop.empty() ? "unexpected EOF: {{" + keyword + "}} has no {{end}}"
                                         : "expected {{end}}, found {{else}}");
        }
      }
    }
    vars_.resize(vars_before);
    return Status::Ok();
  }

  Result<std::shared_ptr<const Pipeline>> ParsePipeline(std::string_view context, Tok end, bool range) {
    auto pipe = std::make_shared<Pipeline>();
    pipe->pos = Peek().pos;
    // Declarations: $x := ..., $x = ..., and for range $i, $e := ...
    if (Peek().kind == Tok::kVariable) {
      size_t ahead = 1;
      std::vector<std::string> names = {Peek().value};
      if (range && Peek(1).kind == Tok::kComma && Peek(2).kind == Tok::kVariable) {
        names.push_back(Peek(2).value);
        ahead = 3;
      }
      Tok op = Peek(ahead).kind;
      if (op == Tok::kDeclare || op == Tok::kAssign) {
        for (const std::string& v : names) {
          if (v == "$") return Error(Peek().pos, "cannot assign to $");
          if (op == Tok::kAssign && !Declared(v)) return Error(Peek().pos, "undefined variable \"" + v + "\"");
        }
        for (size_t i = 0; i <= ahead; ++i) Take();
        pipe->decl = names;
        pipe->assign = op == Tok::kAssign;
      } else if (names.size() > 1 || Peek(1).kind == Tok::kComma) {
        return Error(Peek(1).pos, "unexpected \",\" in " + std::string(context));
      }
    }
    while (true) {
      Command cmd;
      cmd.pos = Peek().pos;
      while (true) {
        const Token& t = Peek();
        if (t.kind == end || t.kind == Tok::kPipe) break;
        if (t.kind == Tok::kEof || t.kind == Tok::kRightDelim || t.kind == Tok::kRightParen ||
            t.kind == Tok::kComma || t.kind == Tok::kDeclare || t.kind == Tok::kAssign) {
          return Error(t.pos, "unexpected " + Describe(t) + " in " + std::string(context));
        }
        if (!cmd.args.empty() && t.adjacent && t.kind != Tok::kLeftParen) {
          return Error(t.pos, "missing space before " + Describe(t));
        }
        Result<Arg> arg = ParseOperand();
        if (!arg.ok()) return arg.status();
        cmd.args.push_back(std::move(*arg));
      }
      if (cmd.args.empty()) return Error(Peek().pos, "missing value for " + std::string(context));
      if (!pipe->commands.empty()) {
        Arg::Kind k = cmd.args[0].kind;
        if (k == Arg::Kind::kString || k == Arg::Kind::kInt || k == Arg::Kind::kFloat || k == Arg::Kind::kBool ||
            k == Arg::Kind::kNil || (k == Arg::Kind::kDot && cmd.args[0].fields.empty())) {
          return Error(cmd.pos, "non executable command in pipeline stage " + std::to_string(pipe->commands.size() + 1));
        }
      }
      pipe->commands.push_back(std::move(cmd));
      if (Peek().kind == Tok::kPipe) {
        Take();
        continue;
      }
      Take();  // the end token
      break;
    }
    for (const std::string& v : pipe->decl) {
      if (!pipe->assign) vars_.push_back(v);
    }
    return std::shared_ptr<const Pipeline>(std::move(pipe));
  }

  bool Declared(const std::string& v) const {
    for (const std::string& d : vars_) {
      if (d == v) return true;
    }
    return false;
  }

  Result<Arg> ParseOperand() {
    const Token& t = Take();
    Arg arg;
    arg.pos = t.pos;
    switch (t.kind) {
      case Tok::kDot:
        arg.kind = Arg::Kind::kDot;
        break;
      case Tok::kField:
        arg.kind = Arg::Kind::kDot;
        arg.fields.push_back(t.value);
        break;
      case Tok::kVariable:
        if (!Declared(t.value)) return Error(t.pos, "undefined variable \"" + t.value + "\"");
        arg.kind = Arg::Kind::kVariable;
        arg.name = t.value;
        break;
      case Tok::kString:
        arg.kind = Arg::Kind::kString;
        arg.name = t.value;
        break;
      case Tok::kNumber:
        TYTO_RETURN_IF_ERROR(ParseNumber(t, &arg));
        break;
      case Tok::kIdent:
        if (t.value == "true" || t.value == "false") {
          arg.kind = Arg::Kind::kBool;
          arg.bool_value = t.value == "true";
        } else if (t.value == "nil") {
          arg.kind = Arg::Kind::kNil;
        } else if (IsFunction(t.value)) {
          arg.kind = Arg::Kind::kFunction;
          arg.name = t.value;
        } else {
          return Error(t.pos, "function \"" + t.value + "\" not defined");
        }
        break;
      case Tok::kLeftParen: {
        if (++depth_ > Template::kMaxDepth) return Error(t.pos, "template nests too deeply");
        Result<std::shared_ptr<const Pipeline>> pipe = ParsePipeline("parenthesized pipeline", Tok::kRightParen, false);
        --depth_;
        if (!pipe.ok()) return pipe.status();
        arg.kind = Arg::Kind::kPipeline;
        arg.pipeline = std::move(*pipe);
        break;
      }
      default:
        return Error(t.pos, "unexpected " + Describe(t) + " in operand");
    }
    // Field names written right after the operand: $x.a.b, (pipeline).a
    while (Peek().kind == Tok::kField && Peek().adjacent) {
      if (arg.kind != Arg::Kind::kDot && arg.kind != Arg::Kind::kVariable && arg.kind != Arg::Kind::kPipeline) {
        return Error(Peek().pos, "unexpected " + Describe(Peek()) + " in operand");
      }
      arg.fields.push_back(Take().value);
    }
    return arg;
  }

  Status ParseNumber(const Token& t, Arg* arg) {
    const std::string& s = t.value;
    bool is_hex = s.find("0x") != std::string::npos || s.find("0X") != std::string::npos;
    bool is_float = !is_hex && s.find_first_of(".eE") != std::string::npos;
    errno = 0;
    char* end = nullptr;
    if (is_float) {
      arg->kind = Arg::Kind::kFloat;
      arg->float_value = std::strtod(s.c_str(), &end);
    } else {
      arg->kind = Arg::Kind::kInt;
      arg->int_value = std::strtoll(s.c_str(), &end, 0);
    }
    if (end != s.c_str() + s.size() || errno == ERANGE) return Error(t.pos, "bad number syntax: \"" + s + "\"");
    return Status::Ok();
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  std::vector<std::string> vars_;
  int depth_ = 0;
  int range_depth_ = 0;
  size_t last_keyword_pos_ = 0;
};

}  // namespace
}  // namespace template_internal

Result<Template> Template::Parse(std::string_view text) {
  using template_internal::Lexer;
  using template_internal::Parser;
  std::vector<template_internal::Token> tokens;
  TYTO_RETURN_IF_ERROR(Lexer(text).Run(&tokens));
  Parser parser(text, std::move(tokens));
  Result<template_internal::Node> root = parser.ParseAll();
  if (!root.ok()) return root.status();
  Template t;
  t.text_ = std::make_shared<const std::string>(text);
  t.root_ = std::make_shared<const template_internal::Node>(std::move(*root));
  return t;
}

}  // namespace tyto::rules
