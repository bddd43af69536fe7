// Conformance tests of the Sigma engine: every modifier and condition form,
// each with matching and non-matching CloudTrail-shaped records.
#include "threats/sigma.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "threats/sigma_testing.h"

namespace cloudaudit::threats {
namespace {

using testing::Base64;
using testing::Matches;
using testing::SetOf;

// ---- selections -----------------------------------------------------------

TEST(SigmaSelection, MapIsAndOfFields) {
  auto set = SetOf(
      "  selection:\n    eventSource: iam.amazonaws.com\n    eventName: CreateAccessKey\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey"})"));
  EXPECT_FALSE(Matches(set, R"({"eventSource":"iam.amazonaws.com","eventName":"DeleteAccessKey"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"CreateAccessKey"})"));
}

TEST(SigmaSelection, DefaultMatchingIsCaseInsensitive) {
  auto set = SetOf("  selection:\n    eventName: CreateAccessKey\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"createaccesskey"})"));
  EXPECT_TRUE(Matches(set, R"({"eventName":"CREATEACCESSKEY"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"CreateAccessKeys"})"));
}

TEST(SigmaSelection, ListOfMapsIsOr) {
  auto set = SetOf(
      "  selection:\n"
      "    - eventName: StopLogging\n"
      "    - eventName: DeleteTrail\n"
      "      eventSource: cloudtrail.amazonaws.com\n"
      "  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"StopLogging"})"));
  EXPECT_TRUE(Matches(set, R"({"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"DeleteTrail"})"));
}

TEST(SigmaSelection, ValueListIsOr) {
  auto set = SetOf("  selection:\n    eventName:\n      - StopLogging\n      - DeleteTrail\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"StopLogging"})"));
  EXPECT_TRUE(Matches(set, R"({"eventName":"DeleteTrail"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"UpdateTrail"})"));
}

TEST(SigmaSelection, AllMakesValueListAnd) {
  auto set =
      SetOf("  selection:\n    userAgent|contains|all:\n      - aws-cli\n      - Linux\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userAgent":"aws-cli/2.13.0 Python/3.11 Linux/5.10"})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":"aws-cli/2.13.0 Python/3.11 Windows/10"})"));
}

TEST(SigmaSelection, NumbersAndBooleansCompareAsStrings) {
  auto set = SetOf(
      "  selection:\n    readOnly: false\n    requestParameters.maxResults: 1000\n    apiVersion: '2.5'\n  condition: "
      "selection\n");
  EXPECT_TRUE(Matches(set, R"({"readOnly":false,"requestParameters":{"maxResults":1000},"apiVersion":2.5})"));
  EXPECT_TRUE(Matches(set, R"({"readOnly":"FALSE","requestParameters":{"maxResults":"1000"},"apiVersion":"2.5"})"));
  EXPECT_FALSE(Matches(set, R"({"readOnly":true,"requestParameters":{"maxResults":1000},"apiVersion":2.5})"));
  EXPECT_FALSE(Matches(set, R"({"readOnly":false,"requestParameters":{"maxResults":10000},"apiVersion":2.5})"));
  auto big = SetOf("  selection:\n    n: 18446744073709551615\n    m: -5\n  condition: selection\n");
  EXPECT_TRUE(Matches(big, R"({"n":18446744073709551615,"m":-5})"));
}

TEST(SigmaSelection, DottedPathsReachNestedFields) {
  auto set = SetOf(
      "  selection:\n    userIdentity.sessionContext.sessionIssuer.userName: admin-role\n"
      "    responseElements.ConsoleLogin: Success\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userIdentity":{"sessionContext":{"sessionIssuer":{"userName":"admin-role"}}},
                              "responseElements":{"ConsoleLogin":"Success"}})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"sessionContext":{"sessionIssuer":{"userName":"other"}}},
                               "responseElements":{"ConsoleLogin":"Success"}})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":"admin-role","responseElements":{"ConsoleLogin":"Success"}})"));
  EXPECT_FALSE(Matches(set, R"({"responseElements":null})"));
}

TEST(SigmaSelection, PathThroughArraysMatchesAnyElement) {
  auto set = SetOf(
      "  selection:\n    requestParameters.ipPermissions.items.ipRanges.items.cidrIp: 0.0.0.0/0\n  condition: "
      "selection\n");
  const char* open = R"({"requestParameters":{"ipPermissions":{"items":[
      {"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}},
      {"ipRanges":{"items":[{"cidrIp":"192.168.0.0/16"},{"cidrIp":"0.0.0.0/0"}]}}]}}})";
  const char* closed = R"({"requestParameters":{"ipPermissions":{"items":[
      {"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}}]}}})";
  EXPECT_TRUE(Matches(set, open));
  EXPECT_FALSE(Matches(set, closed));
  // A terminal array: any element.
  auto terminal = SetOf("  selection:\n    requestParameters.actions: s3:*\n  condition: selection\n");
  EXPECT_TRUE(Matches(terminal, R"({"requestParameters":{"actions":["ec2:Describe*",["s3:*"]]}})"));
  EXPECT_FALSE(Matches(terminal, R"({"requestParameters":{"actions":["ec2:Describe*"]}})"));
}

TEST(SigmaSelection, AllWithArraysNeedsEachValueInSomeElement) {
  auto set = SetOf(
      "  selection:\n    resources.ARN|endswith|all:\n      - ':key/1'\n      - ':key/2'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"resources":[{"ARN":"arn:aws:kms:r:1:key/1"},{"ARN":"arn:aws:kms:r:1:key/2"}]})"));
  EXPECT_FALSE(Matches(set, R"({"resources":[{"ARN":"arn:aws:kms:r:1:key/1"}]})"));
}

// ---- null and empty values ---------------------------------------------------

TEST(SigmaValues, NullMeansAbsentOrNull) {
  auto set = SetOf(
      "  selection:\n    eventName: ConsoleLogin\n  filter:\n    errorCode: null\n  condition: selection and filter\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"ConsoleLogin"})"));
  EXPECT_TRUE(Matches(set, R"({"eventName":"ConsoleLogin","errorCode":null})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"ConsoleLogin","errorCode":"AccessDenied"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"ConsoleLogin","errorCode":""})"));
  auto tilde = SetOf("  selection:\n    errorCode: ~\n  condition: selection\n");
  EXPECT_TRUE(Matches(tilde, R"({"eventName":"x"})"));
  auto quoted = SetOf("  selection:\n    errorCode: 'null'\n  condition: selection\n");
  EXPECT_FALSE(Matches(quoted, R"({"eventName":"x"})"));
  EXPECT_TRUE(Matches(quoted, R"({"errorCode":"NULL"})"));
}

TEST(SigmaValues, NullInAValueList) {
  auto set = SetOf("  selection:\n    errorCode:\n      - null\n      - ''\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({})"));
  EXPECT_TRUE(Matches(set, R"({"errorCode":""})"));
  EXPECT_FALSE(Matches(set, R"({"errorCode":"AccessDenied"})"));
}

TEST(SigmaValues, EmptyStringIsNotAbsent) {
  auto set = SetOf("  selection:\n    userAgent: ''\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userAgent":""})"));
  EXPECT_FALSE(Matches(set, R"({})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":null})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":"x"})"));
}

TEST(SigmaValues, NotNullThroughNegation) {
  auto set = SetOf("  filter:\n    errorCode: null\n  condition: not filter\n");
  EXPECT_TRUE(Matches(set, R"({"errorCode":"Denied"})"));
  EXPECT_FALSE(Matches(set, R"({"errorCode":null})"));
}

// ---- wildcards and escaping --------------------------------------------------

TEST(SigmaWildcards, StarAndQuestionMark) {
  auto set = SetOf("  selection:\n    eventName: 'Put*Policy'\n    awsRegion: 'us-east-?'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"PutUserPolicy","awsRegion":"us-east-1"})"));
  EXPECT_TRUE(Matches(set, R"({"eventName":"PutPolicy","awsRegion":"US-EAST-2"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"PutUserPolicyX","awsRegion":"us-east-1"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"PutUserPolicy","awsRegion":"us-east-10"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"PutUserPolicy","awsRegion":"us-east-"})"));
}

TEST(SigmaWildcards, QuestionMarkIsOneUtf8Character) {
  auto set = SetOf("  selection:\n    userName: 'j?rg'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userName":"jörg"})"));
  EXPECT_TRUE(Matches(set, R"({"userName":"jorg"})"));
  EXPECT_FALSE(Matches(set, R"({"userName":"jrg"})"));
}

TEST(SigmaWildcards, GeneralPatterns) {
  auto set = SetOf("  selection:\n    userAgent: '*Boto3/1.?.*Linux*x86_64'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userAgent":"aws-sdk Boto3/1.9.0 Python Linux/5 x86_64"})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":"aws-sdk Boto3/1.10.0 Python Linux/5 x86_64"})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":"aws-sdk Boto3/1.9.0 Python Linux/5 x86_64 more"})"));
  auto anchored = SetOf("  selection:\n    v: 'a*b*c'\n  condition: selection\n");
  EXPECT_TRUE(Matches(anchored, R"({"v":"abc"})"));
  EXPECT_TRUE(Matches(anchored, R"({"v":"aXbYbZc"})"));
  EXPECT_FALSE(Matches(anchored, R"({"v":"aXbYbZcd"})"));
  EXPECT_FALSE(Matches(anchored, R"({"v":"ac"})"));
  auto any = SetOf("  selection:\n    v: '*'\n  condition: selection\n");
  EXPECT_TRUE(Matches(any, R"({"v":""})"));
  EXPECT_TRUE(Matches(any, R"({"v":12})"));
  EXPECT_FALSE(Matches(any, R"({"v":null})"));
  EXPECT_FALSE(Matches(any, R"({"w":"x"})"));
}

TEST(SigmaWildcards, EscapedWildcardsAreLiteral) {
  auto set = SetOf("  selection:\n    policy: 'Action: s3:\\*'\n    q: 'why\\?'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"policy":"Action: s3:*","q":"why?"})"));
  EXPECT_FALSE(Matches(set, R"({"policy":"Action: s3:GetObject","q":"why?"})"));
  EXPECT_FALSE(Matches(set, R"({"policy":"Action: s3:*","q":"why!"})"));
}

TEST(SigmaWildcards, BackslashRules) {
  // A plain backslash (not before a wildcard) is literal, single or doubled.
  auto plain = SetOf("  selection:\n    a: 'C:\\Windows'\n    b: 'C:\\\\Windows'\n  condition: selection\n");
  EXPECT_TRUE(Matches(plain, R"({"a":"C:\\Windows","b":"C:\\Windows"})"));
  // \\* is a backslash followed by a wildcard.
  auto star = SetOf("  selection:\n    a: 'dir\\\\*'\n  condition: selection\n");
  EXPECT_TRUE(Matches(star, R"({"a":"dir\\anything"})"));
  EXPECT_FALSE(Matches(star, R"({"a":"diranything"})"));
  // \\\* is a backslash and a literal star.
  auto both = SetOf("  selection:\n    a: 'dir\\\\\\*'\n  condition: selection\n");
  EXPECT_TRUE(Matches(both, R"({"a":"dir\\*"})"));
  EXPECT_FALSE(Matches(both, R"({"a":"dir\\x"})"));
  // \\\\ is two backslashes.
  auto two = SetOf("  selection:\n    a: 'x\\\\\\\\y'\n  condition: selection\n");
  EXPECT_TRUE(Matches(two, R"({"a":"x\\\\y"})"));
  EXPECT_FALSE(Matches(two, R"({"a":"x\\y"})"));
  // A trailing backslash is literal.
  auto trailing = SetOf("  selection:\n    a: 'x\\'\n  condition: selection\n");
  EXPECT_TRUE(Matches(trailing, R"({"a":"x\\"})"));
}

// ---- string modifiers ----------------------------------------------------------

TEST(SigmaModifiers, ContainsStartsWithEndsWith) {
  auto set = SetOf(
      "  selection:\n    userIdentity.arn|startswith: 'arn:aws:iam::'\n    userIdentity.arn|endswith: ':root'\n"
      "    userAgent|contains: Console\n  condition: selection\n");
  EXPECT_TRUE(
      Matches(set, R"({"userIdentity":{"arn":"arn:aws:iam::123456789012:root"},"userAgent":"AWS Internal console"})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"arn":"arn:aws:iam::123456789012:user/x"},"userAgent":"console"})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"arn":"arn:aws:sts::123456789012:root"},"userAgent":"console"})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"arn":"arn:aws:iam::123456789012:root"},"userAgent":"aws-cli"})"));
  // Wildcards inside keep working with the position modifiers.
  auto wild = SetOf("  selection:\n    v|contains: 'a?c'\n  condition: selection\n");
  EXPECT_TRUE(Matches(wild, R"({"v":"xxabcxx"})"));
  EXPECT_FALSE(Matches(wild, R"({"v":"xxacxx"})"));
}

TEST(SigmaModifiers, CasedIsCaseSensitive) {
  auto set = SetOf(
      "  selection:\n    eventName|cased: CreateUser\n    userAgent|contains|cased: Boto\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"CreateUser","userAgent":"x Boto3"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"createuser","userAgent":"x Boto3"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"CreateUser","userAgent":"x boto3"})"));
}

TEST(SigmaModifiers, Windash) {
  auto set = SetOf("  selection:\n    cmd|windash|contains: ' -encodedcommand'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"cmd":"powershell -EncodedCommand ZQBj"})"));
  EXPECT_TRUE(Matches(set, R"({"cmd":"powershell /encodedcommand ZQBj"})"));
  EXPECT_TRUE(Matches(set,
                      "{\"cmd\":\"powershell \xE2\x80\x93"
                      "encodedcommand\"}"));  // en dash
  EXPECT_TRUE(Matches(set,
                      "{\"cmd\":\"powershell \xE2\x80\x94"
                      "encodedcommand\"}"));  // em dash
  EXPECT_TRUE(Matches(set,
                      "{\"cmd\":\"powershell \xE2\x80\x95"
                      "encodedcommand\"}"));  // horizontal bar
  EXPECT_FALSE(Matches(set, R"({"cmd":"powershell +encodedcommand"})"));
  EXPECT_FALSE(Matches(set, R"({"cmd":"powershell encodedcommand"})"));
  // Several dashes: every combination.
  auto multi = SetOf("  selection:\n    cmd|windash: '-a -b'\n  condition: selection\n");
  EXPECT_TRUE(Matches(multi, R"({"cmd":"/a -b"})"));
  EXPECT_TRUE(Matches(multi, R"({"cmd":"-a /b"})"));
  EXPECT_FALSE(Matches(multi, R"({"cmd":"-a b"})"));
}

TEST(SigmaModifiers, Base64) {
  auto set = SetOf("  selection:\n    v|base64: 'cloudaudit'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, "{\"v\":\"" + Base64("cloudaudit") + "\"}"));
  EXPECT_FALSE(Matches(set, "{\"v\":\"" + Base64("cloudaudix") + "\"}"));
  // Base64 is case-significant: the encoded value is matched cased.
  std::string upper = Base64("cloudaudit");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(Matches(set, "{\"v\":\"" + upper + "\"}"));
  auto contained = SetOf("  selection:\n    v|base64|contains: 'abc'\n  condition: selection\n");
  EXPECT_TRUE(Matches(contained, "{\"v\":\"xx" + Base64("abc") + "yy\"}"));
}

TEST(SigmaModifiers, Base64OffsetFindsAllThreeOffsets) {
  auto set = SetOf("  selection:\n    v|base64offset|contains: 'http://evil'\n  condition: selection\n");
  for (const std::string prefix : {"", "a", "ab", "abc", "abcd", "abcde"}) {
    for (const std::string suffix : {"", "x", "xy"}) {
      EXPECT_TRUE(Matches(set, "{\"v\":\"" + Base64(prefix + "http://evil" + suffix) + "\"}"))
          << prefix << "|" << suffix;
    }
  }
  EXPECT_FALSE(Matches(set, "{\"v\":\"" + Base64("ab http://good") + "\"}"));
  EXPECT_FALSE(Matches(set, R"({"v":"http://evil"})"));
}

TEST(SigmaModifiers, Utf16WithBase64) {
  std::string wide;
  for (char c : std::string("cmd")) {
    wide += c;
    wide += '\0';
  }
  auto le = SetOf("  selection:\n    v|utf16le|base64offset|contains: 'cmd'\n  condition: selection\n");
  EXPECT_TRUE(Matches(le, "{\"v\":\"" + Base64(std::string("\0x\0", 3) + wide + std::string("y\0", 2)) + "\"}"));
  EXPECT_FALSE(Matches(le, "{\"v\":\"" + Base64("cmd") + "\"}"));
  auto w = SetOf("  selection:\n    v|wide|base64: 'cmd'\n  condition: selection\n");
  EXPECT_TRUE(Matches(w, "{\"v\":\"" + Base64(wide) + "\"}"));
  std::string be;
  for (char c : std::string("cmd")) {
    be += '\0';
    be += c;
  }
  auto big = SetOf("  selection:\n    v|utf16be|base64: 'cmd'\n  condition: selection\n");
  EXPECT_TRUE(Matches(big, "{\"v\":\"" + Base64(be) + "\"}"));
  auto bom = SetOf("  selection:\n    v|utf16|base64: 'cmd'\n  condition: selection\n");
  EXPECT_TRUE(Matches(bom, "{\"v\":\"" + Base64(std::string("\xFF\xFE", 2) + wide) + "\"}"));
}

TEST(SigmaModifiers, RegexIsCaseSensitiveSearch) {
  auto set = SetOf("  selection:\n    userAgent|re: 'Boto3/1\\.[0-9]+'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userAgent":"aws Boto3/1.26 Python"})"));  // found anywhere
  EXPECT_FALSE(Matches(set, R"({"userAgent":"aws boto3/1.26 Python"})"));
  auto anchored = SetOf("  selection:\n    eventName|re: '^Delete[A-Z]\\w+$'\n  condition: selection\n");
  EXPECT_TRUE(Matches(anchored, R"({"eventName":"DeleteBucket"})"));
  EXPECT_FALSE(Matches(anchored, R"({"eventName":"BatchDeleteBucket"})"));
  auto number = SetOf("  selection:\n    code|re: '^4\\d\\d$'\n  condition: selection\n");
  EXPECT_TRUE(Matches(number, R"({"code":403})"));
  EXPECT_FALSE(Matches(number, R"({"code":500})"));
}

TEST(SigmaModifiers, RegexFlags) {
  auto i = SetOf("  selection:\n    v|re|i: '^boto'\n  condition: selection\n");
  EXPECT_TRUE(Matches(i, R"({"v":"BOTO3"})"));
  auto ignorecase = SetOf("  selection:\n    v|re|ignorecase: '^boto'\n  condition: selection\n");
  EXPECT_TRUE(Matches(ignorecase, R"({"v":"BOTO3"})"));
  auto m = SetOf("  selection:\n    v|re|m: '^second$'\n  condition: selection\n");
  EXPECT_TRUE(Matches(m, R"({"v":"first\nsecond\nthird"})"));
  auto no_m = SetOf("  selection:\n    v|re: '^second$'\n  condition: selection\n");
  EXPECT_FALSE(Matches(no_m, R"({"v":"first\nsecond\nthird"})"));
  auto s = SetOf("  selection:\n    v|re|s: 'a.b'\n  condition: selection\n");
  EXPECT_TRUE(Matches(s, R"({"v":"a\nb"})"));
  auto no_s = SetOf("  selection:\n    v|re: 'a.b'\n  condition: selection\n");
  EXPECT_FALSE(Matches(no_s, R"({"v":"a\nb"})"));
  auto all = SetOf("  selection:\n    v|re|i|all:\n      - '^a'\n      - 'z$'\n  condition: selection\n");
  EXPECT_TRUE(Matches(all, R"({"v":"AbcZ"})"));
  EXPECT_FALSE(Matches(all, R"({"v":"Abc"})"));
}

TEST(SigmaModifiers, CidrIpv4) {
  auto set = SetOf(
      "  selection:\n    sourceIPAddress|cidr:\n      - 10.0.0.0/8\n      - 192.168.1.0/24\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"sourceIPAddress":"10.20.30.40"})"));
  EXPECT_TRUE(Matches(set, R"({"sourceIPAddress":"192.168.1.255"})"));
  EXPECT_FALSE(Matches(set, R"({"sourceIPAddress":"192.168.2.1"})"));
  EXPECT_FALSE(Matches(set, R"({"sourceIPAddress":"11.0.0.1"})"));
  EXPECT_FALSE(Matches(set, R"({"sourceIPAddress":"ec2.amazonaws.com"})"));
  EXPECT_TRUE(Matches(set, R"({"sourceIPAddress":"::ffff:10.1.2.3"})"));  // IPv4-mapped
  auto host = SetOf("  selection:\n    ip|cidr: 203.0.113.7\n  condition: selection\n");
  EXPECT_TRUE(Matches(host, R"({"ip":"203.0.113.7"})"));
  EXPECT_FALSE(Matches(host, R"({"ip":"203.0.113.8"})"));
  auto odd = SetOf("  selection:\n    ip|cidr: 172.16.0.0/12\n  condition: selection\n");
  EXPECT_TRUE(Matches(odd, R"({"ip":"172.31.255.255"})"));
  EXPECT_FALSE(Matches(odd, R"({"ip":"172.32.0.0"})"));
  auto everything = SetOf("  selection:\n    ip|cidr: 0.0.0.0/0\n  condition: selection\n");
  EXPECT_TRUE(Matches(everything, R"({"ip":"8.8.8.8"})"));
  EXPECT_FALSE(Matches(everything, R"({"ip":"2001:db8::1"})"));
}

TEST(SigmaModifiers, CidrIpv6) {
  auto set = SetOf("  selection:\n    sourceIPAddress|cidr: '2001:db8::/32'\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"sourceIPAddress":"2001:db8:1::5"})"));
  EXPECT_TRUE(Matches(set, R"({"sourceIPAddress":"2001:DB8::1"})"));
  EXPECT_FALSE(Matches(set, R"({"sourceIPAddress":"2001:db9::1"})"));
  EXPECT_FALSE(Matches(set, R"({"sourceIPAddress":"10.0.0.1"})"));
  auto odd = SetOf("  selection:\n    ip|cidr: 'fe80::/10'\n  condition: selection\n");
  EXPECT_TRUE(Matches(odd, R"({"ip":"febf::1"})"));
  EXPECT_FALSE(Matches(odd, R"({"ip":"fec0::1"})"));
  auto mapped = SetOf("  selection:\n    ip|cidr: '::ffff:0:0/96'\n  condition: selection\n");
  EXPECT_TRUE(Matches(mapped, R"({"ip":"1.2.3.4"})"));
}

TEST(SigmaModifiers, Exists) {
  auto yes = SetOf("  selection:\n    userIdentity.invokedBy|exists: true\n  condition: selection\n");
  EXPECT_TRUE(Matches(yes, R"({"userIdentity":{"invokedBy":"ec2.amazonaws.com"}})"));
  EXPECT_TRUE(Matches(yes, R"({"userIdentity":{"invokedBy":null}})"));  // present, even if null
  EXPECT_TRUE(Matches(yes, R"({"userIdentity":{"invokedBy":""}})"));
  EXPECT_FALSE(Matches(yes, R"({"userIdentity":{"type":"IAMUser"}})"));
  EXPECT_FALSE(Matches(yes, R"({})"));
  auto no = SetOf("  selection:\n    errorCode|exists: false\n  condition: selection\n");
  EXPECT_TRUE(Matches(no, R"({"eventName":"x"})"));
  EXPECT_FALSE(Matches(no, R"({"errorCode":"AccessDenied"})"));
}

TEST(SigmaModifiers, NumericComparisons) {
  auto gt = SetOf("  selection:\n    n|gt: 10\n  condition: selection\n");
  EXPECT_TRUE(Matches(gt, R"({"n":11})"));
  EXPECT_TRUE(Matches(gt, R"({"n":"10.5"})"));  // numeric string
  EXPECT_FALSE(Matches(gt, R"({"n":10})"));
  EXPECT_FALSE(Matches(gt, R"({"n":"ten"})"));
  EXPECT_FALSE(Matches(gt, R"({"n":"11 "})"));
  EXPECT_FALSE(Matches(gt, R"({"n":true})"));
  EXPECT_FALSE(Matches(gt, R"({})"));
  auto gte = SetOf("  selection:\n    n|gte: 10\n  condition: selection\n");
  EXPECT_TRUE(Matches(gte, R"({"n":10})"));
  EXPECT_FALSE(Matches(gte, R"({"n":9.99})"));
  auto lt = SetOf("  selection:\n    n|lt: -1.5\n  condition: selection\n");
  EXPECT_TRUE(Matches(lt, R"({"n":-2})"));
  EXPECT_TRUE(Matches(lt, R"({"n":"-1.6"})"));
  EXPECT_FALSE(Matches(lt, R"({"n":-1.5})"));
  auto lte = SetOf("  selection:\n    n|lte: 3600\n  condition: selection\n");
  EXPECT_TRUE(Matches(lte, R"({"n":3600})"));
  EXPECT_TRUE(Matches(lte, R"({"n":"+12"})"));
  EXPECT_FALSE(Matches(lte, R"({"n":3601})"));
  auto big = SetOf("  selection:\n    n|gt: 4294967296\n  condition: selection\n");
  EXPECT_TRUE(Matches(big, R"({"n":18446744073709551615})"));
  auto in_array = SetOf("  selection:\n    sizes|gt: 100\n  condition: selection\n");
  EXPECT_TRUE(Matches(in_array, R"({"sizes":[1,2,300]})"));
  EXPECT_FALSE(Matches(in_array, R"({"sizes":[1,2,3]})"));
}

TEST(SigmaModifiers, FieldRef) {
  // Someone acting on themselves: the user in the request is the caller.
  auto set =
      SetOf("  selection:\n    requestParameters.userName|fieldref: userIdentity.userName\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"userIdentity":{"userName":"Alice"},"requestParameters":{"userName":"alice"}})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"userName":"alice"},"requestParameters":{"userName":"bob"}})"));
  EXPECT_FALSE(Matches(set, R"({"requestParameters":{"userName":"bob"}})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"userName":null},"requestParameters":{"userName":null}})"));
  auto neq = SetOf(
      "  selection:\n    requestParameters.userName|fieldref|neq: userIdentity.userName\n  condition: selection\n");
  EXPECT_TRUE(Matches(neq, R"({"userIdentity":{"userName":"alice"},"requestParameters":{"userName":"bob"}})"));
  EXPECT_FALSE(Matches(neq, R"({"userIdentity":{"userName":"alice"},"requestParameters":{"userName":"alice"}})"));
  auto contains = SetOf(
      "  selection:\n    userIdentity.arn|fieldref|endswith: requestParameters.userName\n  condition: selection\n");
  EXPECT_TRUE(Matches(
      contains, R"({"userIdentity":{"arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"alice"}})"));
  EXPECT_FALSE(Matches(
      contains, R"({"userIdentity":{"arn":"arn:aws:iam::1:user/alice"},"requestParameters":{"userName":"bob"}})"));
  auto cased = SetOf("  selection:\n    a|fieldref|cased: b\n  condition: selection\n");
  EXPECT_TRUE(Matches(cased, R"({"a":"X","b":"X"})"));
  EXPECT_FALSE(Matches(cased, R"({"a":"X","b":"x"})"));
  auto numbers = SetOf("  selection:\n    a|fieldref: b\n  condition: selection\n");
  EXPECT_TRUE(Matches(numbers, R"({"a":5,"b":"5"})"));
}

TEST(SigmaModifiers, Neq) {
  auto set = SetOf(
      "  selection:\n    eventName: ConsoleLogin\n    userIdentity.type|neq:\n      - IAMUser\n      - AssumedRole\n"
      "  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"ConsoleLogin","userIdentity":{"type":"Root"}})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"ConsoleLogin","userIdentity":{"type":"iamuser"}})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"ConsoleLogin","userIdentity":{"type":"AssumedRole"}})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"ConsoleLogin"})"));  // no value to differ
}

TEST(SigmaModifiers, ExpandFromPlaceholders) {
  SigmaLoadOptions options;
  options.placeholders["Administrators"] = {"admin-*", "root"};
  options.placeholders["Env"] = {"prod", "stage"};
  auto set =
      SetOf("  selection:\n    userIdentity.userName|expand: '%Administrators%'\n  condition: selection\n", options);
  EXPECT_TRUE(Matches(set, R"({"userIdentity":{"userName":"admin-ops"}})"));
  EXPECT_TRUE(Matches(set, R"({"userIdentity":{"userName":"root"}})"));
  EXPECT_FALSE(Matches(set, R"({"userIdentity":{"userName":"developer"}})"));
  auto product = SetOf("  selection:\n    bucket|expand: 'logs-%Env%-\\%literal'\n  condition: selection\n", options);
  EXPECT_TRUE(Matches(product, R"({"bucket":"logs-prod-%literal"})"));
  EXPECT_TRUE(Matches(product, R"({"bucket":"logs-stage-%literal"})"));
  EXPECT_FALSE(Matches(product, R"({"bucket":"logs-dev-%literal"})"));
  // Without `expand`, percent signs are plain characters.
  auto plain = SetOf("  selection:\n    bucket: '%Env%'\n  condition: selection\n", options);
  EXPECT_TRUE(Matches(plain, R"({"bucket":"%Env%"})"));
  EXPECT_FALSE(Matches(plain, R"({"bucket":"prod"})"));
}

// ---- keyword search ----------------------------------------------------------------

TEST(SigmaKeywords, ListOfStringsSearchesAllValues) {
  auto set = SetOf("  keywords:\n    - 'mimikatz'\n    - 'pacu'\n  condition: keywords\n");
  EXPECT_TRUE(Matches(set, R"({"userAgent":"Pacu/1.0 Linux","eventName":"ListUsers"})"));
  EXPECT_TRUE(Matches(set, R"({"requestParameters":{"tags":[{"key":"tool","value":"MIMIKATZ-x"}]}})"));
  EXPECT_FALSE(Matches(set, R"({"userAgent":"aws-cli/2","eventName":"ListUsers"})"));
  // Keys are not values.
  EXPECT_FALSE(Matches(set, R"({"pacu":"x"})"));
  // A keyword does not span two values.
  EXPECT_FALSE(Matches(set, R"({"a":"xxpa","b":"cuxx"})"));
  EXPECT_TRUE(Matches(set, R"({"a":"xxpa","b":"cuxx","c":true,"d":"PACU"})"));
  auto number = SetOf("  keywords:\n    - 4625\n  condition: keywords\n");
  EXPECT_TRUE(Matches(number, R"({"a":{"b":[14625]}})"));
}

TEST(SigmaKeywords, AllModifierAndSingleString) {
  auto set = SetOf(
      "  keywords:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords\n");
  EXPECT_TRUE(Matches(set, R"({"a":"Set-OabVirtualDirectory","b":"x -ExternalUrl y"})"));
  EXPECT_FALSE(Matches(set, R"({"a":"Set-OabVirtualDirectory"})"));
  auto single = SetOf("  keywords: 'evil.example'\n  condition: keywords\n");
  EXPECT_TRUE(Matches(single, R"({"requestParameters":{"host":"www.evil.example.com"}})"));
  EXPECT_FALSE(Matches(single, R"({"requestParameters":{"host":"good.example"}})"));
  auto re = SetOf("  keywords:\n    '|re': 'AKIA[0-9A-Z]{16}'\n  condition: keywords\n");
  EXPECT_TRUE(Matches(re, R"({"x":{"y":"key AKIAABCDEFGHIJKLMNOP leaked"}})"));
  EXPECT_FALSE(Matches(re, R"({"x":{"y":"key akiaabcdefghijklmnop"}})"));
  auto mixed = SetOf("  selection:\n    - eventName: GetSecretValue\n    - 'hacker'\n  condition: selection\n");
  EXPECT_TRUE(Matches(mixed, R"({"eventName":"GetSecretValue"})"));
  EXPECT_TRUE(Matches(mixed, R"({"userAgent":"hacker-tool"})"));
  EXPECT_FALSE(Matches(mixed, R"({"eventName":"ListSecrets"})"));
}

// ---- conditions -------------------------------------------------------------------

constexpr const char* kThree = "  sel_a:\n    a: 1\n  sel_b:\n    b: 1\n  filter_c:\n    c: 1\n  _hidden:\n    h: 1\n";

TEST(SigmaCondition, AndOrNotParentheses) {
  auto set = SetOf(std::string(kThree) + "  condition: sel_a and (sel_b or not filter_c)\n");
  EXPECT_TRUE(Matches(set, R"({"a":1,"b":1,"c":1})"));
  EXPECT_TRUE(Matches(set, R"({"a":1})"));
  EXPECT_FALSE(Matches(set, R"({"a":1,"c":1})"));
  EXPECT_FALSE(Matches(set, R"({"b":1})"));
}

TEST(SigmaCondition, PrecedenceOrAndNot) {
  // or < and < not: `a or b and not c` is `a or (b and (not c))`.
  auto set = SetOf(std::string(kThree) + "  condition: sel_a or sel_b and not filter_c\n");
  EXPECT_TRUE(Matches(set, R"({"a":1,"c":1})"));
  EXPECT_TRUE(Matches(set, R"({"b":1})"));
  EXPECT_FALSE(Matches(set, R"({"b":1,"c":1})"));
  auto nested = SetOf(std::string(kThree) + "  condition: not not ((sel_a))\n");
  EXPECT_TRUE(Matches(nested, R"({"a":1})"));
  EXPECT_FALSE(Matches(nested, R"({"b":1})"));
}

TEST(SigmaCondition, OneOfAndAllOfPatterns) {
  auto one = SetOf(std::string(kThree) + "  condition: 1 of sel_* and not 1 of filter*\n");
  EXPECT_TRUE(Matches(one, R"({"b":1})"));
  EXPECT_FALSE(Matches(one, R"({"b":1,"c":1})"));
  EXPECT_FALSE(Matches(one, R"({"c":1})"));
  auto all = SetOf(std::string(kThree) + "  condition: all of sel_*\n");
  EXPECT_TRUE(Matches(all, R"({"a":1,"b":1})"));
  EXPECT_FALSE(Matches(all, R"({"a":1})"));
  auto middle = SetOf(std::string(kThree) + "  condition: 1 of *_b\n");
  EXPECT_TRUE(Matches(middle, R"({"b":1})"));
  EXPECT_FALSE(Matches(middle, R"({"a":1})"));
}

TEST(SigmaCondition, ThemSkipsUnderscoreIdentifiers) {
  auto one = SetOf(std::string(kThree) + "  condition: 1 of them\n");
  EXPECT_TRUE(Matches(one, R"({"c":1})"));
  EXPECT_FALSE(Matches(one, R"({"h":1})"));
  auto all = SetOf(std::string(kThree) + "  condition: all of them\n");
  EXPECT_TRUE(Matches(all, R"({"a":1,"b":1,"c":1})"));  // _hidden not required
  EXPECT_FALSE(Matches(all, R"({"a":1,"b":1})"));
  // An explicit pattern does include it.
  auto hidden = SetOf(std::string(kThree) + "  condition: 1 of _*\n");
  EXPECT_TRUE(Matches(hidden, R"({"h":1})"));
}

TEST(SigmaCondition, NOfAndKeywordCase) {
  auto two = SetOf(std::string(kThree) + "  condition: 2 of them\n");
  EXPECT_TRUE(Matches(two, R"({"a":1,"c":1})"));
  EXPECT_FALSE(Matches(two, R"({"a":1})"));
  auto upper = SetOf(std::string(kThree) + "  condition: sel_a AND NOT sel_b\n");
  EXPECT_TRUE(Matches(upper, R"({"a":1})"));
  EXPECT_FALSE(Matches(upper, R"({"a":1,"b":1})"));
}

TEST(SigmaCondition, ListOfConditionsIsOr) {
  auto set = SetOf(std::string(kThree) + "  condition:\n    - sel_a and sel_b\n    - filter_c\n");
  EXPECT_TRUE(Matches(set, R"({"a":1,"b":1})"));
  EXPECT_TRUE(Matches(set, R"({"c":1})"));
  EXPECT_FALSE(Matches(set, R"({"a":1})"));
}

// ---- rule sets ---------------------------------------------------------------------

TEST(SigmaRuleSet, MatchReturnsSortedIndexesAcrossIndexedAndUnindexedRules) {
  std::vector<SigmaRule> rules;
  auto add = [&](const std::string& id, const std::string& detection) {
    auto r = SigmaRuleSet::Parse(testing::RuleText(detection, id), id + ".yml");
    ASSERT_TRUE(r) << r.error().ToString();
    rules.push_back(std::move(*r));
  };
  add("d-by-name", "  selection:\n    eventName: [CreateUser, DeleteUser]\n  condition: selection\n");
  add("c-by-source", "  selection:\n    eventSource: iam.amazonaws.com\n  condition: selection\n");
  add("b-unindexed", "  selection:\n    userIdentity.type: Root\n  condition: selection\n");
  add("a-negated", "  selection:\n    eventName: CreateUser\n  condition: not selection\n");
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->rules().size(), 4u);
  EXPECT_EQ(set->rules()[0].id, "a-negated");  // sorted by id
  auto ids =
      set->MatchJson(R"({"eventName":"CreateUser","eventSource":"iam.amazonaws.com","userIdentity":{"type":"Root"}})");
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"b-unindexed", "c-by-source", "d-by-name"}));
  ids = set->MatchJson(R"({"eventName":"ListUsers"})");
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a-negated"}));
  // eventName that is not a string still finds the indexed rules.
  ids = set->MatchJson(R"({"eventName":["x","deleteuser"]})");
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"a-negated", "d-by-name"}));
  EXPECT_NE(set->Find("c-by-source"), nullptr);
  EXPECT_EQ(set->Find("zzz"), nullptr);
}

TEST(SigmaRuleSet, MatchUsesTheSimdjsonElement) {
  auto set = SetOf("  selection:\n    eventName: StopLogging\n  condition: selection\n");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(
      parser.parse(std::string_view(R"({"Records":[{"eventName":"StopLogging"},{"eventName":"x"}]})")).get(doc));
  simdjson::dom::array records;
  ASSERT_FALSE(doc["Records"].get_array().get(records));
  std::vector<size_t> hits{99};
  std::vector<size_t> counts;
  for (simdjson::dom::element r : records) {
    set.Match(r, &hits);
    counts.push_back(hits.size());
  }
  EXPECT_EQ(counts, (std::vector<size_t>{1, 0}));
}

TEST(SigmaRuleSet, MetadataIsKept) {
  const std::string text =
      "title: Root console login\nid: 3f4e2c1a-0000-4000-8000-000000000001\nstatus: test\n"
      "description: The root user signed in.\nauthor: cloudaudit\ndate: 2026-01-02\nmodified: 2026-02-03\n"
      "references:\n  - https://docs.aws.amazon.com/\ntags:\n  - attack.privilege_escalation\n  - attack.t1078.004\n"
      "falsepositives:\n  - Break-glass procedures\nlevel: critical\n"
      "logsource:\n  product: aws\n  service: cloudtrail\n"
      "detection:\n  selection:\n    userIdentity.type: Root\n  condition: selection\n";
  auto rule = SigmaRuleSet::Parse(text, "root.yml");
  ASSERT_TRUE(rule) << rule.error().ToString();
  EXPECT_EQ(rule->title, "Root console login");
  EXPECT_EQ(rule->id, "3f4e2c1a-0000-4000-8000-000000000001");
  EXPECT_EQ(rule->status, "test");
  EXPECT_EQ(rule->level, "critical");
  EXPECT_EQ(rule->author, "cloudaudit");
  EXPECT_EQ(rule->date, "2026-01-02");
  EXPECT_EQ(rule->modified, "2026-02-03");
  EXPECT_EQ(rule->tags, (std::vector<std::string>{"attack.privilege_escalation", "attack.t1078.004"}));
  EXPECT_EQ(rule->falsepositives, (std::vector<std::string>{"Break-glass procedures"}));
  EXPECT_EQ(rule->references.size(), 1u);
  EXPECT_EQ(rule->product, "aws");
  EXPECT_EQ(rule->service, "cloudtrail");
  EXPECT_EQ(rule->file, "root.yml");
  EXPECT_EQ(rule->line, 1);
  EXPECT_TRUE(rule->skip_reason.empty());
  // A missing level defaults to medium.
  auto plain = SigmaRuleSet::Parse(testing::RuleText("  s:\n    a: 1\n  condition: s\n"), "x.yml");
  ASSERT_TRUE(plain);
  auto no_level = SigmaRuleSet::Parse(
      "title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\n"
      "detection: {s: {a: 1}, condition: s}\n",
      "x.yml");
  ASSERT_TRUE(no_level) << no_level.error().ToString();
  EXPECT_EQ(no_level->level, "medium");
}

TEST(SigmaRuleSet, OtherLogSourcesAreSkippedNotErrors) {
  auto windows = SigmaRuleSet::Parse(
      "title: Whoami\nid: w1\nlogsource:\n  category: process_creation\n  product: windows\n"
      "detection:\n  selection:\n    Image|bogus: x\n  condition: selection\n",
      "win.yml");
  ASSERT_TRUE(windows) << windows.error().ToString();
  EXPECT_EQ(windows->skip_reason,
            "logsource is {product: windows, category: process_creation}, not {product: aws, service: cloudtrail}");
  EXPECT_EQ(windows->detection, nullptr);
  auto unsupported = SigmaRuleSet::Parse(
      "title: t\nid: u1\nstatus: unsupported\nlogsource: {product: aws, service: cloudtrail}\n"
      "detection: {s: {a: 1}, condition: s | count() > 5}\n",
      "u.yml");
  ASSERT_TRUE(unsupported) << unsupported.error().ToString();
  EXPECT_EQ(unsupported->skip_reason, "status: unsupported");
  std::vector<SigmaRule> rules{*windows, *unsupported};
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->rules().size(), 0u);
  EXPECT_EQ(set->skipped().size(), 2u);
  auto ids = set->MatchJson(R"({"a":1})");
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->empty());
}

}  // namespace
}  // namespace cloudaudit::threats
