#include "base/json.h"

#include <gtest/gtest.h>

namespace cloudaudit {
namespace {

// Expected strings are Python 3's repr(float), the AWS CLI's number format.
TEST(PythonFloatRepr, MatchesPythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {0.1, "0.1"},
      {1.0, "1.0"},
      {-2.5, "-2.5"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {1e+16, "1e+16"},
      {1000000000000000.0, "1000000000000000.0"},
      {123456789012345.6, "123456789012345.6"},
      {1234567890123456.0, "1234567890123456.0"},
      {1.2345678901234568e+16, "1.2345678901234568e+16"},
      {5e-324, "5e-324"},
      {1.7976931348623157e+308, "1.7976931348623157e+308"},
      {0.3, "0.3"},
      {0.6666666666666666, "0.6666666666666666"},
      {100.0, "100.0"},
      {1e+22, "1e+22"},
      {-0.0, "-0.0"},
      {0.5, "0.5"},
      {90.0, "90.0"},
      {1416277891.483, "1416277891.483"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(PythonFloatRepr(value), expected) << value;
}

TEST(PythonFloatRepr, NonFiniteAsJsonDumps) {
  EXPECT_EQ(PythonFloatRepr(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(PythonFloatRepr(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(PythonFloatRepr(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(DumpPythonJson, IndentsLikeJsonDumpsIndent4) {
  auto doc = ParseJson(R"({"Users": [{"UserName": "a\"b", "Age": 3, "Ok": true, "Ratio": 1.0}], "Empty": [], "Map": {}, "Null": null})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(DumpPythonJson(*doc),
            "{\n"
            "    \"Users\": [\n"
            "        {\n"
            "            \"UserName\": \"a\\\"b\",\n"
            "            \"Age\": 3,\n"
            "            \"Ok\": true,\n"
            "            \"Ratio\": 1.0\n"
            "        }\n"
            "    ],\n"
            "    \"Empty\": [],\n"
            "    \"Map\": {},\n"
            "    \"Null\": null\n"
            "}");
}

TEST(DumpPythonJson, EscapesControlCharactersButNotUnicode) {
  Json v = std::string("tab\there\x01 é ✓ \\ \n");
  EXPECT_EQ(DumpPythonJson(v), "\"tab\\there\\u0001 é ✓ \\\\ \\n\"");
}

TEST(DumpPythonJson, CompactFormUsesPythonSeparators) {
  auto doc = ParseJson(R"({"a": [1, 2], "b": {"c": "d"}})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(DumpPythonJson(*doc, -1), R"({"a": [1, 2], "b": {"c": "d"}})");
}

TEST(ParseJson, ReportsPositionOfErrors) {
  auto bad = ParseJson("{\"a\": [1, 2,, 3]}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kParse);
  EXPECT_NE(bad.error().message.find("byte"), std::string::npos);
}

TEST(ParseJson, KeepsMemberOrder) {
  auto doc = ParseJson(R"({"z": 1, "a": 2, "m": 3})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(DumpPythonJson(*doc, -1), R"({"z": 1, "a": 2, "m": 3})");
}

}  // namespace
}  // namespace cloudaudit
