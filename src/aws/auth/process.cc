#include "aws/auth/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace cloudaudit::aws {

namespace {

// Closes a descriptor once, on every path.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  int* out() { return &fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int WaitForChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

}  // namespace

Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv, size_t max_output_bytes) {
  if (argv.empty() || argv[0].empty()) return MakeError(ErrorCode::kIo, "no program to run");
  for (const std::string& arg : argv) {
    if (arg.find('\0') != std::string::npos) return MakeError(ErrorCode::kIo, "a command argument contains a NUL byte");
  }
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorCode::kIo, fmt::format("pipe: {}", std::strerror(errno)));
  }
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the child's stdout/stderr only.
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return MakeError(ErrorCode::kIo, fmt::format("cannot run \"{}\": {}", argv[0], std::strerror(rc)));
  }
  out_write.Close();
  err_write.Close();

  ProcessOutput result;
  struct pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_data, &result.stderr_data};
  bool too_much = false;
  int open_streams = 2;
  char buf[16384];
  while (open_streams > 0 && !too_much) {
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[i].fd = -1;
        --open_streams;
        continue;
      }
      sinks[i]->append(buf, static_cast<size_t>(got));
      if (sinks[i]->size() > max_output_bytes) too_much = true;
    }
  }
  if (too_much) ::kill(pid, SIGKILL);
  int status = WaitForChild(pid);
  if (too_much) {
    return MakeError(ErrorCode::kIo,
                     fmt::format("\"{}\" wrote more than {} bytes and was stopped", argv[0], max_output_bytes));
  }
  if (status < 0) return MakeError(ErrorCode::kIo, fmt::format("waiting for \"{}\" failed", argv[0]));
  if (WIFSIGNALED(status)) {
    result.killed_by_signal = true;
    result.signal = WTERMSIG(status);
  } else {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

Result<std::string> PromptOnTerminal(const std::string& prompt) {
  Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty.get() < 0) {
    return MakeError(ErrorCode::kCredentials,
                     fmt::format("cannot ask for the MFA code: no terminal (/dev/tty: {})", std::strerror(errno)));
  }
  struct termios saved;
  bool have_termios = ::tcgetattr(tty.get(), &saved) == 0;
  if (have_termios) {
    struct termios quiet = saved;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    ::tcsetattr(tty.get(), TCSAFLUSH, &quiet);
  }
  auto restore = [&] {
    if (have_termios) ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
    (void)!::write(tty.get(), "\n", 1);
  };
  if (::write(tty.get(), prompt.data(), prompt.size()) < 0) {
    restore();
    return MakeError(ErrorCode::kCredentials, "cannot write the MFA prompt to the terminal");
  }
  std::string line;
  char c = 0;
  while (line.size() < 4096) {
    ssize_t n = ::read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  restore();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace cloudaudit::aws
