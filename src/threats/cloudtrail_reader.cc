#include "threats/cloudtrail_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace cloudaudit::threats {

// --- Byte sources -----------------------------------------------------------

Result<std::unique_ptr<FileByteSource>> FileByteSource::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    return MakeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     fmt::format("cannot open {}: {}", path, std::strerror(err)));
  }
  return std::unique_ptr<FileByteSource>(new FileByteSource(f, path));
}

FileByteSource::~FileByteSource() { std::fclose(file_); }

Result<size_t> FileByteSource::Read(char* out, size_t capacity) {
  size_t n = std::fread(out, 1, capacity, file_);
  if (n == 0 && std::ferror(file_)) return MakeError(ErrorCode::kIo, fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
  return n;
}

Result<size_t> MemoryByteSource::Read(char* out, size_t capacity) {
  size_t n = std::min(capacity, bytes_.size() - pos_);
  std::memcpy(out, bytes_.data() + pos_, n);
  pos_ += n;
  return n;
}

// --- Decompression ----------------------------------------------------------

struct Decompressor::Zlib {
  z_stream s{};
  bool initialized = false;
  ~Zlib() {
    if (initialized) inflateEnd(&s);
  }
};

namespace {

bool IsGzipMagic(unsigned char b0, unsigned char b1) { return b0 == 0x1f && b1 == 0x8b; }

// RFC 1950 header: deflate method, window <= 32K, check bits.
bool IsZlibHeader(unsigned char b0, unsigned char b1) {
  return (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
}

}  // namespace

Decompressor::Decompressor(ByteSource* in, size_t chunk_bytes) : in_(in), input_(std::max<size_t>(chunk_bytes, 4096), '\0') {}

Decompressor::~Decompressor() = default;

Result<size_t> Decompressor::FillInput() {
  if (input_pos_ > 0 && input_pos_ < input_end_) std::memmove(input_.data(), input_.data() + input_pos_, input_end_ - input_pos_);
  input_end_ -= input_pos_;
  input_pos_ = 0;
  if (input_eof_ || input_end_ == input_.size()) return size_t{0};
  CA_TRY(size_t n, in_->Read(input_.data() + input_end_, input_.size() - input_end_));
  if (n == 0) input_eof_ = true;
  input_end_ += n;
  return n;
}

Result<size_t> Decompressor::Read(char* out, size_t capacity) {
  if (has_pending_ || failed_) {
    has_pending_ = false;
    failed_ = true;
    return Fail(pending_);
  }
  if (capacity == 0) return size_t{0};
  if (mode_ == Mode::kUnknown) {
    while (input_end_ < 2 && !input_eof_) {
      auto n = FillInput();
      if (!n) {
        failed_ = true;
        pending_ = n.error();
        return Fail(pending_);
      }
    }
    auto b = [&](size_t i) { return static_cast<unsigned char>(input_[i]); };
    bool inflate = input_end_ >= 2 && (IsGzipMagic(b(0), b(1)) || IsZlibHeader(b(0), b(1)));
    mode_ = inflate ? Mode::kInflate : Mode::kPlain;
    if (inflate) {
      z_ = std::make_unique<Zlib>();
      // 15 + 32: a 32K window, gzip or zlib header detected automatically.
      if (inflateInit2(&z_->s, 15 + 32) != Z_OK) {
        failed_ = true;
        pending_.code = ErrorCode::kInternal;
        pending_.message = "zlib could not be initialized";
        return Fail(pending_);
      }
      z_->initialized = true;
    }
  }
  if (mode_ == Mode::kPlain) {
    if (input_pos_ < input_end_) {
      size_t n = std::min(capacity, input_end_ - input_pos_);
      std::memcpy(out, input_.data() + input_pos_, n);
      input_pos_ += n;
      consumed_ += n;
      return n;
    }
    if (input_eof_) return size_t{0};
    auto n = in_->Read(out, capacity);
    if (!n) {
      failed_ = true;
      pending_ = n.error();
      return Fail(pending_);
    }
    consumed_ += *n;
    return *n;
  }

  size_t produced = 0;
  auto fail = [&](std::string message) -> Result<size_t> {
    Error e;
    e.code = ErrorCode::kParse;
    e.message = std::move(message);
    pending_ = std::move(e);
    if (produced > 0) {
      has_pending_ = true;
      return produced;
    }
    failed_ = true;
    return Fail(pending_);
  };
  z_stream& s = z_->s;
  while (produced < capacity) {
    if (input_pos_ == input_end_ && !input_eof_) {
      auto n = FillInput();
      if (!n) return fail(n.error().message);
    }
    if (stream_ended_) {
      // Between members: another gzip member follows, or the data ends.
      while (input_end_ - input_pos_ < 2 && !input_eof_) {
        auto n = FillInput();
        if (!n) return fail(n.error().message);
      }
      if (input_pos_ == input_end_) return produced;  // clean end
      auto b = [&](size_t i) { return static_cast<unsigned char>(input_[input_pos_ + i]); };
      if (input_end_ - input_pos_ < 2 || !(IsGzipMagic(b(0), b(1)) || IsZlibHeader(b(0), b(1))))
        return fail(fmt::format("unexpected data after the end of the compressed stream at compressed offset {}", consumed_));
      inflateReset(&s);
      stream_ended_ = false;
    }
    s.next_in = reinterpret_cast<Bytef*>(input_.data() + input_pos_);
    s.avail_in = static_cast<uInt>(input_end_ - input_pos_);
    s.next_out = reinterpret_cast<Bytef*>(out + produced);
    s.avail_out = static_cast<uInt>(std::min<size_t>(capacity - produced, 1u << 30));
    const uInt in_before = s.avail_in, out_before = s.avail_out;
    int rc = inflate(&s, Z_NO_FLUSH);
    const size_t eaten = in_before - s.avail_in, written = out_before - s.avail_out;
    input_pos_ += eaten;
    consumed_ += eaten;
    produced += written;
    if (rc == Z_STREAM_END) {
      stream_ended_ = true;
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      if (input_pos_ == input_end_ && input_eof_)
        return fail(fmt::format("truncated compressed data: the input ends at compressed offset {} inside a compressed stream", consumed_));
      continue;  // needs more input or more output space: loop provides both
    }
    const char* why = s.msg != nullptr ? s.msg : (rc == Z_NEED_DICT ? "needs a preset dictionary" : "inflate failed");
    return fail(fmt::format("corrupt compressed data near compressed offset {}: {}", consumed_, why));
  }
  return produced;
}

// --- Record splitting -------------------------------------------------------

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
// Nesting deeper than this is not a CloudTrail record (simdjson itself stops
// at 1024); the limit keeps the bracket stack small on hostile input.
constexpr size_t kMaxDepth = 4096;

class Splitter {
 public:
  Splitter(ByteSource& in, const ReaderLimits& limits, RecordSink& sink, ReadStats& stats)
      : dec_(&in, limits.chunk_bytes), limits_(limits), sink_(sink), stats_(stats) {
    chunk_ = std::max<size_t>(limits.chunk_bytes, 4096);
  }

  void Run() {
    Document();
    stats_.compressed_bytes = dec_.compressed_bytes();
  }

 private:
  // Buffer: bytes [0, end_) of the decompressed stream starting at offset
  // base_; pos_ is the next byte to scan; keep_ the first byte a refill must
  // keep (the start of the record being captured), kNone when none.
  void Grow(size_t need) {
    size_t cap = std::max(need, cap_ * 2);
    auto fresh = std::unique_ptr<char[]>(new char[cap + kRecordPadding]());
    if (end_ > 0) std::memcpy(fresh.get(), buf_.get(), end_);
    buf_ = std::move(fresh);
    cap_ = cap;
  }

  // More bytes; false at the end of the data or after a fatal problem.
  bool Fill() {
    if (eof_ || failed_) return false;
    size_t keep_from = keep_ != kNone ? keep_ : pos_;
    if (keep_from > 0) {
      std::memmove(buf_.get(), buf_.get() + keep_from, end_ - keep_from);
      end_ -= keep_from;
      pos_ -= keep_from;
      base_ += keep_from;
      if (keep_ != kNone) keep_ = 0;
    }
    if (cap_ - end_ < chunk_) Grow(end_ + chunk_);
    const uint64_t total = base_ + end_;
    if (total > limits_.max_file_bytes) {
      Fatal(total, false,
            fmt::format("the file is larger than {} bytes decompressed; the rest is not read", limits_.max_file_bytes));
      return false;
    }
    // One byte past the limit tells "exactly at the limit" from "over it".
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_, limits_.max_file_bytes - total + 1));
    auto n = dec_.Read(buf_.get() + end_, want);
    if (!n) {
      Fatal(dec_.compressed_bytes(), true, n.error().message);
      return false;
    }
    if (*n == 0) {
      eof_ = true;
      return false;
    }
    end_ += *n;
    stats_.bytes = base_ + end_;
    return true;
  }

  uint64_t Offset() const { return base_ + pos_; }

  // The next byte, or -1 at the end (or after a fatal problem).
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }

  int SkipSpace() {
    while (true) {
      int c = Peek();
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c;
      ++pos_;
    }
  }

  void Fatal(uint64_t offset, bool compressed, std::string why) {
    if (failed_) return;
    failed_ = true;
    sink_.OnProblem(ReadProblem{offset, compressed, true, std::move(why)});
  }

  // A fatal problem at the current offset, unless the data ended (a
  // truncated document) or a problem was already reported.
  void Unexpected(const std::string& expected) {
    if (failed_) return;
    int c = Peek();
    if (c < 0) {
      if (!failed_) Fatal(Offset(), false, fmt::format("truncated JSON: the data ends where {} was expected", expected));
      return;
    }
    Fatal(Offset(), false, fmt::format("malformed JSON: expected {}, found {}", expected, Describe(c)));
  }

  static std::string Describe(int c) {
    if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", c);
  }

  // Scans a string from its opening quote; `key` receives its first bytes
  // (raw, escapes kept) when not null. False when the data ends first.
  bool ScanString(std::string* key) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ == end_ && !Fill()) return false;
      char c = buf_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (pos_ == end_ && !Fill()) return false;
        if (key != nullptr && key->size() < 64) key->push_back(c);
        c = buf_[pos_++];
      }
      if (key != nullptr && key->size() < 64) key->push_back(c);
    }
  }

  // Scans an object or array from its opening bracket to the matching one.
  // With `capture`, the text is kept (from keep_) and `*oversized` set when
  // it grows beyond the record limit (then it is dropped as it goes).
  // Returns false on truncation or mismatched brackets (fatal problem).
  bool ScanNested(bool capture, bool* oversized) {
    stack_.clear();
    bool in_string = false;
    while (true) {
      if (pos_ == end_) {
        if (capture && !*oversized && keep_ != kNone && end_ - keep_ > limits_.max_record_bytes) {
          *oversized = true;
          keep_ = kNone;  // stop holding it
        }
        if (!Fill()) {
          if (!failed_) Fatal(Offset(), false, "truncated JSON: the data ends inside a value");
          return false;
        }
      }
      const char* p = buf_.get() + pos_;
      const char* e = buf_.get() + end_;
      while (p < e) {
        if (in_string) {
          // memchr is vectorized: jump to the closing quote, unless a
          // backslash comes first (then skip the escaped byte).
          const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(e - p)));
          const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>((q != nullptr ? q : e) - p)));
          if (bs != nullptr) {
            p = bs;
            if (p + 1 == e) break;  // the escaped byte is in the next chunk
            p += 2;
            continue;
          }
          if (q == nullptr) {
            p = e;
            break;
          }
          in_string = false;
          p = q + 1;
          continue;
        }
        char c = *p++;
        switch (c) {
          case '"': in_string = true; break;
          case '{':
          case '[':
            if (stack_.size() >= kMaxDepth) {
              pos_ = static_cast<size_t>(p - buf_.get()) - 1;
              Fatal(Offset(), false, fmt::format("nesting deeper than {} levels", kMaxDepth));
              return false;
            }
            stack_.push_back(c);
            break;
          case '}':
          case ']':
            if (stack_.empty() || stack_.back() != (c == '}' ? '{' : '[')) {
              pos_ = static_cast<size_t>(p - buf_.get()) - 1;
              Fatal(Offset(), false, fmt::format("malformed JSON: '{}' does not close '{}'", c, stack_.empty() ? ' ' : stack_.back()));
              return false;
            }
            stack_.pop_back();
            if (stack_.empty()) {
              pos_ = static_cast<size_t>(p - buf_.get());
              return true;
            }
            break;
          default: break;
        }
      }
      pos_ = static_cast<size_t>(p - buf_.get());
      if (pos_ < end_) {
        // A backslash at the very end of the buffer: keep it for the next
        // round so the escape is seen whole.
        if (pos_ + 1 == end_ && keep_ == kNone) {
          keep_ = pos_;
          bool ok = Fill();
          keep_ = kNone;
          if (!ok) {
            if (!failed_) Fatal(Offset(), false, "truncated JSON: the data ends inside a string");
            return false;
          }
        } else if (!Fill()) {
          if (!failed_) Fatal(Offset(), false, "truncated JSON: the data ends inside a string");
          return false;
        }
      }
    }
  }

  // Skips a value that is not a record; returns what it was ("a string",
  // "a number", ...) or "" after a fatal problem.
  std::string SkipValue() {
    int c = Peek();
    if (c == '"') {
      if (!ScanString(nullptr)) {
        Fatal(Offset(), false, "truncated JSON: the data ends inside a string");
        return "";
      }
      return "a string";
    }
    if (c == '{' || c == '[') {
      bool oversized = false;
      if (!ScanNested(false, &oversized)) return "";
      return c == '{' ? "an object" : "an array";
    }
    std::string token;
    while (true) {
      c = Peek();
      if (c < 0 || !(std::isalnum(c) || c == '-' || c == '+' || c == '.')) break;
      if (token.size() < 32) token.push_back(static_cast<char>(c));
      ++pos_;
    }
    if (failed_) return "";  // the data broke off inside the token
    if (token.empty()) {
      Unexpected("a value");
      return "";
    }
    if (token == "true" || token == "false") return "a boolean";
    if (token == "null") return "null";
    if (std::isdigit(static_cast<unsigned char>(token[0])) || token[0] == '-') return "a number";
    return "`" + token + "`";
  }

  void Records() {
    ++pos_;  // '['
    int c = SkipSpace();
    if (c == ']') {
      ++pos_;
      return;
    }
    for (size_t index = 0;; ++index) {
      c = SkipSpace();
      const uint64_t offset = Offset();
      if (c == '{') {
        keep_ = pos_;
        bool oversized = false;
        if (!ScanNested(true, &oversized)) {
          keep_ = kNone;
          return;
        }
        if (!oversized && pos_ - keep_ > limits_.max_record_bytes) oversized = true;  // closed within one buffer
        if (oversized) {
          ++stats_.bad_records;
          sink_.OnProblem(ReadProblem{offset, false, false,
                                      fmt::format("Records[{}] is larger than {} bytes ({} bytes); skipped", index,
                                                  limits_.max_record_bytes, Offset() - offset)});
        } else {
          ++stats_.records;
          sink_.OnRecord(RawRecord{std::string_view(buf_.get() + keep_, pos_ - keep_), offset, index});
        }
        keep_ = kNone;
      } else if (c < 0) {
        Unexpected(fmt::format("Records[{}]", index));
        return;
      } else {
        std::string what = SkipValue();
        if (what.empty()) return;
        ++stats_.bad_records;
        sink_.OnProblem(ReadProblem{offset, false, false, fmt::format("Records[{}] is {}, not an object; skipped", index, what)});
      }
      c = SkipSpace();
      if (c == ',') {
        ++pos_;
        continue;
      }
      if (c == ']') {
        ++pos_;
        return;
      }
      Unexpected(fmt::format("',' or ']' after Records[{}]", index));
      return;
    }
  }

  void Document() {
    // A UTF-8 byte order mark is tolerated (some tools write one).
    if (Peek() == 0xEF) {
      while (end_ - pos_ < 3 && Fill()) {
      }
      if (end_ - pos_ >= 3 && std::memcmp(buf_.get() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
    }
    int c = SkipSpace();
    if (c < 0) {
      if (!failed_) Fatal(0, false, "empty file: no Records array");
      return;
    }
    if (c != '{') {
      Fatal(Offset(), false, fmt::format("not a CloudTrail log: expected a JSON object with a Records array, found {}", Describe(c)));
      return;
    }
    ++pos_;
    bool found = false;
    c = SkipSpace();
    if (c == '}') {
      ++pos_;
    } else {
      while (true) {
        c = SkipSpace();
        if (c != '"') {
          Unexpected("a member name");
          return;
        }
        const uint64_t key_offset = Offset();
        std::string key;
        if (!ScanString(&key)) {
          Unexpected("the end of a member name");
          return;
        }
        if (SkipSpace() != ':') {
          Unexpected("':'");
          return;
        }
        ++pos_;
        c = SkipSpace();
        if (key == "Records") {
          if (c != '[') {
            if (c < 0) {
              Unexpected("the Records array");
            } else {
              Fatal(key_offset, false, "`Records` is not an array");
            }
            return;
          }
          found = true;
          Records();
          if (failed_) return;
        } else if (SkipValue().empty()) {
          return;
        }
        c = SkipSpace();
        if (c == ',') {
          ++pos_;
          continue;
        }
        if (c == '}') {
          ++pos_;
          break;
        }
        Unexpected("',' or '}'");
        return;
      }
    }
    if (!found) {
      Fatal(0, false, "no Records array: not a CloudTrail log file");
      return;
    }
    c = SkipSpace();
    if (c >= 0) {
      sink_.OnProblem(ReadProblem{Offset(), false, false, "data after the end of the JSON document; ignored"});
      return;
    }
    if (!failed_) stats_.complete = true;
  }

  Decompressor dec_;
  const ReaderLimits& limits_;
  RecordSink& sink_;
  ReadStats& stats_;
  size_t chunk_ = 0;
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, end_ = 0, pos_ = 0;
  uint64_t base_ = 0;
  size_t keep_ = kNone;
  bool eof_ = false, failed_ = false;
  std::vector<char> stack_;
};

class CallbackSink : public RecordSink {
 public:
  CallbackSink(const std::function<void(const RawRecord&)>& on_record, const std::function<void(const ReadProblem&)>& on_problem)
      : on_record_(on_record), on_problem_(on_problem) {}
  void OnRecord(const RawRecord& r) override {
    if (on_record_) on_record_(r);
  }
  void OnProblem(const ReadProblem& p) override {
    if (on_problem_) on_problem_(p);
  }

 private:
  const std::function<void(const RawRecord&)>& on_record_;
  const std::function<void(const ReadProblem&)>& on_problem_;
};

}  // namespace

ReadStats ReadCloudTrailLog(ByteSource& in, const ReaderLimits& limits, RecordSink& sink) {
  ReadStats stats;
  Splitter splitter(in, limits, sink, stats);
  splitter.Run();
  return stats;
}

ReadStats ReadCloudTrailLog(ByteSource& in, const ReaderLimits& limits, const std::function<void(const RawRecord&)>& on_record,
                            const std::function<void(const ReadProblem&)>& on_problem) {
  CallbackSink sink(on_record, on_problem);
  return ReadCloudTrailLog(in, limits, sink);
}

}  // namespace cloudaudit::threats
