// The "send" step: one coroutine per keep-alive connection (STYLE.md rule
// 3) takes a batch from the dispatcher, waits for a rate slot, sends the
// operation's request and hands the decoded response back as an
// attempt_result.
#include "engine/session.hpp"

#include "codec/read_response.hpp"
#include "codec/response.hpp"
#include "io/proxy_tunnel.hpp"
#include "io/secret.hpp"
#include "io/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

namespace hubbatch::engine {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <bool Tls>
using stream_t = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

template <bool Tls>
class session {
 public:
  session(job_state& j, const endpoint_url& url, asio::ssl::context* tls_ctx, const std::string& path,
          const endpoint_url* proxy = nullptr)
      : j_(j), url_(url), proxy_(proxy), tls_ctx_(tls_ctx), timer_(j.ioc), resolve_timer_(j.ioc), resolver_(j.ioc),
        path_(path) {
    // Beast reads at most max(512, capacity - size) bytes at a time, and an
    // empty flat_buffer grows only when the parser leaves it full: room
    // reserved here lets one read take a whole TLS record.
    buffer_.reserve(read_room);
    // The request head after the target, written by hand up to its
    // Content-Length value: the same for every request of the job (host is
    // validated, the token is visible ASCII: nothing here needs escaping).
    // The target is the job's path plus the operation's route for the batch.
    bool default_port = url.port == (Tls ? "443" : "80");
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    if (!default_port) host += ":" + url.port;
    head_ = " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer ";
    head_ += j.opt.token;
    head_ += "\r\nContent-Type: application/json\r\nAccept: application/json\r\nUser-Agent: hubbatch/";
    head_ += HUBBATCH_VERSION;
    head_ += "\r\nContent-Length: ";
  }

  // head_ and wire_ hold "Bearer TOKEN": overwrite them before their memory
  // is freed (io/secret.hpp). Each request goes out as one buffer, so
  // Beast's ssl_stream never copies it into a buffer of its own.
  ~session() {
    io::wipe(head_);
    io::wipe(wire_);
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  asio::awaitable<void> run() {
    j_.aborters.push_back([this] { abort(); });
    ++j_.active_sessions;
    struct leave {
      job_state& j;
      ~leave() {
        --j.active_sessions;
        j.wake.notify_all();
      }
    } on_exit{j_};
    for (;;) {
      // A rate slot first, then a batch: batches wait in the dispatcher's
      // queue, where queued() counts them and a "too many inputs" re-split
      // reaches them, never in a session's frame.
      if (!co_await wait_until_sendable()) break;
      const auto now = clock::now();
      std::optional<work_item> item = j_.disp.take(now);  // may stop the run (--max-requests)
      if (!item) {
        if (j_.disp.stopped() != stop_reason::none) j_.on_stopped();
        continue;
      }
      j_.space.notify_one();
      // What the server can count of ours when it answers: everything
      // occupying a slot now, plus everything sent after (see attempt()).
      own_base_ = j_.limiter.occupied(now);
      own_seq_ = j_.acquired;
      j_.limiter.acquire(now);
      ++j_.acquired;
      co_await attempt(std::move(*item));
      if (j_.disp.stopped() != stop_reason::none) j_.on_stopped();
      else if (j_.finished()) j_.notify_everyone();
      else j_.work.notify_one();  // a slot was released, or the batch queued again
    }
    close();
  }

 private:
  // Waits until a batch is due and the limiter and any 429 pause allow a
  // request; false when the run is stopping or the work is done.
  asio::awaitable<bool> wait_until_sendable() {
    for (;;) {
      if (j_.disp.stopped() != stop_reason::none) co_return false;
      if (j_.finished()) {
        j_.notify_everyone();
        co_return false;
      }
      const auto now = clock::now();
      // next_due() includes the 429 pause; max() while nothing is queued.
      const time_point t = std::max(j_.limiter.ready_at(now), j_.disp.next_due());
      if (t <= now) co_return true;
      co_await j_.work.wait(timer_, t);
    }
  }

  asio::awaitable<boost::system::error_code> connect() {
    close();
    tcp_connected_ = false;
    const endpoint_url& first_hop = proxy_ ? *proxy_ : url_;
    // getaddrinfo has no deadline of its own: cancel it at connect_timeout
    // (and on abort()), so a DNS server that never answers costs one timeout.
    resolve_timer_.expires_after(j_.cfg.connect_timeout);
    resolve_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) resolver_.cancel();
    });
    auto [rec, results] = co_await resolver_.async_resolve(first_hop.host, first_hop.port, use_tuple);
    resolve_timer_.cancel();
    if (rec == asio::error::operation_aborted)
      co_return asio::error::make_error_code(asio::error::timed_out);  // "resolve: Connection timed out"
    if (rec) co_return rec;
    if constexpr (Tls) stream_.emplace(j_.ioc, *tls_ctx_);
    else stream_.emplace(j_.ioc);
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.connect_timeout);
    auto [cec, ep] = co_await tcp_layer.async_connect(results, use_tuple);
    if (cec) co_return cec;
    tcp_connected_ = true;
    j_.disp.note_connected();
    tcp_layer.socket().set_option(tcp::no_delay(true));
    if (proxy_) {
      std::string refusal;
      auto ec = co_await io::connect_tunnel(tcp_layer, {url_.host, url_.port, proxy_->basic_credentials}, refusal);
      if (!refusal.empty())
        spdlog::warn("proxy {}:{} refused CONNECT {}:{}: {}", proxy_->host, proxy_->port, url_.host, url_.port, refusal);
      if (ec) co_return ec;
    }
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

  // Drain timeout: fail the request in progress; its coroutine then cleans up.
  void abort() {
    resolver_.cancel();
    if (!stream_) return;
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
  }

  void close() {
    if (!stream_) return;
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().close(ec);
    stream_.reset();
    buffer_.consume(buffer_.size());  // bytes of the old connection must not be read as the next response
  }

  void transport_failure(work_item&& item, std::string what, const boost::system::error_code& ec, bool written,
                         attempt_result::kind kind = attempt_result::kind::transport_error) {
    close();
    if (written) j_.limiter.complete(clock::now());
    else j_.limiter.cancel();
    error_text_ = what + ": " + ec.message();
    spdlog::debug("transport error for a batch of {} pairs: {}", item.pairs.size(), error_text_);
    attempt_result r;
    r.what = kind;
    r.error = error_text_;
    r.request_written = written;
    r.too_large = ec == http::error::body_limit;
    j_.disp.on_result(std::move(item), r, clock::now());
    j_.flush_journal();
  }

  asio::awaitable<void> attempt(work_item item) {
    if (!stream_) {
      auto ec = co_await connect();
      if (ec) {
        // A certificate that fails verification (or a server below TLS 1.2),
        // and a host that cannot be resolved or connected to, are kinds of
        // their own: the dispatcher decides whether they stop the run.
        const auto kind = ec.category() == io::tls_category() ? attempt_result::kind::tls_failure
                          : !tcp_connected_                   ? attempt_result::kind::connect_error
                                                              : attempt_result::kind::transport_error;
        transport_failure(std::move(item), "connect to " + url_.host + ":" + url_.port, ec, false, kind);
        co_return;
      }
    }
    const std::string_view request = encode_request(item);
    j_.on_send(item);
    ++j_.totals.requests;
    if (item.resend) ++j_.totals.retries;
    j_.totals.sent_pairs += item.pairs.size();
    j_.totals.sent_inputs += j_.op.inputs(item.pairs);

    auto started = clock::now();
    auto& tcp_layer = beast::get_lowest_layer(*stream_);
    tcp_layer.expires_after(j_.cfg.request_timeout);
    auto [wec, wn] = co_await asio::async_write(*stream_, asio::buffer(request), use_tuple);
    if (wec) {
      // Some bytes may have reached the server (e.g. a stale keep-alive
      // connection reset mid-write): count the slot, resend later.
      transport_failure(std::move(item), "write", wec, true);
      co_return;
    }
    parser_.emplace();
    parser_->body_limit(j_.cfg.max_response_bytes);
    parser_->header_limit(response_header_limit);
    // The last response's body buffer, emptied: with its capacity the body
    // and the decoder's padding usually fit without an allocation.
    response_body_.clear();
    parser_->get().body() = std::move(response_body_);
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
    attempt_result r;
    r.status = static_cast<int>(res.result_int());
    if (j_.op.reads() && j_.op.success(r.status)) {
      decode_page(res.body());  // rows and cursors; errors[] read as everywhere else
      r.read = &j_.page;
    } else {
      decoder_.decode(res.body(), decoded_);
    }
    if (res.body().capacity() <= max_kept_body) response_body_ = std::move(res.body());
    codec::redact(decoded_, j_.opt.token);  // a server echoing the token must not get it logged (issue 7)
    bool keep = res.keep_alive();
    r.body = &decoded_;
    r.headers = &headers_;
    const std::size_t pairs = item.pairs.size();
    const std::size_t size_before = j_.disp.max_inputs();
    const int refusals_before = j_.disp.sizing().refusals();
    j_.disp.on_result(std::move(item), r, now);
    if (j_.disp.sizing().refusals() != refusals_before)
      spdlog::info("batch size settles at {} inputs: the server refused a larger batch ({})", j_.disp.max_inputs(),
                   decoded_.message.empty() ? "too many inputs" : decoded_.message);
    else if (j_.disp.max_inputs() != size_before)
      spdlog::debug("batch size {} -> {} inputs", size_before, j_.disp.max_inputs());
    follow_pace(own_occupied, now - started, r.status, now);
    log_response(r.status, pairs);
    j_.flush_journal();
    if (!keep || buffer_.size() != 0) close();  // bytes beyond the response: unsolicited, never a later answer
  }

  // A reading operation's 2xx: the page into the job's page (one for all
  // sessions, see job_state::read_decoder), and what the dispatcher reads of
  // every answer (kind, errors[]) into decoded_.
  void decode_page(std::string& body) {
    codec::decoded_read& page = j_.page;
    if (page.rows.capacity() > max_kept_rows) page.rows = {};  // the last page was a big one
    j_.read_decoder.decode(body, page);
    decoded_.clear();
    decoded_.kind = page.kind;
    decoded_.status = std::move(page.status);
    decoded_.message = std::move(page.message);
    decoded_.errors = std::move(page.errors);
    decoded_.num_errors = page.num_errors;
  }

  // The request for `item` in wire_: the body is encoded straight into it
  // after head_room_ bytes, then the head is written just in front of the
  // body, so the body is never copied. Returns the bytes to send.
  std::string_view encode_request(const work_item& item) {
    const std::string_view route = j_.op.route(item.pairs);
    constexpr std::string_view method = "POST ", end_of_head = "\r\n\r\n";
    const std::size_t fixed = method.size() + path_.size() + route.size() + head_.size() + end_of_head.size();
    // Only grows, so the spaces below overwrite the whole of the last head
    // (the token) before encode() may move wire_ to a bigger buffer.
    head_room_ = std::max(head_room_, fixed + std::numeric_limits<std::size_t>::digits10 + 1);
    wire_.assign(head_room_, ' ');
    if (item.after.empty()) j_.op.encode(item.pairs, wire_);
    else j_.op.encode_pages(item.pairs, item.after, wire_);
    char length[std::numeric_limits<std::size_t>::digits10 + 1];
    const auto [length_end, ec] = std::to_chars(std::begin(length), std::end(length), wire_.size() - head_room_);
    const std::string_view length_text(length, static_cast<std::size_t>(length_end - length));
    const std::size_t start = head_room_ - fixed - length_text.size();
    char* out = wire_.data() + start;
    for (std::string_view part :
         {method, std::string_view(path_), route, std::string_view(head_), length_text, end_of_head})
      out = std::copy(part.begin(), part.end(), out);
    return std::string_view(wire_).substr(start);
  }

  // The pace (engine/pacing.hpp) learns from every answer: its rate
  // headers, the dispatcher's word on whether it was a 429 for a short
  // window (the one signal that the limit is too high even when Remaining,
  // clamped at 0, cannot say by how much), its status and its latency.
  void follow_pace(int own_occupied, duration latency, int status, time_point now) {
    pace_answer a;
    a.max = headers_.max.value_or(-1);
    a.remaining = headers_.remaining.value_or(-1);
    a.interval_ms = headers_.interval_ms.value_or(-1);
    a.daily_headers = headers_.daily || headers_.daily_remaining;
    a.own_base = own_base_;
    a.own_occupied = own_occupied;
    a.status = status;
    a.policy = decoded_.policy_name;
    a.throttled = j_.disp.last_throttled();
    a.latency = latency;
    const int switches = j_.pace.switches();
    const auto* pacer = j_.pace.adaptive();
    const int decreases = pacer ? pacer->decreases() : 0;
    if (!j_.pace.on_answer(a, now)) return;
    if (j_.pace.switches() != switches)
      spdlog::info("rate mode {}: {}", to_string(j_.pace.mode()), j_.pace.last_switch_evidence());
    else if ((pacer = j_.pace.adaptive()) && pacer->decreases() != decreases)
      spdlog::info("adaptive rate halved to {:.1f}/s: {}", pacer->rate(), pacer->last_reason());
    j_.apply_pace();
    j_.work.notify_all();  // every waiting session's slot time moved
  }

  // Responses worth a log line carry HubSpot's correlation id, for support
  // tickets. Called after the dispatcher decided: a response it resends is
  // news (info, quiet with --quiet), not a problem.
  void log_response(int status, std::size_t pairs) const {
    if (status < 400 && decoded_.num_errors == 0) return;
    const std::string& id = !headers_.correlation_id.empty() ? headers_.correlation_id : decoded_.correlation_id;
    const int retry = j_.disp.last_retry();
    // A batch refused as too large is resent split (and said once, above).
    auto level = status == 429 || status < 400 || decoded_.batch_too_large ? spdlog::level::debug
                 : retry > 0                   ? (j_.opt.quiet ? spdlog::level::debug : spdlog::level::info)
                                               : spdlog::level::warn;
    if (!spdlog::should_log(level)) return;
    std::string what = !decoded_.category.empty() ? decoded_.category
                       : !decoded_.message.empty() ? decoded_.message
                                                   : std::string(codec::to_string(decoded_.kind)) + " body";
    if (status == 429 && !decoded_.policy_name.empty()) what += " " + decoded_.policy_name;
    if (status < 400) what = fmt::format("{} error(s) in the response", decoded_.num_errors);
    if (retry > 0 && status != 429)
      what += fmt::format("; retrying (retry {} of {})", retry, j_.cfg.max_retries);
    spdlog::log(level, "HTTP {} for a batch of {} pairs: {} correlation_id={}", status, pairs, what,
                id.empty() ? "-" : id);
  }

  job_state& j_;
  const endpoint_url& url_;
  const endpoint_url* proxy_;  // HTTP CONNECT proxy, or null for a direct connection
  asio::ssl::context* tls_ctx_;
  asio::steady_timer timer_;
  asio::steady_timer resolve_timer_;  // the resolve's deadline
  tcp::resolver resolver_;
  std::optional<stream_t<Tls>> stream_;
  // Bytes read but not yet parsed: a response head (at most
  // response_header_limit) or a chunk header plus one read's worth. Beast
  // puts no limit on chunk extensions, so without this cap a server sending
  // "1;x=eeee…" forever would grow the buffer until the request deadline.
  static constexpr std::size_t response_header_limit = 64 * 1024;
  beast::flat_buffer buffer_{4 * response_header_limit};
  static constexpr std::size_t read_room = 64 * 1024;  // the most Beast's http::read asks for in one read
  std::string path_;  // associations_path(): the target up to the operation's route
  std::string head_;  // the request head from " HTTP/1.1" up to "Content-Length: " (holds the token)
  std::string wire_;  // head_room_ bytes, then the body: the current request from its head on (holds the token)
  std::size_t head_room_ = 0;  // bytes of wire_ before the body: the longest head so far plus its length
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string response_body_;  // the body buffer handed from one response to the next (capacity only)
  static constexpr std::size_t max_kept_body = 4 * response_header_limit;  // a bigger one is freed with its parser
  codec::response_decoder decoder_;
  codec::decoded_response decoded_;
  static constexpr std::size_t max_kept_rows = 8192;  // a bigger page's rows are freed before the next
  codec::rate_limit_headers headers_;
  std::string error_text_;
  bool tcp_connected_ = false;  // the last connect() got past TCP connect (the host is reachable)
  int own_base_ = 0;          // limiter.occupied() just before this request took its slot
  std::uint64_t own_seq_ = 0;  // job_state::acquired just before this request took its slot
};

}  // namespace

struct session_pool::impl {
  std::vector<std::unique_ptr<session<true>>> tls;
  std::vector<std::unique_ptr<session<false>>> plain;
};

session_pool::session_pool(job_state& j, const endpoint_url& url, const endpoint_url* proxy,
                           asio::ssl::context* tls_ctx, const std::string& path)
    : impl_(std::make_unique<impl>()) {
  for (int i = 0; i < j.cfg.connections; ++i) {
    if (url.tls) {
      impl_->tls.push_back(std::make_unique<session<true>>(j, url, tls_ctx, path, proxy));
      j.spawn(impl_->tls.back()->run());
    } else {
      impl_->plain.push_back(std::make_unique<session<false>>(j, url, nullptr, path, proxy));
      j.spawn(impl_->plain.back()->run());
    }
  }
}

session_pool::~session_pool() = default;

}  // namespace hubbatch::engine
