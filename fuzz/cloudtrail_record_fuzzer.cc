// libFuzzer harness for the CloudTrail reader and the record checks: any
// bytes, plain or gzip-compressed, must be read into records and problems
// without crashing, hanging or reading out of bounds — in particular the
// in-place simdjson parse of each record relies on the reader's padding.
//
// Input: a flags byte, then the file bytes.
//   bit 0: gzip-compress the bytes first (explores JSON through the
//          decompressor; otherwise the bytes are read as they are, which
//          also covers raw gzip/zlib inputs)
//   bit 1: hand the bytes over one at a time (every buffer boundary)
//   bit 2: small limits (64-byte records, 4 KiB files)
//
// Invariants (FUZZ_CHECK): records arrive in order of offset and index, each
// text is one '{'...'}' inside the decompressed bytes; records + bad elements
// equal the deliveries; at most one fatal problem, and nothing after it;
// a record that parses has a compact form that parses to the same event
// time; the alert id is 32 hex digits.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "fuzz_support.h"
#include "threats/cloudtrail_reader.h"
#include "threats/cloudtrail_record.h"

namespace {

using namespace cloudaudit::threats;

class TrickleSource : public ByteSource {
 public:
  explicit TrickleSource(std::string_view bytes) : bytes_(bytes) {}
  cloudaudit::Result<size_t> Read(char* out, size_t capacity) override {
    if (pos_ == bytes_.size() || capacity == 0) return size_t{0};
    out[0] = bytes_[pos_++];
    return size_t{1};
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

std::string Gzip(std::string_view data) {
  z_stream s{};
  deflateInit2(&s, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

class CheckingSink : public RecordSink {
 public:
  void OnRecord(const RawRecord& r) override {
    FUZZ_CHECK(!fatal_seen_, "no record after a fatal problem");
    FUZZ_CHECK(r.text.size() >= 2 && r.text.front() == '{' && r.text.back() == '}', "a record is one JSON object's text");
    FUZZ_CHECK(records_ == 0 || r.offset > last_offset_, "records come in offset order");
    FUZZ_CHECK(records_ == 0 || r.index > last_index_, "records come in index order");
    last_offset_ = r.offset;
    last_index_ = r.index;
    ++records_;
    simdjson::dom::element doc;
    std::string_view event_time;
    auto epoch = CheckRecord(parser_, r.text, /*padded=*/true, &doc, &event_time);
    if (!epoch) {
      FUZZ_CHECK(epoch.error().message.rfind("malformed record: ", 0) == 0, "rejections say why");
      return;
    }
    (void)IsServiceActivity(doc);
    RecordFields fields = ExtractFields(doc, true);
    std::string compact = CompactRecord(r.text);
    FUZZ_CHECK(compact.size() <= r.text.size(), "compacting never grows a record");
    simdjson::dom::element again;
    std::string_view again_time;
    auto reparsed = CheckRecord(other_, compact, false, &again, &again_time);
    FUZZ_CHECK(reparsed.has_value() && *reparsed == *epoch, "the compact record reads back the same");
    std::string id = AlertId("fuzz.rule", fields.event_id, compact);
    FUZZ_CHECK(id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos, "alert ids are 32 hex digits");
  }
  void OnProblem(const ReadProblem& p) override {
    FUZZ_CHECK(!fatal_seen_, "nothing after a fatal problem");
    FUZZ_CHECK(!p.why.empty(), "a problem says why");
    if (p.fatal) fatal_seen_ = true;
    else ++problems_;
  }
  uint64_t records_ = 0, problems_ = 0;
  bool fatal_seen_ = false;

 private:
  simdjson::dom::parser parser_, other_;
  uint64_t last_offset_ = 0;
  size_t last_index_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & 1) bytes = Gzip(bytes);
  ReaderLimits limits;
  limits.chunk_bytes = 4096;
  if (flags & 4) {
    limits.max_record_bytes = 64;
    limits.max_file_bytes = 4096;
  }
  CheckingSink sink;
  ReadStats stats;
  if (flags & 2) {
    TrickleSource in(bytes);
    stats = ReadCloudTrailLog(in, limits, sink);
  } else {
    MemoryByteSource in(bytes);
    stats = ReadCloudTrailLog(in, limits, sink);
  }
  FUZZ_CHECK(stats.records == sink.records_, "every record counted is delivered");
  FUZZ_CHECK(stats.bad_records <= sink.problems_, "every bad element is reported");
  FUZZ_CHECK(!(stats.complete && sink.fatal_seen_), "a complete document has no fatal problem");
  FUZZ_CHECK(stats.compressed_bytes <= bytes.size(), "no more input than given");
  FUZZ_CHECK(flags & 4 ? stats.bytes <= limits.max_file_bytes + limits.chunk_bytes : true, "the file limit holds");
  return 0;
}
