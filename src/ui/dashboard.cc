#include "ui/dashboard.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <utility>

#include "common/json_depth.h"
#include "promql/parser.h"

namespace tyto::ui {
namespace {

using Value = rapidjson::Value;
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
// Rows hold panels; Grafana nests them one level, old dashboards' rows[] another.
constexpr int kMaxPanelNesting = 4;
constexpr size_t kMaxShownBytes = 120;

std::string_view KindName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "a value";
}

std::string_view View(const Value& v) { return std::string_view(v.GetString(), v.GetStringLength()); }

// A short, printable excerpt of outside text for a message.
std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxShownBytes)) out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (s.size() > kMaxShownBytes) out += "...";
  return out;
}

const Value* Member(const Value& obj, std::string_view name) {
  auto it = obj.FindMember(Value(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string Compact(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Values for Grafana's global macros, by name (without the '$').
std::string_view MacroValue(std::string_view name) {
  if (name == "__interval_ms") return "60000";
  if (name == "__range_ms") return "3600000";
  if (name == "__range_s") return "3600";
  if (name == "__from" || name == "__to") return "1700000000000";
  if (name == "__interval" || name == "__rate_interval" || name == "__range" || name.starts_with("__auto_interval")) {
    return "5m";
  }
  return {};
}

// Whether the text before `pos` (spaces skipped) asks for a duration: inside [...] after '[' or
// ':' (a range or a subquery's step), or after "offset".
bool DurationBefore(std::string_view expr, size_t pos) {
  while (pos > 0 && (expr[pos - 1] == ' ' || expr[pos - 1] == '\t' || expr[pos - 1] == '\n')) --pos;
  if (pos == 0) return false;
  if (expr[pos - 1] == '[' || expr[pos - 1] == ':') return true;
  if (pos >= 6) {
    std::string_view word = expr.substr(pos - 6, 6);
    if ((word == "offset" || word == "OFFSET") && (pos == 6 || !IsNameChar(expr[pos - 7]))) return true;
  }
  return false;
}

bool DurationAfter(std::string_view expr, size_t pos) {
  while (pos < expr.size() && (expr[pos] == ' ' || expr[pos] == '\t')) ++pos;
  return pos < expr.size() && (expr[pos] == ']' || expr[pos] == ':');
}

class Checker {
 public:
  explicit Checker(std::vector<std::string>* warnings) : warnings_(warnings) {}

  Status Dashboard(const Value& d, const std::string& at, ui::Dashboard* out) {
    const Value* title = Member(d, "title");
    if (title == nullptr) return Fail(at, "title", "missing (a dashboard needs a title)");
    if (!title->IsString()) return Fail(at, "title", "expected a string, got " + std::string(KindName(*title)));
    out->title = std::string(View(*title));
    if (out->title.find_first_not_of(" \t") == std::string::npos) return Fail(at, "title", "must not be empty");
    if (const Value* uid = Member(d, "uid"); uid != nullptr && !uid->IsNull()) {
      if (!uid->IsString()) return Fail(at, "uid", "expected a string, got " + std::string(KindName(*uid)));
      if (uid->GetStringLength() > 0) {
        if (!ValidUid(View(*uid))) {
          return Fail(at, "uid", "'" + Shown(View(*uid)) + "' is not a valid uid (1 to 64 letters, digits, '-' or '_')");
        }
        out->uid = std::string(View(*uid));
      }
    }
    if (const Value* tags = Member(d, "tags"); tags != nullptr && !tags->IsNull()) {
      if (!tags->IsArray()) return Fail(at, "tags", "expected an array of strings, got " + std::string(KindName(*tags)));
      for (rapidjson::SizeType i = 0; i < tags->Size(); ++i) {
        const Value& t = (*tags)[i];
        if (!t.IsString()) {
          return Fail(at, "tags[" + std::to_string(i) + "]", "expected a string, got " + std::string(KindName(t)));
        }
        out->tags.emplace_back(View(t));
      }
    }
    const Value* panels = Member(d, "panels");
    const Value* rows = Member(d, "rows");
    if (panels == nullptr && rows == nullptr) return Fail(at, "panels", "missing (an array of panels)");
    if (panels != nullptr) TYTO_RETURN_IF_ERROR(Panels(*panels, Join(at, "panels"), 0));
    if (rows != nullptr) {
      // Dashboards from before Grafana 5: rows[], each with its panels.
      const std::string where = Join(at, "rows");
      if (!rows->IsArray()) return Fail(where, "", "expected an array, got " + std::string(KindName(*rows)));
      for (rapidjson::SizeType i = 0; i < rows->Size(); ++i) {
        const std::string row_at = where + "[" + std::to_string(i) + "]";
        const Value& row = (*rows)[i];
        if (!row.IsObject()) return Fail(row_at, "", "expected an object, got " + std::string(KindName(row)));
        if (const Value* p = Member(row, "panels")) TYTO_RETURN_IF_ERROR(Panels(*p, row_at + ".panels", 1));
      }
    }
    TYTO_RETURN_IF_ERROR(List(d, at, "templating", [&](const Value& v, const std::string& v_at) -> Status {
      const Value* name = Member(v, "name");
      if (name == nullptr || !name->IsString()) return Fail(v_at, "name", "expected a string");
      return Status::Ok();
    }));
    return List(d, at, "annotations", [&](const Value& a, const std::string& a_at) -> Status {
      if (const Value* expr = Member(a, "expr"); expr != nullptr) {
        if (!expr->IsString()) return Fail(a_at, "expr", "expected a string, got " + std::string(KindName(*expr)));
        if (ChecksPromQL(a, nullptr)) Query(View(*expr), Join(a_at, "expr"), "annotation");
      }
      return Status::Ok();
    });
  }

 private:
  static std::string Join(const std::string& at, std::string_view key) {
    if (key.empty()) return at;
    return at.empty() ? std::string(key) : at + "." + std::string(key);
  }
  static Status Fail(const std::string& at, std::string_view key, const std::string& what) {
    return InvalidArgument(Join(at, key) + ": " + what);
  }

  // `section`.list: an array of objects, each passed to `each`.
  template <typename Each>
  Status List(const Value& d, const std::string& at, std::string_view section, Each each) {
    const Value* s = Member(d, section);
    if (s == nullptr || s->IsNull()) return Status::Ok();
    const std::string s_at = Join(at, section);
    if (!s->IsObject()) return Fail(s_at, "", "expected an object, got " + std::string(KindName(*s)));
    const Value* list = Member(*s, "list");
    if (list == nullptr || list->IsNull()) return Status::Ok();
    const std::string l_at = s_at + ".list";
    if (!list->IsArray()) return Fail(l_at, "", "expected an array, got " + std::string(KindName(*list)));
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const std::string e_at = l_at + "[" + std::to_string(i) + "]";
      const Value& e = (*list)[i];
      if (!e.IsObject()) return Fail(e_at, "", "expected an object, got " + std::string(KindName(e)));
      TYTO_RETURN_IF_ERROR(each(e, e_at));
    }
    return Status::Ok();
  }

  Status Panels(const Value& panels, const std::string& at, int nesting) {
    if (!panels.IsArray()) return Fail(at, "", "expected an array of panels, got " + std::string(KindName(panels)));
    for (rapidjson::SizeType i = 0; i < panels.Size(); ++i) {
      TYTO_RETURN_IF_ERROR(Panel(panels[i], at + "[" + std::to_string(i) + "]", nesting));
    }
    return Status::Ok();
  }

  Status Panel(const Value& p, const std::string& at, int nesting) {
    if (!p.IsObject()) return Fail(at, "", "expected a panel object, got " + std::string(KindName(p)));
    const Value* type = Member(p, "type");
    if (type == nullptr) return Fail(at, "type", "missing (every panel has a type: timeseries, stat, row, ...)");
    if (!type->IsString()) return Fail(at, "type", "expected a string, got " + std::string(KindName(*type)));
    if (type->GetStringLength() == 0) return Fail(at, "type", "must not be empty");
    std::string title;
    if (const Value* t = Member(p, "title"); t != nullptr && !t->IsNull()) {
      if (!t->IsString()) return Fail(at, "title", "expected a string, got " + std::string(KindName(*t)));
      title = std::string(View(*t));
    }
    if (const Value* nested = Member(p, "panels"); nested != nullptr && !nested->IsNull()) {
      if (nesting >= kMaxPanelNesting) return Fail(at, "panels", "panels nested too deep");
      TYTO_RETURN_IF_ERROR(Panels(*nested, Join(at, "panels"), nesting + 1));
    }
    const Value* targets = Member(p, "targets");
    if (targets == nullptr || targets->IsNull()) return Status::Ok();
    const std::string t_at = Join(at, "targets");
    if (!targets->IsArray()) return Fail(t_at, "", "expected an array, got " + std::string(KindName(*targets)));
    for (rapidjson::SizeType i = 0; i < targets->Size(); ++i) {
      const std::string q_at = t_at + "[" + std::to_string(i) + "]";
      const Value& q = (*targets)[i];
      if (!q.IsObject()) return Fail(q_at, "", "expected an object, got " + std::string(KindName(q)));
      const Value* expr = Member(q, "expr");
      if (expr == nullptr || expr->IsNull()) continue;
      if (!expr->IsString()) return Fail(q_at, "expr", "expected a string, got " + std::string(KindName(*expr)));
      if (!ChecksPromQL(q, &p)) continue;
      std::string what = title.empty() ? "panel" : "panel \"" + Shown(title) + "\"";
      if (const Value* ref = Member(q, "refId"); ref != nullptr && ref->IsString()) what += ", refId " + Shown(View(*ref));
      Query(View(*expr), Join(q_at, "expr"), what);
    }
    return Status::Ok();
  }

  // Whether a target's data source (its own, else its panel's) speaks PromQL: none named, a
  // template variable, Prometheus or Tyto. Others (Loki, SQL, ...) are left alone.
  static bool ChecksPromQL(const Value& target, const Value* panel) {
    const Value* ds = Member(target, "datasource");
    if ((ds == nullptr || ds->IsNull()) && panel != nullptr) ds = Member(*panel, "datasource");
    if (ds == nullptr || !ds->IsObject()) return true;
    const Value* type = Member(*ds, "type");
    if (type == nullptr || !type->IsString()) return true;
    std::string_view t = View(*type);
    return t.empty() || t == "prometheus" || t.starts_with("tyto") || t.starts_with("$");
  }

  void Query(std::string_view expr, const std::string& at, const std::string& what) {
    if (expr.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
    if (++checked_ > kMaxCheckedQueries) {
      if (checked_ == kMaxCheckedQueries + 1) {
        warnings_->push_back(at + ": more than " + std::to_string(kMaxCheckedQueries) +
                             " queries; the rest are not checked");
      }
      return;
    }
    Result<promql::ExprPtr> first = promql::Parse(ReplaceGrafanaVariables(expr, "x"));
    if (first.ok()) return;
    // A variable may stand for a number (topk($n, ...)) rather than a name.
    if (ReplaceGrafanaVariables(expr, "1") != ReplaceGrafanaVariables(expr, "x") &&
        promql::Parse(ReplaceGrafanaVariables(expr, "1")).ok()) {
      return;
    }
    warnings_->push_back(at + " (" + what + "): does not parse as PromQL: " + first.status().message());
  }

  std::vector<std::string>* warnings_;
  size_t checked_ = 0;
};

// Line and column (from 1) of a byte offset.
std::string LineColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

bool ValidUid(std::string_view uid) {
  if (uid.empty() || uid.size() > 64) return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) { return IsNameChar(c) || c == '-'; });
}

std::string Slugify(std::string_view title) {
  std::string out;
  for (char c : title) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "dashboard" : out;
}

std::string ReplaceGrafanaVariables(std::string_view expr, std::string_view otherwise) {
  std::string out;
  out.reserve(expr.size() + 16);
  char quote = 0;  // the open string literal's quote, 0 outside one
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (quote != 0) {
      if (c == '\\' && quote != '`' && i + 1 < expr.size()) {
        out.append(expr.substr(i, 2));
        i += 2;
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    }
    // The variable's name, and where it ends, in its three spellings.
    std::string_view name;
    size_t end = i;
    if (c == '$' && i + 1 < expr.size() && expr[i + 1] == '{') {
      size_t close = expr.find('}', i + 2);
      if (close != std::string_view::npos) {
        name = expr.substr(i + 2, close - i - 2);
        name = name.substr(0, name.find_first_of(":."));  // ${var:format}, ${var.field}
        end = close + 1;
      }
    } else if (c == '$') {
      size_t j = i + 1;
      while (j < expr.size() && IsNameChar(expr[j])) ++j;
      if (j > i + 1) {
        name = expr.substr(i + 1, j - i - 1);
        end = j;
      }
    } else if (c == '[' && i + 1 < expr.size() && expr[i + 1] == '[') {
      size_t close = expr.find("]]", i + 2);
      if (close != std::string_view::npos) {
        std::string_view inner = expr.substr(i + 2, close - i - 2);
        inner = inner.substr(0, inner.find(':'));
        if (!inner.empty() && std::all_of(inner.begin(), inner.end(), IsNameChar)) {
          name = inner;
          end = close + 2;
        }
      }
    }
    if (name.empty() || end == i) {
      out += c;
      ++i;
      continue;
    }
    if (quote != 0 && c != quote) {
      out += "x";
    } else if (std::string_view macro = MacroValue(name); !macro.empty()) {
      out += macro;
    } else if (DurationBefore(expr, i) || DurationAfter(expr, end)) {
      out += "5m";
    } else {
      out += otherwise;
    }
    i = end;
  }
  return out;
}

Result<ValidatedDashboard> ValidateDashboard(std::string_view text) {
  if (text.size() > kMaxDashboardBytes) {
    return InvalidArgument("dashboard is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                           std::to_string(kMaxDashboardBytes));
  }
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return InvalidArgument("invalid JSON at " + LineColumn(text, doc.GetErrorOffset()) + " (byte " +
                           std::to_string(doc.GetErrorOffset()) + "): " + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) {
    return InvalidArgument("expected a dashboard object (or Grafana's import form {\"dashboard\":{...}}), got " +
                           std::string(KindName(doc)));
  }
  if (NestedDeeperThan(doc, kMaxDashboardDepth)) {
    return InvalidArgument("arrays and objects nested deeper than " + std::to_string(kMaxDashboardDepth));
  }
  ValidatedDashboard out;
  const Value* dash = &doc;
  std::string at;
  if (const Value* inner = Member(doc, "dashboard"); inner != nullptr && Member(doc, "panels") == nullptr) {
    if (!inner->IsObject()) return InvalidArgument("dashboard: expected an object, got " + std::string(KindName(*inner)));
    if (const Value* ow = Member(doc, "overwrite"); ow != nullptr && !ow->IsNull()) {
      if (!ow->IsBool()) return InvalidArgument("overwrite: expected true or false, got " + std::string(KindName(*ow)));
      out.overwrite = ow->GetBool();
    }
    dash = inner;
    at = "dashboard";
  }
  Checker checker(&out.warnings);
  TYTO_RETURN_IF_ERROR(checker.Dashboard(*dash, at, &out.dashboard));
  out.dashboard.json = Compact(*dash);
  return out;
}

Result<std::string> SetUid(std::string_view json, std::string_view uid) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("not a dashboard object");
  Value v(uid.data(), static_cast<rapidjson::SizeType>(uid.size()), doc.GetAllocator());
  if (doc.HasMember("uid")) {
    doc["uid"] = v;
  } else {
    doc.AddMember("uid", v, doc.GetAllocator());
  }
  return Compact(doc);
}

}  // namespace tyto::ui
