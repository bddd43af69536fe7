// Helpers for the threat detection tests: compressing test data and writing
// CloudTrail-shaped records and files.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace cloudaudit::threats::testing {

// One gzip member (window_bits 15 + 16) or a zlib stream (15) of `data`.
inline std::string Compress(std::string_view data, int window_bits = 15 + 16) {
  z_stream s{};
  deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
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
inline std::string Gzip(std::string_view data) { return Compress(data); }

struct Event {
  std::string time = "2024-01-05T10:00:00Z";
  std::string name = "DescribeInstances";
  std::string source = "ec2.amazonaws.com";
  std::string id;  // eventID; empty: none
  std::string identity = R"({"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"})";
  std::string account = "111122223333";
  std::string region = "us-east-1";
  std::string extra;  // more members, with a leading comma
};

inline std::string Record(const Event& e) {
  std::string id = e.id.empty() ? "" : fmt::format(R"("eventID": "{}", )", e.id);
  return fmt::format(
      R"({{"eventVersion": "1.08", "userIdentity": {}, "eventTime": "{}", "eventSource": "{}", "eventName": "{}", )"
      R"("awsRegion": "{}", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15.0", {})"
      R"("eventType": "AwsApiCall", "recipientAccountId": "{}"{}}})",
      e.identity, e.time, e.source, e.name, e.region, id, e.account, e.extra);
}

inline std::string LogFile(const std::vector<std::string>& records) {
  std::string out = "{\"Records\": [";
  for (size_t i = 0; i < records.size(); ++i) out += (i ? ",\n  " : "\n  ") + records[i];
  return out + "\n]}";
}

inline void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh temporary folder, removed at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() / fmt::format("cloudaudit-{}-{}", name, ::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace cloudaudit::threats::testing
