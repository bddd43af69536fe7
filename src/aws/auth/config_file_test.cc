// Expected values were checked against Python 3.11 configparser driven by
// botocore's raw_config_parse (the AWS CLI's parser).
#include "aws/auth/config_file.h"

#include <random>

#include <gtest/gtest.h>

#include "aws/auth/shell_split.h"

namespace cloudaudit::aws {
namespace {

IniFile ParseOk(std::string_view text, const ConfigParseOptions& options = {}) {
  auto parsed = ParseConfigFile(text, "/cfg", options);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().ToString());
  return parsed ? *parsed : IniFile{};
}

Error ParseFails(std::string_view text, const ConfigParseOptions& options = {}) {
  auto parsed = ParseConfigFile(text, "/cfg", options);
  EXPECT_FALSE(parsed.has_value()) << "parsed unexpectedly: " << text;
  if (parsed) return Error{};
  EXPECT_EQ(parsed.error().code, ErrorCode::kParse);
  EXPECT_EQ(parsed.error().file, "/cfg");
  return parsed.error();
}

std::string Value(const IniFile& file, std::string_view section, std::string_view key) {
  const IniSection* s = file.Find(section);
  if (s == nullptr) return "<no section>";
  auto it = s->values.find(std::string(key));
  if (it == s->values.end()) return "<no key>";
  return it->second.text;
}

TEST(ConfigFileParser, ParsesKeysWithEqualsAndColon) {
  IniFile f = ParseOk("[default]\nregion = us-east-1\noutput: json\n[profile dev]\nregion=eu-west-1\n");
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].name, "default");
  EXPECT_EQ(f.sections[1].name, "profile dev");
  EXPECT_EQ(Value(f, "default", "region"), "us-east-1");
  EXPECT_EQ(Value(f, "default", "output"), "json");
  EXPECT_EQ(Value(f, "profile dev", "region"), "eu-west-1");
  EXPECT_EQ(f.sections[1].values.at("region").line, 5);
}

TEST(ConfigFileParser, SplitsAtTheFirstDelimiter) {
  IniFile f = ParseOk("[a]\nx :v\ny:a=b\nz=a:b\nempty=\n");
  EXPECT_EQ(Value(f, "a", "x"), "v");
  EXPECT_EQ(Value(f, "a", "y"), "a=b");
  EXPECT_EQ(Value(f, "a", "z"), "a:b");
  EXPECT_EQ(Value(f, "a", "empty"), "");
}

TEST(ConfigFileParser, LowerCasesKeysButNotSectionNames) {
  IniFile f = ParseOk("[Default]\nRegion = a\n[ default ]\nx = 1\n");
  EXPECT_EQ(Value(f, "Default", "region"), "a");
  EXPECT_EQ(f.Find("default"), nullptr);
  EXPECT_EQ(Value(f, " default ", "x"), "1");
}

TEST(ConfigFileParser, SkipsFullLineComments) {
  IniFile f = ParseOk("# top\n; also\n[a]\n  # indented comment\nk = v\n  ; comment inside value\n");
  EXPECT_EQ(Value(f, "a", "k"), "v");
}

TEST(ConfigFileParser, KeepsInlineCommentsInValuesLikeBotocore) {
  IniFile f = ParseOk("[a] # section comment\nregion = us-east-1 # prod\nk = v ; c\nt = v\t#c\n");
  EXPECT_EQ(Value(f, "a", "region"), "us-east-1 # prod");
  EXPECT_EQ(Value(f, "a", "k"), "v ; c");
  EXPECT_EQ(Value(f, "a", "t"), "v\t#c");
}

TEST(ConfigFileParser, StripsInlineCommentsWhenAsked) {
  ConfigParseOptions options;
  options.strip_inline_comments = true;
  IniFile f = ParseOk("[a] ; c\nregion = us-east-1 # prod\nurl = https://x/start#/\nk = v\t;c\n", options);
  EXPECT_EQ(Value(f, "a", "region"), "us-east-1");
  EXPECT_EQ(Value(f, "a", "url"), "https://x/start#/");  // no whitespace before '#'
  EXPECT_EQ(Value(f, "a", "k"), "v");
}

TEST(ConfigFileParser, SectionHeaderRunsToTheLastBracket) {
  IniFile f = ParseOk("[default]x\nk=1\n[b]x]\nk=2\n[]]\nk=3\n");
  EXPECT_EQ(Value(f, "default", "k"), "1");
  EXPECT_EQ(Value(f, "b]x", "k"), "2");
  EXPECT_EQ(Value(f, "]", "k"), "3");
}

TEST(ConfigFileParser, JoinsContinuationLines) {
  IniFile f = ParseOk("[a]\nk = first\n  second\n\n  third\nnext = x\n");
  EXPECT_EQ(Value(f, "a", "k"), "first\nsecond\n\nthird");
  EXPECT_EQ(Value(f, "a", "next"), "x");
  EXPECT_FALSE(f.Find("a")->values.at("k").is_subsection);
}

TEST(ConfigFileParser, DropsTrailingBlankLinesOfAValue) {
  IniFile f = ParseOk("[a]\nk = v\n\n\n");
  EXPECT_EQ(Value(f, "a", "k"), "v");
}

TEST(ConfigFileParser, ContinuationIsRelativeToTheKeyIndent) {
  IniFile f = ParseOk("[a]\n  k = v\n    cont\n  k2 = w\nk3 = x\n [b]\n");
  EXPECT_EQ(Value(f, "a", "k"), "v\ncont");
  EXPECT_EQ(Value(f, "a", "k2"), "w");
  // An indented "[b]" after a key is part of its value, not a section.
  EXPECT_EQ(Value(f, "a", "k3"), "x\n[b]");
  EXPECT_EQ(f.Find("b"), nullptr);
}

TEST(ConfigFileParser, UnicodeWhitespaceIndentsLikePython) {
  IniFile f = ParseOk("[a]\nregion = a\n\xC2\xA0more\n\xC2\xA0key = v\n");
  EXPECT_EQ(Value(f, "a", "region"), "a\nmore\nkey = v");
}

TEST(ConfigFileParser, ParsesNestedSubsections) {
  IniFile f = ParseOk(
      "[profile dev]\n"
      "s3 =\n"
      "    addressing_style = path\n"
      "    # a comment\n"
      "    Signature_Version = s3v4\n"
      "    addressing_style = virtual\n"
      "region = us-west-2\n");
  const ConfigValue& s3 = f.Find("profile dev")->values.at("s3");
  ASSERT_TRUE(s3.is_subsection);
  EXPECT_EQ(s3.subsection.size(), 2u);
  EXPECT_EQ(s3.subsection.at("addressing_style"), "virtual");  // later wins
  EXPECT_EQ(s3.subsection.at("Signature_Version"), "s3v4");    // nested keys keep their case
  EXPECT_EQ(Value(f, "profile dev", "region"), "us-west-2");
  EXPECT_FALSE(GetString(f.Find("profile dev")->values, "s3").has_value());
}

TEST(ConfigFileParser, NestedBlockMayStartAfterABlankLine) {
  IniFile f = ParseOk("[a]\ns3 =\n\n  x = 1\n");
  EXPECT_TRUE(f.Find("a")->values.at("s3").is_subsection);
  EXPECT_EQ(f.Find("a")->values.at("s3").subsection.at("x"), "1");
}

TEST(ConfigFileParser, EmptyValueWithoutIndentedLinesIsPlain) {
  IniFile f = ParseOk("[a]\ns3 =\nregion = x\n");
  EXPECT_FALSE(f.Find("a")->values.at("s3").is_subsection);
  EXPECT_EQ(Value(f, "a", "s3"), "");
}

TEST(ConfigFileParser, NestedLinesNeedAnEqualsSign) {
  Error e = ParseFails("[default]\ns3 =\n  addressing_style: path\n");
  EXPECT_EQ(e.line, 3);
  Error e2 = ParseFails("[default]\ns3 =\n  x = 1\n  justaword\n");
  EXPECT_EQ(e2.line, 4);
}

TEST(ConfigFileParser, DefaultSectionSuppliesDefaults) {
  IniFile f = ParseOk("[a]\nx=1\nz=own\n[DEFAULT]\ny=2\nz=default\n[DEFAULT]\nw=3\n");
  ASSERT_EQ(f.sections.size(), 1u);
  EXPECT_EQ(Value(f, "a", "x"), "1");
  EXPECT_EQ(Value(f, "a", "y"), "2");
  EXPECT_EQ(Value(f, "a", "w"), "3");
  EXPECT_EQ(Value(f, "a", "z"), "own");
  ParseFails("[DEFAULT]\ny=2\n[DEFAULT]\ny=3\n");
}

TEST(ConfigFileParser, AcceptsCrLfLoneCrAndBom) {
  IniFile crlf = ParseOk("[default]\r\nregion = a\r\n  more\r\n");
  EXPECT_EQ(Value(crlf, "default", "region"), "a\nmore");
  IniFile cr = ParseOk("[default]\rregion = a\r  more\rb=c\r");
  EXPECT_EQ(Value(cr, "default", "region"), "a\nmore");
  EXPECT_EQ(Value(cr, "default", "b"), "c");
  IniFile bom = ParseOk("\xEF\xBB\xBF[default]\nregion = a\n");
  EXPECT_EQ(Value(bom, "default", "region"), "a");
}

TEST(ConfigFileParser, EmptyAndCommentOnlyFilesHaveNoSections) {
  EXPECT_TRUE(ParseOk("").sections.empty());
  EXPECT_TRUE(ParseOk("\n\n# nothing\n   \n").sections.empty());
}

TEST(ConfigFileParser, RejectsDuplicateSectionsAndKeysLikeTheAwsCli) {
  Error section = ParseFails("[default]\nregion = a\n\n[default]\nregion = b\n");
  EXPECT_EQ(section.line, 4);
  EXPECT_NE(section.message.find("duplicate section [default]"), std::string::npos) << section.message;
  EXPECT_NE(section.message.find("line 1"), std::string::npos) << section.message;
  Error key = ParseFails("[default]\nregion = a\nRegion = b\n");
  EXPECT_EQ(key.line, 3);
  EXPECT_NE(key.message.find("duplicate key \"region\""), std::string::npos) << key.message;
}

TEST(ConfigFileParser, LaterDuplicatesWinWhenAllowed) {
  ConfigParseOptions options;
  options.allow_duplicates = true;
  IniFile f = ParseOk("[default]\nregion = a\nout = x\n[other]\nk=v\n[default]\nregion = b\n", options);
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(Value(f, "default", "region"), "b");
  EXPECT_EQ(Value(f, "default", "out"), "x");  // sections merge
}

TEST(ConfigFileParser, ErrorsCarryFileAndLine) {
  EXPECT_EQ(ParseFails("region = a\n").line, 1);
  EXPECT_EQ(ParseFails("\n\n[default\nregion = a\n").line, 3);  // unterminated header
  EXPECT_EQ(ParseFails("[default]\nregion\n").line, 2);
  EXPECT_EQ(ParseFails("[default]\n= a\n").line, 2);
  EXPECT_EQ(ParseFails("[]\n").line, 1);
  Error e = ParseFails("[default]\nk = v\njunk\n");
  EXPECT_EQ(e.ToString(), "/cfg:3: expected \"key = value\" in section [default]");
}

TEST(ConfigFileParser, ErrorsNeverQuoteTheLine) {
  Error e = ParseFails("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key SuperSecretValue42\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.message.find("SuperSecretValue42"), std::string::npos) << e.message;
}

TEST(ConfigFileParser, RejectsInvalidUtf8WithTheLine) {
  Error e = ParseFails("[default]\nregion = a\nk = \xFF\xFE\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(e.message.find("UTF-8"), std::string::npos);
  ParseFails("[a]\nk = \xC0\x80\n");          // overlong NUL
  ParseFails("[a]\nk = \xED\xA0\x80\n");      // surrogate
  ParseFails("[a]\nk = \xF4\x90\x80\x80\n");  // above U+10FFFF
  ParseOk("[a]\nk = caf\xC3\xA9 \xF0\x9F\x98\x80\n");
}

TEST(ConfigFileParser, HandlesHugeLines) {
  std::string value(8 << 20, 'x');
  IniFile f = ParseOk("[a]\nk = " + value + "\n" + std::string(1 << 20, ' ') + "more\n");
  EXPECT_EQ(Value(f, "a", "k").size(), value.size() + 5);
  Error e = ParseFails("[a]\n" + std::string(4 << 20, 'y') + "\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_LT(e.message.size(), 200u);
}

TEST(ConfigFileParser, ManyBlankLinesStayCheap) {
  std::string text = "[a]\nk = v\n" + std::string(1 << 20, '\n') + "  tail\n";
  IniFile f = ParseOk(text);
  EXPECT_EQ(Value(f, "a", "k"), "v" + std::string((1 << 20) + 1, '\n') + "tail");
}

TEST(ConfigFileParser, RefusesDefaultKeysTimesSectionsExplosion) {
  std::string text = "[DEFAULT]\n";
  for (int i = 0; i < 2000; ++i) text += "k" + std::to_string(i) + " = v\n";
  for (int i = 0; i < 1000; ++i) text += "[s" + std::to_string(i) + "]\n";
  Error e = ParseFails(text);
  EXPECT_EQ(e.line, 1);
  EXPECT_NE(e.message.find("too many [DEFAULT] keys"), std::string::npos);
}

TEST(ConfigFileParser, NestedErrorLineIsTheOffendingLine) {
  Error e = ParseFails("[a]\ns3 =\n  x = 1\n\n\n  y = 2\n  oops\n  z = 3\n");
  EXPECT_EQ(e.line, 7);
}

TEST(ConfigFileParser, SurvivesBinaryGarbage) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string text(rng() % 2000, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    if (round % 3 == 0) text = "[s]\n" + text;
    auto parsed = ParseConfigFile(text, "/garbage");
    if (!parsed) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kParse);
      EXPECT_GE(parsed.error().line, 1);
    }
  }
}

TEST(ConfigFileParser, ValuesMayContainNulBytes) {
  using namespace std::string_literals;
  IniFile f = ParseOk("[a]\nk = x\0y\n"s);
  EXPECT_EQ(Value(f, "a", "k"), std::string("x\0y", 3));
}

// ------------------------------------------------------------ profile map

TEST(SharedConfig, BuildsTheProfileMapLikeBotocore) {
  SharedConfig shared;
  AddConfigFile(shared, ParseOk("[default]\nregion = a\n"
                                "[profile dev]\nregion = b\n"
                                "[profile \"my name\"]\nregion = c\n"
                                "[profile  spaced]\nregion = d\n"
                                "[profile a b]\nregion = ignored\n"
                                "[profile]\nregion = ignored\n"
                                "[profile 'unterminated]\nregion = ignored\n"
                                "[sso-session corp]\nsso_region = us-east-1\n"
                                "[services local]\ns3 =\n  endpoint_url = http://localhost:4566\n"
                                "[preview]\ncloudfront = true\n"
                                "[plugins]\ncli_legacy_plugin_path = /x\n"));
  EXPECT_EQ(shared.profiles.size(), 4u);
  EXPECT_EQ(GetString(shared.profiles.at("default"), "region"), "a");
  EXPECT_EQ(GetString(shared.profiles.at("dev"), "region"), "b");
  EXPECT_EQ(GetString(shared.profiles.at("my name"), "region"), "c");
  EXPECT_EQ(GetString(shared.profiles.at("spaced"), "region"), "d");
  EXPECT_EQ(GetString(shared.sso_sessions.at("corp"), "sso_region"), "us-east-1");
  EXPECT_TRUE(shared.services.at("local").at("s3").is_subsection);
  EXPECT_EQ(shared.other_sections.count("preview"), 1u);
  EXPECT_EQ(shared.other_sections.count("plugins"), 1u);
  EXPECT_EQ(shared.config_file_profiles.size(), 4u);
}

TEST(SharedConfig, LaterDefaultSectionReplacesEarlierOne) {
  SharedConfig shared;
  AddConfigFile(shared, ParseOk("[default]\nregion = a\noutput = json\n[profile default]\nregion = b\n"));
  EXPECT_EQ(GetString(shared.profiles.at("default"), "region"), "b");
  EXPECT_FALSE(GetString(shared.profiles.at("default"), "output").has_value());
}

TEST(SharedConfig, CredentialsFileOverridesKeyByKey) {
  SharedConfig shared;
  AddConfigFile(shared, ParseOk("[default]\nregion = us-east-1\naws_access_key_id = FROM_CONFIG\n"
                                "[profile dev]\nregion = eu-west-1\n"));
  AddCredentialsFile(shared, ParseOk("[default]\naws_access_key_id = FROM_CREDENTIALS\n"
                                     "[ci]\naws_access_key_id = CI\n"
                                     "[profile dev]\naws_access_key_id = LITERAL\n"));
  const ConfigSection& def = shared.profiles.at("default");
  EXPECT_EQ(GetString(def, "aws_access_key_id"), "FROM_CREDENTIALS");
  EXPECT_EQ(GetString(def, "region"), "us-east-1");
  EXPECT_EQ(GetString(shared.profiles.at("ci"), "aws_access_key_id"), "CI");
  // The credentials file has no "profile " prefix: the section is a profile
  // literally named "profile dev", separate from [profile dev] of the config.
  EXPECT_EQ(GetString(shared.profiles.at("profile dev"), "aws_access_key_id"), "LITERAL");
  EXPECT_FALSE(GetString(shared.profiles.at("dev"), "aws_access_key_id").has_value());
  // The config file's own map is untouched.
  EXPECT_EQ(GetString(shared.config_file_profiles.at("default"), "aws_access_key_id"), "FROM_CONFIG");
}

// ------------------------------------------------------------ shlex

std::vector<std::string> SplitOk(std::string_view text) {
  auto words = ShellSplit(text);
  EXPECT_TRUE(words.has_value()) << text;
  return words ? *words : std::vector<std::string>{};
}

TEST(ShellSplit, MatchesPythonShlex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SplitOk("a b"), (V{"a", "b"}));
  EXPECT_EQ(SplitOk("'a b' c"), (V{"a b", "c"}));
  EXPECT_EQ(SplitOk("\"a \\\" b\""), (V{"a \" b"}));
  EXPECT_EQ(SplitOk("a\\ b"), (V{"a b"}));
  EXPECT_EQ(SplitOk("\"a\\nb\""), (V{"a\\nb"}));
  EXPECT_EQ(SplitOk("''"), (V{""}));
  EXPECT_EQ(SplitOk("x ''"), (V{"x", ""}));
  EXPECT_EQ(SplitOk(""), V{});
  EXPECT_EQ(SplitOk(" \t\r\n"), V{});
  EXPECT_EQ(SplitOk("a\"b c\"d"), (V{"ab cd"}));
  EXPECT_EQ(SplitOk("'it''s' \"$HOME\""), (V{"its", "$HOME"}));
}

TEST(ShellSplit, RejectsUnterminatedInput) {
  EXPECT_FALSE(ShellSplit("'open").has_value());
  EXPECT_FALSE(ShellSplit("\"open").has_value());
  EXPECT_FALSE(ShellSplit("trailing\\").has_value());
}

}  // namespace
}  // namespace cloudaudit::aws
