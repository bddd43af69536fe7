#include "report/format_util.h"

#include <gtest/gtest.h>

namespace cloudaudit::report {
namespace {

TEST(FormatUtil, ValidUtf8ReplacesInvalidSequences) {
  EXPECT_EQ(ValidUtf8("plain"), "plain");
  EXPECT_EQ(ValidUtf8("\xE6\x95\xB0\xF0\x9F\x9A\x80"), "\xE6\x95\xB0\xF0\x9F\x9A\x80");
  EXPECT_EQ(ValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(ValidUtf8("\xE6\x95"), "\xEF\xBF\xBD\xEF\xBF\xBD");   // truncated at the end
  EXPECT_EQ(ValidUtf8("\xEF\xBF\xBD"), "\xEF\xBF\xBD");           // a real U+FFFD stays one
}

TEST(FormatUtil, TerminalSafeRemovesControlAndBidiCharacters) {
  EXPECT_EQ(TerminalSafe("a\x1b[31mred\x1b[0m"), "a?[31mred?[0m");
  EXPECT_EQ(TerminalSafe("line\r\nbreak\ttab"), "line  break tab");
  EXPECT_EQ(TerminalSafe("bell\x07 del\x7f"), "bell? del?");
  EXPECT_EQ(TerminalSafe("c1 \xC2\x9B" "2J"), "c1 ?2J");  // U+009B, the 8-bit CSI
  EXPECT_EQ(TerminalSafe("\xE2\x80\xAE" "evil"), "?evil");    // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(TerminalSafe("bad \xFF"), "bad \xEF\xBF\xBD");
  EXPECT_EQ(TerminalSafe("\xE6\x95\xB0\xE6\x8D\xAE \xC3\xA9"), "\xE6\x95\xB0\xE6\x8D\xAE \xC3\xA9");
}

TEST(FormatUtil, DisplayWidthCountsWideAndZeroWidthCharacters) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("\xE6\x95\xB0\xE6\x8D\xAE"), 4u);  // two CJK characters
  EXPECT_EQ(DisplayWidth("\xF0\x9F\x9A\x80"), 2u);          // emoji
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);                 // e + combining acute
  EXPECT_EQ(DisplayWidth("\xE2\x80\xA6"), 1u);              // …
}

TEST(FormatUtil, TruncateToWidthNeverSplitsACharacter) {
  EXPECT_EQ(TruncateToWidth("short", 10), "short");
  EXPECT_EQ(TruncateToWidth("abcdefghij", 5), "abcd\xE2\x80\xA6");
  EXPECT_EQ(DisplayWidth(TruncateToWidth("abcdefghij", 5)), 5u);
  // Wide characters: a 2-column character that does not fit is left out.
  std::string cjk = "\xE6\x95\xB0\xE6\x8D\xAE\xE5\xBA\x93";  // 6 columns
  std::string cut = TruncateToWidth(cjk, 4);
  EXPECT_EQ(cut, "\xE6\x95\xB0\xE2\x80\xA6");
  EXPECT_LE(DisplayWidth(cut), 4u);
  EXPECT_EQ(ValidUtf8(cut), cut);
  EXPECT_EQ(TruncateToWidth("abc", 0), "");
  EXPECT_EQ(PadToWidth("ab", 4), "ab  ");
  EXPECT_EQ(PadToWidth(cjk, 5), "\xE6\x95\xB0\xE6\x8D\xAE\xE2\x80\xA6");
}

TEST(FormatUtil, TruncateUtf16CountsSurrogatePairs) {
  EXPECT_EQ(TruncateUtf16("abc", 3), "abc");
  EXPECT_EQ(TruncateUtf16("abcd", 3), "ab\xE2\x80\xA6");
  // An emoji is two UTF-16 units.
  std::string emoji = "\xF0\x9F\x9A\x80\xF0\x9F\x9A\x80";
  EXPECT_EQ(TruncateUtf16(emoji, 4), emoji);
  EXPECT_EQ(TruncateUtf16(emoji, 3), "\xF0\x9F\x9A\x80\xE2\x80\xA6");
  EXPECT_EQ(TruncateUtf16(std::string(2000, 'x'), 1024).size(), 1023u + 3u);
}

TEST(FormatUtil, Timestamps) {
  EXPECT_EQ(EpochMillis("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(EpochMillis("2026-03-01T10:00:00.250+00:00"), 1772359200250);
  EXPECT_FALSE(EpochMillis("").has_value());
  EXPECT_FALSE(EpochMillis("not a time").has_value());
  EXPECT_EQ(Rfc3339Utc("2026-03-01T11:00:00+01:00"), "2026-03-01T10:00:00Z");
  EXPECT_EQ(Rfc3339Utc("2026-03-01T10:00:00.5Z"), "2026-03-01T10:00:00.500Z");
  EXPECT_EQ(Rfc3339Utc("garbage"), "");
  EXPECT_EQ(DurationText("2026-03-01T10:00:00Z", "2026-03-01T10:04:12Z"), "4m12s");
  EXPECT_EQ(DurationText("2026-03-01T10:00:00Z", "2026-03-01T12:03:00Z"), "2h03m");
  EXPECT_EQ(DurationText("2026-03-01T10:00:00Z", ""), "");
}

TEST(FormatUtil, AsffResourceTypes) {
  EXPECT_EQ(AsffResourceType("arn:aws:s3:::bucket", "aws_s3_bucket"), "AwsS3Bucket");
  EXPECT_EQ(AsffResourceType("arn:aws:iam::123456789012:root", "aws_iam_account_summary"), "AwsAccount");
  EXPECT_EQ(AsffResourceType("arn:aws:iam::123456789012:user/alice", "aws_iam_credential_report"), "AwsIamUser");
  EXPECT_EQ(AsffResourceType("arn:aws:ec2:us-east-1:123456789012:security-group/sg-1", ""), "AwsEc2SecurityGroup");
  EXPECT_EQ(AsffResourceType("arn:aws:ec2:us-east-1::snapshot/snap-1", ""), "Other");
  EXPECT_EQ(AsffResourceType("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/1", ""), "AwsElbv2LoadBalancer");
  EXPECT_EQ(AsffResourceType("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/classic", ""), "AwsElbLoadBalancer");
  EXPECT_EQ(AsffResourceType("arn:aws:rds:us-east-1:1:db:prod", ""), "AwsRdsDbInstance");
  EXPECT_EQ(AsffResourceType("arn:aws:es:us-east-1:1:domain/d", "aws_opensearch_domain"), "AwsOpenSearchServiceDomain");
  EXPECT_EQ(AsffResourceType("aws_ec2_ebs_encryption_default/us-east-1", "aws_ec2_ebs_encryption_default"), "Other");
  EXPECT_EQ(AsffResourceType("arn:broken", ""), "Other");
}

TEST(FormatUtil, AttackTags) {
  AttackTags t = ParseAttackTags({"attack.persistence", "attack.t1098.001", "attack.Privilege-Escalation", "attack.t1078",
                                  "attack.g0016", "cve.2021-1234", "attack.t1098"});
  ASSERT_EQ(t.tactics.size(), 2u);
  EXPECT_EQ(t.tactics[0].uid, "TA0003");
  EXPECT_EQ(t.tactics[0].name, "Persistence");
  EXPECT_EQ(t.tactics[1].uid, "TA0004");
  EXPECT_EQ(t.techniques, (std::vector<std::string>{"T1098", "T1078"}));
  EXPECT_EQ(t.sub_techniques, (std::vector<std::string>{"T1098.001"}));
}

TEST(FormatUtil, ListedAndComplianceRefs) {
  Finding alarm, ok;
  alarm.row.status = "alarm";
  ok.row.status = "ok";
  WriteOptions def, all;
  all.include_passed = true;
  EXPECT_TRUE(Listed(alarm, def));
  EXPECT_FALSE(Listed(ok, def));
  EXPECT_TRUE(Listed(ok, all));
  RuleInfo rule;
  rule.compliance = {{"nist", {"AC-2", "AC-3"}}, {"cis", {"1.4"}}};
  EXPECT_EQ(ComplianceRefs(rule), (std::vector<std::string>{"cis:1.4", "nist:AC-2", "nist:AC-3"}));
  EXPECT_EQ(ServiceOfEventSource("iam.amazonaws.com"), "iam");
}

TEST(FormatUtil, JsonTextNeverThrowsOnInvalidUtf8) {
  Json v = {{"k", std::string("bad \xFF")}};
  EXPECT_EQ(JsonText(v), "{\"k\":\"bad \xEF\xBF\xBD\"}");
}

}  // namespace
}  // namespace cloudaudit::report
