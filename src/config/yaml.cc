#include "config/yaml.h"

#include <yaml-cpp/yaml.h>

namespace tyto::config {
namespace {
const std::string kEmpty;
}

std::string Position::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Node::Node() : node_(std::make_unique<YAML::Node>()) {}
Node::~Node() = default;
Node::Node(const Node& o) : node_(std::make_unique<YAML::Node>(*o.node_)), file_(o.file_), position_(o.position_) {}
Node& Node::operator=(const Node& o) {
  if (this != &o) {
    node_ = std::make_unique<YAML::Node>(*o.node_);
    file_ = o.file_;
    position_ = o.position_;
  }
  return *this;
}

Node::Node(const YAML::Node& n, std::shared_ptr<const std::string> file)
    : node_(std::make_unique<YAML::Node>(n)), file_(std::move(file)) {
  position_.file = *file_;
  YAML::Mark m = n.Mark();
  if (!m.is_null()) {
    position_.line = m.line + 1;
    position_.column = m.column + 1;
  }
}

Node::Kind Node::kind() const {
  switch (node_->Type()) {
    case YAML::NodeType::Scalar: return Kind::kScalar;
    case YAML::NodeType::Sequence: return Kind::kSequence;
    case YAML::NodeType::Map: return Kind::kMap;
    default: return Kind::kNull;
  }
}

std::string_view Node::KindName() const {
  switch (kind()) {
    case Kind::kScalar: return quoted() ? "a quoted string" : "a scalar";
    case Kind::kSequence: return "a list";
    case Kind::kMap: return "a mapping";
    case Kind::kNull: return "nothing";
  }
  return "nothing";
}

const std::string& Node::scalar() const { return IsScalar() ? node_->Scalar() : kEmpty; }

bool Node::quoted() const { return IsScalar() && node_->Tag() == "!"; }

std::vector<std::pair<Node, Node>> Node::entries() const {
  std::vector<std::pair<Node, Node>> out;
  if (!IsMap()) return out;
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    out.emplace_back(Node(it->first, file_), Node(it->second, file_));
  }
  return out;
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  if (!IsSequence()) return out;
  for (auto it = node_->begin(); it != node_->end(); ++it) out.push_back(Node(*it, file_));
  return out;
}

Result<Node> ParseYaml(std::string_view text, const std::string& file) {
  auto name = std::make_shared<const std::string>(file);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    Node n(root, name);
    return n;
  } catch (const YAML::Exception& e) {
    Position p{file, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    return InvalidArgument(p.ToString() + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgument(file + ": invalid YAML: " + e.what());
  }
}

Writer::Writer() : out_(std::make_unique<YAML::Emitter>()) {}
Writer::~Writer() = default;

void Writer::Flush() {
  if (pending_ == Pending::kMap) *out_ << YAML::BeginMap;
  if (pending_ == Pending::kList) *out_ << YAML::BeginSeq;
  pending_ = Pending::kNone;
}

void Writer::BeginMap() {
  Flush();
  pending_ = Pending::kMap;
}

void Writer::EndMap() {
  if (pending_ == Pending::kMap) {
    *out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
    pending_ = Pending::kNone;
    return;
  }
  *out_ << YAML::EndMap;
}

void Writer::BeginList() {
  Flush();
  pending_ = Pending::kList;
}

void Writer::EndList() {
  if (pending_ == Pending::kList) {
    *out_ << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
    pending_ = Pending::kNone;
    return;
  }
  *out_ << YAML::EndSeq;
}

void Writer::Key(std::string_view key) {
  Flush();
  *out_ << YAML::Key << std::string(key) << YAML::Value;
}

void Writer::String(std::string_view value) {
  // yaml-cpp leaves "true", "123" or "null" plain, which would read back as another type (or
  // as nothing); a plain scalar must mean the same string.
  Flush();
  const std::string s(value);
  bool plain_is_safe = !s.empty() && s != "~" && s != "null" && s != "Null" && s != "NULL";
  if (plain_is_safe) {
    try {
      const YAML::Node reread = YAML::Load(s);
      bool b = false;
      double d = 0;
      plain_is_safe = reread.IsScalar() && reread.Scalar() == s && !YAML::convert<bool>::decode(reread, b) &&
                      !YAML::convert<double>::decode(reread, d);
    } catch (const YAML::Exception&) {
      plain_is_safe = false;
    }
  }
  if (plain_is_safe) {
    *out_ << s;
  } else {
    *out_ << YAML::DoubleQuoted << s;
  }
}

void Writer::Plain(std::string_view value) {
  Flush();
  *out_ << std::string(value);
}

std::string Writer::Text() const {
  std::string s = out_->c_str();
  if (s.empty() && pending_ == Pending::kMap) s = "{}";
  if (s.empty() && pending_ == Pending::kList) s = "[]";
  if (s.empty() || s.back() != '\n') s.push_back('\n');
  return s;
}

}  // namespace tyto::config
