// The archive job: one io_context, one feeder coroutine reading the input,
// cfg.connections session coroutines each owning one keep-alive connection
// (STYLE.md rule 3), and a dispatcher deciding what each response means.
// Everything runs on one thread, so the shared state needs no locks.
#include "engine/job.hpp"

#include "codec/archive_encoder.hpp"
#include "codec/response.hpp"
#include "engine/dispatcher.hpp"
#include "engine/grouper.hpp"
#include "engine/rate_limiter.hpp"
#include "io/pair_reader.hpp"
#include "io/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/version.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <type_traits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Quotes a CSV field when it needs it (RFC 4180).
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// The failures file: one CSV line per pair not archived, readable back as
// --input (the header names from_id/to_id; extra columns are ignored).
class failures_file {
 public:
  explicit failures_file(const std::string& path) {
    if (path.empty()) return;
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) throw std::runtime_error("cannot write failures file '" + path + "': " + std::strerror(errno));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
    std::fputs("from_id,to_id,outcome,category,http_status,message\n", file_);
  }
  ~failures_file() {
    if (file_) std::fclose(file_);
  }
  failures_file(const failures_file&) = delete;
  failures_file& operator=(const failures_file&) = delete;

  void pair(pair_id p, const pair_outcome& o) {
    if (!file_) return;
    std::string status = o.http_status ? std::to_string(o.http_status) : std::string();
    fmt::print(file_, "{},{},{},{},{},{}\n", p.from, p.to, o.outcome, csv_field(o.category), status,
               csv_field(o.message));
  }
  void rejected(std::uint64_t line, io::reject_reason r, std::string_view detail) {
    if (!file_) return;
    fmt::print(file_, ",,rejected,{},,{}\n", io::to_string(r),
               csv_field(fmt::format("line {}: {}: {}", line, io::to_string(r), detail)));
  }

 private:
  std::FILE* file_ = nullptr;
};

// A condition variable for coroutines on one thread: waiters park on their
// own timer with a deadline; notify_all() wakes them all early.
class notifier {
 public:
  void notify_all() {
    for (auto* t : waiters_) t->cancel();
  }
  asio::awaitable<void> wait(asio::steady_timer& t, time_point deadline) {
    t.expires_at(deadline);
    waiters_.push_back(&t);
    co_await t.async_wait(use_tuple);
    std::erase(waiters_, &t);
  }

 private:
  std::vector<asio::steady_timer*> waiters_;
};

// State shared by the feeder and the sessions (one thread, no locks).
struct job_state : io::pair_sink {
  job_state(const archive_config& c, const job_options& o, asio::io_context& io)
      : cfg(c),
        opt(o),
        ioc(io),
        failures(c.failures_path),
        grouper(c.group_window, c.batch_size, c.max_pairs_per_request),
        disp(make_dispatcher_options(c), totals,
             [this](pair_id p, const pair_outcome& out) { failures.pair(p, out); }),
        limiter(1, std::chrono::seconds(10)) {
    switch (c.rate) {
      case rate_mode::automatic: {
        controller.emplace(rate_controller::limit{100, std::chrono::seconds(10)}, c.rate_share);
        auto l = controller->current();
        limiter.set_limit(l.max, l.window);
        break;
      }
      case rate_mode::fixed: limiter.set_limit(c.rate_max, c.rate_window); break;
      case rate_mode::unlimited: limiter.set_limit(0, c.rate_window); break;
    }
  }

  static dispatcher::options make_dispatcher_options(const archive_config& c) {
    dispatcher::options o;
    o.max_retries = c.max_retries;
    o.max_inputs = c.batch_size;
    o.max_pairs = c.max_pairs_per_request;
    o.seed = c.seed ? c.seed : std::random_device{}();
    return o;
  }

  // pair_sink: the parser's output.
  void on_pair(pair_id p, std::uint64_t) override {
    ++totals.input_pairs;
    if (counting_only) {  // stopped: the rest of a file is counted, not sent
      ++totals.pending_pairs;
      failures.pair(p, {"pending", to_string(disp.stopped()), 0, disp.stop_message()});
      return;
    }
    if (!grouper.add(p)) {
      ++totals.duplicate_pairs;
      return;
    }
    ++grouped_since_flush;
    while (grouper.full()) take_one_batch();
  }
  void on_reject(std::uint64_t line, io::reject_reason r, std::string_view detail) override {
    ++totals.input_pairs;
    ++totals.rejected_pairs;
    ++totals.rejected_by_reason[io::to_string(r)];
    failures.rejected(line, r, detail);
    if (!opt.quiet && ++rejects_printed <= 10)
      fmt::print(stderr, "hubbatch: {}:{}: rejected: {}: {}\n", input_name, line, io::to_string(r), detail);
  }

  void take_one_batch() {
    sync_caps();
    std::vector<pair_id> batch;
    if (grouper.take_batch(batch)) {
      ++totals.batches;
      disp.add(std::move(batch));
    }
  }
  void flush_grouper() {
    while (!grouper.empty()) take_one_batch();
    grouped_since_flush = 0;
  }
  // After a "batch too large" the dispatcher halves its caps; the grouper follows.
  void sync_caps() {
    if (grouper.max_inputs() != disp.max_inputs() || grouper.max_pairs() != disp.max_pairs())
      grouper.set_limits(disp.max_inputs(), disp.max_pairs());
  }

  bool finished() const { return reading_done && disp.queued() == 0 && disp.in_flight() == 0; }

  void stop(stop_reason why, std::string message) {
    disp.stop(why, std::move(message));
    if (stdin_desc) {
      boost::system::error_code ec;
      stdin_desc->cancel(ec);
    }
    wake.notify_all();
  }

  const archive_config& cfg;
  const job_options& opt;
  asio::io_context& ioc;
  counters totals;
  failures_file failures;
  pair_grouper grouper;
  dispatcher disp;
  window_limiter limiter;
  std::optional<rate_controller> controller;
  notifier wake;
  std::string input_name;
  bool reading_done = false;
  bool counting_only = false;
  std::uint64_t grouped_since_flush = 0;
  std::uint64_t rejects_printed = 0;
  asio::posix::stream_descriptor* stdin_desc = nullptr;
  time_point last_input{};
  std::optional<std::int64_t> daily_remaining;  // last X-HubSpot-RateLimit-Daily-Remaining seen
  std::uint64_t acquired = 0;                   // limiter slots taken so far
};

// ---------------------------------------------------------------- input

// Input from a pipe may pause: after cfg.stdin_linger without new bytes,
// waiting pairs go out even though the group window is not full.
asio::awaitable<void> linger_flusher(job_state& j) {
  asio::steady_timer timer(j.ioc);
  while (!j.reading_done && j.disp.stopped() == stop_reason::none) {
    co_await j.wake.wait(timer, clock::now() + j.cfg.stdin_linger);
    // Only when the connections have nothing else to send: flushing early
    // would cut groups short that more input could still fill.
    if (!j.grouper.empty() && j.disp.queued() == 0 && clock::now() - j.last_input >= j.cfg.stdin_linger) {
      j.flush_grouper();
      j.wake.notify_all();
    }
  }
}

asio::awaitable<void> feed_input(job_state& j) {
  int fd = 0;
  if (j.cfg.input != "-") {
    fd = ::open(j.cfg.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open input '" + j.cfg.input + "': " + std::strerror(errno));
  }
  struct stat st {};
  ::fstat(fd, &st);
  bool regular = S_ISREG(st.st_mode);
  const io::input_watch watch(fd);  // a file appended to or truncated meanwhile (issue 7)
  std::uint64_t bytes_read = 0;
  io::input_format format = j.cfg.format ? *j.cfg.format : io::input_format_for_path(j.cfg.input);
  io::pair_parser parser(format, j.cfg.max_line_bytes);
  std::vector<char> buf(1 << 16);
  asio::steady_timer timer(j.ioc);
  // Enough ready batches to keep every connection busy; beyond that, stop reading.
  const std::size_t high_water = static_cast<std::size_t>(j.cfg.connections) * 4 + 4;

  std::optional<asio::posix::stream_descriptor> desc;
  if (!regular) {
    desc.emplace(j.ioc, ::dup(fd));
    j.stdin_desc = &*desc;
    asio::co_spawn(j.ioc, linger_flusher(j), asio::detached);
  }
  for (;;) {
    if (j.disp.stopped() != stop_reason::none) {
      if (!regular) break;  // a pipe may never end: stop reading it
      j.counting_only = true;
    }
    while (!j.counting_only && j.disp.queued() >= high_water && j.disp.stopped() == stop_reason::none)
      co_await j.wake.wait(timer, time_point::max());
    if (j.disp.stopped() != stop_reason::none && !regular) break;
    std::size_t n = 0;
    if (regular) {
      ssize_t r = ::read(fd, buf.data(), buf.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("cannot read input '" + j.cfg.input + "': " + std::strerror(errno));
      }
      n = static_cast<std::size_t>(r);
    } else {
      auto [ec, r] = co_await desc->async_read_some(asio::buffer(buf), use_tuple);
      if (ec == asio::error::operation_aborted) continue;  // stop() cancelled the read
      if (ec && ec != asio::error::eof)
        throw std::runtime_error("cannot read input '" + j.input_name + "': " + ec.message());
      n = r;
    }
    if (n == 0) break;
    bytes_read += n;
    j.last_input = clock::now();
    parser.feed(std::string_view(buf.data(), n), j);
    j.wake.notify_all();
    if (regular) co_await asio::post(j.ioc, asio::use_awaitable);  // let sessions run between chunks
  }
  const std::string change = watch.changed(fd, bytes_read);  // "" for pipes
  if (!change.empty()) fmt::print(stderr, "hubbatch: warning: {}: {}\n", j.input_name, change);
  parser.finish(j, change.empty());  // a cut last line is rejected, never sent
  if (fd != 0) ::close(fd);
  j.stdin_desc = nullptr;
  j.flush_grouper();
  j.reading_done = true;
  j.wake.notify_all();
}

// ---------------------------------------------------------------- sessions

template <bool Tls>
using stream_t = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

template <bool Tls>
class session {
 public:
  session(job_state& j, const endpoint_url& url, asio::ssl::context* tls_ctx, std::string target)
      : j_(j), url_(url), tls_ctx_(tls_ctx), timer_(j.ioc), resolver_(j.ioc) {
    req_.method(http::verb::post);
    req_.target(target);
    req_.version(11);
    bool default_port = url.port == (Tls ? "443" : "80");
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req_.set(http::field::host, default_port ? host : host + ":" + url.port);
    req_.set(http::field::authorization, "Bearer " + j.opt.token);
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::accept, "application/json");
    req_.set(http::field::user_agent, std::string("hubbatch/") + HUBBATCH_VERSION);
    req_.keep_alive(true);
  }

  asio::awaitable<void> run() {
    for (;;) {
      std::optional<work_item> item = co_await next_item();
      if (!item) break;
      if (!co_await wait_for_slot()) {
        j_.disp.give_back(std::move(*item));
        break;
      }
      auto now = clock::now();
      // What the server can count of ours when it answers: everything
      // occupying a slot now, plus everything sent after (see attempt()).
      own_base_ = j_.limiter.occupied(now);
      own_seq_ = j_.acquired;
      j_.limiter.acquire(now);
      ++j_.acquired;
      co_await attempt(std::move(*item));
      j_.sync_caps();
      j_.wake.notify_all();
    }
    close();
  }

 private:
  // The next batch to send, or nullopt when the job is finished or stopping.
  asio::awaitable<std::optional<work_item>> next_item() {
    for (;;) {
      if (j_.disp.stopped() != stop_reason::none) co_return std::nullopt;
      auto now = clock::now();
      if (auto item = j_.disp.take(now)) co_return item;
      if (j_.finished()) {
        j_.wake.notify_all();
        co_return std::nullopt;
      }
      co_await j_.wake.wait(timer_, j_.disp.next_due());
    }
  }

  // Waits until the limiter and any 429 pause allow a request; false if stopping.
  asio::awaitable<bool> wait_for_slot() {
    for (;;) {
      if (j_.disp.stopped() != stop_reason::none) co_return false;
      auto now = clock::now();
      time_point t = std::max(j_.limiter.ready_at(now), j_.disp.rate_pause_until());
      if (t <= now) co_return true;
      co_await j_.wake.wait(timer_, t);
    }
  }

  asio::awaitable<boost::system::error_code> connect() {
    close();
    auto [rec, results] = co_await resolver_.async_resolve(url_.host, url_.port, use_tuple);
    if (rec) co_return rec;
    if constexpr (Tls) stream_.emplace(j_.ioc, *tls_ctx_);
    else stream_.emplace(j_.ioc);
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.connect_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(results, use_tuple);
    if (cec) co_return cec;
    tcp_layer.socket().set_option(tcp::no_delay(true));
    if constexpr (Tls) {
      if (!io::set_client_peer_name(stream_->native_handle(), url_.host))
        co_return asio::error::make_error_code(asio::error::invalid_argument);
      tcp_layer.expires_after(j_.cfg.handshake_timeout);
      auto [hec] = co_await stream_->async_handshake(asio::ssl::stream_base::client, use_tuple);
      if (hec) co_return io::explain_handshake_error(stream_->native_handle(), hec);  // names the cause
    }
    ++j_.totals.connections_opened;
    co_return boost::system::error_code{};
  }

  void close() {
    if (!stream_) return;
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
    stream_.reset();
    buffer_.consume(buffer_.size());  // bytes of the old connection must not be read as the next response
  }

  void transport_failure(work_item&& item, std::string what, const boost::system::error_code& ec, bool written) {
    close();
    if (written) j_.limiter.complete(clock::now());
    else j_.limiter.cancel();
    error_text_ = what + ": " + ec.message();
    attempt_result r;
    r.what = attempt_result::kind::transport_error;
    r.error = error_text_;
    r.request_written = written;
    j_.disp.on_result(std::move(item), r, clock::now());
  }

  asio::awaitable<void> attempt(work_item item) {
    if (!stream_) {
      auto ec = co_await connect();
      if (ec) {
        transport_failure(std::move(item), "connect to " + url_.host + ":" + url_.port, ec, false);
        co_return;
      }
    }
    req_.body().clear();
    codec::encode_archive_body(item.pairs, req_.body());
    req_.prepare_payload();
    ++j_.totals.requests;
    if (item.resend) ++j_.totals.retries;
    j_.totals.sent_pairs += item.pairs.size();
    j_.totals.sent_inputs += codec::count_inputs(item.pairs);

    auto started = clock::now();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.request_timeout);
    auto [wec, wn] = co_await http::async_write(*stream_, req_, use_tuple);
    if (wec) {
      // Some bytes may have reached the server (e.g. a stale keep-alive
      // connection reset mid-write): count the slot, resend later.
      transport_failure(std::move(item), "write", wec, true);
      co_return;
    }
    parser_.emplace();
    parser_->body_limit(j_.cfg.max_response_bytes);
    parser_->header_limit(64 * 1024);
    auto [rec, rn] = co_await http::async_read(*stream_, buffer_, *parser_, use_tuple);
    if (rec) {
      transport_failure(std::move(item), "read response", rec, true);
      co_return;
    }
    auto now = clock::now();
    tcp_layer.expires_never();
    // Our requests the server may have counted in its window when it
    // answered: those occupying a slot when this one was sent plus all sent
    // since (this one included). An upper bound, so the estimate of other
    // clients' use never comes out too high; the limiter's own occupied(now)
    // can miss requests that left our window but not yet the server's.
    int own_occupied = own_base_ + static_cast<int>(j_.acquired - own_seq_);
    j_.limiter.complete(now);
    j_.totals.latency_ms.add(std::chrono::duration<double, std::milli>(now - started).count());

    auto& res = parser_->get();
    headers_ = {};
    for (const auto& f : res) headers_.offer(f.name_string(), f.value());
    decoder_.decode(res.body(), decoded_);
    codec::redact(decoded_, j_.opt.token);  // a server echoing the token must not get it logged (issue 7)
    if (j_.controller) {
      bool changed = j_.controller->on_response(headers_.max.value_or(-1), headers_.remaining.value_or(-1),
                                                headers_.interval_ms.value_or(-1), own_occupied, now);
      // A 429 for the rolling window is the one signal that the limit is too
      // high even when Remaining (clamped at 0) cannot say by how much.
      if (res.result_int() == 429 && decoded_.policy_name != "DAILY")
        changed = j_.controller->on_rate_limited(own_occupied, now) || changed;
      if (changed) {
        auto l = j_.controller->current();
        j_.limiter.set_limit(l.max, l.window);
      }
    }
    if (headers_.daily_remaining) j_.daily_remaining = *headers_.daily_remaining;
    bool keep = res.keep_alive();
    attempt_result r;
    r.status = static_cast<int>(res.result_int());
    r.body = &decoded_;
    r.headers = &headers_;
    j_.disp.on_result(std::move(item), r, now);
    if (!keep || buffer_.size() != 0) close();  // bytes beyond the response: unsolicited, never a later answer
  }

  job_state& j_;
  const endpoint_url& url_;
  asio::ssl::context* tls_ctx_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  std::optional<stream_t<Tls>> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  codec::response_decoder decoder_;
  codec::decoded_response decoded_;
  codec::rate_limit_headers headers_;
  std::string error_text_;
  int own_base_ = 0;          // limiter.occupied() just before this request took its slot
  std::uint64_t own_seq_ = 0;  // job_state::acquired just before this request took its slot
};

void rethrow_if(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

int exit_code_for(const counters& c, stop_reason stop) {
  if (stop == stop_reason::auth) return 4;
  if (stop == stop_reason::configuration) return 2;
  if (c.pending_pairs > 0) return 3;
  if (c.failed_pairs > 0 || c.rejected_pairs > 0) return 1;
  return 0;
}

}  // namespace

job_result run_job(const archive_config& cfg, const job_options& opt) {
  std::string url_error;
  auto url = parse_base_url(cfg.base_url, url_error);
  if (!url) throw std::runtime_error(url_error);
  if (!valid_token(opt.token))  // never print it: it may be a real token with a stray byte
    throw std::runtime_error("the access token must be 1-4096 visible ASCII characters (no spaces, CR or LF)");
  std::optional<asio::ssl::context> tls_ctx;
  if (url->tls)
    tls_ctx.emplace(opt.ca_pem.empty() ? io::make_client_context(cfg.ca_file)
                                       : io::make_client_context_from_pem(opt.ca_pem));
  if (cfg.input != "-" && ::access(cfg.input.c_str(), R_OK) != 0)
    throw std::runtime_error("cannot read input '" + cfg.input + "': " + std::strerror(errno));

  asio::io_context ioc(1);
  job_state j(cfg, opt, ioc);
  j.input_name = cfg.input == "-" ? "<stdin>" : cfg.input;
  auto started = clock::now();
  std::string target = archive_target(cfg.api_version, cfg.from_type, cfg.to_type);

  std::exception_ptr failure;
  asio::signal_set signals(ioc);
  int live_tasks = 0;
  // Spawns a task; when the last one ends, the signal wait is dropped so run() returns.
  auto spawn = [&](asio::awaitable<void> task) {
    ++live_tasks;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
      if (e && !failure) {
        failure = e;
        j.stop(stop_reason::interrupted, "internal error");
      }
      if (--live_tasks == 0) {
        boost::system::error_code ec;
        signals.cancel(ec);
      }
    });
  };
  spawn(feed_input(j));

  std::vector<std::unique_ptr<session<true>>> tls_sessions;
  std::vector<std::unique_ptr<session<false>>> plain_sessions;
  for (int i = 0; i < cfg.connections; ++i) {
    if (url->tls) {
      tls_sessions.push_back(std::make_unique<session<true>>(j, *url, &*tls_ctx, target));
      spawn(tls_sessions.back()->run());
    } else {
      plain_sessions.push_back(std::make_unique<session<false>>(j, *url, nullptr, target));
      spawn(plain_sessions.back()->run());
    }
  }

  std::function<void(const boost::system::error_code&, int)> on_signal;
  if (opt.handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    on_signal = [&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (j.disp.stopped() == stop_reason::interrupted) std::_Exit(3);  // second signal: leave now
      fmt::print(stderr, "hubbatch: {} received: finishing in-flight requests, then stopping (again to exit now)\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
      j.stop(stop_reason::interrupted, sig == SIGINT ? "interrupted by SIGINT" : "terminated by SIGTERM");
      signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);
  }
  ioc.run();
  rethrow_if(failure);

  // Whatever is still waiting after a stop is pending.
  j.flush_grouper();
  j.disp.drain_pending();

  job_result out;
  out.totals = j.totals;
  out.required_scopes = j.disp.required_scopes();
  out.stop_message = j.disp.stop_message();
  auto& ctx = out.context;
  ctx.from_type = cfg.from_type;
  ctx.to_type = cfg.to_type;
  ctx.api_version = cfg.api_version;
  ctx.base_url = cfg.base_url;
  ctx.effective_rate_max = j.limiter.max();
  ctx.effective_rate_window_s = std::chrono::duration<double>(j.limiter.window()).count();
  ctx.elapsed_s = std::chrono::duration<double>(clock::now() - started).count();
  ctx.stop_reason = to_string(j.disp.stopped());
  ctx.exit_code = exit_code_for(out.totals, j.disp.stopped());
  out.invariant_error = out.totals.check();
  return out;
}

}  // namespace hubbatch::engine
