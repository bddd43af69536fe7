#include "report/format_util.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/time.h"

namespace cloudaudit::report {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at s[i]; advances i. Invalid sequences yield
// U+FFFD and consume one byte, so decoding always makes progress.
char32_t DecodeOne(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + len > s.size()) {
    ++i;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += len;
  return cp;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool In(char32_t cp, char32_t lo, char32_t hi) { return cp >= lo && cp <= hi; }

// A compact wcwidth: enough for names, reasons and ARNs (Latin, CJK, emoji).
int CodePointWidth(char32_t cp) {
  if (In(cp, 0x0300, 0x036F) || In(cp, 0x1AB0, 0x1AFF) || In(cp, 0x1DC0, 0x1DFF) || In(cp, 0x20D0, 0x20FF) ||
      In(cp, 0xFE20, 0xFE2F) || In(cp, 0xFE00, 0xFE0F) || In(cp, 0x200B, 0x200F) || In(cp, 0x2060, 0x2064) ||
      cp == 0xFEFF || In(cp, 0xE0100, 0xE01EF))
    return 0;
  if (In(cp, 0x1100, 0x115F) || In(cp, 0x2E80, 0x303E) || In(cp, 0x3041, 0x33FF) || In(cp, 0x3400, 0x4DBF) ||
      In(cp, 0x4E00, 0x9FFF) || In(cp, 0xA000, 0xA4CF) || In(cp, 0xAC00, 0xD7A3) || In(cp, 0xF900, 0xFAFF) ||
      In(cp, 0xFE30, 0xFE4F) || In(cp, 0xFF00, 0xFF60) || In(cp, 0xFFE0, 0xFFE6) || In(cp, 0x1F300, 0x1F64F) ||
      In(cp, 0x1F900, 0x1F9FF) || In(cp, 0x1F680, 0x1F6FF) || In(cp, 0x20000, 0x3FFFD))
    return 2;
  return 1;
}

const char* kEllipsis = "\xE2\x80\xA6";  // …

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t cp = DecodeOne(s, i);
    if (cp == kReplacement && !(i - start == 3 && s.substr(start, 3) == "\xEF\xBF\xBD"))
      AppendUtf8(out, kReplacement);
    else
      out.append(s.substr(start, i - start));
  }
  return out;
}

std::string TerminalSafe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = DecodeOne(s, i);
    if (cp == '\n' || cp == '\r' || cp == '\t' || cp == 0x2028 || cp == 0x2029) {
      out += ' ';
    } else if (cp < 0x20 || cp == 0x7F || In(cp, 0x80, 0x9F) || In(cp, 0x202A, 0x202E) || In(cp, 0x2066, 0x2069)) {
      out += '?';
    } else {
      AppendUtf8(out, cp);
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  size_t i = 0;
  while (i < s.size()) width += static_cast<size_t>(CodePointWidth(DecodeOne(s, i)));
  return width;
}

std::string TruncateToWidth(std::string_view s, size_t width) {
  if (DisplayWidth(s) <= width) return std::string(s);
  if (width == 0) return std::string();
  std::string out;
  size_t used = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t cp = DecodeOne(s, i);
    size_t w = static_cast<size_t>(CodePointWidth(cp));
    if (used + w > width - 1) break;
    used += w;
    out.append(s.substr(start, i - start));
  }
  out += kEllipsis;
  return out;
}

std::string PadToWidth(std::string_view s, size_t width) {
  std::string out = TruncateToWidth(s, width);
  size_t w = DisplayWidth(out);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string TruncateUtf16(std::string_view s, size_t max_units) {
  size_t units = 0;
  size_t i = 0;
  while (i < s.size()) units += DecodeOne(s, i) >= 0x10000 ? 2 : 1;
  if (units <= max_units) return std::string(s);
  if (max_units == 0) return std::string();
  std::string out;
  units = 0;
  i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t cp = DecodeOne(s, i);
    size_t u = cp >= 0x10000 ? 2 : 1;
    if (units + u > max_units - 1) break;  // one unit left for the ellipsis
    units += u;
    out.append(s.substr(start, i - start));
  }
  out += kEllipsis;
  return out;
}

std::string JsonText(const Json& value, int indent) {
  try {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    return "null";  // unreachable with the replace handler; kept so a writer never throws
  }
}

std::optional<int64_t> EpochMillis(std::string_view iso) {
  if (iso.empty()) return std::nullopt;
  auto ts = ParseTimestamp(iso);
  if (!ts) return std::nullopt;
  return ts->epoch_seconds * 1000 + ts->micros / 1000;
}

std::string Rfc3339Utc(std::string_view iso) {
  auto ms = EpochMillis(iso);
  if (!ms) return std::string();
  int64_t seconds = *ms >= 0 ? *ms / 1000 : -((-*ms + 999) / 1000);
  int64_t millis = *ms - seconds * 1000;
  std::string out = FormatIso8601Utc(seconds);
  if (millis != 0 && !out.empty() && out.back() == 'Z') {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(millis));
    out.insert(out.size() - 1, frac);
  }
  return out;
}

std::string DurationText(std::string_view start, std::string_view end) {
  auto a = EpochMillis(start), b = EpochMillis(end);
  if (!a || !b || *b < *a) return std::string();
  int64_t s = (*b - *a) / 1000;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  return buf;
}

const std::vector<std::string>& SeverityNames() {
  static const std::vector<std::string> names = {"critical", "high", "medium", "low", "informational"};
  return names;
}

bool Listed(const Finding& finding, const WriteOptions& options) {
  return finding.row.status == "alarm" || options.include_passed;
}

std::vector<std::string> ComplianceRefs(const RuleInfo& rule) {
  std::vector<std::string> out;
  for (const auto& [framework, controls] : rule.compliance)
    for (const auto& control : controls) out.push_back(framework + ":" + control);
  return out;
}

std::string ServiceOfEventSource(std::string_view event_source) {
  size_t dot = event_source.find('.');
  return std::string(dot == std::string_view::npos ? event_source : event_source.substr(0, dot));
}

std::string AsffResourceType(std::string_view resource, std::string_view table) {
  if (table == "aws_opensearch_domain") return "AwsOpenSearchServiceDomain";
  if (resource.substr(0, 4) != "arn:") return "Other";
  // arn:partition:service:region:account:resource
  std::vector<std::string_view> parts;
  size_t pos = 0;
  for (int k = 0; k < 5; ++k) {
    size_t colon = resource.find(':', pos);
    if (colon == std::string_view::npos) return "Other";
    parts.push_back(resource.substr(pos, colon - pos));
    pos = colon + 1;
  }
  std::string_view service = parts[2];
  std::string_view rest = resource.substr(pos);
  auto starts = [&](std::string_view prefix) { return rest.substr(0, prefix.size()) == prefix; };
  if (service == "iam") {
    if (rest == "root") return "AwsAccount";
    if (starts("user/")) return "AwsIamUser";
    if (starts("role/")) return "AwsIamRole";
    if (starts("group/")) return "AwsIamGroup";
    if (starts("policy/")) return "AwsIamPolicy";
    return "Other";
  }
  if (service == "s3") return rest.find('/') == std::string_view::npos ? "AwsS3Bucket" : "AwsS3Object";
  if (service == "ec2") {
    static const std::map<std::string_view, const char*> kEc2 = {
        {"security-group/", "AwsEc2SecurityGroup"}, {"instance/", "AwsEc2Instance"},
        {"vpc/", "AwsEc2Vpc"},                      {"volume/", "AwsEc2Volume"},
        {"subnet/", "AwsEc2Subnet"},                {"network-acl/", "AwsEc2NetworkAcl"},
        {"elastic-ip/", "AwsEc2Eip"},               {"network-interface/", "AwsEc2NetworkInterface"},
        {"vpn-connection/", "AwsEc2VpnConnection"}, {"vpc-peering-connection/", "AwsEc2VpcPeeringConnection"},
        {"transit-gateway/", "AwsEc2TransitGateway"}};
    for (const auto& [prefix, type] : kEc2)
      if (starts(prefix)) return type;
    return "Other";
  }
  if (service == "kms") return starts("key/") ? "AwsKmsKey" : "Other";
  if (service == "cloudtrail") return "AwsCloudTrailTrail";
  if (service == "autoscaling") {
    if (rest.find("launchConfiguration:") != std::string_view::npos) return "AwsAutoScalingLaunchConfiguration";
    if (rest.find("autoScalingGroup:") != std::string_view::npos) return "AwsAutoScalingAutoScalingGroup";
    return "Other";
  }
  if (service == "rds") {
    if (starts("db:")) return "AwsRdsDbInstance";
    if (starts("cluster:")) return "AwsRdsDbCluster";
    if (starts("snapshot:")) return "AwsRdsDbSnapshot";
    if (starts("cluster-snapshot:")) return "AwsRdsDbClusterSnapshot";
    if (starts("es:")) return "AwsRdsEventSubscription";
    return "Other";
  }
  if (service == "redshift") return starts("cluster:") ? "AwsRedshiftCluster" : "Other";
  if (service == "lambda") return starts("function:") ? "AwsLambdaFunction" : "Other";
  if (service == "sns") return "AwsSnsTopic";
  if (service == "sqs") return "AwsSqsQueue";
  if (service == "dynamodb") return starts("table/") ? "AwsDynamoDbTable" : "Other";
  if (service == "elasticloadbalancing") {
    if (starts("loadbalancer/app/") || starts("loadbalancer/net/")) return "AwsElbv2LoadBalancer";
    if (starts("loadbalancer/")) return "AwsElbLoadBalancer";
    return "Other";
  }
  if (service == "cloudfront") return starts("distribution/") ? "AwsCloudFrontDistribution" : "Other";
  if (service == "apigateway") {
    if (starts("/restapis/")) return "AwsApiGatewayRestApi";
    if (starts("/apis/")) return "AwsApiGatewayV2Api";
    return "Other";
  }
  if (service == "codebuild") return starts("project/") ? "AwsCodeBuildProject" : "Other";
  if (service == "ecr") return starts("repository/") ? "AwsEcrRepository" : "Other";
  if (service == "eks") return starts("cluster/") ? "AwsEksCluster" : "Other";
  if (service == "es") return starts("domain/") ? "AwsElasticsearchDomain" : "Other";
  if (service == "acm") return "AwsCertificateManagerCertificate";
  if (service == "cloudformation") return starts("stack/") ? "AwsCloudFormationStack" : "Other";
  if (service == "cloudwatch") return starts("alarm:") ? "AwsCloudWatchAlarm" : "Other";
  if (service == "backup") {
    if (starts("backup-vault:")) return "AwsBackupBackupVault";
    if (starts("backup-plan:")) return "AwsBackupBackupPlan";
    return "Other";
  }
  if (service == "secretsmanager") return "AwsSecretsManagerSecret";
  return "Other";
}

AttackTags ParseAttackTags(const std::vector<std::string>& tags) {
  static const std::map<std::string, AttackTactic> kTactics = {
      {"reconnaissance", {"TA0043", "Reconnaissance"}},
      {"resource_development", {"TA0042", "Resource Development"}},
      {"initial_access", {"TA0001", "Initial Access"}},
      {"execution", {"TA0002", "Execution"}},
      {"persistence", {"TA0003", "Persistence"}},
      {"privilege_escalation", {"TA0004", "Privilege Escalation"}},
      {"defense_evasion", {"TA0005", "Defense Evasion"}},
      {"credential_access", {"TA0006", "Credential Access"}},
      {"discovery", {"TA0007", "Discovery"}},
      {"lateral_movement", {"TA0008", "Lateral Movement"}},
      {"collection", {"TA0009", "Collection"}},
      {"exfiltration", {"TA0010", "Exfiltration"}},
      {"command_and_control", {"TA0011", "Command and Control"}},
      {"impact", {"TA0040", "Impact"}},
  };
  AttackTags out;
  auto push_unique = [](auto& list, const auto& value) {
    if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
  };
  for (const auto& tag : tags) {
    std::string lower;
    for (char c : tag) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lower.rfind("attack.", 0) != 0) continue;
    std::string rest = lower.substr(7);
    std::replace(rest.begin(), rest.end(), '-', '_');
    auto tactic = kTactics.find(rest);
    if (tactic != kTactics.end()) {
      if (std::none_of(out.tactics.begin(), out.tactics.end(), [&](const AttackTactic& t) { return t.uid == tactic->second.uid; }))
        out.tactics.push_back(tactic->second);
      continue;
    }
    // t1234 or t1234.001
    if (rest.size() < 5 || rest[0] != 't' ||
        !std::all_of(rest.begin() + 1, rest.begin() + 5, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    std::string technique = "T" + rest.substr(1, 4);
    if (rest.size() == 5) {
      push_unique(out.techniques, technique);
    } else if (rest.size() == 9 && rest[5] == '.' &&
               std::all_of(rest.begin() + 6, rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      push_unique(out.techniques, technique);
      push_unique(out.sub_techniques, technique + rest.substr(5));
    }
  }
  return out;
}

std::vector<const store::AlertRow*> AlertsWorstFirst(const std::vector<store::AlertRow>& alerts) {
  std::vector<const store::AlertRow*> out;
  out.reserve(alerts.size());
  for (const auto& a : alerts) out.push_back(&a);
  std::stable_sort(out.begin(), out.end(), [](const store::AlertRow* a, const store::AlertRow* b) {
    int ra = SeverityRank(a->level), rb = SeverityRank(b->level);
    if (ra != rb) return ra > rb;
    return a->event_time < b->event_time;
  });
  return out;
}

}  // namespace cloudaudit::report
