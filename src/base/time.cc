#include "base/time.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

#include "base/strings.h"

namespace cloudaudit {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
};

Civil CivilFromEpoch(int64_t t) {
  int64_t days = t / 86400;
  int64_t rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{y + (m <= 2), m, d, static_cast<unsigned>(rem / 3600), static_cast<unsigned>(rem % 3600 / 60),
               static_cast<unsigned>(rem % 60)};
}

int32_t LocalOffsetAt(int64_t epoch_seconds) {
  time_t t = static_cast<time_t>(epoch_seconds);
  struct tm local {};
  if (localtime_r(&t, &local) == nullptr) return 0;
  return static_cast<int32_t>(local.tm_gmtoff);
}

// A tiny cursor for hand-rolled date parsing.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool Done() const { return i >= s.size(); }
  char Peek() const { return i < s.size() ? s[i] : '\0'; }
  bool Digits(size_t n, unsigned* out) {
    if (i + n > s.size()) return false;
    unsigned v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    *out = v;
    i += n;
    return true;
  }
  bool Eat(char c) {
    if (Peek() == c) {
      ++i;
      return true;
    }
    return false;
  }
};

// Python's datetime limits, which botocore's parser enforces: years 1-9999,
// real calendar days, 0-23 h, 0-59 min and s.
bool ValidCivil(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

// Python's datetime range as epoch seconds: 0001-01-01 .. 9999-12-31T23:59:59.
constexpr double kMinEpoch = -62135596800.0;
constexpr double kMaxEpoch = 253402300800.0;

bool ValidOffset(int32_t offset_seconds) { return offset_seconds > -86400 && offset_seconds < 86400; }

std::optional<Timestamp> ParseIso(std::string_view text) {
  Cursor c{text};
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  if (!c.Digits(4, &y)) return std::nullopt;
  bool extended = c.Eat('-');
  if (!c.Digits(2, &mo)) return std::nullopt;
  if (extended && !c.Eat('-')) return std::nullopt;
  if (!c.Digits(2, &d)) return std::nullopt;
  int32_t micros = 0;
  if (!c.Done()) {
    if (!c.Eat('T') && !c.Eat(' ') && !c.Eat('t')) return std::nullopt;
    if (!c.Digits(2, &h)) return std::nullopt;
    bool colon = c.Eat(':');
    if (!c.Digits(2, &mi)) return std::nullopt;
    if (colon ? c.Eat(':') : std::isdigit(static_cast<unsigned char>(c.Peek()))) {
      if (!c.Digits(2, &sec)) return std::nullopt;
    }
    if (c.Eat('.') || c.Eat(',')) {
      // dateutil keeps the first six digits (truncation, not rounding).
      size_t n = 0;
      int32_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(c.Peek()))) {
        if (n < 6) v = v * 10 + (c.Peek() - '0');
        ++n;
        ++c.i;
      }
      if (n == 0) return std::nullopt;
      for (size_t k = n; k < 6; ++k) v *= 10;
      micros = v;
    }
  }
  if (!ValidCivil(y, mo, d, h, mi, sec)) return std::nullopt;
  Timestamp ts;
  ts.micros = micros;
  int64_t wall = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  if (c.Done()) {
    ts.has_offset = false;
    ts.epoch_seconds = wall;
    return ts;
  }
  if (c.Eat('Z') || c.Eat('z')) {
    ts.offset_seconds = 0;
  } else if (c.Peek() == '+' || c.Peek() == '-') {
    int sign = c.Peek() == '-' ? -1 : 1;
    ++c.i;
    unsigned oh, om = 0;
    if (!c.Digits(2, &oh)) return std::nullopt;
    c.Eat(':');
    if (!c.Done() && !c.Digits(2, &om)) return std::nullopt;
    if (om > 59) return std::nullopt;
    ts.offset_seconds = sign * static_cast<int32_t>(oh * 3600 + om * 60);
    if (!ValidOffset(ts.offset_seconds)) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!c.Done()) return std::nullopt;
  ts.epoch_seconds = wall - ts.offset_seconds;
  return ts;
}

std::optional<Timestamp> ParseRfc822(std::string_view text) {
  // "Wed, 21 Oct 2015 07:28:00 GMT" (weekday optional).
  static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string_view s = Trim(text);
  size_t comma = s.find(',');
  if (comma != std::string_view::npos) s = Trim(s.substr(comma + 1));
  auto parts = Split(s, ' ');
  std::vector<std::string> fields;
  for (auto& p : parts)
    if (!p.empty()) fields.push_back(p);
  if (fields.size() < 4) return std::nullopt;
  char* end = nullptr;
  long day = std::strtol(fields[0].c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  int month = -1;
  for (int k = 0; k < 12; ++k)
    if (ToLower(fields[1]) == kMonths[k]) month = k + 1;
  if (month < 0) return std::nullopt;
  long year = std::strtol(fields[2].c_str(), &end, 10);
  if (*end != '\0' || year < 1 || year > 9999) return std::nullopt;
  unsigned h, mi, sec = 0;
  Cursor c{fields[3]};
  if (!c.Digits(2, &h) || !c.Eat(':') || !c.Digits(2, &mi)) return std::nullopt;
  if (c.Eat(':') && !c.Digits(2, &sec)) return std::nullopt;
  if (!c.Done()) return std::nullopt;
  if (day < 1 || day > 31 || !ValidCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day), h, mi, sec))
    return std::nullopt;
  Timestamp ts;
  int64_t wall = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                 h * 3600 + mi * 60 + sec;
  if (fields.size() >= 5) {
    std::string zone = ToLower(fields[4]);
    if (zone == "gmt" || zone == "utc" || zone == "z" || zone == "ut") {
      ts.offset_seconds = 0;
    } else if ((zone[0] == '+' || zone[0] == '-') && zone.size() == 5) {
      int sign = zone[0] == '-' ? -1 : 1;
      int oh = std::atoi(zone.substr(1, 2).c_str()), om = std::atoi(zone.substr(3, 2).c_str());
      if (om > 59) return std::nullopt;
      ts.offset_seconds = sign * (oh * 3600 + om * 60);
      if (!ValidOffset(ts.offset_seconds)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  } else {
    ts.has_offset = false;
  }
  ts.epoch_seconds = wall - ts.offset_seconds;
  return ts;
}

}  // namespace

Timestamp TimestampFromEpoch(double epoch_seconds) {
  // Python: frac, t = modf(t); us = round(frac * 1e6) (half-even).
  double whole;
  double frac = std::modf(epoch_seconds, &whole);
  double us = std::nearbyint(frac * 1e6);
  int64_t secs = static_cast<int64_t>(whole);
  int64_t micros = static_cast<int64_t>(us);
  if (micros >= 1000000) {
    secs += 1;
    micros -= 1000000;
  } else if (micros < 0) {
    secs -= 1;
    micros += 1000000;
  }
  Timestamp ts;
  ts.epoch_seconds = secs;
  ts.micros = static_cast<int32_t>(micros);
  ts.offset_seconds = LocalOffsetAt(secs);
  ts.has_offset = true;
  return ts;
}

Result<Timestamp> TimestampFromEpochChecked(double epoch_seconds) {
  if (!std::isfinite(epoch_seconds) || epoch_seconds < kMinEpoch || epoch_seconds >= kMaxEpoch)
    return MakeError(ErrorCode::kParse, fmt::format("timestamp {} is out of range (years 1-9999)", epoch_seconds));
  return TimestampFromEpoch(epoch_seconds);
}

Result<Timestamp> ParseTimestamp(std::string_view text) {
  std::string_view t = Trim(text);
  if (t.empty()) return MakeError(ErrorCode::kParse, "empty timestamp");
  // Epoch seconds (botocore tries float(value) first).
  {
    std::string tmp(t);
    char* end = nullptr;
    double v = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() && *end == '\0' && tmp.find_first_of("xXpP") == std::string::npos) {
      return TimestampFromEpochChecked(v);
    }
  }
  if (auto iso = ParseIso(t)) return *iso;
  if (auto rfc = ParseRfc822(t)) return *rfc;
  return MakeError(ErrorCode::kParse, fmt::format("invalid timestamp \"{}\"", std::string(t.substr(0, 64))));
}

std::string FormatIsoPython(const Timestamp& ts) {
  Civil c = CivilFromEpoch(ts.epoch_seconds + (ts.has_offset ? ts.offset_seconds : 0));
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", c.year, c.month, c.day, c.hour,
                                c.minute, c.second);
  if (ts.micros != 0) out += fmt::format(".{:06d}", ts.micros);
  if (ts.has_offset) {
    int32_t off = ts.offset_seconds;
    char sign = off < 0 ? '-' : '+';
    off = std::abs(off);
    out += fmt::format("{}{:02d}:{:02d}", sign, off / 3600, off % 3600 / 60);
    if (off % 60 != 0) out += fmt::format(":{:02d}", off % 60);
  }
  return out;
}

std::string FormatIso8601Utc(int64_t epoch_seconds) {
  Civil c = CivilFromEpoch(epoch_seconds);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", c.year, c.month, c.day, c.hour, c.minute,
                     c.second);
}

std::string FormatAmzDate(int64_t epoch_seconds) {
  Civil c = CivilFromEpoch(epoch_seconds);
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z", c.year, c.month, c.day, c.hour, c.minute,
                     c.second);
}

std::string FormatHttpDate(int64_t epoch_seconds) {
  static const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Civil c = CivilFromEpoch(epoch_seconds);
  int64_t days = epoch_seconds >= 0 ? epoch_seconds / 86400 : (epoch_seconds - 86399) / 86400;
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[((days % 7) + 7) % 7], c.day,
                     kMonths[c.month - 1], c.year, c.hour, c.minute, c.second);
}

int64_t NowEpochSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace cloudaudit
