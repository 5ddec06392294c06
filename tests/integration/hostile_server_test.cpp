// Issue 7: a hostile or broken server cannot hang a job, blow its memory or
// get the token sent elsewhere. Each test runs a real job (engine::run_job,
// short deadlines, one connection, one retry) against a scripted TLS server
// that misbehaves in one way, then checks:
//   * the job ends, within the config's deadlines (no sleeps in the test);
//   * the batch is counted as documented: transport errors are retried, then
//     failed (category TRANSPORT); a 3xx stops the run (exit 2, pending);
//   * the books balance;
//   * the client hung up on the server (the server's write failed) after a
//     bounded number of bytes, and the process's peak RSS stayed bounded;
//   * a redirect target never sees a connection.
#include "cli/exit_codes.hpp"
#include "engine/job.hpp"

#include "integration/hardening.hpp"
#include "io/local_ca.hpp"
#include "io/tls.hpp"
#include "support/tls_test_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

using namespace hubbatch;
using hubbatch::test::tls_test_server;

namespace {

constexpr std::uint64_t write_cap = 1ull << 30;  // a script gives up after 1 GiB (the client must stop it long before)

// Peak resident set of this process so far (VmHWM), in bytes.
std::uint64_t peak_rss() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// Reads the request, writes `head`, then `filler` again and again until the
// client hangs up.
tls_test_server::script head_then_forever(std::string head, std::string filler) {
  return [head, filler](tls_test_server::connection& c) {
    if (!c.read_request() || !c.write(head)) return;
    for (std::uint64_t sent = 0; sent < write_cap && c.write(filler); sent += filler.size()) {
    }
  };
}

struct run_result {
  engine::job_result job;
  std::string failures;
  tls_test_server::stats_t server;
  double seconds = 0;
  std::uint64_t rss_growth = 0;
};

run_result run_job_against(tls_test_server& srv, const io::local_pki& pki,
                           const std::function<void(engine::archive_config&)>& tweak = {}) {
  test::scratch_dir dir;
  auto cfg = test::short_job(srv.base_url(), test::write_text(dir.file("pairs.csv"), "1,2\n1,3\n4,5\n"));
  cfg.failures_path = dir.file("failures.csv");
  cfg.max_response_bytes = 1 << 20;
  if (tweak) tweak(cfg);
  run_result out;
  const auto rss_before = peak_rss();
  const auto start = std::chrono::steady_clock::now();
  out.job = engine::run_job(cfg, test::quiet_options(pki.ca_cert_pem));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(srv.wait_idle()) << "a script is still writing: the client never hung up";
  out.rss_growth = peak_rss() - rss_before;
  out.server = srv.stats();
  out.failures = test::read_text(cfg.failures_path);
  return out;
}

// Retried once, then failed as TRANSPORT with `cause` in the message; the
// client hung up on every connection after at most `max_bytes` per connection.
void expect_failed_retryable(const run_result& r, const std::string& cause, std::uint64_t max_bytes = 64ull << 20) {
  test::expect_balanced(r.job);
  const auto& t = r.job.totals;
  EXPECT_EQ(t.failed_pairs, 3u);
  EXPECT_EQ(t.errors_by_category.count("TRANSPORT") ? t.errors_by_category.at("TRANSPORT") : 0, 3u);
  EXPECT_EQ(t.requests, 2u) << "one try and one retry (max_retries = 1)";
  EXPECT_EQ(t.retries, 1u);
  EXPECT_EQ(t.transport_errors, 2u);
  EXPECT_EQ(cli::decide_exit(r.job, false).code, 1);
  EXPECT_NE(r.failures.find(cause), std::string::npos) << "failures file should say '" << cause << "':\n" << r.failures;
  EXPECT_NE(r.failures.find("gave up after 2 attempts"), std::string::npos) << r.failures;
  EXPECT_EQ(r.server.request_heads.size(), 2u);
  for (const auto& c : r.server.records) {
    EXPECT_TRUE(c.peer_closed) << "the client must hang up on a hostile response";
    EXPECT_LE(c.bytes_written, max_bytes) << "the client read far more than its caps";
  }
  EXPECT_LT(r.seconds, 20.0);
  EXPECT_LT(r.rss_growth, 256ull << 20) << "peak RSS grew by " << (r.rss_growth >> 20) << " MiB";
}

io::local_pki& pki() {
  static io::local_pki p = io::generate_local_pki();
  return p;
}

boost::asio::ssl::context server_ctx() { return io::make_server_context(pki().server_cert_pem, pki().server_key_pem); }

}  // namespace

TEST(hostile_server, endless_headers_hit_the_header_cap) {
  std::string filler;
  for (int i = 0; i < 256; ++i) filler += "X-Filler: " + std::string(54, 'h') + "\r\n";
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\n", filler));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "header limit exceeded");
}

TEST(hostile_server, one_endless_header_line_hits_the_header_cap) {
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nX-Long: ", std::string(16384, 'v')));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "header limit exceeded");
}

TEST(hostile_server, endless_body_until_close_hits_the_body_cap) {
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\":\"",
                                                      std::string(65536, 'b')));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "body limit exceeded");
}

TEST(hostile_server, gigantic_declared_body_is_refused_before_reading_it) {
  // 100 MiB declared and sent, against a 1 MiB cap.
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n",
                                                      std::string(65536, 'g')));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "body limit exceeded");
}

TEST(hostile_server, two_xx_with_a_5_gb_content_length_is_refused) {
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                                      "Content-Length: 5368709120\r\n\r\n",
                                                      std::string(65536, '5')));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "body limit exceeded");
  EXPECT_EQ(r.job.totals.done_pairs, 0u) << "a 2xx that never completes archives nothing";
}

TEST(hostile_server, chunked_body_that_never_ends_hits_the_body_cap) {
  std::string chunk = "1000\r\n" + std::string(4096, 'c') + "\r\n";
  std::string filler;
  for (int i = 0; i < 16; ++i) filler += chunk;
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", filler));
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "body limit exceeded");
}

TEST(hostile_server, chunk_extensions_that_never_end_hit_a_cap) {
  tls_test_server srv(server_ctx(), head_then_forever("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=",
                                                      std::string(16384, 'e')));
  auto r = run_job_against(srv, pki());
  // Beast does not limit chunk extensions; the client's read buffer cap
  // does, long before the request deadline (whose cause would be "timeout").
  // (The server may still get megabytes into the kernel's socket buffers
  // before the client reads its cap's worth: the default byte bound.)
  expect_failed_retryable(r, "buffer overflow");
}

TEST(hostile_server, slowloris_response_hits_the_request_deadline) {
  // One byte every 20 ms, forever: each byte is progress, so only the
  // request deadline (2 s in short_job) ends it.
  tls_test_server srv(server_ctx(), [](tls_test_server::connection& c) {
    if (!c.read_request()) return;
    const std::string response = "HTTP/1.1 200 OK\r\nX-Slow: " + std::string(1 << 20, 's');
    for (char ch : response) {
      if (!c.write(std::string_view(&ch, 1))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the attack itself, not synchronisation
    }
  });
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "timeout");
  EXPECT_GE(r.seconds, 4.0) << "two attempts of 2 s each";
}

TEST(hostile_server, silent_server_hits_the_request_deadline) {
  tls_test_server srv(server_ctx(), [](tls_test_server::connection& c) {
    if (!c.read_request()) return;
    c.read_request();  // blocks until the client gives up and closes
  });
  auto r = run_job_against(srv, pki());
  expect_failed_retryable(r, "timeout");
}

TEST(hostile_server, invalid_http_is_a_retried_transport_error) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", "bad status"},
      {"garbage\r\n\r\n", "bad version"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "multiple Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk"},
      {std::string("HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n", 31), "bad value"},  // 31 bytes, NUL included
      {"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "bad field"},
  };
  for (const auto& [response, cause] : cases) {
    SCOPED_TRACE(cause);
    tls_test_server srv(server_ctx(), [response](tls_test_server::connection& c) {
      while (c.read_request())
        if (!c.write(response)) return;
    });
    auto r = run_job_against(srv, pki());
    test::expect_balanced(r.job);
    EXPECT_EQ(r.job.totals.failed_pairs, 3u);
    EXPECT_EQ(r.job.totals.done_pairs, 0u);
    EXPECT_EQ(r.job.totals.transport_errors, 2u);
    EXPECT_NE(r.failures.find("read response: "), std::string::npos) << r.failures;
    EXPECT_NE(r.failures.find(cause), std::string::npos) << r.failures;
    EXPECT_LT(r.seconds, 20.0);
  }
}

TEST(hostile_server, redirect_to_another_host_is_never_followed) {
  for (int status : {301, 302, 303, 307, 308}) {
    SCOPED_TRACE(status);
    // The redirect target: any connection at all would be a failure.
    tls_test_server target(server_ctx(), tls_test_server::answer_204());
    const std::string location = target.base_url() + "/crm/v4/associations/contacts/companies/batch/archive";
    tls_test_server srv(server_ctx(), [status, location](tls_test_server::connection& c) {
      while (c.read_request())
        if (!c.write("HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + location +
                     "\r\nContent-Length: 0\r\n\r\n"))
          return;
    });
    auto r = run_job_against(srv, pki());
    test::expect_balanced(r.job);
    EXPECT_EQ(cli::decide_exit(r.job, false).code, 2) << "a redirect means the route is wrong: exit 2 as documented";
    EXPECT_EQ(r.job.context.stop_reason, "configuration");
    EXPECT_EQ(r.job.totals.pending_pairs, 3u);
    EXPECT_EQ(r.job.totals.done_pairs, 0u);
    EXPECT_NE(r.job.stop_message.find("redirects are never followed"), std::string::npos) << r.job.stop_message;
    EXPECT_EQ(r.server.request_heads.size(), 1u) << "one request, then stop";
    EXPECT_EQ(target.stats().connections, 0u) << "the token must never follow a redirect";
  }
}

// Regression (found by this suite): the session kept its read buffer across
// reconnects and across requests, so bytes a server sent beyond one response
// were parsed as the answer to the next request. Here every answer is a 500
// followed by an unsolicited 204: the 204 must never settle a batch.
TEST(hostile_server, unsolicited_bytes_after_a_response_never_answer_the_next_request) {
  tls_test_server srv(server_ctx(), [](tls_test_server::connection& c) {
    while (c.read_request())
      if (!c.write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
                   "HTTP/1.1 204 No Content\r\n\r\n"))
        return;
  });
  auto r = run_job_against(srv, pki());
  test::expect_balanced(r.job);
  EXPECT_EQ(r.job.totals.done_pairs, 0u) << "a 204 nobody asked for archived the batch";
  EXPECT_EQ(r.job.totals.failed_pairs, 3u);
  EXPECT_EQ(r.job.totals.http_status[500], 2u);
  EXPECT_EQ(r.job.totals.http_status.count(204), 0u);
  EXPECT_EQ(r.server.request_heads.size(), 2u);
}

// Regression (same bug, other half): after a transport error mid-response
// the leftover bytes of the old connection were read as the start of the
// next connection's response ("bad version" instead of the real outcome).
TEST(hostile_server, a_reconnect_starts_with_an_empty_buffer) {
  std::atomic<int> connection_no{0};
  tls_test_server srv(server_ctx(), [&connection_no](tls_test_server::connection& c) {
    if (!c.read_request()) return;
    if (connection_no++ == 0) {  // first connection: a body over the cap, then more junk
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + std::string(1 << 20, 'j'));
      return;
    }
    c.write("HTTP/1.1 204 No Content\r\n\r\n");
  });
  auto r = run_job_against(srv, pki());
  test::expect_balanced(r.job);
  EXPECT_EQ(r.job.totals.done_pairs, 3u) << "the retry on a fresh connection must read the fresh 204";
  EXPECT_EQ(r.job.totals.transport_errors, 1u);
  EXPECT_EQ(r.job.totals.connections_opened, 2u);
}

// A server's texts reach stderr (the stop message) and the failures file:
// terminal escape sequences and line breaks in them are neutralised.
TEST(hostile_server, escape_sequences_in_error_texts_never_reach_the_terminal) {
  for (int status : {401, 500}) {
    SCOPED_TRACE(status);
    tls_test_server srv(server_ctx(), [status](tls_test_server::connection& c) {
      const std::string body = "{\"status\":\"error\",\"message\":\"\\u001b]0;owned\\u0007\\u001b[2J\\nhubbatch: "
                               "all pairs archived\\u009b1m\",\"category\":\"\\u001b[31mX\"}";
      while (c.read_request())
        if (!c.write("HTTP/1.1 " + std::to_string(status) + " Nope\r\nContent-Type: application/json\r\n"
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body))
          return;
    });
    auto r = run_job_against(srv, pki());
    test::expect_balanced(r.job);
    for (const std::string* text : {&r.job.stop_message, &r.failures}) {
      EXPECT_EQ(text->find('\x1b'), std::string::npos) << *text;
      EXPECT_EQ(text->find('\x07'), std::string::npos) << *text;
      EXPECT_EQ(text->find("\xc2\x9b"), std::string::npos) << *text;
    }
    EXPECT_EQ(r.job.stop_message.find('\n'), std::string::npos) << r.job.stop_message;
    if (status == 500) {
      // One line per pair in the failures file, header included.
      std::size_t lines = 0;
      for (char ch : r.failures) lines += ch == '\n';
      EXPECT_EQ(lines, 4u) << r.failures;
    }
  }
}

// A server that answers nothing but 429 (no Retry-After: the client pauses
// 1 s each time) must not hold a job forever: after --throttle-timeout of
// nothing else the run stops, every pair pending and resumable (exit 3).
TEST(hostile_server, nothing_but_429s_stops_at_the_throttle_timeout) {
  tls_test_server srv(server_ctx(), [](tls_test_server::connection& c) {
    const std::string body = "{\"status\":\"error\",\"message\":\"You have reached your ten_secondly_rolling limit.\","
                             "\"errorType\":\"RATE_LIMIT\",\"policyName\":\"TEN_SECONDLY_ROLLING\"}";
    while (c.read_request())
      if (!c.write("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body))
        return;
  });
  auto r = run_job_against(srv, pki(), [](engine::archive_config& c) { c.throttle_timeout = std::chrono::seconds(2); });
  test::expect_balanced(r.job);
  EXPECT_EQ(cli::decide_exit(r.job, false).code, 3);
  EXPECT_EQ(r.job.context.stop_reason, "rate_limited");
  EXPECT_EQ(r.job.totals.pending_pairs, 3u);
  EXPECT_GE(r.job.totals.rate_limited, 2u) << "a 429 at t=0 and at least one 1 s later";
  EXPECT_LT(r.seconds, 20.0);
}

// Retry-After: 86400 (a day) on a 503 or a 477 stops the run instead of
// parking it (exit 3, pending), however the server phrases it.
TEST(hostile_server, a_day_long_retry_after_stops_instead_of_sleeping) {
  for (const std::string status : {"503 Service Unavailable", "477 Migration In Progress", "429 Too Many Requests"}) {
    SCOPED_TRACE(status);
    tls_test_server srv(server_ctx(), [status](tls_test_server::connection& c) {
      while (c.read_request())
        if (!c.write("HTTP/1.1 " + status + "\r\nRetry-After: 86400\r\nContent-Length: 0\r\n\r\n")) return;
    });
    auto r = run_job_against(srv, pki());
    test::expect_balanced(r.job);
    EXPECT_EQ(cli::decide_exit(r.job, false).code, 3);
    EXPECT_EQ(r.job.context.stop_reason, "retry_after");
    EXPECT_NE(r.job.stop_message.find("86400 s"), std::string::npos) << r.job.stop_message;
    EXPECT_EQ(r.job.totals.pending_pairs, 3u);
    EXPECT_EQ(r.server.request_heads.size(), 1u);
    EXPECT_LT(r.seconds, 20.0);
  }
}
