// A declarative option table for a YAML configuration section. One table per section drives
// strict decoding (types, ranges, unknown keys with a did-you-mean, duplicates), the reference
// documentation (every key with its type, default and help) and the encoding of a decoded
// value back to YAML (with secrets redacted, for /api/v1/status/config), so the three never
// disagree. Defaults are the member initializers of the config struct.
//
//   Section<HttpConfig> http("http", "The HTTP server");
//   http.String("listen", &HttpConfig::listen, "HOST:PORT to listen on")
//       .Duration("read_timeout", &HttpConfig::read_timeout, "...", std::chrono::seconds(1));
//   http.Decode(node, &cfg.http, &diags);
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "common/units.h"
#include "config/yaml.h"

namespace tyto::config {

// Errors found while decoding a file, each "file:line:column: message", in file order.
class Diagnostics {
 public:
  void Add(const Position& pos, std::string_view message);
  // A message that already names its place ("file:line:column: ...").
  void AddPositioned(std::string message) { messages_.push_back(std::move(message)); }
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  // OK when empty; otherwise InvalidArgument with every message, one per line.
  Status ToStatus() const;

 private:
  std::vector<std::string> messages_;
};

// The candidate closest to `word` by edit distance, if close enough to be a likely typo;
// otherwise empty.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// Scalar decoders. Each reports a positioned error and returns false when the node is not of
// the expected kind or out of range. A null node (a key with no value) leaves *out unchanged.
bool DecodeString(const Node& n, std::string* out, Diagnostics* d);
bool DecodeBool(const Node& n, bool* out, Diagnostics* d);
bool DecodeInt(const Node& n, int64_t min, int64_t max, int64_t* out, Diagnostics* d);
bool DecodeDuration(const Node& n, std::chrono::milliseconds min, std::chrono::milliseconds* out,
                    Diagnostics* d);
// A finite decimal number (prices, ratios) in [min, max].
bool DecodeNumber(const Node& n, double min, double max, double* out, Diagnostics* d);
// The shortest text that reads back as `v`.
std::string FormatNumber(double v);
bool DecodeByteSize(const Node& n, uint64_t min, uint64_t* out, Diagnostics* d);
bool DecodeStringList(const Node& n, std::vector<std::string>* out, Diagnostics* d);
// A mapping of strings to strings (labels), and of strings to lists of strings (URL params).
bool DecodeStringMap(const Node& n, std::map<std::string, std::string>* out, Diagnostics* d);
bool DecodeStringListMap(const Node& n, std::map<std::string, std::vector<std::string>>* out, Diagnostics* d);
// A string that must be one of `allowed`.
bool DecodeEnum(const Node& n, const std::vector<std::string>& allowed, std::string* out, Diagnostics* d);

struct OptionDoc {
  std::string key;            // dotted path: "http.tls.cert_file", "auth.tokens[].name"
  std::string type;           // "duration", "size", "string", "bool", "integer", "list of strings"...
  std::string default_value;  // as it would be written in the file
  std::string help;
};

template <typename T>
class Section {
 public:
  using Decoder = std::function<void(const Node&, T&, Diagnostics&)>;
  using Formatter = std::function<std::string(const T&)>;
  using Check = std::function<void(const T&, const Node& map, Diagnostics&)>;
  // Writes the option's value (the key is already written).
  using Encoder = std::function<void(const T&, Writer&)>;

  Section(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

  const std::string& name() const { return name_; }

  // The general form; the typed helpers below call it. Without `encode`, the value is written
  // as `format` gives it.
  Section& Option(std::string key, std::string type, std::string help, Decoder decode, Formatter format,
                  std::function<void(const std::string&, std::vector<OptionDoc>*)> children = nullptr,
                  Encoder encode = nullptr) {
    options_.push_back({std::move(key), std::move(type), std::move(help), std::move(decode),
                        std::move(format), std::move(children), std::move(encode)});
    return *this;
  }

  Section& String(std::string key, std::string T::*m, std::string help) {
    return Option(
        std::move(key), "string", std::move(help),
        [m](const Node& n, T& t, Diagnostics& d) { DecodeString(n, &(t.*m), &d); },
        [m](const T& t) { return Quote(t.*m); }, nullptr, [m](const T& t, Writer& w) { w.String(t.*m); });
  }
  // A string that must not be shown (a password, a token, the hash of one): documented and
  // decoded as a string, encoded as "<secret>" when set (as Prometheus shows its secrets).
  Section& Secret(std::string key, std::string T::*m, std::string help) {
    return Option(
        std::move(key), "string", std::move(help),
        [m](const Node& n, T& t, Diagnostics& d) { DecodeString(n, &(t.*m), &d); },
        [m](const T& t) { return Quote(t.*m); }, nullptr,
        [m](const T& t, Writer& w) { w.String((t.*m).empty() ? "" : "<secret>"); });
  }
  Section& Bool(std::string key, bool T::*m, std::string help) {
    return Option(std::move(key), "bool", std::move(help),
                  [m](const Node& n, T& t, Diagnostics& d) { DecodeBool(n, &(t.*m), &d); },
                  [m](const T& t) { return std::string(t.*m ? "true" : "false"); });
  }
  template <typename I>
  Section& Int(std::string key, I T::*m, std::string help, int64_t min = std::numeric_limits<I>::min(),
               int64_t max = std::numeric_limits<I>::max()) {
    return Option(
        std::move(key), "integer", std::move(help),
        [m, min, max](const Node& n, T& t, Diagnostics& d) {
          int64_t v = static_cast<int64_t>(t.*m);
          if (DecodeInt(n, min, max, &v, &d)) t.*m = static_cast<I>(v);
        },
        [m](const T& t) { return std::to_string(t.*m); });
  }
  Section& Number(std::string key, double T::*m, std::string help, double min = 0,
                  double max = std::numeric_limits<double>::max()) {
    return Option(std::move(key), "number", std::move(help),
                  [m, min, max](const Node& n, T& t, Diagnostics& d) { DecodeNumber(n, min, max, &(t.*m), &d); },
                  [m](const T& t) { return FormatNumber(t.*m); });
  }
  Section& Duration(std::string key, std::chrono::milliseconds T::*m, std::string help,
                    std::chrono::milliseconds min = std::chrono::milliseconds(0)) {
    return Option(std::move(key), "duration", std::move(help),
                  [m, min](const Node& n, T& t, Diagnostics& d) { DecodeDuration(n, min, &(t.*m), &d); },
                  [m](const T& t) { return FormatDuration(t.*m); });
  }
  Section& ByteSize(std::string key, uint64_t T::*m, std::string help, uint64_t min = 0) {
    return Option(std::move(key), "size", std::move(help),
                  [m, min](const Node& n, T& t, Diagnostics& d) { DecodeByteSize(n, min, &(t.*m), &d); },
                  [m](const T& t) { return FormatByteSize(t.*m); });
  }
  Section& Enum(std::string key, std::string T::*m, std::vector<std::string> allowed, std::string help) {
    std::string type = "one of";
    for (size_t i = 0; i < allowed.size(); ++i) type += (i ? ", " : " ") + allowed[i];
    return Option(
        std::move(key), std::move(type), std::move(help),
        [m, allowed](const Node& n, T& t, Diagnostics& d) { DecodeEnum(n, allowed, &(t.*m), &d); },
        [m](const T& t) { return t.*m; }, nullptr, [m](const T& t, Writer& w) { w.String(t.*m); });
  }
  Section& StringList(std::string key, std::vector<std::string> T::*m, std::string help) {
    return Option(
        std::move(key), "list of strings", std::move(help),
        [m](const Node& n, T& t, Diagnostics& d) { DecodeStringList(n, &(t.*m), &d); },
        [m](const T& t) { return FormatList(t.*m); }, nullptr, [m](const T& t, Writer& w) { EncodeList(t.*m, w); });
  }
  Section& StringMap(std::string key, std::map<std::string, std::string> T::*m, std::string help) {
    return Option(
        std::move(key), "mapping of strings", std::move(help),
        [m](const Node& n, T& t, Diagnostics& d) { DecodeStringMap(n, &(t.*m), &d); },
        [](const T&) { return std::string("{}"); }, nullptr,
        [m](const T& t, Writer& w) {
          w.BeginMap();
          for (const auto& [k, v] : t.*m) {
            w.Key(k);
            w.String(v);
          }
          w.EndMap();
        });
  }
  Section& StringListMap(std::string key, std::map<std::string, std::vector<std::string>> T::*m, std::string help) {
    return Option(
        std::move(key), "mapping of lists of strings", std::move(help),
        [m](const Node& n, T& t, Diagnostics& d) { DecodeStringListMap(n, &(t.*m), &d); },
        [](const T&) { return std::string("{}"); }, nullptr,
        [m](const T& t, Writer& w) {
          w.BeginMap();
          for (const auto& [k, v] : t.*m) {
            w.Key(k);
            EncodeList(v, w);
          }
          w.EndMap();
        });
  }
  // A nested mapping decoded by its own table.
  template <typename U>
  Section& Nested(std::string key, U T::*m, const Section<U>& sub) {
    return Option(
        key, "mapping", sub.help_,
        [m, sub](const Node& n, T& t, Diagnostics& d) { sub.Decode(n, &(t.*m), &d); },
        nullptr, [sub](const std::string& prefix, std::vector<OptionDoc>* out) { sub.Document(prefix, out); },
        [m, sub](const T& t, Writer& w) { sub.Encode(t.*m, w); });
  }
  // A list of mappings, each decoded by `item`; a default-constructed U is the starting point.
  template <typename U>
  Section& List(std::string key, std::vector<U> T::*m, const Section<U>& item) {
    return Option(
        key, "list of mappings", item.help_,
        [m, item](const Node& n, T& t, Diagnostics& d) {
          if (n.IsNull()) return;
          if (!n.IsSequence()) {
            d.Add(n.position(), "expected a list, got " + std::string(n.KindName()));
            return;
          }
          (t.*m).clear();
          for (const Node& i : n.items()) {
            U u{};
            item.Decode(i, &u, &d);
            (t.*m).push_back(std::move(u));
          }
        },
        [](const T&) { return std::string("[]"); },
        [item](const std::string& prefix, std::vector<OptionDoc>* out) { item.Document(prefix + "[]", out); },
        [m, item](const T& t, Writer& w) {
          w.BeginList();
          for (const U& u : t.*m) item.Encode(u, w);
          w.EndList();
        });
  }
  // A rule over several fields, run after the fields are decoded (and only if they decoded).
  Section& Validate(Check check) {
    checks_.push_back(std::move(check));
    return *this;
  }

  // Decodes a mapping into *out, field by field over its defaults. Every problem is reported
  // into *d; fields that fail keep their previous value.
  void Decode(const Node& node, T* out, Diagnostics* d) const {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      d->Add(node.position(), Where() + ": expected a mapping, got " + std::string(node.KindName()));
      return;
    }
    size_t errors_before = d->messages().size();
    std::vector<std::string> seen;
    for (const auto& [k, v] : node.entries()) {
      const std::string& key = k.scalar();
      if (!k.IsScalar()) {
        d->Add(k.position(), Where() + ": keys must be strings");
        continue;
      }
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        d->Add(k.position(), "duplicate key '" + key + "' in " + Where());
        continue;
      }
      seen.push_back(key);
      const Entry* e = Find(key);
      if (e == nullptr) {
        std::string msg = "unknown key '" + key + "' in " + Where();
        std::string guess = DidYouMean(key, Keys());
        if (!guess.empty()) msg += ", did you mean '" + guess + "'?";
        d->Add(k.position(), msg);
        continue;
      }
      e->decode(v, *out, *d);
    }
    if (d->messages().size() == errors_before) {
      for (const Check& c : checks_) c(*out, node, *d);
    }
  }

  // Appends one row per option, with defaults taken from a default-constructed T.
  void Document(const std::string& prefix, std::vector<OptionDoc>* out) const {
    T defaults{};
    for (const Entry& e : options_) {
      std::string path = prefix.empty() ? e.key : prefix + "." + e.key;
      if (e.format) out->push_back({path, e.type, e.format(defaults), e.help});
      if (e.children) e.children(path, out);
    }
  }

  // Writes `value` as a mapping of every option, defaults included, in table order; what
  // decodes back to the same value, except that secrets read "<secret>".
  void Encode(const T& value, Writer& w) const {
    w.BeginMap();
    for (const Entry& e : options_) {
      w.Key(e.key);
      if (e.encode) {
        e.encode(value, w);
      } else if (e.format) {
        w.Plain(e.format(value));
      } else {
        w.Plain("null");
      }
    }
    w.EndMap();
  }

  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const Entry& e : options_) keys.push_back(e.key);
    return keys;
  }

 private:
  template <typename>
  friend class Section;

  struct Entry {
    std::string key;
    std::string type;
    std::string help;
    Decoder decode;
    Formatter format;
    std::function<void(const std::string&, std::vector<OptionDoc>*)> children;
    Encoder encode;
  };

  const Entry* Find(const std::string& key) const {
    for (const Entry& e : options_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  // "section 'http'", or "the top level" for the root section (which has no name).
  std::string Where() const { return name_.empty() ? "the top level" : "section '" + name_ + "'"; }
  static std::string Quote(const std::string& s) { return s.empty() ? "\"\"" : s; }
  static void EncodeList(const std::vector<std::string>& v, Writer& w) {
    w.BeginList();
    for (const std::string& s : v) w.String(s);
    w.EndList();
  }
  static std::string FormatList(const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
  }

  std::string name_;
  std::string help_;
  std::vector<Entry> options_;
  std::vector<Check> checks_;
};

}  // namespace tyto::config
