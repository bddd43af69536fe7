// What the hunt reads from one CloudTrail record: the checks a record must
// pass to be evaluated (a JSON object with a usable eventTime), the fields an
// alert copies, the built-in test for AWS service activity and the stable
// alert id. Nothing here knows about AWS calls or files, so the fuzz harness
// runs it on arbitrary bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace simdjson::dom {
class element;
class parser;
}  // namespace simdjson::dom

namespace cloudaudit::threats {

// eventTime as CloudTrail writes it ("2024-01-05T10:00:00Z"), or any
// ISO-8601 time with a date; nullopt when it is not a time.
std::optional<int64_t> EventTimeEpoch(std::string_view text);

// Parses one record's text with `parser` and checks it: valid JSON (and
// UTF-8), an object, an `eventTime` string that is a time. Returns the
// event time (epoch seconds) and sets *doc and *event_time, which live in
// the parser's memory until its next parse. With `padded`, the text is
// followed by simdjson::SIMDJSON_PADDING readable bytes and is parsed in
// place (the reader guarantees it). kParse errors say why, in a sentence
// starting "malformed record: ".
Result<int64_t> CheckRecord(simdjson::dom::parser& parser, std::string_view text, bool padded, simdjson::dom::element* doc,
                            std::string_view* event_time);

// True for a call made by an AWS service on the customer's behalf:
// userIdentity.invokedBy is a non-empty string, userIdentity.type is
// AWSService, or the caller is a service-linked role
// (arn:<partition>:iam::<account>:role/aws-service-role/...) or a session of
// one (its sessionContext.sessionIssuer.arn is such a role).
bool IsServiceActivity(simdjson::dom::element record);

// The record's fields an alert carries (empty when absent or not strings).
struct RecordFields {
  std::string event_id, event_name, event_source;
  std::string account_id;  // recipientAccountId, else userIdentity.accountId
  std::string region;      // awsRegion
  std::string principal;   // userIdentity.arn, else userIdentity.type
  std::string source_ip, user_agent;
  std::vector<std::string> resource_arns;  // resources[].ARN (with_resources only)
};
RecordFields ExtractFields(simdjson::dom::element record, bool with_resources);

// The record's text without insignificant whitespace (numbers and strings
// exactly as written); the text itself when it is not valid JSON.
std::string CompactRecord(std::string_view text);

// Stable alert id: 32 hex digits of SHA-256 of the rule id and the record's
// eventID, or of the (compact) record text when it has no eventID.
std::string AlertId(std::string_view rule_id, std::string_view event_id, std::string_view record_text);

}  // namespace cloudaudit::threats
