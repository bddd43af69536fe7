// Input validation before any call, with botocore's ParamValidator wording so
// users of the AWS CLI recognise the messages.
#include <fmt/format.h>

#include "aws/protocol/protocol.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws {

namespace {

std::string PyTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return "<class 'str'>";
    case Json::value_t::boolean: return "<class 'bool'>";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "<class 'int'>";
    case Json::value_t::number_float: return "<class 'float'>";
    case Json::value_t::array: return "<class 'list'>";
    case Json::value_t::object: return "<class 'dict'>";
    default: return "<class 'NoneType'>";
  }
}

std::string PythonRepr(const Json& v);

// Python's str() of a parameter value, as botocore's messages print it.
std::string PythonStr(const Json& v) { return v.is_string() ? v.get<std::string>() : PythonRepr(v); }

std::string PythonRepr(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
      char quote = has_single && !has_double ? '"' : '\'';
      std::string out(1, quote);
      for (char c : s) {
        if (c == quote || c == '\\') out += '\\';
        if (c == '\n') { out += "\\n"; continue; }
        out += c;
      }
      return out + quote;
    }
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + PythonRepr(v[i]);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out += (first ? "'" : ", '") + it.key() + "': " + PythonRepr(it.value());
        first = false;
      }
      return out + "}";
    }
    default: return DumpPythonJson(v, -1);
  }
}

class Validator {
 public:
  std::vector<std::string> errors;

  void Check(const ShapeRef& ref, const Json& v, const std::string& name, int depth) {
    if (depth > 100) {
      errors.push_back(fmt::format("Parameter {} is nested too deeply", name));
      return;
    }
    const Shape& s = *ref.shape;
    auto bad_type = [&](const char* valid) {
      errors.push_back(fmt::format("Invalid type for parameter {}, value: {}, type: {}, valid types: {}", name,
                                   PythonStr(v), PyTypeName(v), valid));
    };
    switch (s.type) {
      case ShapeType::kStructure: {
        if (s.document) return;
        if (!v.is_object()) return bad_type("<class 'dict'>");
        for (const auto& req : s.required)
          if (!v.contains(req))
            errors.push_back(fmt::format("Missing required parameter in {}: \"{}\"", name, req));
        // botocore reports every unknown member first, then checks the known ones.
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (s.FindMember(it.key()) != nullptr) continue;
          std::string valid;
          for (const auto& mm : s.members) valid += (valid.empty() ? "" : ", ") + mm.name;
          errors.push_back(fmt::format("Unknown parameter in {}: \"{}\", must be one of: {}", name, it.key(), valid));
        }
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (const Member* m = s.FindMember(it.key()))
            Check(m->ref, it.value(), name == "input" ? m->name : name + "." + m->name, depth + 1);
        }
        return;
      }
      case ShapeType::kList: {
        if (!v.is_array()) return bad_type("<class 'list'>, <class 'tuple'>");
        if (s.min && v.size() < *s.min)
          errors.push_back(fmt::format("Invalid length for parameter {}, value: {}, valid min length: {}", name,
                                       v.size(), static_cast<int64_t>(*s.min)));
        size_t i = 0;
        for (const auto& item : v) Check(s.member, item, fmt::format("{}[{}]", name, i++), depth + 1);
        return;
      }
      case ShapeType::kMap: {
        if (!v.is_object()) return bad_type("<class 'dict'>");
        for (auto it = v.begin(); it != v.end(); ++it)
          Check(s.value, it.value(), fmt::format("{}.{}", name, it.key()), depth + 1);
        return;
      }
      case ShapeType::kString: {
        if (!v.is_string()) return bad_type("<class 'str'>");
        size_t len = v.get_ref<const std::string&>().size();
        if (s.min && len < *s.min)
          errors.push_back(fmt::format("Invalid length for parameter {}, value: {}, valid min length: {}", name, len,
                                       static_cast<int64_t>(*s.min)));
        return;
      }
      case ShapeType::kInteger:
      case ShapeType::kLong: {
        if (!v.is_number_integer()) return bad_type("<class 'int'>");
        if (s.min && v.get<int64_t>() < *s.min)
          errors.push_back(fmt::format("Invalid value for parameter {}, value: {}, valid min value: {}", name,
                                       v.get<int64_t>(), static_cast<int64_t>(*s.min)));
        return;
      }
      case ShapeType::kFloat:
      case ShapeType::kDouble:
        if (!v.is_number()) return bad_type("<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>");
        return;
      case ShapeType::kBoolean:
        if (!v.is_boolean()) return bad_type("<class 'bool'>");
        return;
      case ShapeType::kTimestamp:
        if (v.is_number()) return;
        if (!v.is_string() || !ParseTimestamp(v.get<std::string>()))
          return bad_type("<class 'datetime.datetime'>, timestamp string");
        return;
      case ShapeType::kBlob: {
        std::string decoded;
        if (!v.is_string()) return bad_type("<class 'bytes'>, <class 'bytearray'>, file-like object");
        if (!Base64Decode(v.get<std::string>(), &decoded))
          errors.push_back(fmt::format("Invalid base64 for parameter {}: blobs are given base64-encoded", name));
        return;
      }
    }
  }
};

}  // namespace

Status ValidateInput(const Operation& op, const Json& params) {
  if (op.input == nullptr) {
    if (params.is_null() || (params.is_object() && params.empty())) return {};
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("Parameter validation failed:\n{} takes no parameters", op.name));
  }
  Validator v;
  ShapeRef ref;
  ref.shape = op.input;
  v.Check(ref, params.is_null() ? Json::object() : params, "input", 0);
  if (v.errors.empty()) return {};
  std::string msg = "Parameter validation failed:";
  for (const auto& e : v.errors) msg += "\n" + e;
  return MakeError(ErrorCode::kInvalidArgument, msg);
}

}  // namespace cloudaudit::aws
