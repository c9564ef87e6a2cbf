// A parsed YAML document with the position of every node, so that errors in configuration,
// rule and scrape files can name file:line:column. Hides yaml-cpp from the rest of Tyto.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace YAML {
class Emitter;
class Node;
}

namespace tyto::config {

// 1-based line and column; line 0 means "the whole file".
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "tyto.yml:3:5"
};

class Node {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Node();  // a null node
  ~Node();
  Node(const Node&);
  Node& operator=(const Node&);

  Kind kind() const;
  bool IsNull() const { return kind() == Kind::kNull; }
  bool IsScalar() const { return kind() == Kind::kScalar; }
  bool IsSequence() const { return kind() == Kind::kSequence; }
  bool IsMap() const { return kind() == Kind::kMap; }
  // "a string", "a list", "a mapping", "nothing": for "expected X, got Y" messages.
  std::string_view KindName() const;

  const Position& position() const { return position_; }
  // The text of a scalar; empty for other kinds.
  const std::string& scalar() const;
  // True when the scalar was written in quotes, so "5" is a string and 5 is not.
  bool quoted() const;

  // Entries of a mapping in file order, duplicates included; empty for other kinds.
  std::vector<std::pair<Node, Node>> entries() const;
  // Items of a sequence; empty for other kinds.
  std::vector<Node> items() const;

 private:
  friend Result<Node> ParseYaml(std::string_view text, const std::string& file);
  Node(const YAML::Node& n, std::shared_ptr<const std::string> file);

  std::unique_ptr<YAML::Node> node_;
  std::shared_ptr<const std::string> file_;
  Position position_;
};

// Parses one YAML document. An empty text gives a null node. Syntax errors name
// file:line:column. Never throws.
Result<Node> ParseYaml(std::string_view text, const std::string& file);

// Writes one YAML document in block style, for showing a configuration (the option tables'
// Encode, /api/v1/status/config). Calls must nest properly: a Key before every value of a
// mapping, Begin and End in pairs; empty mappings and lists are written as {} and []. Never
// throws.
class Writer {
 public:
  Writer();
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void BeginMap();
  void EndMap();
  void BeginList();
  void EndList();
  void Key(std::string_view key);
  // A string, quoted where YAML would otherwise read it as something else (or as nothing: "").
  void String(std::string_view value);
  // A number, boolean, duration or size, written as it is.
  void Plain(std::string_view value);

  // The document written so far, ending in a newline.
  std::string Text() const;

 private:
  // A mapping or list is begun when its first entry comes, so an empty one can be written as
  // {} or [] instead of a block with nothing in it.
  enum class Pending { kNone, kMap, kList };
  void Flush();

  std::unique_ptr<YAML::Emitter> out_;
  Pending pending_ = Pending::kNone;
};

}  // namespace tyto::config
