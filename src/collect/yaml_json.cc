#include "collect/yaml_json.h"

#include <cstdlib>
#include <string>

#include <yaml-cpp/yaml.h>

namespace cloudaudit::collect {

Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
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

}  // namespace cloudaudit::collect
