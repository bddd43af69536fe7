// `cloudaudit threats`: hunts threats in CloudTrail records (local files and
// folders, S3 prefixes, LookupEvents) with the Sigma rules; prints alerts
// and optionally stores the run (docs/threat-sources.md).
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace cloudaudit::cli {

class ThreatsCommand {
 public:
  explicit ThreatsCommand(CLI::App& app);  // registers the subcommand
  ~ThreatsCommand();
  // Runs it; nullopt when it was not chosen. Exit codes: 0 no unsuppressed
  // alert, 1 alerts found, 252 usage, 253 bad rules or configuration, 254
  // AWS error (a source that could not be read at all), 255 other.
  std::optional<int> Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace cloudaudit::cli
