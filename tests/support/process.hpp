// Runs the built hubbatch binary as a user would: arguments, extra
// environment, stdin from a file, stdout and stderr captured to files.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace hubbatch::test {

struct process_spec {
  std::vector<std::string> args;                            // args[0] is the program path
  std::vector<std::pair<std::string, std::string>> env;     // added to (or replacing in) the environment
  std::vector<std::string> unset_env;                       // removed from the environment
  std::string stdin_path = "/dev/null";
  std::string stdout_path;                                  // "" = /dev/null
  std::string stderr_path;                                  // "" = /dev/null
};

class process {
 public:
  explicit process(const process_spec& spec);  // starts it; throws std::runtime_error on failure
  ~process();                                  // kills (SIGKILL) and reaps if still running
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  void signal(int sig);
  // Waits for the exit; returns the exit code, or 128+signal when killed by
  // one; -1 if it is still running after `timeout` (it is then killed).
  int wait(std::chrono::milliseconds timeout = std::chrono::minutes(5));
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

// Runs to completion; returns the exit code (see process::wait).
int run(const process_spec& spec, std::chrono::milliseconds timeout = std::chrono::minutes(5));

std::string slurp(const std::string& path);

}  // namespace hubbatch::test
