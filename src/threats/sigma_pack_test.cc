// The lint and tests of the built-in Sigma pack (rules/sigma/aws/cloudtrail):
// every rule carries the metadata an analyst needs (ATT&CK tags, level,
// false-positive notes, a UUID v4), and every CloudTrail record in
// rules/sigma/tests/<rule file>.json triggers exactly the rules it declares -
// its own rule when "match" is true, plus the other rules named in
// "also_matches". A record that triggers an undeclared rule fails, so overlaps
// between rules are always known and reviewed. Format: docs/threat-rules.md.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_paths.h"
#include "threats/sigma.h"

namespace cloudaudit::threats {
namespace {

namespace fs = std::filesystem;

// "…/sigma/aws/cloudtrail/aws_root_console_login.yml" -> "aws_root_console_login".
std::string StemOf(const std::string& file) { return fs::path(file).stem().string(); }

fs::path TestsDir() { return fs::path(testing::SourceDir()) / "rules" / "sigma" / "tests"; }

const SigmaRuleSet& Pack() {
  static const SigmaRuleSet* pack = [] {
    auto set = SigmaRuleSet::Load(SigmaLoadOptions{});
    if (!set) {
      ADD_FAILURE() << "the built-in pack does not load:\n" << set.error().ToString();
      return new SigmaRuleSet();
    }
    return new SigmaRuleSet(std::move(*set));
  }();
  return *pack;
}

// Stem -> index into Pack().rules().
std::map<std::string, size_t> RulesByStem() {
  std::map<std::string, size_t> out;
  const auto& rules = Pack().rules();
  for (size_t i = 0; i < rules.size(); ++i) out[StemOf(rules[i].file)] = i;
  return out;
}

std::string Join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

TEST(SigmaPack, LoadsWithoutSkippingAnything) {
  const auto& pack = Pack();
  EXPECT_GE(pack.rules().size(), 60u);
  for (const auto& r : pack.skipped()) ADD_FAILURE() << r.file << ": skipped: " << r.skip_reason;
  RecordProperty("rules", static_cast<int>(pack.rules().size()));
}

TEST(SigmaPack, EveryRuleHasAnalystMetadata) {
  static const std::set<std::string> kTactics = {
      "attack.reconnaissance",   "attack.resource-development", "attack.initial-access",   "attack.execution",
      "attack.persistence",      "attack.privilege-escalation", "attack.defense-evasion",  "attack.credential-access",
      "attack.discovery",        "attack.lateral-movement",     "attack.collection",       "attack.command-and-control",
      "attack.exfiltration",     "attack.impact"};
  static const std::set<std::string> kLevels = {"informational", "low", "medium", "high", "critical"};
  static const std::set<std::string> kStatuses = {"stable", "test", "experimental"};
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const std::regex technique("^attack\\.t[0-9]{4}(\\.[0-9]{3})?$");
  const std::regex file_name("^[a-z0-9_]{10,70}$");
  const std::regex date("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
  std::set<std::string> ids, titles;
  for (const auto& r : Pack().rules()) {
    SCOPED_TRACE(r.file);
    EXPECT_TRUE(r.builtin);
    EXPECT_TRUE(std::regex_match(r.id, uuid_v4)) << "id is not a lowercase UUID v4: " << r.id;
    EXPECT_TRUE(ids.insert(r.id).second) << "duplicate id " << r.id;
    EXPECT_TRUE(titles.insert(r.title).second) << "duplicate title " << r.title;
    EXPECT_TRUE(std::regex_match(StemOf(r.file), file_name)) << "file names are lowercase [a-z0-9_], 10-70 characters";
    EXPECT_FALSE(r.description.empty());
    EXPECT_EQ(r.author, "cloudaudit");
    EXPECT_TRUE(std::regex_match(r.date, date)) << "date: " << r.date;
    EXPECT_TRUE(kStatuses.count(r.status)) << "status: " << r.status;
    EXPECT_TRUE(kLevels.count(r.level)) << "level: " << r.level;
    EXPECT_FALSE(r.references.empty());
    EXPECT_FALSE(r.falsepositives.empty()) << "every rule says when it fires legitimately";
    for (const auto& fp : r.falsepositives) EXPECT_GE(fp.size(), 20u) << "a false-positive note is a sentence: " << fp;
    EXPECT_EQ(r.product, "aws");
    EXPECT_EQ(r.service, "cloudtrail");
    const bool has_tactic = std::any_of(r.tags.begin(), r.tags.end(), [](const std::string& t) { return kTactics.count(t) > 0; });
    const bool has_technique = std::any_of(r.tags.begin(), r.tags.end(), [&](const std::string& t) { return std::regex_match(t, technique); });
    EXPECT_TRUE(has_tactic) << "no ATT&CK tactic tag (attack.<tactic>)";
    EXPECT_TRUE(has_technique) << "no ATT&CK technique tag (attack.tNNNN[.NNN])";
  }
}

// One test record, read from its file.
struct PackTest {
  std::string file, name;
  size_t index = 0;  // position in the file's "tests"
  bool match = false;
  std::set<std::string> also;
};

TEST(SigmaPack, EveryRuleHasTestsAndEveryRecordTriggersExactlyWhatItDeclares) {
  const auto& pack = Pack();
  const auto by_stem = RulesByStem();
  ASSERT_FALSE(by_stem.empty());
  ASSERT_TRUE(fs::is_directory(TestsDir())) << TestsDir();

  std::set<std::string> tested;
  size_t records = 0, cross_matches = 0;
  std::vector<size_t> matched;
  for (const auto& entry : fs::directory_iterator(TestsDir())) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".json") {
      ADD_FAILURE() << path << ": the tests folder holds only <rule file name>.json files";
      continue;
    }
    const std::string stem = entry.path().stem().string();
    SCOPED_TRACE(path);
    auto rule_it = by_stem.find(stem);
    if (rule_it == by_stem.end()) {
      ADD_FAILURE() << "no rule file " << stem << ".yml in the pack for this test file";
      continue;
    }
    const SigmaRule& rule = pack.rules()[rule_it->second];
    tested.insert(stem);

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.load(path).get(doc)) {
      ADD_FAILURE() << "not valid JSON: " << simdjson::error_message(err);
      continue;
    }
    std::string_view rule_id, title;
    EXPECT_FALSE(doc["rule"].get(rule_id)) << "\"rule\" (the rule id) is missing";
    EXPECT_EQ(rule_id, rule.id) << "\"rule\" must be the id of " << stem << ".yml";
    EXPECT_FALSE(doc["title"].get(title)) << "\"title\" is missing";
    EXPECT_EQ(title, rule.title) << "\"title\" must be the title of " << stem << ".yml";
    simdjson::dom::array tests;
    if (doc["tests"].get(tests)) {
      ADD_FAILURE() << "\"tests\" must be an array";
      continue;
    }
    size_t positives = 0, negatives = 0, index = 0;
    for (simdjson::dom::element test : tests) {
      PackTest t{path, "", index++, false, {}};
      std::string_view name;
      if (test["name"].get(name) || name.empty()) ADD_FAILURE() << "test #" << t.index << " has no name";
      t.name = std::string(name);
      if (test["match"].get(t.match)) ADD_FAILURE() << t.name << ": \"match\" must be true or false";
      simdjson::dom::array also;
      if (!test["also_matches"].get(also)) {
        for (simdjson::dom::element a : also) {
          std::string_view other;
          if (a.get(other) || !by_stem.count(std::string(other)) || other == stem) {
            ADD_FAILURE() << t.name << ": also_matches names another rule file of the pack (without .yml): " << a;
            continue;
          }
          t.also.insert(std::string(other));
        }
      }
      simdjson::dom::element record;
      if (test["record"].get(record) || !record.is_object()) {
        ADD_FAILURE() << t.name << ": \"record\" must be one CloudTrail record (a JSON object)";
        continue;
      }
      ++records;
      (t.match ? positives : negatives)++;
      cross_matches += t.also.size();

      std::set<std::string> expected = t.also, got;
      if (t.match) expected.insert(stem);
      pack.Match(record, &matched);
      for (size_t i : matched) got.insert(StemOf(pack.rules()[i].file));
      if (got != expected) {
        std::set<std::string> unexpected, missing;
        std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::inserter(unexpected, unexpected.end()));
        std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::inserter(missing, missing.end()));
        ADD_FAILURE() << stem << " test \"" << t.name << "\": matched " << Join(got) << "; expected " << Join(expected)
                      << "\n  unexpected: " << Join(unexpected) << "\n  missing: " << Join(missing);
      }
    }
    EXPECT_GE(positives, 1u) << stem << ": needs at least one matching record";
    EXPECT_GE(negatives, 1u) << stem << ": needs at least one non-matching (near-miss) record";
  }
  for (const auto& [stem, index] : by_stem) {
    EXPECT_TRUE(tested.count(stem)) << pack.rules()[index].file << ": no test file rules/sigma/tests/" << stem << ".json";
  }
  RecordProperty("records", static_cast<int>(records));
  RecordProperty("declared_cross_matches", static_cast<int>(cross_matches));
}

// docs/threat-rules.md is the analyst's list of the pack: every rule appears
// there with its level, so a new rule cannot ship undocumented.
TEST(SigmaPack, EveryRuleIsListedInTheDocsWithItsLevel) {
  const std::string doc = testing::ReadFileOrDie(testing::SourceDir() + "/docs/threat-rules.md");
  for (const auto& r : Pack().rules()) {
    const std::string stem = StemOf(r.file);
    const size_t at = doc.find("| `" + stem + "` |");
    if (at == std::string::npos) {
      ADD_FAILURE() << stem << " is not in the rule tables of docs/threat-rules.md";
      continue;
    }
    const std::string row = doc.substr(at, doc.find('\n', at) - at);
    EXPECT_NE(row.find("| " + r.title + " | " + r.level + " |"), std::string::npos)
        << "docs/threat-rules.md row out of date for " << stem << ": " << row;
  }
}

}  // namespace
}  // namespace cloudaudit::threats
