// libyaml events → YamlNode trees (see sigma_yaml.h for why).
#include "threats/sigma_yaml.h"

#include <yaml.h>

#include <map>
#include <set>

#include <fmt/format.h>

namespace cloudaudit::threats::internal {

const YamlNode* YamlNode::Get(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (const auto& [k, v] : pairs) {
    if (k->IsScalar() && k->scalar == key) return v.get();
  }
  return nullptr;
}

int YamlNode::KeyLine(std::string_view key) const {
  for (const auto& [k, v] : pairs) {
    if (k->IsScalar() && k->scalar == key) return k->line;
  }
  return line;
}

namespace {

// YAML 1.2 core schema nulls, for plain (unquoted) scalars.
bool IsPlainNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

struct Frame {
  std::shared_ptr<YamlNode> node;
  std::string anchor;
  std::shared_ptr<const YamlNode> pending_key;
  std::set<std::string> keys;  // scalar keys seen, for duplicates
};

class Builder {
 public:
  explicit Builder(std::vector<std::shared_ptr<const YamlNode>>* docs) : docs_(docs) {}

  bool Run(std::string_view text, YamlError* error) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
      *error = {1, "YAML: cannot initialize the parser"};
      return false;
    }
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    bool ok = true;
    bool done = false;
    while (ok && !done) {
      yaml_event_t event;
      if (!yaml_parser_parse(&parser, &event)) {
        std::string msg = std::string("YAML: ") + (parser.problem ? parser.problem : "syntax error");
        if (parser.context) msg += std::string(" ") + parser.context;
        *error = {static_cast<int>(parser.problem_mark.line) + 1, std::move(msg)};
        ok = false;
        break;
      }
      ok = Handle(event, error);
      done = event.type == YAML_STREAM_END_EVENT;
      yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return ok;
  }

 private:
  bool Fail(YamlError* error, int line, std::string message) {
    *error = {line, std::move(message)};
    return false;
  }

  bool Add(std::shared_ptr<const YamlNode> node, YamlError* error) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return true;
    }
    Frame& top = stack_.back();
    if (top.node->kind == YamlNode::Kind::kSequence) {
      top.node->items.push_back(std::move(node));
      return true;
    }
    if (!top.pending_key) {
      if (node->IsScalar() && !top.keys.insert(node->scalar).second) {
        return Fail(error, node->line, fmt::format("YAML: duplicate key `{}`", node->scalar));
      }
      top.pending_key = std::move(node);
      return true;
    }
    top.node->pairs.emplace_back(std::move(top.pending_key), std::move(node));
    top.pending_key.reset();
    return true;
  }

  void Anchor(const unsigned char* anchor, const std::shared_ptr<const YamlNode>& node) {
    if (anchor != nullptr) anchors_[reinterpret_cast<const char*>(anchor)] = node;
  }

  bool Handle(const yaml_event_t& e, YamlError* error) {
    const int line = static_cast<int>(e.start_mark.line) + 1;
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        root_.reset();
        anchors_.clear();
        return true;
      case YAML_DOCUMENT_END_EVENT: {
        if (!root_) {
          auto null = std::make_shared<YamlNode>();
          null->line = line;
          root_ = std::move(null);
        }
        docs_->push_back(std::move(root_));
        return true;
      }
      case YAML_SCALAR_EVENT: {
        auto node = std::make_shared<YamlNode>();
        node->line = line;
        node->scalar.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        const bool null_tag = tag != nullptr && std::string_view(tag) == YAML_NULL_TAG;
        const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag == nullptr;
        node->kind = null_tag || (plain && IsPlainNull(node->scalar)) ? YamlNode::Kind::kNull : YamlNode::Kind::kScalar;
        if (node->kind == YamlNode::Kind::kNull) node->scalar.clear();
        Anchor(e.data.scalar.anchor, node);
        return Add(std::move(node), error);
      }
      case YAML_ALIAS_EVENT: {
        const auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end()) {
          return Fail(error, line, fmt::format("YAML: alias `*{}` has no finished anchor before it",
                                               reinterpret_cast<const char*>(e.data.alias.anchor)));
        }
        return Add(it->second, error);
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (static_cast<int>(stack_.size()) >= kMaxYamlDepth) {
          return Fail(error, line, fmt::format("YAML: nesting deeper than {} levels", kMaxYamlDepth));
        }
        Frame f;
        f.node = std::make_shared<YamlNode>();
        f.node->line = line;
        f.node->kind = e.type == YAML_SEQUENCE_START_EVENT ? YamlNode::Kind::kSequence : YamlNode::Kind::kMap;
        const unsigned char* anchor = e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
        if (anchor != nullptr) f.anchor = reinterpret_cast<const char*>(anchor);
        stack_.push_back(std::move(f));
        return true;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        std::shared_ptr<const YamlNode> node = std::move(f.node);
        // Registered only now: an alias inside its own anchor is an error,
        // so the tree has no cycles.
        if (!f.anchor.empty()) anchors_[f.anchor] = node;
        return Add(std::move(node), error);
      }
      default:
        return true;
    }
  }

  std::vector<std::shared_ptr<const YamlNode>>* docs_;
  std::vector<Frame> stack_;
  std::shared_ptr<const YamlNode> root_;
  std::map<std::string, std::shared_ptr<const YamlNode>> anchors_;
};

}  // namespace

bool ParseYaml(std::string_view text, std::vector<std::shared_ptr<const YamlNode>>* docs, YamlError* error) {
  docs->clear();
  Builder b(docs);
  return b.Run(text, error);
}

}  // namespace cloudaudit::threats::internal
