// Issue 7: the token never leaves through an output. The built binary runs
// every failure path it can reach (401, expired 401, 403, 429 daily, 5xx,
// garbage 2xx, resets, TLS refusal, a server echoing the token back, bad
// input, bad flags) with a recognisable token, and stdout, stderr, the
// report and the failures file are searched for it. Also: the token-file
// permission warning, and hostile object types / API versions exit 2
// before anything reaches a URL.
#include "integration/hardening.hpp"
#include "io/local_ca.hpp"
#include "io/tls.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <functional>
#include <string>
#include <vector>

extern char** environ;

using namespace hubbatch;
using hubbatch::test::tls_test_server;

namespace {

const std::string canary = "pat-na1-SECRET-CANARY-7f3a9c21-5b4e-4d2a-9e61-0c8d2b7a4f10";

struct cli_run {
  int status = -1;  // exit code; -1 if it had to be killed
  std::string out, err, report, failures;
  std::string all() const { return out + "\n" + err + "\n" + report + "\n" + failures; }
};

// Runs `hubbatch ARGS...` with the canary in HUBSPOT_ACCESS_TOKEN (unless
// `env_token` is false), stdout/stderr to files; kills it after 60 s.
cli_run run_cli(const test::scratch_dir& dir, std::vector<std::string> args, bool env_token = true) {
  cli_run r;
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("HUBSPOT_ACCESS_TOKEN=", 0) != 0) env_store.emplace_back(*e);
  if (env_token) env_store.push_back("HUBSPOT_ACCESS_TOKEN=" + canary);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  args.insert(args.begin(), HUBBATCH_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) {
    ADD_FAILURE() << "cannot spawn " << argv[0];
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int wstatus = 0;
  for (;;) {
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      ADD_FAILURE() << "hubbatch did not exit within 60 s";
      break;
    }
    usleep(10'000);  // polling a child's exit, bounded by the deadline above
  }
  r.out = test::read_text(out);
  r.err = test::read_text(err);
  r.report = test::read_text(dir.file("report.json"));
  r.failures = test::read_text(dir.file("failures.csv"));
  return r;
}

std::string pairs_file(const test::scratch_dir& dir) {
  return test::write_text(dir.file("pairs.csv"), "from_id,to_id\n101,9001\n101,9002\n102,9003\nnot,an id\n");
}

sandbox::config sandbox_cfg() {
  sandbox::config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 0;
  c.rate = *sandbox::parse_rate("0");
  c.fault_seed = 3;
  sandbox::seed_spec s;
  s.pairs = {{101, 9001}, {101, 9002}, {102, 9003}};
  c.seeds.push_back(s);
  return c;
}

// An archive run against `base_url` trusting `ca_file`, with report and failures.
std::vector<std::string> archive_args(const test::scratch_dir& dir, const std::string& base_url,
                                      const std::string& ca_file) {
  return {"archive", "--from-type", "contacts", "--to-type", "companies", "--input", pairs_file(dir),
          "--base-url", base_url, "--ca-file", ca_file, "--report", dir.file("report.json"), "--failures",
          dir.file("failures.csv"), "--max-retries", "1", "--rate", "0", "--connections", "1"};
}

void expect_no_canary(const cli_run& r, const std::string& what) {
  EXPECT_EQ(r.all().find(canary), std::string::npos) << what << " leaked the token:\n" << r.all();
  // Nor a recognisable piece of it (a truncated or wrapped copy).
  EXPECT_EQ(r.all().find("SECRET-CANARY"), std::string::npos) << what;
  EXPECT_EQ(r.all().find("7f3a9c21-5b4e"), std::string::npos) << what;
}

}  // namespace

TEST(secrets, no_failure_path_prints_or_writes_the_token) {
  struct scenario {
    std::string name;
    std::function<void(sandbox::config&)> setup;
    int exit_code;
  };
  const std::vector<scenario> scenarios = {
      {"ok (control)", [](sandbox::config&) {}, 1},  // 1: the bad input line
      {"401 unknown token", [](sandbox::config& c) { c.tokens = {"pat-na1-someone-else"}; }, 4},
      {"401 expired", [](sandbox::config& c) { c.expired_tokens = {canary}; }, 4},
      {"403 missing scopes", [](sandbox::config& c) { c.missing_scopes = true; }, 4},
      {"429 daily", [](sandbox::config& c) { c.daily = 1; }, 3},
      {"5xx", [](sandbox::config& c) { c.fault_5xx = 1.0; }, 1},
      {"reset", [](sandbox::config& c) { c.fault_reset = 1.0; }, 1},
      {"reset after apply", [](sandbox::config& c) { c.fault_reset_after_apply = 1.0; }, 1},
      {"garbage 2xx", [](sandbox::config& c) { c.fault_garbage = 1.0; }, 1},
      {"423", [](sandbox::config& c) { c.fault_423 = 1.0; }, 1},
      {"400 rejected ids", [](sandbox::config& c) { c.reject_ids = {9001, 9002, 9003}; }, 1},
      {"400 unknown object type", [](sandbox::config&) {}, 2},
  };
  for (const auto& s : scenarios) {
    SCOPED_TRACE(s.name);
    auto cfg = sandbox_cfg();
    s.setup(cfg);
    sandbox::background_sandbox sb(cfg);
    test::scratch_dir dir;
    const std::string ca = test::write_text(dir.file("ca.pem"), sb.ca_pem());
    auto args = archive_args(dir, sb.base_url(), ca);
    if (s.name == "400 unknown object type") args[2] = "widgets";
    if (s.name == "429 daily") {  // one request per from-id: the second one hits the daily limit
      args.push_back("--batch-size");
      args.push_back("1");
    }
    auto r = run_cli(dir, args);
    EXPECT_EQ(r.status, s.exit_code) << r.err;
    EXPECT_FALSE(r.report.empty()) << "the report must be written on this path too";
    expect_no_canary(r, s.name);
  }
}

TEST(secrets, tls_refusal_and_echoing_servers_do_not_leak_the_token) {
  auto pki = io::generate_local_pki();
  auto other = io::generate_local_pki();
  {
    // TLS refused: the client trusts another CA.
    sandbox::background_sandbox sb(sandbox_cfg());
    test::scratch_dir dir;
    auto r = run_cli(dir, archive_args(dir, sb.base_url(), test::write_text(dir.file("ca.pem"), other.ca_cert_pem)));
    EXPECT_EQ(r.status, 2) << "a refused certificate stops the run at once";
    EXPECT_NE(r.err.find("TLS certificate verification failed"), std::string::npos) << r.err;
    expect_no_canary(r, "TLS refusal");
  }
  // A server that echoes the Authorization header back in every place a
  // message can come from: 400 JSON, 401 JSON, 500 HTML, 2xx errors[].
  const std::vector<std::string> answers = {
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n",
      "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n",
      "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n",
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
      "HTTP/1.1 302 Found\r\nLocation: https://evil.example/?t=ECHO\r\n",
  };
  for (const auto& head : answers) {
    SCOPED_TRACE(head.substr(0, 20));
    test::tls_test_server echo(io::make_server_context(pki.server_cert_pem, pki.server_key_pem),
                               [head](test::tls_test_server::connection& c) {
      while (c.read_request()) {
        const std::string& h = c.last_head();
        auto at = h.find("Authorization: ");
        std::string auth = at == std::string::npos ? "" : h.substr(at + 15, h.find("\r\n", at) - at - 15);
        std::string body;
        if (head.find("text/html") != std::string::npos)
          body = "<html><title>" + auth + "</title></html>";
        else if (head.find("200") != std::string::npos)
          body = "{\"status\":\"COMPLETE\",\"results\":[],\"numErrors\":1,\"errors\":[{\"category\":\"" + auth +
                 "\",\"message\":\"" + auth + "\",\"context\":{\"fromObjectId\":[\"101\"]}}]}";
        else
          body = "{\"status\":\"error\",\"message\":\"invalid " + auth + "\",\"category\":\"" + auth + "\"}";
        std::string response = head;
        if (auto e = response.find("ECHO"); e != std::string::npos) response.replace(e, 4, auth);
        response += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        if (!c.write(response)) return;
      }
    });
    test::scratch_dir dir;
    auto r = run_cli(dir, archive_args(dir, echo.base_url(), test::write_text(dir.file("ca.pem"), pki.ca_cert_pem)));
    EXPECT_NE(r.status, 0);
    ASSERT_FALSE(echo.stats().request_heads.empty());
    EXPECT_NE(echo.stats().request_heads[0].find(canary), std::string::npos) << "the echo server did get it";
    expect_no_canary(r, "echoing server");
  }
}

TEST(secrets, bad_flags_do_not_print_the_token) {
  // (Bad input lines with the token in the environment are in the scenarios
  // above: every run there has one. Text pasted into the input file is not
  // the token's to protect; rejections echo at most 64 bytes of it.)
  test::scratch_dir dir;
  for (std::vector<std::string> args : {std::vector<std::string>{"archive", "--from-type", "contacts"},
                                        std::vector<std::string>{"archive", "--from-type", "a/b", "--to-type", "c"},
                                        std::vector<std::string>{"archive", "--no-such-flag"}}) {
    auto x = run_cli(dir, args);
    EXPECT_EQ(x.status, 2);
    expect_no_canary(x, "bad flags");
  }
}

TEST(secrets, world_readable_token_file_warns_and_private_one_does_not) {
  sandbox::background_sandbox sb(sandbox_cfg());
  test::scratch_dir dir;
  const std::string ca = test::write_text(dir.file("ca.pem"), sb.ca_pem());
  const std::string token_file = test::write_text(dir.file("token"), canary + "\n");
  auto args = archive_args(dir, sb.base_url(), ca);
  args.push_back("--token-file");
  args.push_back(token_file);

  ASSERT_EQ(chmod(token_file.c_str(), 0644), 0);
  auto open = run_cli(dir, args, false);
  EXPECT_EQ(open.status, 1);  // the bad input line; everything else archived
  EXPECT_NE(open.err.find("is readable by other users"), std::string::npos) << open.err;
  expect_no_canary(open, "world-readable token file");

  ASSERT_EQ(chmod(token_file.c_str(), 0600), 0);
  auto priv = run_cli(dir, args, false);
  EXPECT_EQ(priv.err.find("readable by other users"), std::string::npos) << priv.err;
  expect_no_canary(priv, "private token file");
}

TEST(secrets, hostile_object_types_and_versions_exit_2_before_any_request) {
  // A server that would notice any request at all.
  auto pki = io::generate_local_pki();
  test::tls_test_server srv(io::make_server_context(pki.server_cert_pem, pki.server_key_pem),
                            test::tls_test_server::answer_204());
  test::scratch_dir dir;
  const std::string ca = test::write_text(dir.file("ca.pem"), pki.ca_cert_pem);
  const std::vector<std::string> types = {"../../v3/objects/contacts", "contacts/../../x", "contacts?x=1",
                                          "contacts#frag",             "con tacts",        "contacts%2F..",
                                          "contacts\r\nX-Evil: 1",     "",                 "0-",
                                          "3-1",                       "-1",               "p.vendor",
                                          "\xd9\xa1-1",                std::string(200, 'a'), "contacts\\x"};
  for (const auto& t : types) {
    SCOPED_TRACE(t);
    auto args = archive_args(dir, srv.base_url(), ca);
    args[2] = t;  // --from-type
    auto r = run_cli(dir, args);
    EXPECT_EQ(r.status, 2) << r.err;
    args = archive_args(dir, srv.base_url(), ca);
    args[4] = t;  // --to-type
    EXPECT_EQ(run_cli(dir, args).status, 2);
  }
  for (const std::string v : {"v3", "v4/../v3", "2026-03/x", "", "V4", "v4 ", "2026-13"}) {
    SCOPED_TRACE(v);
    auto args = archive_args(dir, srv.base_url(), ca);
    args.push_back("--api-version");
    args.push_back(v);
    EXPECT_EQ(run_cli(dir, args).status, 2);
  }
  EXPECT_EQ(srv.stats().connections, 0u) << "a refused type or version must not open a connection";
}

TEST(secrets, a_token_with_cr_or_lf_cannot_inject_headers) {
  auto pki = io::generate_local_pki();
  test::tls_test_server srv(io::make_server_context(pki.server_cert_pem, pki.server_key_pem),
                            test::tls_test_server::answer_204());
  test::scratch_dir dir;
  const std::string ca = test::write_text(dir.file("ca.pem"), pki.ca_cert_pem);
  for (const std::string& bad : std::vector<std::string>{canary + "\nX-Injected: yes", canary + "\r\nX-Injected: yes",
                                 "pat-na1-SECRET-CANARY with space", std::string("pat-na1-SECRET-CANARY\0x", 23)}) {
    const std::string token_file = test::write_text(dir.file("token"), bad + "\n");
    chmod(token_file.c_str(), 0600);
    auto args = archive_args(dir, srv.base_url(), ca);
    args.push_back("--token-file");
    args.push_back(token_file);
    auto r = run_cli(dir, args, false);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.err.find("visible ASCII"), std::string::npos) << r.err;
    expect_no_canary(r, "bad token");
  }
  EXPECT_EQ(srv.stats().connections, 0u);
}

// The token lives in the process while it runs, so the process must not be
// able to dump core. Checked from the server side while the client holds
// its first request open: /proc/PID/limits of the running hubbatch.
TEST(secrets, core_dumps_are_off_while_the_token_is_in_memory) {
  auto pki = io::generate_local_pki();
  std::atomic<pid_t> client_pid{-1};
  std::string limits_seen;
  std::mutex mu;
  tls_test_server srv(io::make_server_context(pki.server_cert_pem, pki.server_key_pem),
                      [&](tls_test_server::connection& c) {
                        while (c.read_request()) {
                          std::string line;
                          std::ifstream in("/proc/" + std::to_string(client_pid.load()) + "/limits");
                          for (std::string l; std::getline(in, l);)
                            if (l.rfind("Max core file size", 0) == 0) line = l;
                          {
                            std::lock_guard lock(mu);
                            if (limits_seen.empty()) limits_seen = line;
                          }
                          if (!c.write("HTTP/1.1 204 No Content\r\n\r\n")) return;
                        }
                      });
  test::scratch_dir dir;
  test::process_spec spec;
  spec.args = {HUBBATCH_BINARY};
  for (auto& a : archive_args(dir, srv.base_url(), test::write_text(dir.file("ca.pem"), pki.ca_cert_pem)))
    spec.args.push_back(a);
  spec.env = {{"HUBSPOT_ACCESS_TOKEN", canary}};
  spec.stderr_path = dir.file("stderr.txt");
  // The child inherits our limits: make them non-zero, so that only
  // hubbatch itself can bring them to 0.
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_CORE, &saved), 0);
  if (saved.rlim_max == 0) GTEST_SKIP() << "core dumps are already off (hard limit 0): nothing to prove";
  struct rlimit some {std::min<rlim_t>(saved.rlim_max, 1 << 20), saved.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_CORE, &some), 0);
  test::process p(spec);
  setrlimit(RLIMIT_CORE, &saved);
  client_pid = p.pid();
  EXPECT_EQ(p.wait(std::chrono::seconds(60)), 1) << test::slurp(spec.stderr_path);  // the bad input line
  std::lock_guard lock(mu);
  ASSERT_FALSE(limits_seen.empty()) << "the server never saw a request";
  std::istringstream fields(limits_seen.substr(std::string("Max core file size").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, "0") << limits_seen;
  EXPECT_EQ(hard, "0") << limits_seen;
}
