#include "base/time.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace cloudaudit {
namespace {

class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    const char* old = std::getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (had_) setenv("TZ", old_.c_str(), 1);
    else unsetenv("TZ");
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

// Expected values are botocore's parse_timestamp(s).isoformat() with TZ=UTC.
TEST(Timestamp, FormatsLikeTheAwsCli) {
  ScopedTz utc("UTC");
  const std::pair<const char*, const char*> cases[] = {
      {"2015-01-01T00:00:00Z", "2015-01-01T00:00:00+00:00"},
      {"2015-01-01T00:00:00.123Z", "2015-01-01T00:00:00.123000+00:00"},
      {"2015-01-01T00:00:00.1234567Z", "2015-01-01T00:00:00.123456+00:00"},
      {"2015-01-01T05:30:00+05:30", "2015-01-01T05:30:00+05:30"},
      {"2015-01-01T00:00:00", "2015-01-01T00:00:00"},
      {"2015-01-01", "2015-01-01T00:00:00"},
      {"Wed, 21 Oct 2015 07:28:00 GMT", "2015-10-21T07:28:00+00:00"},
      {"1416277891.483", "2014-11-18T02:31:31.483000+00:00"},
      {"1416277891", "2014-11-18T02:31:31+00:00"},
      {"2015-01-01T00:00:00.000+0000", "2015-01-01T00:00:00+00:00"},
      {"2015-01-01 10:00:00Z", "2015-01-01T10:00:00+00:00"},
      {"2019-11-18T21:21:49.000Z", "2019-11-18T21:21:49+00:00"},
  };
  for (const auto& [input, expected] : cases) {
    auto ts = ParseTimestamp(input);
    ASSERT_TRUE(ts) << input << ": " << ts.error().message;
    EXPECT_EQ(FormatIsoPython(*ts), expected) << input;
  }
}

TEST(Timestamp, EpochUsesLocalTimeZoneLikePython) {
  ScopedTz ny("America/New_York");
  auto ts = ParseTimestamp("1416277891.5");
  ASSERT_TRUE(ts);
  EXPECT_EQ(FormatIsoPython(*ts), "2014-11-17T21:31:31.500000-05:00");
}

TEST(Timestamp, RejectsGarbage) {
  for (const char* bad : {"", "yesterday", "2015-13-01T00:00:00Z", "2015-01-01T00:00:00+", "\xff\xfe", "0x10",
                          "2015-02-30T00:00:00Z", "2015-01-01T24:00:00Z", "0000-01-01T00:00:00Z", "1e30", "1e12",
                          "2015-01-01T00:00:00+99:99", "1 Jan 9223372036854775807 00:00 GMT", "nan", "inf"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
}

TEST(Timestamp, WireFormats) {
  EXPECT_EQ(FormatAmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(FormatIso8601Utc(1440938160), "2015-08-30T12:36:00Z");
  EXPECT_EQ(FormatHttpDate(1445412480), "Wed, 21 Oct 2015 07:28:00 GMT");
}

}  // namespace
}  // namespace cloudaudit
