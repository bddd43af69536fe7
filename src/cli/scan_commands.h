// The everyday commands: `scan` (collect + evaluate + report in one),
// `report` (any format of a stored scan), `diff` (changes between two scans
// of an account) and `scans` (the store's history).
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace cloudaudit::cli {

class ScanCommands {
 public:
  explicit ScanCommands(CLI::App& app);  // registers the subcommands
  ~ScanCommands();
  // Runs the chosen command; nullopt when none of these was chosen.
  std::optional<int> Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace cloudaudit::cli
