#include "rules/filter_pattern.h"

#include <gtest/gtest.h>

namespace cloudaudit::rules {
namespace {

// CIS AWS Foundations v3.0 4.3 (console sign-in without MFA) and 4.1
// (unauthorized API calls), as the benchmark writes them.
constexpr const char* kNoMfa = R"({ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") })";
constexpr const char* kUnauthorized =
    R"({($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket")})";
constexpr const char* kTrail =
    "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
    "($.eventName = StartLogging) || ($.eventName = StopLogging) }";

TEST(FilterPattern, APatternCoversItselfAndSpellingDoesNotMatter) {
  for (const char* p : {kNoMfa, kUnauthorized, kTrail}) EXPECT_EQ(FilterPatternCovers(p, p), true) << p;
  EXPECT_EQ(FilterPatternCovers(R"({$.additionalEventData.MFAUsed!="Yes"&&$.eventName=ConsoleLogin})", kNoMfa), true);
  EXPECT_EQ(FilterPatternCovers("{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) || ($.eventName = UpdateTrail) || "
                                "(($.eventName = CreateTrail) || ($.eventName = StartLogging)) }",
                                kTrail),
            true);
}

TEST(FilterPattern, ANarrowerFilterDoesNotCover) {
  // Every required term is there, but only root sign-ins are caught.
  EXPECT_EQ(FilterPatternCovers(R"({ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "Root") })",
                                kNoMfa),
            false);
  // One event of the disjunction missing.
  EXPECT_EQ(FilterPatternCovers("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
                                "($.eventName = StartLogging) }",
                                kTrail),
            false);
  // Every term, joined with && where CIS has ||: catches nothing CIS wants.
  EXPECT_EQ(FilterPatternCovers("{ ($.eventName = CreateTrail) && ($.eventName = UpdateTrail) && ($.eventName = DeleteTrail) && "
                                "($.eventName = StartLogging) && ($.eventName = StopLogging) }",
                                kTrail),
            false);
}

TEST(FilterPattern, BroaderFiltersAndWildcardsCover) {
  EXPECT_EQ(FilterPatternCovers(R"({ $.eventName = "ConsoleLogin" })", kNoMfa), true);
  EXPECT_EQ(FilterPatternCovers(R"({ ($.eventName = "Console*") && ($.additionalEventData.MFAUsed != "Yes") })", kNoMfa), true);
  EXPECT_EQ(FilterPatternCovers("{ ($.eventName = *Trail) || ($.eventName = *Logging) }", kTrail), true);
  EXPECT_EQ(FilterPatternCovers("{ ($.eventName = *Trail) || ($.eventName = Start*) }", kTrail), false);  // StopLogging
  EXPECT_EQ(FilterPatternCovers(R"({ $.errorCode = "*" })", kUnauthorized), true);
  EXPECT_EQ(FilterPatternCovers(R"({ $.errorCode = "*Operation" || $.errorCode = "Access*" })", kUnauthorized), true);
  // A wildcard in the reference is not covered by a literal.
  EXPECT_EQ(FilterPatternCovers(R"({ $.errorCode = "UnauthorizedOperation" || $.errorCode = "AccessDenied*" })", kUnauthorized), false);
}

TEST(FilterPattern, AndBindsTighterThanOr) {
  // a || b && c  is  a || (b && c): the filter `a` alone covers the term {a}
  // but not {b, c}.
  EXPECT_EQ(FilterPatternCovers("{ $.a = 1 || $.b = 2 }", "{ $.a = 1 || $.b = 2 && $.c = 3 }"), true);
  EXPECT_EQ(FilterPatternCovers("{ $.a = 1 }", "{ $.a = 1 || $.b = 2 && $.c = 3 }"), false);
  EXPECT_EQ(FilterPatternCovers("{ ($.a = 1 || $.b = 2) && $.c = 3 }", "{ $.a = 1 || $.b = 2 && $.c = 3 }"), false);
}

TEST(FilterPattern, OtherComparisons) {
  EXPECT_EQ(FilterPatternCovers("{ $.x IS NULL }", "{ ($.x IS NULL) && ($.y NOT EXISTS) }"), true);
  EXPECT_EQ(FilterPatternCovers("{ $.y EXISTS }", "{ ($.x IS NULL) && ($.y NOT EXISTS) }"), false);
  EXPECT_EQ(FilterPatternCovers("{ $.n >= 5 }", "{ $.n >= 5 }"), true);
  EXPECT_EQ(FilterPatternCovers("{ $.m = %ab+c% }", "{ $.m = %ab+c% }"), true);
}

TEST(FilterPattern, WhatDoesNotParse) {
  EXPECT_EQ(FilterPatternCovers("ERROR MainThread", kNoMfa), std::nullopt);  // a text pattern
  EXPECT_EQ(FilterPatternCovers(kNoMfa, "[ip, user, ...]"), std::nullopt);
  for (const char* bad : {"{", "{ }", "{ $.a = }", "{ ($.a = 1 }", "{ $.a = \"x }", "{ $.a ~ 1 }", "{ $.a = 1 } x", "{ a = 1 }",
                          "{ $.a IS MAYBE }", "{ $.a NOT THERE }", "{ $.a = 1 && }"}) {
    EXPECT_EQ(FilterPatternCovers(bad, kNoMfa), std::nullopt) << bad;
    EXPECT_TRUE(FilterPatternError(bad).has_value()) << bad;
  }
  EXPECT_NE(FilterPatternError("{ ($.a = 1 }")->find("expected `)`"), std::string::npos);
  EXPECT_FALSE(FilterPatternError(kUnauthorized).has_value());
  // Deep nesting is refused, not a stack overflow.
  std::string deep = "{ " + std::string(100000, '(') + "$.a = 1" + std::string(100000, ')') + " }";
  EXPECT_EQ(FilterPatternCovers(deep, deep), std::nullopt);
}

TEST(FilterPattern, AnExplodingReferenceIsUnknown) {
  // (a1 || b1) && (a2 || b2) && ... 13 times: 8,192 conjunctions.
  std::string ref = "{ ";
  for (int i = 0; i < 13; ++i) ref += (i ? " && " : "") + std::string("($.a") + std::to_string(i) + " = 1 || $.b" + std::to_string(i) + " = 1)";
  ref += " }";
  EXPECT_EQ(FilterPatternCovers(ref, ref), std::nullopt);
}

}  // namespace
}  // namespace cloudaudit::rules
