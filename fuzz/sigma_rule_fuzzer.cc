// libFuzzer harness for the Sigma rule parser and compiler (src/threats):
// any bytes must give a rule or a kParse error located in the file, and a
// compiled rule must match records without crashing or hanging.
//
// Input: a rule (YAML), optionally followed by a line "#--record--" and one
// JSON record to match. Every compiled rule is also matched against a few
// fixed CloudTrail-shaped records. Placeholders %admins% and %envs% are
// defined, so `expand` compiles.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "threats/sigma.h"

#define FUZZ_CHECK(cond, what)                                                                       \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      std::fprintf(stderr, "%s:%d: invariant violated: %s (%s)\n", __FILE__, __LINE__, what, #cond); \
      std::abort();                                                                                  \
    }                                                                                                \
  } while (0)

namespace {

constexpr const char* kRecords[] = {
    R"({"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1",
        "sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.13.0 Python/3.11 Linux/5.10",
        "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","userName":"alice",
                        "sessionContext":{"sessionIssuer":{"userName":"admin-role"}}},
        "requestParameters":{"userName":"bob","maxResults":1000,"tags":[{"key":"a","value":"b"}]},
        "responseElements":null,"readOnly":false,"errorCode":null})",
    R"({"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","sourceIPAddress":"2001:db8::1",
        "userIdentity":{"type":"Root"},"responseElements":{"ConsoleLogin":"Failure"},
        "additionalEventData":{"MFAUsed":"No"},"resources":[{"ARN":"arn:aws:kms:r:1:key/1"},{"ARN":7}],
        "n":-3.5e2,"big":18446744073709551615})",
    R"({"eventName":["odd"],"eventSource":{"x":1},"a":[[["deep"]]],"cmd":"powershell /enc ZQBj\u2013x"})",
    R"([1,2,3])",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit::threats;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view record;
  constexpr std::string_view kSplit = "\n#--record--\n";
  if (const size_t at = input.find(kSplit); at != std::string_view::npos) {
    record = input.substr(at + kSplit.size());
    input = input.substr(0, at + 1);
  }
  SigmaLoadOptions options;
  options.builtin = false;
  options.placeholders["admins"] = {"admin-*", "root"};
  options.placeholders["envs"] = {"prod", "st?ge", "dev\\*"};
  auto rule = SigmaRuleSet::Parse(std::string(input), "fuzz.yml", options);
  if (!rule) {
    FUZZ_CHECK(rule.error().code == cloudaudit::ErrorCode::kParse, "rule errors are kParse");
    FUZZ_CHECK(rule.error().file == "fuzz.yml", "rule errors name the file");
    FUZZ_CHECK(rule.error().line >= 1, "rule errors have a line");
    FUZZ_CHECK(!rule.error().message.empty(), "rule errors say why");
    return 0;
  }
  if (!rule->skip_reason.empty()) {
    FUZZ_CHECK(rule->detection == nullptr, "skipped rules are not compiled");
    return 0;
  }
  FUZZ_CHECK(rule->detection != nullptr, "a loaded rule has a detection");
  FUZZ_CHECK(!rule->id.empty() && !rule->title.empty(), "a loaded rule has an id and a title");
  const std::string id = rule->id;
  std::vector<SigmaRule> rules;
  rules.push_back(std::move(*rule));
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  FUZZ_CHECK(set.has_value(), "one valid rule makes a set");
  FUZZ_CHECK(set->rules().size() == 1 && set->rules()[0].id == id, "the set holds the rule");
  FUZZ_CHECK(set->Find(id) != nullptr, "Find finds it");

  simdjson::dom::parser parser;
  std::vector<size_t> hits;
  auto match = [&](std::string_view json) {
    simdjson::dom::element doc;
    if (parser.parse(json.data(), json.size()).get(doc)) return;
    set->Match(doc, &hits);
    FUZZ_CHECK(hits.empty() || (hits.size() == 1 && hits[0] == 0), "Match gives valid indexes");
    auto again = set->MatchJson(json);
    FUZZ_CHECK(again.has_value() && again->size() == hits.size(), "Match and MatchJson agree");
  };
  for (const char* r : kRecords) match(r);
  if (!record.empty()) match(record);
  return 0;
}
