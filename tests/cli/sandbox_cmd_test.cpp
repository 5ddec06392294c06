// Runs the built `hubbatch sandbox` binary as a user would.
#include "io/files.hpp"
#include "support/https_client.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

extern char** environ;

namespace {

// A child process with its stdout on a pipe.
struct child {
  pid_t pid = -1;
  int out_fd = -1;

  explicit child(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out_fd = fds[0];
  }
  ~child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    if (out_fd >= 0) close(out_fd);
  }

  // One stdout line, or "" after `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{out_fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char c;
      if (read(out_fd, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  // Exit status after waiting up to `timeout`; -1 if still running.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(10'000);
    }
    return -1;
  }
};

int run_status(std::vector<std::string> args) {
  child c(std::move(args));
  return c.wait_exit(std::chrono::seconds(20));
}

std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

TEST(sandbox_cli, serves_prints_url_answers_curl_and_stops_on_sigterm) {
  const std::string ca = ::testing::TempDir() + std::to_string(::getpid()) + "-sandbox_cli_ca.pem";
  const std::string seed = ::testing::TempDir() + std::to_string(::getpid()) + "-sandbox_cli_seed.csv";
  {
    std::ofstream f(seed);
    f << "from_id,to_id\n101,9001\n101,9002\n";
  }
  std::remove(ca.c_str());
  child c({HUBBATCH_BINARY, "sandbox", "--listen", "127.0.0.1:0", "--write-ca", ca, "--seed", seed, "--seed-types",
           "contacts:companies", "--token", "T"});
  auto line = c.read_line(std::chrono::seconds(20));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(listening on https://127\.0\.0\.1:(\d+))"))) << line;
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));
  ASSERT_NE(port, 0);

  // The client verifies the server against the written CA.
  hubbatch::test::https_client client("127.0.0.1", port, hubbatch::io::read_file(ca));
  auto r = client.post("/crm/v4/associations/contacts/companies/batch/archive",
                       R"({"inputs":[{"from":{"id":"101"},"to":[{"id":"9001"}]}]})", "T");
  EXPECT_EQ(r.status, 204);

  if (access("/usr/bin/curl", X_OK) == 0) {
    const std::string body = ::testing::TempDir() + std::to_string(::getpid()) + "-sandbox_cli_body.json";
    {
      std::ofstream f(body);
      f << R"({"inputs":[{"from":{"id":"101"},"to":[{"id":"9002"}]}]})";
    }
    auto code = capture("curl -s -o /dev/null -w '%{http_code}' --cacert " + ca +
                        " -H 'Authorization: Bearer T' -d @" + body + " https://127.0.0.1:" + std::to_string(port) +
                        "/crm/v4/associations/contacts/companies/batch/archive");
    EXPECT_EQ(code, "204");
    EXPECT_EQ(capture("curl -s --cacert " + ca + " https://127.0.0.1:" + std::to_string(port) +
                      "/_sandbox/pairs?from=contacts\\&to=companies"),
              "");
    std::remove(body.c_str());
  }
  EXPECT_TRUE(client.get("/_sandbox/pairs?from=contacts&to=companies").body.empty());

  kill(c.pid, SIGTERM);
  EXPECT_EQ(c.wait_exit(std::chrono::seconds(10)), 0);
  std::remove(ca.c_str());
  std::remove(seed.c_str());
}

TEST(sandbox_cli, bad_flags_exit_2) {
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--no-such-flag"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--rate", "lots"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--fault-5xx", "2"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--missing", "maybe"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--listen", "nowhere"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--fault-ignore", "1.5"}), 2);
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--read-page-size", "0"}), 2);
  // Issue 15: --max-inputs per operation.
  for (const char* bad : {"update:5", "create:x", "create:5,create:6", "read:2000", "", "5,", "-1", "5,6"})
    EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--max-inputs", bad}), 2) << bad;
  for (const char* bad : {"x", "5/2s", "-1", "5/m", ""})
    EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--capacity", bad}), 2) << bad;
  EXPECT_EQ(run_status({HUBBATCH_BINARY, "sandbox", "--capacity-delay", "-5"}), 2);
}

TEST(sandbox_cli, help_lists_flags_with_defaults) {
  auto help = capture(std::string(HUBBATCH_BINARY) + " sandbox --help");
  for (const char* s : {"--listen", "127.0.0.1:8443", "--rate", "190/10s", "--max-inputs", "--max-pairs", "--missing",
                        "--reject-ids", "--fault-477", "--fault-reset-after-apply", "--exempt-batch", "--daily",
                        "--retry-after", "--no-rate-headers", "--write-ca", "--seed-types", "8388608",
                        "--max-header-count", "--max-connections-per-client", "1024", "--max-read-inputs",
                        "--read-page-size", "500", "--fault-ignore"})
    EXPECT_NE(help.find(s), std::string::npos) << s << "\n" << help;
  for (const char* s : {"--capacity N/s=0", "--capacity-delay MS=200", "--max-inputs N|OP:N,...=100"})  // issue 15
    EXPECT_NE(help.find(s), std::string::npos) << s << "\n" << help;
}
