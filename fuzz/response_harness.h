// The body shared by xml_response_fuzzer and json_response_fuzzer: one input
// is parsed as the answer of one operation (picked by the first byte), once
// as a 200 through ParseResponse (+ the S3 key decoding and ResponseMetadata
// the client applies) and once as an error status through
// ParseErrorResponse. Everything stays in memory.
//
// Input: [selector byte][optional header block, see SplitHeadersAndBody]body
//   operation    = ops[selector % ops.size()]
//   error status = kErrorStatuses[(selector / ops.size()) % 8]
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/model/model.h"
#include "aws/protocol/protocol.h"
#include "fuzz_support.h"

namespace cloudaudit::fuzz {

struct OperationName {
  const char* service;
  const char* operation;
};

struct LoadedOperation {
  std::shared_ptr<const aws::ServiceModel> model;
  const aws::Operation* op = nullptr;
};

// Loads the embedded models once; a missing model or operation, or one of an
// unexpected protocol, is a mistake in the harness table, not an input.
inline std::vector<LoadedOperation> LoadOperations(std::initializer_list<OperationName> names,
                                                   std::initializer_list<std::string_view> protocols) {
  std::vector<LoadedOperation> out;
  for (const auto& name : names) {
    auto model = aws::LoadServiceModel(name.service);
    if (!model) {
      std::fprintf(stderr, "fuzz harness: cannot load model %s: %s\n", name.service,
                   model.error().ToString().c_str());
      std::abort();
    }
    const aws::Operation* op = (*model)->FindOperation(name.operation);
    if (op == nullptr) {
      std::fprintf(stderr, "fuzz harness: no operation %s in %s\n", name.operation, name.service);
      std::abort();
    }
    bool protocol_ok = false;
    for (std::string_view p : protocols) protocol_ok = protocol_ok || (*model)->metadata().protocol == p;
    if (!protocol_ok) {
      std::fprintf(stderr, "fuzz harness: %s has protocol %s\n", name.service, (*model)->metadata().protocol.c_str());
      std::abort();
    }
    out.push_back(LoadedOperation{*model, op});
  }
  return out;
}

inline constexpr int kErrorStatuses[] = {400, 403, 404, 409, 429, 500, 503, 301};

// Python's datetime.isoformat(), which is all the AWS CLI can print for a
// timestamp: YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM[:SS]] with a year in
// 1..9999 (datetime cannot represent others; botocore fails instead).
inline bool IsPythonIsoformat(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > s.size()) return false;
    for (size_t i = pos; i < pos + n; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return true;
  };
  if (s.size() < 19 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
      s[10] != 'T' || !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2)) {
    return false;
  }
  if (s.substr(0, 4) == "0000") return false;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    if (!digits(pos + 1, 6)) return false;
    pos += 7;
  }
  if (pos == s.size()) return true;
  if ((s[pos] != '+' && s[pos] != '-') || !digits(pos + 1, 2) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !digits(pos + 4, 2)) {
    return false;
  }
  pos += 6;
  if (pos == s.size()) return true;
  return s[pos] == ':' && digits(pos + 1, 2) && pos + 3 == s.size();
}

// Walks the output with its shape and checks every rendered timestamp.
inline void CheckTimestamps(const aws::Shape& shape, const Json& value, int depth) {
  if (depth > 64 || shape.document) return;
  switch (shape.type) {
    case aws::ShapeType::kStructure:
      if (!value.is_object()) return;
      for (const auto& m : shape.members) {
        auto it = value.find(m.name);
        if (it != value.end()) CheckTimestamps(*m.ref.shape, *it, depth + 1);
      }
      return;
    case aws::ShapeType::kList:
      if (!value.is_array()) return;
      for (const auto& item : value) CheckTimestamps(*shape.member.shape, item, depth + 1);
      return;
    case aws::ShapeType::kMap:
      if (!value.is_object()) return;
      for (const auto& item : value) CheckTimestamps(*shape.value.shape, item, depth + 1);
      return;
    case aws::ShapeType::kTimestamp:
      if (value.is_string()) {
        if (!IsPythonIsoformat(value.get_ref<const std::string&>()))
          std::fprintf(stderr, "timestamp rendered as \"%s\"\n", value.get_ref<const std::string&>().c_str());
        FUZZ_CHECK(IsPythonIsoformat(value.get_ref<const std::string&>()),
                   "timestamps render as Python isoformat with a year in 1..9999");
      }
      return;
    default: return;
  }
}

// Invariant families a fuzzing run may skip while a reported bug is unfixed
// (CLOUDAUDIT_FUZZ_IGNORE=tag,tag; fuzz/run_fuzzers.sh). The regression
// replay in the test suite never sets it.
inline bool IgnoredInvariant(std::string_view tag) {
  static const std::string ignored = [] {
    const char* env = std::getenv("CLOUDAUDIT_FUZZ_IGNORE");
    return env == nullptr ? std::string() : "," + std::string(env) + ",";
  }();
  return ignored.find("," + std::string(tag) + ",") != std::string::npos;
}

inline int RunResponseInput(const std::vector<LoadedOperation>& ops, const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t selector = data[0];
  const LoadedOperation& target = ops[selector % ops.size()];
  const int error_status = kErrorStatuses[(selector / ops.size()) % std::size(kErrorStatuses)];
  const aws::ServiceModel& model = *target.model;
  const aws::Operation& op = *target.op;

  aws::HttpResponse response;
  response.status = 200;
  SplitHeadersAndBody(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), &response.headers,
                      &response.body);

  auto parsed = aws::ParseResponse(model, op, response);
  if (parsed) {
    CheckOutputDocument(*parsed);
    if (op.output != nullptr && !IgnoredInvariant("timestamp-range")) CheckTimestamps(*op.output, *parsed, 0);
    aws::DecodeS3ListObjectsKeys(op, *parsed);
    CheckOutputDocument(*parsed);
  } else {
    // protocol.h: "Malformed bodies are kParse errors, never crashes."
    FUZZ_CHECK(parsed.error().code == ErrorCode::kParse, "ParseResponse fails only with kParse");
    FUZZ_CHECK(!parsed.error().message.empty(), "ParseResponse errors say what is wrong");
    (void)parsed.error().ToString();
  }
  if (auto meta = aws::ResponseMetadata(model, response, 0)) {
    CheckOutputDocument(*meta);
  }

  response.status = error_status;
  const Error error = aws::ParseErrorResponse(model, op, response);
  // protocol.h: "Never fails: garbage becomes a generic error naming the HTTP status."
  FUZZ_CHECK(error.code == ErrorCode::kAwsService || error.code == ErrorCode::kNotConfigured,
             "ParseErrorResponse yields kAwsService or kNotConfigured");
  FUZZ_CHECK(error.http_status == error_status, "ParseErrorResponse keeps the HTTP status");
  FUZZ_CHECK(!error.aws_code.empty(), "ParseErrorResponse always names a code");
  FUZZ_CHECK(error.service == model.name() && error.operation == op.name, "ParseErrorResponse names the call");
  (void)error.ToString();
  return 0;
}

}  // namespace cloudaudit::fuzz
