// Streaming reader of CloudTrail log files: the `{"Records": [ {...}, ... ]}`
// documents AWS delivers, plain or compressed (gzip, including concatenated
// members, or zlib). Bytes are decompressed a chunk at a time and split into
// one record text per array element, so memory is bounded by the chunk size
// plus the largest record, however large the file.
//
// The splitter checks JSON structure only as far as it needs to find record
// boundaries (strings, escapes, nesting); each record's text is then parsed
// on its own by the caller (simdjson), so one bad record costs one record.
// Offsets are byte offsets in the decompressed text; problems of the
// compressed stream give the compressed offset.
//
// Not thread-safe; use one reader per file. Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cloudaudit::threats {

// Every record text handed out is followed by at least this many readable
// bytes of the reader's buffer, so a parser that reads past the end
// (simdjson's SIMDJSON_PADDING) can use it in place.
inline constexpr size_t kRecordPadding = 64;

// Where compressed or plain bytes come from.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to `capacity` bytes; 0 at the end. kIo on a read error.
  virtual Result<size_t> Read(char* out, size_t capacity) = 0;
};

// A file opened for reading (kNotFound / kIo with the path when it cannot be).
class FileByteSource : public ByteSource {
 public:
  static Result<std::unique_ptr<FileByteSource>> Open(const std::string& path);
  ~FileByteSource() override;
  Result<size_t> Read(char* out, size_t capacity) override;

 private:
  FileByteSource(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

// Bytes already in memory (an S3 object body, a test, a fuzz input). The
// bytes must outlive the source.
class MemoryByteSource : public ByteSource {
 public:
  explicit MemoryByteSource(std::string_view bytes) : bytes_(bytes) {}
  Result<size_t> Read(char* out, size_t capacity) override;

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// Plain text, or gzip/zlib inflated on the fly (told by the first bytes, not
// the file name: S3 objects may come with any name). Concatenated gzip
// members are read one after the other, as `gzip -d` does.
class Decompressor {
 public:
  explicit Decompressor(ByteSource* in, size_t chunk_bytes = 256 * 1024);
  ~Decompressor();
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;

  // Up to `capacity` decompressed bytes; 0 at the end. A corrupt or
  // truncated stream is kParse with the compressed offset, returned after
  // every byte that could be decoded before it.
  Result<size_t> Read(char* out, size_t capacity);
  bool compressed() const { return mode_ != Mode::kPlain; }
  uint64_t compressed_bytes() const { return consumed_; }  // input bytes consumed so far

 private:
  enum class Mode { kUnknown, kPlain, kInflate };
  Result<size_t> FillInput();

  ByteSource* in_;
  Mode mode_ = Mode::kUnknown;
  std::string input_;
  size_t input_pos_ = 0, input_end_ = 0;
  uint64_t consumed_ = 0;  // compressed offset of input_[input_pos_]
  bool input_eof_ = false;
  bool stream_ended_ = false;  // the last inflate stream finished cleanly
  bool failed_ = false;
  Error pending_;  // reported on the call after the bytes decoded before it
  bool has_pending_ = false;
  struct Zlib;
  std::unique_ptr<Zlib> z_;
};

struct ReaderLimits {
  size_t chunk_bytes = 256 * 1024;
  // A record longer than this is skipped (and reported) without being held.
  size_t max_record_bytes = size_t{16} << 20;
  // Decompressed bytes read from one file at most; the rest is reported and
  // skipped (a gzip bomb cannot run forever).
  uint64_t max_file_bytes = uint64_t{1} << 30;
};

// One record's text: a JSON object as it appears in the file, from '{' to
// its matching '}'. `text` is valid until the next callback returns.
struct RawRecord {
  std::string_view text;
  uint64_t offset = 0;  // decompressed byte offset of the '{'
  size_t index = 0;     // position in the Records array
};

// Something wrong in a file: at a decompressed offset (or, with
// `compressed`, a compressed one), and why. A `fatal` problem ends the file:
// records before it were delivered, nothing after it is read.
struct ReadProblem {
  uint64_t offset = 0;
  bool compressed = false;
  bool fatal = false;
  std::string why;
};

struct ReadStats {
  uint64_t compressed_bytes = 0;  // bytes read from the source
  uint64_t bytes = 0;             // decompressed bytes scanned
  uint64_t records = 0;           // records delivered
  uint64_t bad_records = 0;       // elements skipped: not objects, too large
  bool complete = false;          // the document ended properly
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void OnRecord(const RawRecord& record) = 0;
  virtual void OnProblem(const ReadProblem& problem) = 0;
};

// Reads one CloudTrail log document from `in`, calling the sink for each
// record of its `Records` array and for each problem: elements that are not
// objects or are too large (skipped, reading goes on); bad compressed data,
// truncated or malformed JSON, a document without a `Records` array, a file
// over the size limit (fatal: the rest of the file is not read). Other
// top-level members are skipped. A leading UTF-8 byte order mark is allowed.
ReadStats ReadCloudTrailLog(ByteSource& in, const ReaderLimits& limits, RecordSink& sink);

// The same with callbacks.
ReadStats ReadCloudTrailLog(ByteSource& in, const ReaderLimits& limits,
                            const std::function<void(const RawRecord&)>& on_record,
                            const std::function<void(const ReadProblem&)>& on_problem);

}  // namespace cloudaudit::threats
