// Replays fuzz inputs through a harness without libFuzzer, so that seeds and
// saved crash inputs (fuzz/regressions/<harness>/) run in the ordinary test
// suite with any compiler (DuckDB's test/ossfuzz/cases, in spirit).
//
//   <harness>_replay PATH...   each PATH a file, or a directory read
//                              recursively (files in sorted order)
//
// A missing PATH is skipped with a note (a harness may have no regressions
// yet); no input at all is an error, so a mistyped path cannot pass silently.
// A harness signals a bug by crashing or aborting, which fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.') found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      inputs.insert(inputs.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(arg, ec)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "note: %s does not exist; skipped\n", argv[i]);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR... (found no input files)\n", argv[0]);
    return 2;
  }
  for (const auto& path : inputs) {
    std::string data;
    if (!ReadFile(path, &data)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    // Print before running: if the harness crashes, the last line names the input.
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), data.size());
    // A fresh copy of exactly `size` bytes, so ASan sees reads past the end.
    std::vector<uint8_t> bytes(data.begin(), data.end());
    LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  }
  std::fprintf(stderr, "%zu inputs replayed without failure\n", inputs.size());
  return 0;
}
