// The two pieces of the outside world that configuration and credential
// loading read: environment variables and files. Both are injectable so tests
// (and the fuzzer) never touch the real HOME, and so one process can resolve
// several independent configurations.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cloudaudit::aws {

// A snapshot of environment variables. As in botocore, a variable that is set
// to the empty string counts as set (Get returns ""), which matters for names
// like AWS_PROFILE; callers that treat "" as unset say so.
class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  // Copies the process environment (environ) once; later setenv calls are not seen.
  static Environment FromProcess();

  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return vars_.find(std::string(name)) != vars_.end(); }
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  void Unset(std::string_view name) { vars_.erase(std::string(name)); }
  const std::map<std::string, std::string>& vars() const { return vars_; }

 private:
  std::map<std::string, std::string> vars_;
};

// Read-only file access. Implementations must be thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Reads a whole regular file. kNotFound when the path does not exist or is
  // not a regular file (botocore's os.path.isfile check), kIo for anything
  // else (permission denied, too large). Messages name the path, never contents.
  virtual Result<std::string> ReadFile(const std::string& path) const = 0;
};

// The real file system. Files larger than 64 MiB are refused (kIo): no AWS
// config, token or cache file is anywhere near that, and a hostile path such
// as /dev/zero must not exhaust memory.
std::shared_ptr<const FileSystem> RealFileSystem();

// An in-memory file system for tests: path -> contents. Paths are compared as
// strings (no normalization). Not thread-safe while being modified.
class MemoryFileSystem final : public FileSystem {
 public:
  void AddFile(std::string path, std::string contents) { files_[std::move(path)] = std::move(contents); }
  // Makes ReadFile fail with kIo (e.g. to simulate permission denied).
  void AddUnreadable(std::string path) { unreadable_[std::move(path)] = true; }
  void RemoveFile(const std::string& path) { files_.erase(path); }
  Result<std::string> ReadFile(const std::string& path) const override;

 private:
  std::map<std::string, std::string> files_;
  std::map<std::string, bool> unreadable_;
};

// The home directory: $HOME, else the password database entry of the current
// user (Python's os.path.expanduser). Empty when neither is available.
std::string HomeDir(const Environment& env);

// Python's os.path.expanduser: "~" and "~/x" use HomeDir(env), "~user/x" the
// password database; anything else (or an unknown user) is returned unchanged.
std::string ExpandUser(std::string_view path, const Environment& env);

// Python's os.path.expandvars: "$NAME" and "${NAME}" are replaced when NAME is
// set in `env`; unknown variables are left as written.
std::string ExpandVars(std::string_view path, const Environment& env);

}  // namespace cloudaudit::aws
