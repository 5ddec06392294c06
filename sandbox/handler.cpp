#include "sandbox/handler_detail.hpp"

#include "io/decimal.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <tuple>

namespace hubbatch::sandbox {

using io::append_u64;

clock_reading clock_reading::now() noexcept {
  using namespace std::chrono;
  return {duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count(),
          duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

namespace {

// Splits "/a/b/c" into at most N segments; returns the count, or N+1 if more.
template <std::size_t N>
std::size_t split_path(std::string_view path, std::array<std::string_view, N>& seg) {
  std::size_t n = 0;
  if (path.empty() || path[0] != '/') return N + 1;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    if (n == N) return N + 1;
    seg[n++] = path.substr(0, slash);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// Per-session scratch

session_scratch::session_scratch() : impl_(std::make_unique<impl>()) {}
session_scratch::~session_scratch() = default;

bool session_scratch::impl::gzip(std::string_view in) {
  if (!zs_ready) {
    if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    zs_ready = true;
  } else if (deflateReset(&zs) != Z_OK) {
    return false;
  }
  gz.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return false;
  gz.resize(gz.size() - zs.avail_out);
  return true;
}

session_scratch::impl::~impl() {
  if (zs_ready) deflateEnd(&zs);
}

// ---------------------------------------------------------------------------
// Handler state

request_handler::request_handler(const config& cfg, association_store& store, clock_reading start)
    : cfg_(cfg),
      store_(store),
      start_(start),
      daily_(std::make_unique<daily_budget>(cfg.daily, cfg.daily_utc_offset_minutes)),
      reject_ids_(cfg.reject_ids),
      fault_rng_(cfg.fault_seed ? cfg.fault_seed : static_cast<std::uint64_t>(start.mono_ns)),
      id_state_(static_cast<std::uint64_t>(start.mono_ns) ^ 0x5851f42d4c957f2dULL),
      expired_at_unix_ms_(start.unix_ms - 75'000) {
  std::sort(reject_ids_.begin(), reject_ids_.end());
  if (!cfg.labels_file.empty()) types_.load(cfg.labels_file);
  if (!cfg.objects_file.empty()) records_.load(cfg.objects_file);
}

request_handler::~request_handler() = default;

bool request_handler::draw(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;  // no draw: deterministic regardless of the seed
  return std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng_) < p;
}

// UUIDv7: 48-bit Unix ms, version 7, 74 random bits, RFC 4122 variant.
correlation_id request_handler::next_correlation_id() {
  auto next = [this] {
    std::uint64_t z = (id_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  using namespace std::chrono;
  std::uint64_t ms = static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  std::uint64_t r1 = next(), r2 = next();
  std::uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (r1 & 0x0f));
  b[7] = static_cast<std::uint8_t>(r1 >> 8);
  b[8] = static_cast<std::uint8_t>(0x80 | ((r1 >> 16) & 0x3f));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<std::uint8_t>(r2 >> (8 * (i - 9)));
  static const char* hex = "0123456789abcdef";
  correlation_id id;
  char* p = id.text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
    *p++ = hex[b[i] >> 4];
    *p++ = hex[b[i] & 15];
  }
  return id;
}

void request_handler::count_accepted(clock_reading now) {
  ++stats_.accepted;
  auto sec = static_cast<std::size_t>(std::max<std::int64_t>(0, now.mono_ns - start_.mono_ns) / 1'000'000'000);
  if (stats_.requests_per_second.size() <= sec) stats_.requests_per_second.resize(sec + 1, 0);
  ++stats_.requests_per_second[sec];
}

// ---------------------------------------------------------------------------
// Routing and the internal routes (the API route: api_stages.cpp)

response_plan request_handler::protocol_error(sandbox_errc e, clock_reading now, std::string& out) {
  int status = e == sandbox_errc::body_too_large ? 413 : e == sandbox_errc::header_too_large ? 431 : 400;
  ++stats_.requests;
  ++stats_.by_status[status];
  std::string body;
  jetty_error_page(body, status, "");
  auto id = next_correlation_id();
  response_headers h{id, 0, {}};
  write_response(out, status, html_type, body, h, nullptr, false, now.unix_ms);
  return response_plan{false, true, {}, e};
}

response_plan request_handler::handle(const request_in& in, session_scratch& scratch, std::string& out) {
  auto& s = scratch.get();
  std::string_view target = in.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);

  if (path.starts_with("/_sandbox/")) {
    if (in.loopback) return handle_internal(in, path, query, out);
  }

  ++stats_.requests;
  route r;
  bool known = false;
  std::array<std::string_view, 9> seg;
  std::size_t n = split_path(path, seg);
  if (n <= seg.size() && n >= 6 && seg[0] == "crm") {
    std::size_t rest = 0;
    if (seg[1] == "v4" && seg[2] == "associations") {
      r.from = seg[3];
      r.to = seg[4];
      rest = 5;
    } else if (seg[1] == "associations" && (seg[2] == "2025-09" || seg[2] == "2026-03" || seg[2] == "2026-09")) {
      r.from = seg[3];
      r.to = seg[4];
      r.dated = true;
      r.version = seg[2];
      rest = 5;
    }
    if (rest && !r.from.empty() && !r.to.empty()) {
      auto tail = [&](std::initializer_list<std::string_view> want) {
        if (n != rest + want.size()) return false;
        std::size_t i = rest;
        for (auto w : want)
          if (seg[i++] != w) return false;
        return true;
      };
      known = true;
      if (tail({"batch", "archive"})) r.op = api_op::archive;
      else if (tail({"batch", "labels", "archive"})) r.op = api_op::labels_archive;
      else if (tail({"batch", "create"})) r.op = api_op::create;
      else if (tail({"batch", "associate", "default"})) r.op = api_op::associate_default;
      else if (tail({"batch", "read"})) r.op = api_op::read;
      else if (tail({"labels"})) r.op = api_op::list_labels;
      else known = false;
    }
  }
  const std::string_view method = r.op == api_op::list_labels ? "GET" : "POST";
  if (!known || in.method != method) {
    auto id = next_correlation_id();
    int status = known ? 405 : 404;
    jetty_error_page(s.body, status, path);
    response_headers h{id, 0, {}};
    if (known) h.allow = method;
    write_response(out, status, html_type, s.body, h, nullptr, in.keep_alive, in.now.unix_ms);
    ++stats_.by_status[status];
    return response_plan{false, !in.keep_alive, {},
                         known ? sandbox_errc::method_not_allowed : sandbox_errc::unknown_route};
  }
  return handle_api(in, r, scratch, out);
}

response_plan request_handler::handle_internal(const request_in& in, std::string_view path, std::string_view query,
                                               std::string& out) {
  auto id = next_correlation_id();
  response_headers h{id, 0, {}};
  std::string body;
  auto send = [&](int status, std::string_view type) {
    write_response(out, status, type, body, h, nullptr, in.keep_alive, in.now.unix_ms);
    return response_plan{false, !in.keep_alive, {}, status < 400 ? sandbox_errc::ok : sandbox_errc::unknown_route};
  };
  bool stats = path == "/_sandbox/stats", pairs = path == "/_sandbox/pairs";
  if (!stats && !pairs) {
    jetty_error_page(body, 404, path);
    return send(404, html_type);
  }
  if (in.method != "GET") {
    jetty_error_page(body, 405, path);
    h.allow = "GET";
    return send(405, html_type);
  }
  if (stats) {
    body = snapshot(in.now).to_json();
    return send(200, json_type);
  }
  std::string_view from, to;
  bool labels = false;  // labels=1: one line per type, from_id,to_id,category,type_id
  while (!query.empty()) {
    auto amp = query.find('&');
    auto kv = query.substr(0, amp);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) {
      if (kv.substr(0, eq) == "from") from = kv.substr(eq + 1);
      if (kv.substr(0, eq) == "to") to = kv.substr(eq + 1);
      if (kv.substr(0, eq) == "labels") labels = kv.substr(eq + 1) == "1";
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  auto ft = resolve_object_type(from), tt = resolve_object_type(to);
  if (!ft || !tt) {
    std::string msg = "Unable to infer object type from: ";
    msg += ft ? to : from;
    error_head(body, msg, id);
    body += '}';
    return send(400, json_type);
  }
  if (labels) {
    // Types come as the table holds them: turn them for the asked direction.
    const bool swapped = tt->key < ft->key;
    auto typed = store_.typed_pairs(*ft, *tt);
    for (auto& p : typed)
      if (swapped) p.type = types_.reverse(*tt, *ft, p.type);
    std::sort(typed.begin(), typed.end(), [](const pair_id& a, const pair_id& b) {
      return std::tie(a.from, a.to, a.type.category, a.type.id) < std::tie(b.from, b.to, b.type.category, b.type.id);
    });
    for (auto p : typed) {
      append_u64(body, p.from);
      body += ',';
      append_u64(body, p.to);
      body += ',';
      body += to_string(p.type.category);
      body += ',';
      append_u64(body, static_cast<std::uint64_t>(p.type.id));
      body += '\n';
    }
    return send(200, "text/csv;charset=utf-8");
  }
  for (auto p : store_.remaining_pairs(*ft, *tt)) {
    append_u64(body, p.from);
    body += ',';
    append_u64(body, p.to);
    body += '\n';
  }
  return send(200, "text/csv;charset=utf-8");
}

}  // namespace hubbatch::sandbox
