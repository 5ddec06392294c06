// Operating `hubbatch archive`: the live status line on a terminal (through a
// pseudo-terminal), plain progress lines otherwise, JSON logs carrying the
// correlation id, and the metrics file of a real run.
#include "cli/logging.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "engine/config.hpp"
#include "support/cli_sandbox.hpp"
#include "support/connect_proxy.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace hubbatch;
namespace fs = std::filesystem;

namespace {

using test::sequential_pairs;

struct fixture : test::cli_sandbox {
  explicit fixture(std::size_t n, sandbox::config sc = {}) : cli_sandbox(sequential_pairs(n), std::move(sc)) {}

  std::vector<std::string> args(std::vector<std::string> extra) const {
    std::vector<std::string> a = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies",
                                  "--ca-file", file("ca.pem"), "--base-url", sb->base_url(), "--input",
                                  file("pairs.csv")};
    auto given = std::find(extra.begin(), extra.end(), "--base-url");
    if (given != extra.end()) a[9] = *(given + 1), extra.erase(given, given + 2);  // the test's own URL
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  test::process_spec spec(std::vector<std::string> extra) const {
    test::process_spec s;
    s.args = args(std::move(extra));
    s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-test"}};
    s.stdout_path = file("out.txt");
    s.stderr_path = file("err.txt");
    return s;
  }
  std::string err() const { return test::slurp(file("err.txt")); }
};

// Runs argv with stdin/stdout/stderr on a pseudo-terminal; returns everything
// written to it and the exit code.
// `typed`, when given, is typed at the terminal (then Ctrl-D).
std::pair<std::string, int> run_on_pty(const std::vector<std::string>& args, const std::string& typed = {}) {
  int master = -1;
  winsize ws{};
  ws.ws_col = 200;
  ws.ws_row = 40;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) return {"forkpty failed", -1};
  if (pid == 0) {
    ::setenv("HUBSPOT_ACCESS_TOKEN", "pat-test", 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (!typed.empty()) {
    const std::string keys = typed + "\x04";  // end of input at the start of a line
    if (::write(master, keys.data(), keys.size()) != static_cast<ssize_t>(keys.size())) return {"write failed", -1};
  }
  std::string out;
  char buf[4096];
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child and its terminal are gone
    out.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::map<std::string, double> metric_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

}  // namespace

TEST(operate, status_line_on_a_terminal_is_redrawn_in_place) {
  sandbox::config sc;
  sc.rate = *sandbox::parse_rate("10/1s");
  fixture f(300, sc);
  // 30 requests at 10/s: about three seconds of status line.
  auto [out, code] = run_on_pty(f.args({"--batch-size", "10", "--rate", "10/1s"}));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\r\033[K"), std::string::npos) << out;
  EXPECT_NE(out.find(" of 300 pairs ("), std::string::npos) << out;
  EXPECT_NE(out.find("pairs/s, ETA "), std::string::npos) << out;
  EXPECT_NE(out.find("429s 0, retries 0, failed 0"), std::string::npos) << out;
  // Redrawn, not scrolled: no status text is followed by a newline before the
  // line is cleared for the summary.
  std::size_t redraws = 0, pos = 0;
  while ((pos = out.find("\r\033[K", pos)) != std::string::npos) ++redraws, ++pos;
  EXPECT_GE(redraws, 5u);
  EXPECT_LE(redraws, 80u);  // at most 10 a second (+ the final clear)
  auto summary = out.find("accounting");
  ASSERT_NE(summary, std::string::npos) << out;
  EXPECT_EQ(out.substr(0, summary).find("failed 0\r\n"), std::string::npos) << "status line scrolled";

  // --quiet: no status line at all.
  auto [quiet, qcode] = run_on_pty(f.args({"--batch-size", "100", "--rate", "10/1s", "--quiet"}));
  EXPECT_EQ(qcode, 0) << quiet;
  EXPECT_EQ(quiet.find("\033[K"), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("ETA"), std::string::npos) << quiet;
}

TEST(operate, plain_progress_lines_when_not_a_terminal) {
  sandbox::config sc;
  sc.rate = *sandbox::parse_rate("10/1s");
  fixture f(200, sc);
  auto s = f.spec({"--batch-size", "10", "--rate", "10/1s", "--progress-interval", "300ms"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  std::string err = f.err();
  EXPECT_NE(err.find("hubbatch: progress: "), std::string::npos) << err;
  EXPECT_NE(err.find(" of 200 pairs ("), std::string::npos) << err;
  EXPECT_EQ(err.find("\033["), std::string::npos) << "no terminal codes in a log file";

  s = f.spec({"--batch-size", "10", "--rate", "10/1s", "--progress-interval", "300ms", "--quiet"});
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_EQ(f.err().find("progress:"), std::string::npos) << f.err();
}

TEST(operate, json_logs_carry_the_correlation_id_of_failed_batches) {
  sandbox::config sc;
  sc.reject_ids = {105};  // a batch naming from-id 105 gets 400 VALIDATION_ERROR
  fixture f(20, sc);
  {
    std::ofstream bad(f.file("pairs.csv"), std::ios::app);
    bad << "not-a-number,1\n";
  }
  auto s = f.spec({"--rate", "0", "--log-format", "json"});
  EXPECT_EQ(test::run(s), 1) << f.err();
  std::string err = f.err();
  // The rejected line and the 400 responses (bisection) as JSON objects.
  EXPECT_NE(err.find(R"("level":"warn","msg":")"), std::string::npos) << err;
  EXPECT_NE(err.find(R"(:22: rejected: )"), std::string::npos) << err;
  auto at = err.find(R"("msg":"HTTP 400 for a batch of )");
  ASSERT_NE(at, std::string::npos) << err;
  auto line = err.substr(at, err.find('\n', at) - at);
  EXPECT_NE(line.find(R"(,"correlation_id":")"), std::string::npos) << line;
  EXPECT_EQ(line.find(R"("correlation_id":"-")"), std::string::npos) << line;
}

namespace {

// Every line of `err` parsed as one JSON object with ts, level and msg; a
// line that is not fails the test, naming it. Returns the msg of each, and
// the "report" object of the summary line in `summary` (as JSON text).
std::vector<std::string> json_lines(const std::string& err, std::string* summary = nullptr) {
  std::vector<std::string> msgs;
  simdjson::dom::parser parser;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::object obj;
    if (parser.parse(simdjson::padded_string(line)).get(obj) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not one JSON object: " << line;
      continue;
    }
    std::string_view ts, level, msg;
    EXPECT_EQ(obj["ts"].get(ts), simdjson::SUCCESS) << line;
    EXPECT_EQ(obj["level"].get(level), simdjson::SUCCESS) << line;
    EXPECT_EQ(obj["msg"].get(msg), simdjson::SUCCESS) << line;
    msgs.emplace_back(msg);
    simdjson::dom::object report;
    if (msg == "summary" && summary && obj["report"].get(report) == simdjson::SUCCESS)
      *summary = simdjson::to_string(report);
  }
  return msgs;
}

bool any_starts_with(const std::vector<std::string>& msgs, std::string_view prefix) {
  return std::any_of(msgs.begin(), msgs.end(), [&](const std::string& m) { return m.starts_with(prefix); });
}

}  // namespace

// Issue 12: with --log-format json the end-of-run summary (and usage errors,
// the token-file warning, the sandbox's summary) came out as plain text
// among the JSON lines, which a log collector cannot read.
TEST(operate, json_log_format_writes_nothing_but_json_objects_on_stderr) {
  sandbox::config sc;
  sc.reject_ids = {105};  // 400s for one from-id: failed pairs and their warnings
  fixture f(20, sc);
  {
    std::ofstream bad(f.file("pairs.csv"), std::ios::app);
    bad << "not-a-number,1\n";
  }
  std::ofstream(f.file("token")) << "pat-test\n";
  ::chmod(f.file("token").c_str(), 0644);  // readable by others: a warning before the run
  simdjson::dom::parser parser;
  simdjson::dom::element report;

  // Rejected and failed lines, the warning, the summary.
  auto s = f.spec({"--rate", "0", "--log-format", "json", "--token-file", f.file("token")});
  EXPECT_EQ(test::run(s), 1) << f.err();
  std::string summary;
  auto msgs = json_lines(f.err(), &summary);
  EXPECT_TRUE(any_starts_with(msgs, "token file ")) << f.err();
  ASSERT_FALSE(summary.empty()) << "no summary object: " << f.err();
  ASSERT_EQ(parser.parse(simdjson::padded_string(summary)).get(report), simdjson::SUCCESS) << summary;
  EXPECT_EQ(std::uint64_t(report["input_pairs"]), 21u);
  EXPECT_EQ(std::uint64_t(report["rejected_pairs"]), 1u);
  EXPECT_GT(std::uint64_t(report["failed_pairs"]), 0u);

  // A stop with pairs pending.
  s = f.spec({"--rate", "0", "--batch-size", "2", "--max-requests", "1", "--log-format", "json"});
  EXPECT_EQ(test::run(s), 3) << f.err();
  summary.clear();
  msgs = json_lines(f.err(), &summary);
  EXPECT_TRUE(any_starts_with(msgs, "stopped: ")) << f.err();
  ASSERT_EQ(parser.parse(simdjson::padded_string(summary)).get(report), simdjson::SUCCESS) << f.err();
  EXPECT_EQ(std::string_view(report["stop_reason"]), "request_budget");

  // A usage error found after the flags are read.
  s = f.spec({"--resume", "--log-format", "json"});
  EXPECT_EQ(test::run(s), 2) << f.err();
  msgs = json_lines(f.err());
  ASSERT_EQ(msgs.size(), 1u) << f.err();
  EXPECT_TRUE(msgs[0].starts_with("--resume and --restart need a journal")) << f.err();

  // --sandbox: its start and summary lines too; the report on stdout.
  test::process_spec sb;
  sb.args = {HUBBATCH_BINARY, "archive", "--from-type", "contacts", "--to-type", "companies", "--sandbox",
             "--input", f.file("pairs.csv"), "--log-format", "json"};
  sb.stdout_path = f.file("out.txt");
  sb.stderr_path = f.file("err.txt");
  EXPECT_EQ(test::run(sb), 1) << f.err();
  summary.clear();
  msgs = json_lines(f.err(), &summary);
  EXPECT_TRUE(any_starts_with(msgs, "embedded sandbox on ")) << f.err();
  EXPECT_TRUE(any_starts_with(msgs, "sandbox: ")) << f.err();
  EXPECT_FALSE(summary.empty()) << f.err();
  EXPECT_EQ(parser.parse(simdjson::padded_string(test::slurp(f.file("out.txt")))).get(report), simdjson::SUCCESS);

  // An error main() catches (the embedded sandbox cannot read stdin twice).
  sb.args[8] = "-";
  EXPECT_EQ(test::run(sb), 2) << f.err();
  msgs = json_lines(f.err());
  ASSERT_EQ(msgs.size(), 1u) << f.err();
  EXPECT_TRUE(msgs[0].starts_with("--sandbox needs --input FILE")) << f.err();
}

TEST(operate, json_log_line_escapes_and_splits_the_correlation_id) {
  EXPECT_EQ(cli::json_log_line("T", "warn", "HTTP 500 \"x\"\n correlation_id=abc-123"),
            R"({"ts":"T","level":"warn","msg":"HTTP 500 \"x\"\n","correlation_id":"abc-123"})");
  EXPECT_EQ(cli::json_log_line("T", "info", "plain"), R"({"ts":"T","level":"info","msg":"plain"})");
}

TEST(operate, metrics_file_of_a_run) {
  fixture f(500);
  auto s = f.spec({"--rate", "0", "--metrics-file", f.file("hubbatch.prom"), "--report", f.file("report.json")});
  ASSERT_EQ(test::run(s), 0) << f.err();
  auto m = metric_samples(test::slurp(f.file("hubbatch.prom")));
  EXPECT_EQ(m["hubbatch_archived_pairs_total"], 500);
  EXPECT_EQ(m["hubbatch_input_pairs_total"], 500);
  EXPECT_EQ(m["hubbatch_running"], 0);
  EXPECT_EQ(m["hubbatch_exit_code"], 0);
  double responses = 0;
  for (const auto& [k, v] : m)
    if (k.starts_with("hubbatch_http_responses_total{")) responses += v;
  EXPECT_EQ(responses, m["hubbatch_responses_total"]);
  EXPECT_GT(responses, 0);
  for (const auto& e : fs::directory_iterator(f.dir.path()))  // the temporary was renamed away
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(operate, gzip_input_and_several_inputs) {
  fixture f(300);
  // The first 100 pairs gzip-compressed (name without .gz: recognised by its
  // magic bytes), the rest plain in a second file.
  std::string all = test::slurp(f.file("pairs.csv"));
  std::size_t cut = 0;
  for (int lines = 0; lines < 101; ++lines) cut = all.find('\n', cut) + 1;
  {
    gzFile gz = gzopen(f.file("first.csv").c_str(), "wb");
    ASSERT_NE(gz, nullptr);
    gzwrite(gz, all.data(), static_cast<unsigned>(cut));
    gzclose(gz);
    std::ofstream(f.file("second.csv")) << all.substr(cut) << "junk\n";
  }
  auto s = f.spec({"--rate", "0", "--report", f.file("report.json"), "--failures", f.file("failures.csv")});
  s.args.erase(s.args.begin() + 10, s.args.begin() + 12);  // the fixture's --input
  s.args.insert(s.args.end(), {"--input", f.file("first.csv"), "--input", f.file("second.csv")});
  EXPECT_EQ(test::run(s), 1) << f.err();  // the junk line
  std::string report = test::slurp(f.file("report.json"));
  EXPECT_NE(report.find("\"archived_pairs\": 300"), std::string::npos) << report;
  EXPECT_NE(report.find("\"rejected_pairs\": 1"), std::string::npos) << report;
  EXPECT_NE(f.err().find("second.csv:201: rejected"), std::string::npos) << f.err();  // numbered per file
  // The failures file names the file too: a line number alone would be ambiguous.
  EXPECT_NE(test::slurp(f.file("failures.csv")).find(f.file("second.csv") + ": line 201: "), std::string::npos)
      << test::slurp(f.file("failures.csv"));
  EXPECT_FALSE(fs::exists(f.file("report.json.journal")));                          // no journal for several inputs

  // A journal covers one file: refused with several.
  s.args.insert(s.args.end(), {"--journal", f.file("j")});
  EXPECT_EQ(test::run(s), 2);
  EXPECT_NE(f.err().find("single --input"), std::string::npos) << f.err();

  // --plan reads gzip too.
  auto p = f.spec({"--plan", "--input", f.file("first.csv")});
  p.args.erase(p.args.begin() + 10, p.args.begin() + 12);
  EXPECT_EQ(test::run(p), 0) << f.err();
  EXPECT_NE(test::slurp(f.file("out.txt")).find("pairs         100\n"), std::string::npos)
      << test::slurp(f.file("out.txt"));
}

TEST(operate, https_proxy_connect_tunnel) {
  fixture f(400);
  test::connect_proxy proxy;
  auto s = f.spec({"--rate", "0", "--connections", "3", "--proxy", proxy.url()});
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_EQ(f.sb->stats().archived_pairs, 400u);
  auto targets = proxy.targets();
  ASSERT_FALSE(targets.empty());
  std::string authority = f.sb->base_url().substr(std::string("https://").size());
  for (const auto& t : targets) EXPECT_EQ(t, authority);

  // From the environment: HTTPS_PROXY carries a non-loopback host (the
  // proxy, refusing here, sees the CONNECT; nothing is resolved locally)...
  test::connect_proxy env_proxy(403);
  auto e = f.spec({"--rate", "0", "--connections", "1", "--max-retries", "0", "--base-url",
                   "https://api.example.invalid"});
  e.env.push_back({"HTTPS_PROXY", env_proxy.url()});
  EXPECT_EQ(test::run(e), 1) << f.err();
  ASSERT_FALSE(env_proxy.targets().empty()) << f.err();
  EXPECT_EQ(env_proxy.targets().front(), "api.example.invalid:443");
  // ... but loopback hosts (the sandbox) bypass an environment proxy.
  test::connect_proxy unused;
  std::string port = authority.substr(authority.rfind(':') + 1);
  e = f.spec({"--rate", "0", "--connections", "2", "--base-url", "https://localhost:" + port});
  e.env.push_back({"HTTPS_PROXY", unused.url()});
  EXPECT_EQ(test::run(e), 0) << f.err();
  EXPECT_TRUE(unused.targets().empty());

  // A proxy that refuses: the connection fails like any transport error.
  test::connect_proxy refusing(403);
  auto r = f.spec({"--rate", "0", "--connections", "1", "--max-retries", "0", "--proxy", refusing.url()});
  EXPECT_EQ(test::run(r), 1) << f.err();
  EXPECT_NE(f.err().find("refused CONNECT"), std::string::npos) << f.err();
  EXPECT_FALSE(refusing.targets().empty());

  // A bad proxy URL is a usage error.
  auto b = f.spec({"--proxy", "socks5://127.0.0.1:1"});
  EXPECT_EQ(test::run(b), 2);
  EXPECT_NE(f.err().find("proxy URL"), std::string::npos) << f.err();
}

TEST(operate, proxy_url_parsing) {
  std::string err;
  auto p = engine::parse_proxy_url("http://proxy.corp:3128/", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, "3128");
  p = engine::parse_proxy_url("http://proxy.corp", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->port, "80");
  EXPECT_FALSE(engine::parse_proxy_url("https://proxy:1", err));
  // Credentials, percent-encoded: "us@er" / "p:ss w%rd" -> Basic base64("us@er:p:ss w%rd").
  p = engine::parse_proxy_url("http://us%40er:p%3Ass%20w%25rd@proxy.corp:3128", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, "3128");
  EXPECT_EQ(p->basic_credentials, "dXNAZXI6cDpzcyB3JXJk");
  p = engine::parse_proxy_url("http://user@proxy.corp:3128", err);  // no password
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->basic_credentials, "dXNlcjo=");
  EXPECT_TRUE(engine::parse_proxy_url("http://proxy.corp", err)->basic_credentials.empty());
  // An '@' after the authority is not userinfo (as curl reads it): this is
  // proxy:3128 with a path, refused, never "evil:80" with credentials.
  EXPECT_FALSE(engine::parse_proxy_url("http://proxy:3128/@evil:80", err));
  EXPECT_FALSE(engine::parse_proxy_url("http://user:p/w@proxy:3128", err)) << "a '/' in a password is %2F";
  p = engine::parse_proxy_url("http://user:p%2Fw@proxy:3128", err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->host, "proxy");
  for (const std::string bad : {"http://:pw@proxy:1", "http://user:p%0Aw@proxy:1", "http://user:p%zzw@proxy:1",
                                "http://user:pw%4@proxy:1", "http://us%3Aer:pw@proxy:1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(engine::parse_proxy_url(bad, err));
    EXPECT_EQ(err.find("pw"), std::string::npos) << "the password is never shown: " << err;
  }
}

TEST(operate, proxy_with_credentials_gets_proxy_authorization_and_407_is_named) {
  fixture f(300);
  test::connect_proxy proxy;
  proxy.require_authorization("Basic dXNlcjpzM2NyM3QtcHc=");  // user:s3cr3t-pw
  const std::string with_credentials = "http://user:s3cr3t-pw@" + proxy.url().substr(7);
  auto s = f.spec({"--rate", "0", "--connections", "2", "--proxy", with_credentials, "--report",
                   f.file("report.json")});
  ASSERT_EQ(test::run(s), 0) << f.err();
  EXPECT_EQ(f.sb->stats().archived_pairs, 300u);
  for (const auto& a : proxy.authorizations()) EXPECT_EQ(a, "Basic dXNlcjpzM2NyM3QtcHc=");
  EXPECT_EQ(f.err().find("s3cr3t-pw"), std::string::npos) << f.err();
  EXPECT_EQ(test::slurp(f.file("report.json")).find("s3cr3t-pw"), std::string::npos);

  // Wrong password: 407, named, the password never shown; without any: 407 says credentials are wanted.
  auto wrong = f.spec({"--rate", "0", "--connections", "1", "--max-retries", "0", "--proxy",
                       "http://user:wrong-pw@" + proxy.url().substr(7)});
  EXPECT_EQ(test::run(wrong), 1) << f.err();
  EXPECT_NE(f.err().find("HTTP 407 (the proxy refused the credentials)"), std::string::npos) << f.err();
  EXPECT_EQ(f.err().find("wrong-pw"), std::string::npos) << f.err();
  auto none = f.spec({"--rate", "0", "--connections", "1", "--max-retries", "0", "--proxy", proxy.url()});
  EXPECT_EQ(test::run(none), 1) << f.err();
  EXPECT_NE(f.err().find("the proxy wants credentials"), std::string::npos) << f.err();
}

// NO_PROXY end to end: the named host (and hosts in a named domain) never
// go through HTTPS_PROXY, other hosts do.
TEST(operate, no_proxy_bypasses_the_environment_proxy_for_named_hosts) {
  fixture f(10);
  for (const auto& [no_proxy, bypass] : std::vector<std::pair<std::string, bool>>{
           {"api.example.invalid", true},
           {"other.invalid, .example.invalid", true},
           {"*", true},
           {"example.com,other.invalid", false}}) {
    SCOPED_TRACE(no_proxy);
    test::connect_proxy env_proxy(403);
    auto e = f.spec({"--rate", "0", "--connections", "1", "--max-retries", "0", "--base-url",
                     "https://api.example.invalid"});
    e.env.push_back({"HTTPS_PROXY", env_proxy.url()});
    e.env.push_back({"NO_PROXY", no_proxy});
    EXPECT_EQ(test::run(e), 1) << f.err();  // no network here either way: the batch fails
    if (bypass) {
      EXPECT_TRUE(env_proxy.targets().empty()) << "NO_PROXY names the host: no CONNECT";
      EXPECT_NE(f.err().find("api.example.invalid"), std::string::npos) << f.err();
    } else {
      ASSERT_EQ(env_proxy.targets().size(), 1u);
      EXPECT_EQ(env_proxy.targets().front(), "api.example.invalid:443");
    }
  }
}

// Issue 11 item 8: at a terminal without --input, hubbatch waited on stdin
// saying nothing.
TEST(operate, reading_stdin_at_a_terminal_is_announced) {
  fixture f(10);
  auto args = f.args({"--rate", "0", "--quiet"});
  auto input = std::find(args.begin(), args.end(), "--input");
  args.erase(input, input + 2);
  auto [out, code] = run_on_pty(args, "from_id,to_id\n1,2\n");
  EXPECT_NE(out.find("reading pairs from stdin"), std::string::npos) << out;
  EXPECT_NE(out.find("Ctrl-D"), std::string::npos) << out;
  EXPECT_EQ(code, 0) << out;
}
