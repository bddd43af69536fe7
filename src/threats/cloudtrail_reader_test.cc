#include "threats/cloudtrail_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "threats/test_support.h"

namespace cloudaudit::threats {
namespace {

using ::testing::HasSubstr;
using testing::Compress;
using testing::Gzip;

// Hands out at most `step` bytes per read, so every byte position can fall
// on a buffer boundary.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string_view bytes, size_t step) : bytes_(bytes), step_(step) {}
  Result<size_t> Read(char* out, size_t capacity) override {
    size_t n = std::min({capacity, step_, bytes_.size() - pos_});
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view bytes_;
  size_t step_;
  size_t pos_ = 0;
};

class FailingSource : public ByteSource {
 public:
  explicit FailingSource(std::string_view first) : first_(first) {}
  Result<size_t> Read(char* out, size_t capacity) override {
    if (done_) return MakeError(ErrorCode::kIo, "disk on fire");
    done_ = true;
    size_t n = std::min(capacity, first_.size());
    std::memcpy(out, first_.data(), n);
    return n;
  }

 private:
  std::string_view first_;
  bool done_ = false;
};

struct Collected {
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;
  std::vector<size_t> indexes;
  std::vector<ReadProblem> problems;
  ReadStats stats;
  bool fatal() const {
    for (const auto& p : problems)
      if (p.fatal) return true;
    return false;
  }
};

Collected ReadAll(ByteSource& in, ReaderLimits limits = {}) {
  Collected c;
  c.stats = ReadCloudTrailLog(
      in, limits,
      [&](const RawRecord& r) {
        c.records.emplace_back(r.text);
        c.offsets.push_back(r.offset);
        c.indexes.push_back(r.index);
      },
      [&](const ReadProblem& p) { c.problems.push_back(p); });
  return c;
}

Collected ReadBytes(std::string_view bytes, ReaderLimits limits = {}) {
  MemoryByteSource in(bytes);
  return ReadAll(in, limits);
}

const char* kTwo = R"({"Records": [{"eventName": "A", "n": [1, {"x": "}"}]}, {"eventName": "B\"}"}]})";

TEST(CloudTrailReader, SplitsPlainJsonIntoRecordTexts) {
  Collected c = ReadBytes(kTwo);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0], R"({"eventName": "A", "n": [1, {"x": "}"}]})");
  EXPECT_EQ(c.records[1], R"({"eventName": "B\"}"})");
  EXPECT_EQ(c.offsets[0], 13u);
  EXPECT_EQ(std::string_view(kTwo).substr(c.offsets[1], 2), "{\"");
  EXPECT_EQ(c.indexes, (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(c.problems.empty());
  EXPECT_TRUE(c.stats.complete);
  EXPECT_EQ(c.stats.records, 2u);
  EXPECT_EQ(c.stats.bytes, std::string_view(kTwo).size());
}

TEST(CloudTrailReader, ReadsGzipAndZlibAlike) {
  for (int bits : {15 + 16, 15}) {
    std::string packed = Compress(kTwo, bits);
    Collected c = ReadBytes(packed);
    ASSERT_EQ(c.records.size(), 2u) << bits;
    EXPECT_EQ(c.records[1], R"({"eventName": "B\"}"})");
    EXPECT_TRUE(c.stats.complete);
    EXPECT_EQ(c.stats.compressed_bytes, packed.size());
    EXPECT_EQ(c.stats.bytes, std::string_view(kTwo).size());
  }
}

TEST(CloudTrailReader, ReadsConcatenatedGzipMembers) {
  std::string doc = kTwo;
  std::string packed = Gzip(doc.substr(0, 20)) + Gzip(doc.substr(20, 17)) + Gzip(doc.substr(37));
  Collected c = ReadBytes(packed);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0], R"({"eventName": "A", "n": [1, {"x": "}"}]})");
  EXPECT_TRUE(c.problems.empty());
  EXPECT_TRUE(c.stats.complete);
}

TEST(CloudTrailReader, EveryBufferBoundaryGivesTheSameRecords) {
  // Escapes, braces in strings and nesting, cut at every byte.
  std::vector<std::string> records;
  for (int i = 0; i < 30; ++i)
    records.push_back(fmt::format(R"({{"i": {}, "s": "a\\\"{{[\\\\", "t": ["]", {{"u": "\\u00e9}}"}}], "v": null}})", i));
  std::string doc = testing::LogFile(records);
  for (const std::string& bytes : {doc, Gzip(doc)}) {
    for (size_t step : {1, 2, 3, 7, 64}) {
      TrickleSource in(bytes, step);
      ReaderLimits limits;
      limits.chunk_bytes = 1;  // the smallest buffer the reader allows
      Collected c = ReadAll(in, limits);
      EXPECT_EQ(c.records, records) << "step " << step;
      EXPECT_TRUE(c.problems.empty()) << c.problems.front().why;
      EXPECT_TRUE(c.stats.complete);
    }
  }
}

TEST(CloudTrailReader, EmptyRecordsAndOtherMembers) {
  Collected empty = ReadBytes(R"({"Records": []})");
  EXPECT_TRUE(empty.records.empty());
  EXPECT_TRUE(empty.problems.empty());
  EXPECT_TRUE(empty.stats.complete);

  Collected other = ReadBytes("\xEF\xBB\xBF" R"( {"Digest": {"x": [1, "]"]}, "Records": [ {"a": 1} ], "More": "s", "N": -1.5e3, "T": true})");
  EXPECT_EQ(other.records, (std::vector<std::string>{R"({"a": 1})"}));
  EXPECT_TRUE(other.problems.empty());
  EXPECT_TRUE(other.stats.complete);
}

TEST(CloudTrailReader, ElementsThatAreNotObjectsAreSkippedAndReported) {
  Collected c = ReadBytes(R"({"Records": [1, "x", {"a": 1}, [2, {}], null, true]})");
  EXPECT_EQ(c.records, (std::vector<std::string>{R"({"a": 1})"}));
  EXPECT_EQ(c.indexes, (std::vector<size_t>{2}));
  ASSERT_EQ(c.problems.size(), 5u);
  EXPECT_EQ(c.problems[0].why, "Records[0] is a number, not an object; skipped");
  EXPECT_EQ(c.problems[0].offset, 13u);
  EXPECT_EQ(c.problems[1].why, "Records[1] is a string, not an object; skipped");
  EXPECT_EQ(c.problems[2].why, "Records[3] is an array, not an object; skipped");
  EXPECT_EQ(c.problems[3].why, "Records[4] is null, not an object; skipped");
  EXPECT_EQ(c.problems[4].why, "Records[5] is a boolean, not an object; skipped");
  EXPECT_FALSE(c.fatal());
  EXPECT_EQ(c.stats.bad_records, 5u);
  EXPECT_TRUE(c.stats.complete);
}

TEST(CloudTrailReader, TruncatedJsonKeepsTheRecordsBeforeIt) {
  Collected c = ReadBytes(R"({"Records": [{"a": 1}, {"b": "unfinished)");
  EXPECT_EQ(c.records, (std::vector<std::string>{R"({"a": 1})"}));
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_THAT(c.problems[0].why, HasSubstr("truncated JSON"));
  EXPECT_FALSE(c.stats.complete);

  for (const char* cut : {R"({"Records": [{"a": 1})", R"({"Records": [{"a": 1},)", R"({"Records")", R"({"Records": )", "{"}) {
    Collected d = ReadBytes(cut);
    ASSERT_FALSE(d.problems.empty()) << cut;
    EXPECT_TRUE(d.problems.back().fatal) << cut;
    EXPECT_THAT(d.problems.back().why, HasSubstr("truncated JSON")) << cut;
  }
}

TEST(CloudTrailReader, TruncatedGzipKeepsTheRecordsBeforeIt) {
  std::vector<std::string> records;
  for (int i = 0; i < 2000; ++i) records.push_back(testing::Record({.name = fmt::format("Call{}", i)}));
  std::string packed = Gzip(testing::LogFile(records));
  std::string cut = packed.substr(0, packed.size() / 2);
  Collected c = ReadBytes(cut);
  EXPECT_GT(c.records.size(), 100u);
  EXPECT_LT(c.records.size(), records.size());
  for (size_t i = 0; i < c.records.size(); ++i) ASSERT_EQ(c.records[i], records[i]);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_TRUE(c.problems[0].compressed);
  EXPECT_THAT(c.problems[0].why, HasSubstr("truncated compressed data"));
  EXPECT_FALSE(c.stats.complete);
}

TEST(CloudTrailReader, CorruptGzipIsReportedWithItsCompressedOffset) {
  std::vector<std::string> records;
  for (int i = 0; i < 500; ++i) records.push_back(testing::Record({.name = fmt::format("Call{}", i)}));
  const std::string packed = Gzip(testing::LogFile(records));
  // A wrong CRC in the trailer: every record arrives, then the check fails.
  std::string bad_crc = packed;
  bad_crc[packed.size() - 8] = static_cast<char>(bad_crc[packed.size() - 8] ^ 0xff);
  Collected c = ReadBytes(bad_crc);
  EXPECT_EQ(c.records.size(), records.size());
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_TRUE(c.problems[0].compressed);
  EXPECT_EQ(c.problems[0].why, fmt::format("corrupt compressed data near compressed offset {}: incorrect data check", packed.size() - 4));
  // An unknown compression method in the header: nothing can be read.
  std::string bad_method = packed;
  bad_method[2] = 7;
  Collected d = ReadBytes(bad_method);
  EXPECT_TRUE(d.records.empty());
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_TRUE(d.problems[0].compressed);
  EXPECT_THAT(d.problems[0].why, HasSubstr("corrupt compressed data near compressed offset"));
  EXPECT_THAT(d.problems[0].why, HasSubstr("unknown compression method"));
}

TEST(CloudTrailReader, DataAfterTheGzipStreamIsReported) {
  Collected c = ReadBytes(Gzip(kTwo) + std::string("garbage!"));
  EXPECT_EQ(c.records.size(), 2u);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_THAT(c.problems[0].why, HasSubstr("unexpected data after the end of the compressed stream"));
}

TEST(CloudTrailReader, NotACloudTrailLog) {
  struct Case {
    std::string bytes, why;
  };
  for (const Case& k : std::vector<Case>{
           {"", "empty file: no Records array"},
           {"  \n", "empty file: no Records array"},
           {"[1, 2]", "not a CloudTrail log: expected a JSON object with a Records array, found '['"},
           {R"({"foo": 1})", "no Records array: not a CloudTrail log file"},
           {R"({"Records": {"a": 1}})", "`Records` is not an array"},
           {R"({"Records": [{"a": [1}]})", "malformed JSON: '}' does not close '['"},
           {R"({"Records": [{"a": 1} {"b": 2}]})", "malformed JSON: expected ',' or ']' after Records[0], found '{'"},
           {R"({"Records": [,]})", "malformed JSON: expected a value, found ','"},
           {"\x01\x02\x03", "not a CloudTrail log: expected a JSON object with a Records array, found byte 0x01"},
       }) {
    Collected c = ReadBytes(k.bytes);
    ASSERT_EQ(c.problems.size(), 1u) << k.bytes;
    EXPECT_EQ(c.problems[0].why, k.why) << k.bytes;
    EXPECT_TRUE(c.problems[0].fatal);
    EXPECT_FALSE(c.stats.complete);
  }
}

TEST(CloudTrailReader, NothingIsReportedAfterAFatalProblem) {
  // Found by fuzzing: a stream breaking off inside a scalar element reported
  // the element as "not an object" after the fatal problem.
  std::string packed = Gzip(R"({"Records": [12345678, {"a": 1}]})");
  packed.resize(packed.size() - 25);
  Collected c = ReadBytes(packed);
  ASSERT_FALSE(c.problems.empty());
  EXPECT_TRUE(c.problems.back().fatal);
  EXPECT_EQ(c.stats.bad_records, 0u);
}

TEST(CloudTrailReader, DataAfterTheDocumentIsReportedNotFatal) {
  Collected c = ReadBytes(R"({"Records": [{"a": 1}]} {"Records": []})");
  EXPECT_EQ(c.records.size(), 1u);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_FALSE(c.problems[0].fatal);
  EXPECT_EQ(c.problems[0].offset, 24u);
  EXPECT_EQ(c.problems[0].why, "data after the end of the JSON document; ignored");
}

TEST(CloudTrailReader, HugeRecordIsSkippedWithoutBeingHeld) {
  std::string big = R"({"a": ")" + std::string(200000, 'x') + R"("})";
  std::string doc = R"({"Records": [{"first": 1}, )" + big + R"(, {"last": 2}]})";
  ReaderLimits limits;
  limits.chunk_bytes = 4096;
  limits.max_record_bytes = 10000;
  for (const std::string& bytes : {doc, Gzip(doc)}) {
    Collected c = ReadBytes(bytes, limits);
    EXPECT_EQ(c.records, (std::vector<std::string>{R"({"first": 1})", R"({"last": 2})"}));
    ASSERT_EQ(c.problems.size(), 1u);
    EXPECT_FALSE(c.problems[0].fatal);
    EXPECT_EQ(c.problems[0].offset, 27u);
    EXPECT_EQ(c.problems[0].why, fmt::format("Records[1] is larger than 10000 bytes ({} bytes); skipped", big.size()));
    EXPECT_EQ(c.indexes, (std::vector<size_t>{0, 2}));
    EXPECT_EQ(c.stats.bad_records, 1u);
  }
  // Just over the limit inside one buffer is caught too.
  limits.chunk_bytes = 1 << 20;
  limits.max_record_bytes = big.size() - 1;
  Collected c = ReadBytes(doc, limits);
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.stats.bad_records, 1u);
}

TEST(CloudTrailReader, FilesOverTheSizeLimitStop) {
  std::vector<std::string> records(1000, R"({"eventName": "x"})");
  std::string doc = testing::LogFile(records);
  ReaderLimits limits;
  limits.chunk_bytes = 4096;
  limits.max_file_bytes = 10000;
  Collected c = ReadBytes(Gzip(doc), limits);
  EXPECT_GT(c.records.size(), 10u);
  EXPECT_LT(c.records.size(), 1000u);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_EQ(c.problems[0].why, "the file is larger than 10000 bytes decompressed; the rest is not read");
  // Exactly at the limit is fine.
  limits.max_file_bytes = doc.size();
  Collected exact = ReadBytes(doc, limits);
  EXPECT_EQ(exact.records.size(), 1000u);
  EXPECT_TRUE(exact.problems.empty());
}

TEST(CloudTrailReader, DeepNestingStopsTheFile) {
  std::string doc = R"({"Records": [{"a": )" + std::string(10000, '[') + std::string(10000, ']') + "}]}";
  Collected c = ReadBytes(doc);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_EQ(c.problems[0].why, "nesting deeper than 4096 levels");
}

TEST(CloudTrailReader, InvalidUtf8IsPassedToTheRecordParser) {
  // The splitter only finds boundaries; the record parser rejects the text.
  std::string doc = "{\"Records\": [{\"a\": \"\xff\xfe\"}, {\"b\": 1}]}";
  Collected c = ReadBytes(doc);
  EXPECT_EQ(c.records, (std::vector<std::string>{"{\"a\": \"\xff\xfe\"}", R"({"b": 1})"}));
  EXPECT_TRUE(c.problems.empty());
}

TEST(CloudTrailReader, RecordsHavePaddingAfterThem) {
  // The reader promises kRecordPadding readable bytes after every record.
  std::string doc = R"({"Records": [{"a": 1}]})";
  MemoryByteSource in(doc);
  ReaderLimits limits;
  limits.chunk_bytes = 4096;
  size_t seen = 0;
  ReadCloudTrailLog(
      in, limits,
      [&](const RawRecord& r) {
        volatile char sum = 0;
        for (size_t i = 0; i < r.text.size() + kRecordPadding; ++i) sum = static_cast<char>(sum + r.text.data()[i]);
        ++seen;
      },
      nullptr);
  EXPECT_EQ(seen, 1u);
}

TEST(CloudTrailReader, ReadErrorsOfTheSourceAreFatal) {
  FailingSource in(R"({"Records": [{"a": 1}, )");
  Collected c = ReadAll(in);
  EXPECT_EQ(c.records.size(), 1u);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_TRUE(c.problems[0].fatal);
  EXPECT_EQ(c.problems[0].why, "disk on fire");
}

TEST(FileByteSource, ReadsAFileAndNamesAMissingOne) {
  testing::TempDir dir("reader");
  testing::WriteFile(dir.path() / "a.json.gz", Gzip(kTwo));
  auto in = FileByteSource::Open((dir.path() / "a.json.gz").string());
  ASSERT_TRUE(in);
  Collected c = ReadAll(**in);
  EXPECT_EQ(c.records.size(), 2u);

  auto missing = FileByteSource::Open((dir.path() / "nope.json").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("nope.json"));
}

}  // namespace
}  // namespace cloudaudit::threats
