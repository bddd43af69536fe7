// Coverage of the reference catalog (../shared/catalog/aws-rules.md): every
// row of the sections whose rules are built must be the alias of a rule, so
// users migrating from other tools find each check.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "rules/engine.h"
#include "testing/test_paths.h"

namespace cloudaudit::rules {
namespace {

// Catalog section heading -> the reference ids of its rows.
std::map<std::string, std::vector<std::string>> ReadCatalog(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::vector<std::string>> out;
  std::string line, section;
  static const std::regex kRow("^\\| `([^`]+)` \\|");
  while (std::getline(in, line)) {
    if (line.rfind("### ", 0) == 0) {
      // "### Security Groups — also VPC, ... (`sgaudit`): 16 indexed rules"
      section = line.substr(4, std::min(line.find(" ("), line.find(" \xE2\x80\x94")) - 4);
      continue;
    }
    std::smatch m;
    if (!section.empty() && std::regex_search(line, m, kRow)) out[section].push_back(m[1].str());
  }
  return out;
}

TEST(CatalogCoverage, SectionsWithRulesAreFullyAliased) {
  const std::string path = testing::SharedDir() + "/catalog/aws-rules.md";
  auto catalog = ReadCatalog(path);
  if (catalog.empty()) GTEST_SKIP() << "no catalog at " << path;
  auto specs = collect::LoadSpecs();
  ASSERT_TRUE(specs);
  auto set = LoadRules(LoadOptions{}, *specs);
  ASSERT_TRUE(set) << set.error().message;
  std::set<std::string> aliases;
  for (const auto& r : set->rules) aliases.insert(r.aliases.begin(), r.aliases.end());

  // Sections whose services have rules; rows left out need data no AWS API
  // in scope offers (documented in docs/rules.md "Coverage").
  const std::vector<std::string> kBuilt = {"CloudTrail", "Cloudwatch", "EC2", "IAM", "KMS", "S3", "Security Groups"};
  const std::set<std::string> kKnownMissing = {"mq_publicly_accessible"};
  for (const auto& section : kBuilt) {
    ASSERT_TRUE(catalog.count(section)) << "catalog section " << section << " not found";
    for (const auto& id : catalog[section]) {
      if (kKnownMissing.count(id)) continue;
      EXPECT_TRUE(aliases.count(id)) << section << ": no rule has alias " << id;
    }
  }
}

}  // namespace
}  // namespace cloudaudit::rules
