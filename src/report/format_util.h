// Helpers shared by the report writers: text made safe for each medium
// (valid UTF-8, no terminal control sequences, display width and clean
// truncation), timestamps, severity scales, which findings a list format
// shows, compliance references, ATT&CK tags and the AWS resource type of a
// finding. Everything here is pure and never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "report/formats.h"
#include "report/model.h"

namespace cloudaudit::report {

// ---- text ----

// `s` as valid UTF-8: every invalid byte sequence (stray continuation bytes,
// overlong forms, surrogates, code points past U+10FFFF) becomes U+FFFD.
std::string ValidUtf8(std::string_view s);

// One line of text that cannot drive a terminal: valid UTF-8; line breaks and
// tabs become spaces; other C0/C1 control characters (ESC, BEL, CSI...), DEL
// and the bidirectional embedding/override/isolate characters become '?'.
std::string TerminalSafe(std::string_view s);

// Columns `s` (valid UTF-8) occupies on a terminal: East Asian wide
// characters and emoji count 2, combining marks and zero-width characters 0.
size_t DisplayWidth(std::string_view s);

// `s` cut to at most `width` columns, ending in "…" when something was cut;
// never splits a character.
std::string TruncateToWidth(std::string_view s, size_t width);

// TruncateToWidth, then padded with spaces to exactly `width` columns.
std::string PadToWidth(std::string_view s, size_t width);

// `s` (valid UTF-8) cut to at most `max_units` UTF-16 code units — how the
// AWS APIs count string lengths — ending in "…" when cut.
std::string TruncateUtf16(std::string_view s, size_t max_units);

// JSON text of `value`, compact (indent < 0) or indented; invalid UTF-8 in
// strings is replaced rather than thrown on.
std::string JsonText(const Json& value, int indent = -1);

// ---- time ----

// Milliseconds since the epoch of an ISO-8601 timestamp; nullopt when empty
// or unparseable.
std::optional<int64_t> EpochMillis(std::string_view iso);

// RFC 3339 in UTC ("2026-01-02T03:04:05Z", with ".mmm" when the
// milliseconds are not zero); empty when unparseable.
std::string Rfc3339Utc(std::string_view iso);

// "4m12s", "1h03m", "12s"; empty when either end is missing.
std::string DurationText(std::string_view start, std::string_view end);

// ---- findings ----

// The severities from worst to mildest, as rules spell them.
const std::vector<std::string>& SeverityNames();

// Whether a list format shows this finding: alarms (suppressed ones too)
// always, other statuses with WriteOptions::include_passed.
bool Listed(const Finding& finding, const WriteOptions& options);

// "framework:control" for every control the rule maps to, frameworks in
// name order.
std::vector<std::string> ComplianceRefs(const RuleInfo& rule);

// The service of a CloudTrail eventSource: "iam.amazonaws.com" -> "iam".
std::string ServiceOfEventSource(std::string_view event_source);

// The AWS Security Finding Format resource type of a finding's resource
// (an ARN, or an id when the type has none): "AwsS3Bucket", "AwsIamUser",
// "AwsAccount" for an account root, ... "Other" when there is no ASFF type.
// `table` (the rule's resource table) settles ambiguous ARNs.
std::string AsffResourceType(std::string_view resource, std::string_view table);

// MITRE ATT&CK references in Sigma tags: tactics (attack.persistence ->
// TA0003 "Persistence"), techniques (attack.t1098 -> T1098) and
// sub-techniques (attack.t1098.001 -> T1098.001). Unknown tags are ignored.
struct AttackTactic {
  std::string uid, name;
};
struct AttackTags {
  std::vector<AttackTactic> tactics;
  std::vector<std::string> techniques;      // "T1098"
  std::vector<std::string> sub_techniques;  // "T1098.001"
};
AttackTags ParseAttackTags(const std::vector<std::string>& tags);

// Alerts from worst level to mildest, then by time (stable otherwise).
std::vector<const store::AlertRow*> AlertsWorstFirst(const std::vector<store::AlertRow>& alerts);

}  // namespace cloudaudit::report
