// The rule engine's commands: `rules list|show|test`, `evaluate`, `compliance`.
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace cloudaudit::cli {

class RuleCommands {
 public:
  explicit RuleCommands(CLI::App& app);  // registers the subcommands
  ~RuleCommands();
  // Runs the chosen command; nullopt when none of these was chosen.
  std::optional<int> Run();

 private:
  struct Flags;
  std::unique_ptr<Flags> flags_;
};

}  // namespace cloudaudit::cli
