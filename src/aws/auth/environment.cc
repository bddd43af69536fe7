#include "aws/auth/environment.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

extern char** environ;

namespace cloudaudit::aws {

namespace {

constexpr size_t kMaxFileBytes = size_t{64} << 20;

bool IsAsciiWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// getpw*_r need a caller buffer whose size sysconf only suggests.
std::optional<std::string> PasswdHome(const char* user_name) {
  long suggested = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(suggested > 0 ? static_cast<size_t>(suggested) : 16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  for (int tries = 0; tries < 4; ++tries) {
    int rc = user_name == nullptr ? getpwuid_r(getuid(), &pw, buf.data(), buf.size(), &found)
                                  : getpwnam_r(user_name, &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (rc != 0 || found == nullptr || pw.pw_dir == nullptr) return std::nullopt;
    return std::string(pw.pw_dir);
  }
  return std::nullopt;
}

class RealFs final : public FileSystem {
 public:
  Result<std::string> ReadFile(const std::string& path) const override {
    if (path.empty() || path.find('\0') != std::string::npos) {
      return MakeError(ErrorCode::kNotFound, fmt::format("file \"{}\" does not exist", path));
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return MakeError(ErrorCode::kNotFound, fmt::format("file \"{}\" does not exist", path));
      }
      return MakeError(ErrorCode::kIo, fmt::format("cannot open \"{}\": {}", path, std::strerror(err)));
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return MakeError(ErrorCode::kNotFound, fmt::format("\"{}\" is not a regular file", path));
    }
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return MakeError(ErrorCode::kIo, fmt::format("cannot read \"{}\": {}", path, std::strerror(err)));
      }
      if (n == 0) break;
      if (out.size() + static_cast<size_t>(n) > kMaxFileBytes) {
        ::close(fd);
        return MakeError(ErrorCode::kIo, fmt::format("\"{}\" is larger than {} bytes", path, kMaxFileBytes));
      }
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }
};

}  // namespace

Environment Environment::FromProcess() {
  std::map<std::string, std::string> vars;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    std::string_view entry(*p);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return Environment(std::move(vars));
}

std::optional<std::string> Environment::Get(std::string_view name) const {
  auto it = vars_.find(std::string(name));
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<const FileSystem> RealFileSystem() {
  static const std::shared_ptr<const FileSystem> fs = std::make_shared<RealFs>();
  return fs;
}

Result<std::string> MemoryFileSystem::ReadFile(const std::string& path) const {
  if (unreadable_.count(path) != 0) {
    return MakeError(ErrorCode::kIo, fmt::format("cannot open \"{}\": Permission denied", path));
  }
  auto it = files_.find(path);
  if (it == files_.end()) return MakeError(ErrorCode::kNotFound, fmt::format("file \"{}\" does not exist", path));
  return it->second;
}

std::string HomeDir(const Environment& env) {
  if (auto home = env.Get("HOME")) return *home;
  return PasswdHome(nullptr).value_or("");
}

std::string ExpandUser(std::string_view path, const Environment& env) {
  if (path.empty() || path[0] != '~') return std::string(path);
  size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos) slash = path.size();
  std::string home;
  if (slash == 1) {
    if (auto value = env.Get("HOME")) {
      home = *value;
    } else {
      auto pw = PasswdHome(nullptr);
      if (!pw) return std::string(path);
      home = *pw;
    }
  } else {
    std::string user(path.substr(1, slash - 1));
    if (user.find('\0') != std::string::npos) return std::string(path);
    auto pw = PasswdHome(user.c_str());
    if (!pw) return std::string(path);
    home = *pw;
  }
  while (!home.empty() && home.back() == '/') home.pop_back();
  std::string out = home + std::string(path.substr(slash));
  return out.empty() ? std::string("/") : out;
}

std::string ExpandVars(std::string_view path, const Environment& env) {
  std::string out;
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] != '$' || i + 1 >= path.size()) {
      out += path[i++];
      continue;
    }
    size_t name_begin = 0, name_end = 0, token_end = 0;
    if (path[i + 1] == '{') {
      size_t close = path.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += path[i++];
        continue;
      }
      name_begin = i + 2;
      name_end = close;
      token_end = close + 1;
    } else {
      size_t j = i + 1;
      while (j < path.size() && IsAsciiWordChar(path[j])) ++j;
      if (j == i + 1) {
        out += path[i++];
        continue;
      }
      name_begin = i + 1;
      name_end = j;
      token_end = j;
    }
    auto value = env.Get(path.substr(name_begin, name_end - name_begin));
    if (value) {
      out += *value;
    } else {
      out.append(path.substr(i, token_end - i));
    }
    i = token_end;
  }
  return out;
}

}  // namespace cloudaudit::aws
