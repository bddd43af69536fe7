// The YAML layer of the Sigma loader (libyaml events -> YamlNode).
#include "threats/sigma_yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudaudit::threats::internal {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const YamlNode> One(const std::string& text) {
  std::vector<std::shared_ptr<const YamlNode>> docs;
  YamlError error;
  EXPECT_TRUE(ParseYaml(text, &docs, &error)) << error.line << ": " << error.message;
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? std::make_shared<YamlNode>() : docs[0];
}

YamlError ErrorOf(const std::string& text) {
  std::vector<std::shared_ptr<const YamlNode>> docs;
  YamlError error;
  EXPECT_FALSE(ParseYaml(text, &docs, &error));
  return error;
}

TEST(SigmaYaml, ScalarsMapsListsAndLines) {
  auto root = One("a: 1\nb:\n  - x\n  - 'y'\nc:\n  d: true\n");
  ASSERT_TRUE(root->IsMap());
  ASSERT_EQ(root->size(), 3u);
  EXPECT_EQ(root->Get("a")->scalar, "1");
  EXPECT_EQ(root->KeyLine("b"), 2);
  const YamlNode* b = root->Get("b");
  ASSERT_TRUE(b->IsSequence());
  EXPECT_EQ(b->items[1]->scalar, "y");
  EXPECT_EQ(b->items[1]->line, 4);
  EXPECT_EQ(root->Get("c")->Get("d")->scalar, "true");
  EXPECT_EQ(root->Get("missing"), nullptr);
  EXPECT_EQ(root->KeyLine("missing"), root->line);
}

TEST(SigmaYaml, NullsAreUnquotedNullWordsOrEmpty) {
  auto root = One("a: null\nb: ~\nc:\nd: NULL\ne: 'null'\nf: \"~\"\ng: !!null x\nh: ''\n");
  for (const char* k : {"a", "b", "c", "d", "g"}) EXPECT_TRUE(root->Get(k)->IsNull()) << k;
  for (const char* k : {"e", "f", "h"}) EXPECT_TRUE(root->Get(k)->IsScalar()) << k;
  EXPECT_EQ(root->Get("e")->scalar, "null");
}

TEST(SigmaYaml, AliasesShareNodes) {
  auto root = One("x: &v [a, b]\ny: *v\nz: &s scalar\nw: *s\n");
  EXPECT_EQ(root->Get("x"), root->Get("y"));
  EXPECT_EQ(root->Get("w")->scalar, "scalar");
}

TEST(SigmaYaml, Errors) {
  EXPECT_THAT(ErrorOf("a: *nope\n").message, HasSubstr("alias `*nope` has no finished anchor"));
  EXPECT_THAT(ErrorOf("a: &x [1, *x]\n").message, HasSubstr("alias `*x` has no finished anchor"));  // no cycles
  const YamlError dup = ErrorOf("a: 1\nb: 2\na: 3\n");
  EXPECT_EQ(dup.line, 3);
  EXPECT_THAT(dup.message, HasSubstr("duplicate key `a`"));
  const YamlError deep = ErrorOf("a: " + std::string(100, '[') + std::string(100, ']') + "\n");
  EXPECT_THAT(deep.message, HasSubstr("nesting deeper than 64 levels"));
  const YamlError syntax = ErrorOf("a: 1\nb: [1, 2\nc: 3\n");
  EXPECT_THAT(syntax.message, HasSubstr("YAML: "));
  EXPECT_GE(syntax.line, 2);
  EXPECT_THAT(ErrorOf("a: \"\xff\"\n").message, HasSubstr("YAML: "));
  // yaml-cpp 0.7 never returns from this one (found by sigma_rule_fuzzer).
  EXPECT_THAT(ErrorOf(",a: K\n").message, HasSubstr("YAML: "));
}

TEST(SigmaYaml, Documents) {
  std::vector<std::shared_ptr<const YamlNode>> docs;
  YamlError error;
  ASSERT_TRUE(ParseYaml("a: 1\n---\nb: 2\n---\n", &docs, &error));
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[1]->line, 3);
  EXPECT_TRUE(docs[2]->IsNull());
  ASSERT_TRUE(ParseYaml("", &docs, &error));
  EXPECT_TRUE(docs.empty());
  ASSERT_TRUE(ParseYaml("# only a comment\n", &docs, &error));
  EXPECT_TRUE(docs.empty());
}

}  // namespace
}  // namespace cloudaudit::threats::internal
