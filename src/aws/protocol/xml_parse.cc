// XML responses (query, ec2, rest-xml) to boto3-shaped JSON, mirroring
// botocore's BaseXMLResponseParser: children are grouped by local tag name,
// flattened lists/maps are repeated elements, scalars come from the element
// text (empty element = ""), unknown elements are ignored.
#include <cerrno>
#include <cstdlib>
#include <unordered_map>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "aws/protocol/protocol_internal.h"
#include "base/strings.h"

namespace cloudaudit::aws::internal {

namespace {

// Deeply nested hostile documents must not overflow the stack.
constexpr int kMaxDepth = 200;

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// ElementTree's .text: character data before the first child element.
std::string ElementText(const pugi::xml_node& node) {
  std::string text;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      break;
    }
  }
  return text;
}

// A member's element(s): one node, or several when repeated (flattened).
using NodeList = std::vector<pugi::xml_node>;

std::unordered_map<std::string_view, NodeList> ChildrenByName(const pugi::xml_node& node) {
  std::unordered_map<std::string_view, NodeList> out;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    out[LocalName(child.name())].push_back(child);
  }
  return out;
}

class XmlShapeParser {
 public:
  Result<Json> Parse(const ShapeRef& ref, const NodeList& nodes, int depth) {
    if (depth > kMaxDepth) return MakeError(ErrorCode::kParse, "XML nested too deeply");
    const Shape& shape = *ref.shape;
    bool flattened = ref.flattened || shape.flattened;
    switch (shape.type) {
      case ShapeType::kStructure: return ParseStructure(shape, nodes.front(), depth);
      case ShapeType::kList: {
        Json out = Json::array();
        if (flattened) {
          for (const auto& n : nodes) {
            CA_TRY(Json v, Parse(shape.member, NodeList{n}, depth + 1));
            out.push_back(std::move(v));
          }
        } else {
          for (pugi::xml_node child = nodes.front().first_child(); child; child = child.next_sibling()) {
            if (child.type() != pugi::node_element) continue;
            CA_TRY(Json v, Parse(shape.member, NodeList{child}, depth + 1));
            out.push_back(std::move(v));
          }
        }
        return out;
      }
      case ShapeType::kMap: {
        Json out = Json::object();
        std::string key_name = shape.key.location_name.empty() ? "key" : shape.key.location_name;
        std::string value_name = shape.value.location_name.empty() ? "value" : shape.value.location_name;
        NodeList entries;
        if (flattened) {
          entries = nodes;
        } else {
          for (pugi::xml_node child = nodes.front().first_child(); child; child = child.next_sibling())
            if (child.type() == pugi::node_element) entries.push_back(child);
        }
        for (const auto& entry : entries) {
          std::string key;
          Json value;
          for (pugi::xml_node part = entry.first_child(); part; part = part.next_sibling()) {
            if (part.type() != pugi::node_element) continue;
            std::string_view tag = LocalName(part.name());
            if (tag == key_name) {
              key = ElementText(part);
            } else if (tag == value_name) {
              CA_TRY(value, Parse(shape.value, NodeList{part}, depth + 1));
            } else {
              return MakeError(ErrorCode::kParse, fmt::format("unknown tag <{}> in map entry", std::string(tag)));
            }
          }
          out[key] = std::move(value);
        }
        return out;
      }
      default: return ParseTextScalar(shape, ElementText(nodes.front()));
    }
  }

  Result<Json> ParseStructure(const Shape& shape, const pugi::xml_node& node, int depth) {
    if (depth > kMaxDepth) return MakeError(ErrorCode::kParse, "XML nested too deeply");
    Json out = Json::object();
    auto children = ChildrenByName(node);
    for (const auto& m : shape.members) {
      if (!m.ref.location.empty()) continue;  // headers/status handled by the REST layer
      std::string key = m.name;
      const Shape& ms = *m.ref.shape;
      if (ms.type == ShapeType::kList && (m.ref.flattened || ms.flattened) && !ms.member.location_name.empty()) {
        key = ms.member.location_name;
      } else if (!m.ref.location_name.empty()) {
        key = m.ref.location_name;
      }
      auto found = children.find(key);
      if (found != children.end()) {
        CA_TRY(Json v, Parse(m.ref, found->second, depth + 1));
        out[m.name] = std::move(v);
      } else if (m.ref.xml_attribute) {
        std::string_view wanted = LocalName(m.ref.location_name.c_str());
        for (pugi::xml_attribute attr = node.first_attribute(); attr; attr = attr.next_attribute()) {
          std::string_view attr_name(attr.name());
          if (attr_name.substr(0, 6) == "xmlns:" || attr_name == "xmlns") continue;
          if (LocalName(attr.name()) == wanted) {
            out[m.name] = std::string(attr.value());
            break;
          }
        }
      }
    }
    return out;
  }
};

}  // namespace

Result<Json> ParseXmlBody(const ServiceModel& model, const Operation& op, const Shape* shape, std::string_view body,
                          bool rest) {
  pugi::xml_document doc;
  if (body.empty() && rest) return Json::object();
  pugi::xml_parse_result parsed =
      doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  if (!parsed) {
    return MakeError(ErrorCode::kParse,
                     fmt::format("invalid XML at byte {}: {}", parsed.offset, parsed.description()));
  }
  pugi::xml_node root = doc.document_element();
  if (!root) return MakeError(ErrorCode::kParse, "XML response has no root element");
  // A proxy's or captive portal's HTML page is not an empty result.
  if (IEquals(LocalName(root.name()), "html"))
    return MakeError(ErrorCode::kParse, "an HTML page instead of an AWS XML response");
  if (model.metadata().protocol == "ec2" && LocalName(root.name()) != op.name + "Response") {
    return MakeError(ErrorCode::kParse, fmt::format("XML root <{}> is not <{}Response>",
                                                    std::string(LocalName(root.name())).substr(0, 64), op.name));
  }
  if (shape == nullptr) return Json::object();
  pugi::xml_node start = root;
  if (!op.result_wrapper.empty() && !rest) {
    start = pugi::xml_node();
    for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element && LocalName(child.name()) == op.result_wrapper) {
        start = child;
        break;
      }
    }
    if (!start) {
      return MakeError(ErrorCode::kParse, fmt::format("XML response lacks the <{}> element", op.result_wrapper));
    }
  }
  XmlShapeParser parser;
  ShapeRef ref;
  ref.shape = shape;
  if (shape->type != ShapeType::kStructure) return parser.Parse(ref, NodeList{start}, 0);
  return parser.ParseStructure(*shape, start, 0);
}

}  // namespace cloudaudit::aws::internal
