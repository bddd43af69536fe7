// Timestamps as AWS sends them and as the AWS CLI prints them.
//
// The AWS CLI v2 parses every timestamp with botocore's parse_timestamp and
// prints datetime.isoformat(): ISO-8601 strings keep their own UTC offset
// ("Z" becomes "+00:00"), RFC-822 "GMT" dates become "+00:00", and epoch
// seconds become *local* time with the local offset (Python's
// datetime.fromtimestamp(value, tzlocal())). Microseconds appear only when
// non-zero. We reproduce that exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cloudaudit {

struct Timestamp {
  int64_t epoch_seconds = 0;  // UTC instant, whole seconds
  int32_t micros = 0;         // 0..999999
  // Offset of the wall time from UTC, seconds east. Only meaningful if has_offset.
  int32_t offset_seconds = 0;
  bool has_offset = true;  // false: naive time, printed without offset
};

// Parses ISO-8601 (with 'T' or ' ', optional fraction, Z / +hh:mm / +hhmm /
// none), RFC-822/1123 dates ("Wed, 21 Oct 2015 07:28:00 GMT") and epoch
// seconds (integer or fractional, as text). Epoch values take the local
// offset like Python's tzlocal().
Result<Timestamp> ParseTimestamp(std::string_view text);
// Epoch seconds (local offset, as Python's tzlocal). The unchecked form needs
// a value inside years 1-9999; the checked one rejects others (and NaN/inf).
Timestamp TimestampFromEpoch(double epoch_seconds);
Result<Timestamp> TimestampFromEpochChecked(double epoch_seconds);

// Python datetime.isoformat() of the parsed value.
std::string FormatIsoPython(const Timestamp& ts);

// Formats for the wire: ISO-8601 UTC with Z ("2015-08-30T12:36:00Z"),
// SigV4 basic format ("20150830T123600Z"), RFC-1123 for HTTP headers.
std::string FormatIso8601Utc(int64_t epoch_seconds);
std::string FormatAmzDate(int64_t epoch_seconds);
std::string FormatHttpDate(int64_t epoch_seconds);

int64_t NowEpochSeconds();
// Days from civil date (proleptic Gregorian), UTC; no time zone database needed.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace cloudaudit
