#include "threats/cloudtrail_record.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "base/crypto.h"
#include "base/time.h"

namespace cloudaudit::threats {

namespace {

std::string_view StringAt(simdjson::dom::element e, std::string_view key) {
  std::string_view out;
  if (e[key].get(out) != simdjson::SUCCESS) return {};
  return out;
}

std::string_view StringAt(simdjson::dom::element e, std::string_view key, std::string_view sub) {
  simdjson::dom::element inner;
  if (e[key].get(inner) != simdjson::SUCCESS) return {};
  return StringAt(inner, sub);
}

bool IsServiceLinkedRoleArn(std::string_view arn) {
  return arn.substr(0, 4) == "arn:" && arn.find(":iam::") != std::string_view::npos &&
         arn.find(":role/aws-service-role/") != std::string_view::npos;
}

// "YYYY-MM-DDTHH:MM:SSZ", CloudTrail's own form, without the general parser.
std::optional<int64_t> FastEventTime(std::string_view s) {
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    return std::nullopt;
  auto num = [&](size_t at, size_t n, int* out) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) || !num(14, 2, &mi) || !num(17, 2, &se))
    return std::nullopt;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || se > 60) return std::nullopt;
  if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return std::nullopt;
  return DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + se;
}

Error Malformed(std::string why) {
  Error e;
  e.code = ErrorCode::kParse;
  e.message = "malformed record: " + std::move(why);
  return e;
}

}  // namespace

std::optional<int64_t> EventTimeEpoch(std::string_view text) {
  if (auto t = FastEventTime(text)) return t;
  // Other ISO-8601 forms (fractions, offsets); not bare epoch numbers.
  if (text.size() < 10 || text[4] != '-') return std::nullopt;
  auto ts = ParseTimestamp(text);
  if (!ts) return std::nullopt;
  return ts->epoch_seconds;
}

Result<int64_t> CheckRecord(simdjson::dom::parser& parser, std::string_view text, bool padded, simdjson::dom::element* doc,
                            std::string_view* event_time) {
  if (auto err = parser.parse(text.data(), text.size(), !padded).get(*doc); err != simdjson::SUCCESS)
    return Fail(Malformed(simdjson::error_message(err)));
  if (!doc->is_object()) return Fail(Malformed("not a JSON object"));
  if ((*doc)["eventTime"].get(*event_time) != simdjson::SUCCESS) return Fail(Malformed("no eventTime string"));
  auto epoch = EventTimeEpoch(*event_time);
  if (!epoch) return Fail(Malformed(fmt::format("eventTime `{}` is not a time", event_time->substr(0, 64))));
  return *epoch;
}

bool IsServiceActivity(simdjson::dom::element record) {
  simdjson::dom::element identity;
  if (record["userIdentity"].get(identity) != simdjson::SUCCESS) return false;
  if (!StringAt(identity, "invokedBy").empty()) return true;
  if (StringAt(identity, "type") == "AWSService") return true;
  if (IsServiceLinkedRoleArn(StringAt(identity, "arn"))) return true;
  simdjson::dom::element issuer;
  return identity.at_pointer("/sessionContext/sessionIssuer").get(issuer) == simdjson::SUCCESS &&
         IsServiceLinkedRoleArn(StringAt(issuer, "arn"));
}

RecordFields ExtractFields(simdjson::dom::element record, bool with_resources) {
  RecordFields f;
  f.event_id = StringAt(record, "eventID");
  f.event_name = StringAt(record, "eventName");
  f.event_source = StringAt(record, "eventSource");
  f.account_id = StringAt(record, "recipientAccountId");
  if (f.account_id.empty()) f.account_id = StringAt(record, "userIdentity", "accountId");
  f.region = StringAt(record, "awsRegion");
  f.principal = StringAt(record, "userIdentity", "arn");
  if (f.principal.empty()) f.principal = StringAt(record, "userIdentity", "type");
  f.source_ip = StringAt(record, "sourceIPAddress");
  f.user_agent = StringAt(record, "userAgent");
  if (with_resources) {
    simdjson::dom::array resources;
    if (record["resources"].get(resources) == simdjson::SUCCESS)
      for (auto r : resources)
        if (auto arn = StringAt(r, "ARN"); !arn.empty()) f.resource_arns.emplace_back(arn);
  }
  return f;
}

std::string CompactRecord(std::string_view text) {
  std::string out(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  size_t len = 0;
  if (simdjson::minify(text.data(), text.size(), out.data(), len) != simdjson::SUCCESS || len == 0) return std::string(text);
  out.resize(len);
  return out;
}

std::string AlertId(std::string_view rule_id, std::string_view event_id, std::string_view record_text) {
  std::string key(rule_id);
  key += '\n';
  if (!event_id.empty()) {
    key += "eventID:";
    key += event_id;
  } else {
    key += "record:";
    key += record_text;
  }
  return Sha256Hex(key).substr(0, 32);
}

}  // namespace cloudaudit::threats
