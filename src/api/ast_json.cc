#include "api/ast_json.h"

#include "promql/functions.h"

namespace tyto::api {
namespace {

using promql::NodeKind;

std::string_view MatchTypeName(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "=";
}

void StringList(JsonWriter& w, std::string_view key, const std::vector<std::string>& list) {
  Key(w, key);
  w.StartArray();
  for (const std::string& s : list) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
}

void Millis(JsonWriter& w, std::string_view key, int64_t ms) {
  Key(w, key);
  w.Int64(ms);
}

// "startOrEnd" and "timestamp" of the @ modifier.
void At(JsonWriter& w, promql::AtModifier at, int64_t timestamp_ms, std::string_view which) {
  Key(w, which);
  if (which == "startOrEnd") {
    if (at == promql::AtModifier::kStart) {
      w.String("start");
    } else if (at == promql::AtModifier::kEnd) {
      w.String("end");
    } else {
      w.Null();
    }
  } else if (at == promql::AtModifier::kTimestamp) {
    w.Int64(timestamp_ms);
  } else {
    w.Null();
  }
}

void Matchers(JsonWriter& w, const promql::VectorSelector& vs) {
  Key(w, "matchers");
  w.StartArray();
  for (const Matcher& m : vs.matchers) {
    w.StartObject();
    String(w, "name", m.name());
    String(w, "type", MatchTypeName(m.type()));
    String(w, "value", m.value());
    w.EndObject();
  }
  w.EndArray();
}

void OptionalNumber(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
  Key(w, key);
  if (v) {
    GoNumber(w, *v);
  } else {
    w.Null();
  }
}

void Node(JsonWriter& w, const promql::Expr& e);

void Child(JsonWriter& w, std::string_view key, const promql::Expr* e) {
  Key(w, key);
  if (e != nullptr) {
    Node(w, *e);
  } else {
    w.Null();
  }
}

void Node(JsonWriter& w, const promql::Expr& e) {
  w.StartObject();
  switch (e.kind()) {
    case NodeKind::kAggregate: {
      const auto& a = e.As<promql::AggregateExpr>();
      Child(w, "expr", a.expr.get());
      StringList(w, "grouping", a.grouping);
      String(w, "op", promql::AggregateOpName(a.op));
      Child(w, "param", a.param.get());
      String(w, "type", "aggregation");
      Key(w, "without");
      w.Bool(a.without);
      break;
    }
    case NodeKind::kBinary: {
      const auto& b = e.As<promql::BinaryExpr>();
      Key(w, "bool");
      w.Bool(b.return_bool);
      Child(w, "lhs", b.lhs.get());
      Key(w, "matching");
      if (b.matching) {
        const promql::VectorMatching& m = *b.matching;
        w.StartObject();
        String(w, "card", promql::CardinalityName(m.card));
        Key(w, "fillValues");
        w.StartObject();
        OptionalNumber(w, "lhs", m.fill_left);
        OptionalNumber(w, "rhs", m.fill_right);
        w.EndObject();
        StringList(w, "include", m.include);
        StringList(w, "labels", m.matching_labels);
        Key(w, "on");
        w.Bool(m.on);
        w.EndObject();
      } else {
        w.Null();
      }
      String(w, "op", promql::BinaryOpName(b.op));
      Child(w, "rhs", b.rhs.get());
      String(w, "type", "binaryExpr");
      break;
    }
    case NodeKind::kCall: {
      const auto& c = e.As<promql::Call>();
      Key(w, "args");
      w.StartArray();
      for (const promql::ExprPtr& arg : c.args) Node(w, *arg);
      w.EndArray();
      Key(w, "func");
      w.StartObject();
      Key(w, "argTypes");
      w.StartArray();
      for (promql::ValueType t : c.func->arg_types) {
        const std::string_view name = promql::ValueTypeApiName(t);
        w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      }
      w.EndArray();
      String(w, "name", c.func->name);
      String(w, "returnType", promql::ValueTypeApiName(c.func->return_type));
      Key(w, "variadic");
      w.Int(c.func->variadic);
      w.EndObject();
      String(w, "type", "call");
      break;
    }
    case NodeKind::kMatrixSelector: {
      const auto& m = e.As<promql::MatrixSelector>();
      const promql::VectorSelector& vs = *m.selector;
      Key(w, "anchored");
      w.Bool(vs.anchored);
      Matchers(w, vs);
      String(w, "name", vs.name);
      Millis(w, "offset", vs.offset.value.count());
      Millis(w, "range", m.range.value.count());
      Key(w, "smoothed");
      w.Bool(vs.smoothed);
      At(w, vs.at, vs.timestamp_ms, "startOrEnd");
      At(w, vs.at, vs.timestamp_ms, "timestamp");
      String(w, "type", "matrixSelector");
      break;
    }
    case NodeKind::kSubquery: {
      const auto& s = e.As<promql::SubqueryExpr>();
      Child(w, "expr", s.expr.get());
      Millis(w, "offset", s.offset.value.count());
      Millis(w, "range", s.range.value.count());
      At(w, s.at, s.timestamp_ms, "startOrEnd");
      Millis(w, "step", s.step.value.count());
      At(w, s.at, s.timestamp_ms, "timestamp");
      String(w, "type", "subquery");
      break;
    }
    case NodeKind::kVectorSelector: {
      const auto& vs = e.As<promql::VectorSelector>();
      Key(w, "anchored");
      w.Bool(vs.anchored);
      Matchers(w, vs);
      String(w, "name", vs.name);
      Millis(w, "offset", vs.offset.value.count());
      Key(w, "smoothed");
      w.Bool(vs.smoothed);
      At(w, vs.at, vs.timestamp_ms, "startOrEnd");
      At(w, vs.at, vs.timestamp_ms, "timestamp");
      String(w, "type", "vectorSelector");
      break;
    }
    case NodeKind::kNumberLiteral:
      String(w, "type", "numberLiteral");
      String(w, "val", FormatFloat(e.As<promql::NumberLiteral>().value));
      break;
    case NodeKind::kStringLiteral:
      String(w, "type", "stringLiteral");
      String(w, "val", e.As<promql::StringLiteral>().value);
      break;
    case NodeKind::kParen:
      Child(w, "expr", e.As<promql::ParenExpr>().expr.get());
      String(w, "type", "parenExpr");
      break;
    case NodeKind::kUnary: {
      const auto& u = e.As<promql::UnaryExpr>();
      Child(w, "expr", u.expr.get());
      String(w, "op", promql::BinaryOpName(u.op));
      String(w, "type", "unaryExpr");
      break;
    }
    case NodeKind::kDuration:
      // Only inside selectors and subqueries, which show its value; never a node of its own.
      String(w, "type", "numberLiteral");
      String(w, "val", e.String());
      break;
  }
  w.EndObject();
}

}  // namespace

void WriteSyntaxTree(JsonWriter& w, const promql::Expr& expr) { Node(w, expr); }

}  // namespace tyto::api
