#include "collect/yaml_json.h"

#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace cloudaudit::collect {

namespace {

// A budget or depth overrun. The node where it happens may sit at an anchor
// far away; YamlToJson re-marks it at the value being converted.
class LimitExceeded : public YAML::Exception {
 public:
  using YAML::Exception::Exception;
};

Json Convert(const YAML::Node& node, size_t& budget, int depth) {
  if (budget == 0)
    throw LimitExceeded(node.Mark(), fmt::format("the document expands to more than {} values (aliases repeating anchors?)",
                                                   kYamlMaxValues));
  --budget;
  if (depth > kYamlMaxDepth) throw LimitExceeded(node.Mark(), fmt::format("nested deeper than {} levels", kYamlMaxDepth));
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = Convert(kv.second, budget, depth + 1);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(Convert(item, budget, depth + 1));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: always a string
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return static_cast<int64_t>(v);
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0' && s.find_first_of("0123456789") != std::string::npos) return d;
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace

Json YamlToJson(const YAML::Node& node, size_t* budget) {
  try {
    return Convert(node, *budget, 0);
  } catch (const LimitExceeded& e) {
    throw YAML::Exception(node.Mark(), e.msg);
  }
}

}  // namespace cloudaudit::collect
