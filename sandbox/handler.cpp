#include "sandbox/handler.hpp"

#include "io/text.hpp"

#include "sandbox/object_types.hpp"
#include "sandbox/rate_window.hpp"

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace hubbatch::sandbox {

namespace od = simdjson::ondemand;

const char* to_string(sandbox_errc e) {
  switch (e) {
    case sandbox_errc::ok: return "ok";
    case sandbox_errc::unknown_route: return "unknown route";
    case sandbox_errc::method_not_allowed: return "method not allowed";
    case sandbox_errc::bad_http: return "malformed HTTP request";
    case sandbox_errc::body_too_large: return "request body too large";
    case sandbox_errc::header_too_large: return "request head too large";
    case sandbox_errc::unknown_object_type: return "unknown object type";
    case sandbox_errc::missing_token: return "no bearer token";
    case sandbox_errc::invalid_token: return "token not accepted";
    case sandbox_errc::expired_token: return "token expired";
    case sandbox_errc::missing_scopes: return "missing scopes";
    case sandbox_errc::rate_limited: return "rolling-window rate limit";
    case sandbox_errc::daily_limited: return "daily rate limit";
    case sandbox_errc::body_missing: return "request body missing";
    case sandbox_errc::bad_json: return "request body is not valid JSON";
    case sandbox_errc::bad_shape: return "request body has the wrong shape";
    case sandbox_errc::bad_id: return "invalid object id";
    case sandbox_errc::too_many_inputs: return "too many inputs in batch";
    case sandbox_errc::rejected_id: return "id rejected by --reject-ids";
    case sandbox_errc::missing_pairs: return "pairs not associated";
    case sandbox_errc::fault_5xx: return "injected 5xx";
    case sandbox_errc::fault_423: return "injected 423";
    case sandbox_errc::fault_477: return "injected 477";
    case sandbox_errc::fault_reset: return "injected reset";
    case sandbox_errc::fault_reset_after_apply: return "injected reset after apply";
    case sandbox_errc::fault_garbage: return "injected garbage body";
  }
  return "?";
}

clock_reading clock_reading::now() noexcept {
  using namespace std::chrono;
  return {duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count(),
          duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()};
}

// ---------------------------------------------------------------------------
// Small text helpers

namespace {

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  char* e = buf + sizeof buf;
  char* p = e;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, e);
}

void append_i64(std::string& out, std::int64_t v) {
  if (v < 0) {
    out.push_back('-');
    append_u64(out, static_cast<std::uint64_t>(-(v + 1)) + 1);
  } else {
    append_u64(out, static_cast<std::uint64_t>(v));
  }
}

using io::append_json_escaped;

void append_html_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
}

// "2026-08-20T10:00:00.120Z"
void append_iso8601(std::string& out, std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

// RFC 7231 date for the Date header, cached per second (one thread).
std::string_view http_date(std::int64_t unix_ms) {
  static thread_local std::int64_t cached_sec = -1;
  static thread_local char buf[40];
  static thread_local std::size_t len = 0;
  std::int64_t sec = unix_ms / 1000;
  if (sec != cached_sec) {
    cached_sec = sec;
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return {buf, len};
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 207: return "Multi-Status";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 477: return "Migration In Progress";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return "Unknown";
}

constexpr std::string_view json_type = "application/json;charset=utf-8";
constexpr std::string_view html_type = "text/html;charset=utf-8";

// Parses 1-20 decimal digits fitting in 64 bits.
bool parse_id(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

using io::iequals;

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

struct session_scratch::impl {
  od::parser parser;
  std::vector<pair_id> pairs;         // pairs of the current request, in request order
  std::vector<std::uint64_t> to_ids;  // to-ids of the input being parsed
  std::vector<std::uint8_t> present;  // per pair: was associated before this request
  std::string body;                   // response body being built
  std::string message;                // error message being built
  std::size_t inputs = 0;
  // gzip of response bodies for clients that ask (Accept-Encoding: gzip);
  // the deflate state (~256 KiB) is created on first use and then reset.
  z_stream zs{};
  bool zs_ready = false;
  std::string gz;

  // Compresses `in` into gz; false if zlib fails (the caller sends identity).
  bool gzip(std::string_view in) {
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
  ~impl() {
    if (zs_ready) deflateEnd(&zs);
  }
};

session_scratch::session_scratch() : impl_(std::make_unique<impl>()) {}
session_scratch::~session_scratch() = default;

// ---------------------------------------------------------------------------
// Handler state

struct request_handler::bucket {
  explicit bucket(rate_spec r, std::uint32_t id) : window(r), app_id(id) {}
  rolling_window window;
  std::uint32_t app_id;  // for the 429 groupName
};

struct request_handler::rate_view {
  bool window = false;
  std::uint32_t max = 0, remaining = 0, interval_ms = 0, secondly = 0, secondly_remaining = 0;
  bool daily = false;
  std::uint64_t daily_max = 0, daily_remaining = 0;
};

struct request_handler::route {
  std::string_view from, to;  // object-type path segments as sent
  bool dated = false;         // /crm/associations/{version}/...
  bool labels = false;        // .../batch/labels/archive
};

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
// Response serialization

namespace {

struct response_headers {
  std::string_view correlation_id;
  std::uint32_t retry_after_s = 0;
  std::string_view allow;      // Allow header (405)
  bool gzip = false;           // body is gzip-compressed: Content-Encoding: gzip
};

}  // namespace

namespace {

// Writes a complete response. `declared_length` overrides Content-Length
// (the truncated-garbage fault); otherwise body.size() is declared.
template <class RateView>
void write_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                    const response_headers& h, const RateView* rate, bool keep_alive, std::int64_t unix_ms,
                    std::size_t declared_length = static_cast<std::size_t>(-1)) {
  out.clear();
  out += "HTTP/1.1 ";
  append_u64(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out += reason_phrase(status);
  out += "\r\nDate: ";
  out += http_date(unix_ms);
  if (status != 204) {
    if (!content_type.empty()) {
      out += "\r\nContent-Type: ";
      out += content_type;
    }
    out += "\r\nContent-Length: ";
    append_u64(out, declared_length != static_cast<std::size_t>(-1) ? declared_length : body.size());
  }
  out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  out += "\r\nx-hubspot-correlation-id: ";
  out += h.correlation_id;
  out += "\r\nx-request-id: ";
  out += h.correlation_id;
  if (rate) {
    if (rate->daily) {
      out += "\r\nX-HubSpot-RateLimit-Daily: ";
      append_u64(out, rate->daily_max);
      out += "\r\nX-HubSpot-RateLimit-Daily-Remaining: ";
      append_u64(out, rate->daily_remaining);
    }
    if (rate->window) {
      out += "\r\nX-HubSpot-RateLimit-Interval-Milliseconds: ";
      append_u64(out, rate->interval_ms);
      out += "\r\nX-HubSpot-RateLimit-Max: ";
      append_u64(out, rate->max);
      out += "\r\nX-HubSpot-RateLimit-Remaining: ";
      append_u64(out, rate->remaining);
      out += "\r\nX-HubSpot-RateLimit-Secondly: ";
      append_u64(out, rate->secondly);
      out += "\r\nX-HubSpot-RateLimit-Secondly-Remaining: ";
      append_u64(out, rate->secondly_remaining);
    }
  }
  if (h.retry_after_s) {
    out += "\r\nRetry-After: ";
    append_u64(out, h.retry_after_s);
  }
  if (!h.allow.empty()) {
    out += "\r\nAllow: ";
    out += h.allow;
  }
  if (h.gzip) out += "\r\nContent-Encoding: gzip";
  if (!content_type.empty() && status != 204) out += "\r\nVary: origin, accept-encoding";
  out +=
      "\r\nstrict-transport-security: max-age=31536000; includeSubDomains; preload"
      "\r\nx-content-type-options: nosniff"
      "\r\naccess-control-allow-credentials: false"
      "\r\n\r\n";
  if (status != 204) out += body;
}

// Jetty's HTML error page (what HubSpot's edge returns for unknown routes).
void jetty_error_page(std::string& body, int status, std::string_view uri) {
  body.clear();
  body += "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n<title>Error ";
  append_u64(body, static_cast<std::uint64_t>(status));
  body += ' ';
  body += reason_phrase(status);
  body += "</title>\n</head>\n<body><h2>HTTP ERROR ";
  append_u64(body, static_cast<std::uint64_t>(status));
  body += ' ';
  body += reason_phrase(status);
  body += "</h2>\n<table>\n<tr><th>URI:</th><td>";
  append_html_escaped(body, uri);
  body += "</td></tr>\n<tr><th>STATUS:</th><td>";
  append_u64(body, static_cast<std::uint64_t>(status));
  body += "</td></tr>\n<tr><th>MESSAGE:</th><td>";
  body += reason_phrase(status);
  body += "</td></tr>\n<tr><th>SERVLET:</th><td>-</td></tr>\n</table>\n\n</body>\n</html>\n";
}

// Cloudflare-style HTML for 502/504.
void cloudflare_page(std::string& body, int status) {
  body.clear();
  body += "<html>\r\n<head><title>";
  append_u64(body, static_cast<std::uint64_t>(status));
  body += ' ';
  body += reason_phrase(status);
  body += "</title></head>\r\n<body>\r\n<center><h1>";
  append_u64(body, static_cast<std::uint64_t>(status));
  body += ' ';
  body += reason_phrase(status);
  body += "</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
}

// {"status":"error","message":"<msg>","correlationId":"<id>"[,"category":"<cat>"]
// — the caller appends further members and the closing brace.
void error_head(std::string& body, std::string_view message, std::string_view correlation_id) {
  body.clear();
  body += "{\"status\":\"error\",\"message\":\"";
  append_json_escaped(body, message);
  body += "\",\"correlationId\":\"";
  body += correlation_id;
  body += '"';
}

}  // namespace

// ---------------------------------------------------------------------------
// Body decoding

namespace {

enum class decode_result { ok, syntax, shape, bad_id };

struct body_decoder {
  session_scratch::impl& s;
  std::string& body;
  bool labels;
  std::string& message;  // filled on failure

  std::pair<int, int> line_col(const char* p) const {
    if (p < body.data() || p > body.data() + body.size()) p = body.data() + body.size();
    int line = 1, col = 1;
    for (const char* q = body.data(); q < p; ++q) {
      if (*q == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return {line, col};
  }

  void located(const char* p, std::string_view what) {
    auto [line, col] = line_col(p);
    message = "Invalid input JSON on line ";
    append_u64(message, static_cast<std::uint64_t>(line));
    message += ", column ";
    append_u64(message, static_cast<std::uint64_t>(col));
    message += ": ";
    message += what;
  }

  decode_result syntax_error(od::document& doc, simdjson::error_code ec) {
    const char* p = nullptr;
    if (doc.current_location().get(p) != simdjson::SUCCESS) p = body.data() + body.size();
    if (ec == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || ec == simdjson::UNCLOSED_STRING ||
        p >= body.data() + body.size()) {
      located(body.data() + body.size(), "Unexpected end-of-input");
    } else {
      std::string what = "Unexpected character ('";
      char c = *p;
      if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') what.push_back(c);
      what += "' (code ";
      append_u64(what, static_cast<unsigned char>(c));
      what += ")): ";
      what += simdjson::error_message(ec);
      located(p, what);
    }
    return decode_result::syntax;
  }

  static const char* token_name(od::json_type t) {
    switch (t) {
      case od::json_type::array: return "Array value (token `JsonToken.START_ARRAY`)";
      case od::json_type::object: return "Object value (token `JsonToken.START_OBJECT`)";
      case od::json_type::number: return "Integer value (token `JsonToken.VALUE_NUMBER_INT`)";
      case od::json_type::string: return "String value (token `JsonToken.VALUE_STRING`)";
      case od::json_type::boolean: return "Boolean value (token `JsonToken.VALUE_TRUE`)";
      case od::json_type::null: return "Null value (token `JsonToken.VALUE_NULL`)";
    }
    return "value";
  }

  template <class V>
  decode_result shape_error(V& v, od::json_type t, std::string_view java_type) {
    const char* p = v.raw_json_token().data();
    std::string what = "Cannot deserialize value of type `";
    what += java_type;
    what += "` from ";
    what += token_name(t);
    located(p, what);
    return decode_result::shape;
  }

  decode_result missing_property(const char* at, std::string_view name) {
    std::string what = "Missing required creator property '";
    what += name;
    what += '\'';
    located(at, what);
    return decode_result::shape;
  }

  // {"id":"123"} → id
  decode_result object_id(od::document& doc, od::value v, std::uint64_t& id) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object) return shape_error(v, t, "PublicObjectId");
    const char* start = v.raw_json_token().data();
    od::object o;
    if (auto ec = v.get_object().get(o)) return syntax_error(doc, ec);
    bool seen = false;
    for (auto field : o) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      if (key != "id") continue;
      od::value iv;
      if (auto ec = field.value().get(iv)) return syntax_error(doc, ec);
      if (auto ec = iv.type().get(t)) return syntax_error(doc, ec);
      if (t == od::json_type::null) continue;
      if (t != od::json_type::string) return shape_error(iv, t, "java.lang.String");
      std::string_view text;
      if (auto ec = iv.get_string().get(text)) return syntax_error(doc, ec);
      if (!parse_id(text, id)) {
        message = "Invalid object id: '";
        message.append(text.substr(0, 64));
        message += "' is not a valid identifier";
        return decode_result::bad_id;
      }
      seen = true;
    }
    if (!seen) return missing_property(start, "id");
    return decode_result::ok;
  }

  decode_result input(od::document& doc, od::value v) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object)
      return shape_error(v, t, labels ? "PublicAssociationMultiPost" : "PublicAssociationMultiArchive");
    const char* start = v.raw_json_token().data();
    od::object o;
    if (auto ec = v.get_object().get(o)) return syntax_error(doc, ec);
    std::uint64_t from = 0;
    bool seen_from = false, seen_to = false, seen_types = false, removes = false;
    s.to_ids.clear();
    for (auto field : o) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      od::value fv;
      if (auto ec = field.value().get(fv)) return syntax_error(doc, ec);
      if (key == "from") {
        if (auto r = object_id(doc, fv, from); r != decode_result::ok) return r;
        seen_from = true;
      } else if (key == "to" && labels) {
        std::uint64_t id = 0;
        if (auto r = object_id(doc, fv, id); r != decode_result::ok) return r;
        s.to_ids.push_back(id);
        seen_to = true;
      } else if (key == "to") {
        if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
        if (t != od::json_type::array) return shape_error(fv, t, "java.util.ArrayList<PublicObjectId>");
        od::array arr;
        if (auto ec = fv.get_array().get(arr)) return syntax_error(doc, ec);
        for (auto item : arr) {
          od::value iv;
          if (auto ec = item.get(iv)) return syntax_error(doc, ec);
          std::uint64_t id = 0;
          if (auto r = object_id(doc, iv, id); r != decode_result::ok) return r;
          s.to_ids.push_back(id);
        }
        seen_to = true;
      } else if (key == "types" && labels) {
        if (auto r = types(doc, fv, removes); r != decode_result::ok) return r;
        seen_types = true;
      }
    }
    if (!seen_from) return missing_property(start, "from");
    if (!seen_to) return missing_property(start, "to");
    if (labels && !seen_types) return missing_property(start, "types");
    ++s.inputs;
    // labels/archive: the store keeps only unlabelled associations, so an
    // input removes its pair only when its types name an unlabelled
    // (HUBSPOT_DEFINED) type — which cascades to every label (spec).
    if (labels && !removes) return decode_result::ok;
    for (auto to : s.to_ids) s.pairs.push_back(pair_id{from, to});
    return decode_result::ok;
  }

  // types: [{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]
  decode_result types(od::document& doc, od::value v, bool& removes) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::array) return shape_error(v, t, "java.util.ArrayList<AssociationSpec>");
    od::array arr;
    if (auto ec = v.get_array().get(arr)) return syntax_error(doc, ec);
    for (auto item : arr) {
      od::value iv;
      if (auto ec = item.get(iv)) return syntax_error(doc, ec);
      if (auto ec = iv.type().get(t)) return syntax_error(doc, ec);
      if (t != od::json_type::object) return shape_error(iv, t, "AssociationSpec");
      od::object o;
      if (auto ec = iv.get_object().get(o)) return syntax_error(doc, ec);
      std::string_view category;
      bool has_id = false;
      for (auto field : o) {
        std::string_view key;
        if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
        od::value fv;
        if (auto ec = field.value().get(fv)) return syntax_error(doc, ec);
        if (key == "associationCategory") {
          if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
          if (t != od::json_type::string) return shape_error(fv, t, "AssociationCategory");
          if (auto ec = fv.get_string().get(category)) return syntax_error(doc, ec);
          if (category != "HUBSPOT_DEFINED" && category != "USER_DEFINED" && category != "INTEGRATOR_DEFINED" &&
              category != "WORK") {
            located(body.data(), "Cannot deserialize value of type `AssociationCategory` from String \"" +
                                     std::string(category.substr(0, 32)) +
                                     "\": not one of the values accepted for Enum class: [HUBSPOT_DEFINED, "
                                     "USER_DEFINED, INTEGRATOR_DEFINED, WORK]");
            return decode_result::shape;
          }
          if (category == "HUBSPOT_DEFINED") removes = true;
        } else if (key == "associationTypeId") {
          if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
          if (t != od::json_type::number) return shape_error(fv, t, "int");
          std::int64_t id;
          if (auto ec = fv.get_int64().get(id)) return syntax_error(doc, ec);
          has_id = true;
        }
      }
      if (category.empty() || !has_id) return missing_property(body.data(), category.empty() ? "associationCategory" : "associationTypeId");
    }
    return decode_result::ok;
  }

  decode_result run() {
    s.pairs.clear();
    s.inputs = 0;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end.
    if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    od::document doc;
    if (auto ec = s.parser.iterate(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(doc)) {
      located(body.data(), simdjson::error_message(ec));
      return decode_result::syntax;
    }
    od::json_type t;
    if (auto ec = doc.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object) {
      const char* java = labels ? "BatchInputPublicAssociationMultiPost" : "BatchInputPublicAssociationMultiArchive";
      std::string what = "Cannot deserialize value of type `";
      what += java;
      what += "` from ";
      what += token_name(t);
      located(body.data(), what);
      return decode_result::shape;
    }
    od::object root;
    if (auto ec = doc.get_object().get(root)) return syntax_error(doc, ec);
    bool seen_inputs = false;
    for (auto field : root) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      od::value v;
      if (auto ec = field.value().get(v)) return syntax_error(doc, ec);
      if (key != "inputs") continue;  // unknown members are ignored (skipped unparsed)
      if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
      if (t == od::json_type::null) continue;
      if (t != od::json_type::array)
        return shape_error(v, t,
                           labels ? "java.util.ArrayList<PublicAssociationMultiPost>"
                                  : "java.util.ArrayList<PublicAssociationMultiArchive>");
      od::array arr;
      if (auto ec = v.get_array().get(arr)) return syntax_error(doc, ec);
      for (auto item : arr) {
        od::value iv;
        if (auto ec = item.get(iv)) return syntax_error(doc, ec);
        if (auto r = input(doc, iv); r != decode_result::ok) return r;
      }
      seen_inputs = true;
    }
    // Trailing content after the root object (current_location fails at the end).
    if (const char* p = nullptr; doc.current_location().get(p) == simdjson::SUCCESS && p < body.data() + body.size()) {
      std::string what = "Unexpected character ('";
      what.push_back(*p);
      what += "'): expected end-of-input";
      located(p, what);
      return decode_result::syntax;
    }
    if (!seen_inputs) return missing_property(body.data(), "inputs");
    return decode_result::ok;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Request handling

response_plan request_handler::protocol_error(sandbox_errc e, clock_reading now, std::string& out) {
  int status = e == sandbox_errc::body_too_large ? 413 : e == sandbox_errc::header_too_large ? 431 : 400;
  ++stats_.requests;
  ++stats_.by_status[status];
  std::string body;
  jetty_error_page(body, status, "");
  auto id = next_correlation_id();
  response_headers h{id, 0, {}};
  write_response<rate_view>(out, status, html_type, body, h, nullptr, false, now.unix_ms);
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
  if (n <= seg.size() && n >= 7 && seg[0] == "crm") {
    std::size_t rest = 0;
    if (seg[1] == "v4" && seg[2] == "associations") {
      r.from = seg[3];
      r.to = seg[4];
      rest = 5;
    } else if (seg[1] == "associations" && (seg[2] == "2025-09" || seg[2] == "2026-03" || seg[2] == "2026-09")) {
      r.from = seg[3];
      r.to = seg[4];
      r.dated = true;
      rest = 5;
    }
    if (rest && !r.from.empty() && !r.to.empty()) {
      if (n == rest + 2 && seg[rest] == "batch" && seg[rest + 1] == "archive") known = true;
      if (n == rest + 3 && seg[rest] == "batch" && seg[rest + 1] == "labels" && seg[rest + 2] == "archive") {
        known = true;
        r.labels = true;
      }
    }
  }
  if (!known || in.method != "POST") {
    auto id = next_correlation_id();
    int status = known ? 405 : 404;
    jetty_error_page(s.body, status, path);
    response_headers h{id, 0, {}};
    if (known) h.allow = "POST";
    write_response<rate_view>(out, status, html_type, s.body, h, nullptr, in.keep_alive, in.now.unix_ms);
    ++stats_.by_status[status];
    return response_plan{false, !in.keep_alive, {},
                         known ? sandbox_errc::method_not_allowed : sandbox_errc::unknown_route};
  }
  return handle_api(in, r, scratch, out);
}

response_plan request_handler::handle_api(const request_in& in, const route& r, session_scratch& scratch,
                                          std::string& out) {
  auto& s = scratch.get();
  auto now = in.now;
  auto id = next_correlation_id();
  response_plan plan;
  plan.close_after = !in.keep_alive;
  response_headers h{id, 0, {}};
  rate_view rv;
  const rate_view* rate = nullptr;

  auto send = [&](int status, std::string_view type, std::string_view body, sandbox_errc outcome) {
    if (in.accepts_gzip && !body.empty() && s.gzip(body)) {
      h.gzip = true;
      body = s.gz;
    }
    write_response(out, status, type, body, h, rate, in.keep_alive, now.unix_ms);
    ++stats_.by_status[status];
    plan.outcome = outcome;
    return plan;
  };
  auto send_json_error = [&](int status, sandbox_errc outcome) { return send(status, json_type, s.body, outcome); };

  // --- authentication ---
  std::string_view auth = in.authorization;
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  std::string_view token;
  if (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ")) {
    token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  }
  auto invalid_auth = [&](sandbox_errc why) {
    error_head(s.body,
                       "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                       "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                       id);
    s.body += ",\"category\":\"INVALID_AUTHENTICATION\"}";
    return send_json_error(401, why);
  };
  if (token.empty()) return invalid_auth(sandbox_errc::missing_token);
  if (std::find(cfg_.expired_tokens.begin(), cfg_.expired_tokens.end(), token) != cfg_.expired_tokens.end()) {
    std::int64_t ago = std::max<std::int64_t>(1, (now.unix_ms - expired_at_unix_ms_) / 1000);
    s.message = "The OAuth token used to make this call expired ";
    append_i64(s.message, ago);
    s.message += " second(s) ago.";
    error_head(s.body, s.message, id);
    s.body += ",\"category\":\"EXPIRED_AUTHENTICATION\",\"context\":{\"expire time\":[\"";
    append_iso8601(s.body, expired_at_unix_ms_);
    s.body += "\"]}}";
    return send_json_error(401, sandbox_errc::expired_token);
  }
  if (!cfg_.tokens.empty() && std::find(cfg_.tokens.begin(), cfg_.tokens.end(), token) == cfg_.tokens.end())
    return invalid_auth(sandbox_errc::invalid_token);

  // --- rate limits ---
  auto it = buckets_.find(token);
  if (it == buckets_.end())
    it = buckets_.emplace(std::string(token), std::make_unique<bucket>(cfg_.rate, next_app_id_++)).first;
  bucket& b = *it->second;
  const bool counts_in_window = !cfg_.exempt_batch;
  auto fill_rate_view = [&] {
    if (!cfg_.rate_headers) return;
    rate = &rv;
    if (cfg_.rate.max != 0) {
      rv.window = true;
      rv.max = cfg_.rate.max;
      rv.interval_ms = static_cast<std::uint32_t>(cfg_.rate.window.count());
      std::uint32_t used = b.window.count(now.mono_ns);
      rv.remaining = used >= rv.max ? 0 : rv.max - used;
      // Legacy per-second view: Max spread over the window's seconds.
      std::int64_t secs = std::max<std::int64_t>(1, cfg_.rate.window.count() / 1000);
      rv.secondly = static_cast<std::uint32_t>(std::max<std::int64_t>(1, rv.max / secs));
      std::uint32_t last_sec = b.window.count_within(now.mono_ns, std::min<std::int64_t>(1'000'000'000,
                                 std::chrono::nanoseconds(cfg_.rate.window).count()));
      rv.secondly_remaining = last_sec >= rv.secondly ? 0 : rv.secondly - last_sec;
    }
    if (daily_->enabled()) {
      rv.daily = true;
      rv.daily_max = daily_->limit();
      rv.daily_remaining = daily_->remaining(now.unix_ms);
    }
  };
  if (!daily_->has_room(now.unix_ms)) {
    ++stats_.rate_limited;
    ++stats_.rate_limited_daily;
    fill_rate_view();
    h.retry_after_s = cfg_.retry_after_s;
    error_head(s.body, "You have reached your daily limit.", id);
    s.body += ",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"DAILY\",\"requestId\":\"";
    s.body += id;
    s.body += "\"}";
    return send_json_error(429, sandbox_errc::daily_limited);
  }
  if (counts_in_window && !b.window.has_room(now.mono_ns)) {
    ++stats_.rate_limited;
    fill_rate_view();
    h.retry_after_s = cfg_.retry_after_s;
    error_head(s.body, "You have reached your ten_secondly_rolling limit.", id);
    s.body += ",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"TEN_SECONDLY_ROLLING\","
              "\"groupName\":\"publicapi:private_app-api-calls-ten-secondly:";
    append_u64(s.body, b.app_id);
    s.body += ':';
    append_u64(s.body, cfg_.portal_id);
    s.body += "\"}";
    return send_json_error(429, sandbox_errc::rate_limited);
  }
  if (counts_in_window) {
    b.window.record(now.mono_ns);
    stats_.max_requests_in_window = std::max<std::uint64_t>(stats_.max_requests_in_window, b.window.max_in_window());
  }
  daily_->record(now.unix_ms);
  count_accepted(now);
  fill_rate_view();

  // --- faults before applying (fixed draw order keeps a seed reproducible) ---
  if (draw(cfg_.fault_slow)) {
    ++stats_.faults.slow;
    plan.delay = cfg_.fault_slow_delay;
  }
  if (draw(cfg_.fault_reset)) {
    ++stats_.faults.reset;
    out.clear();
    plan.reset = true;
    plan.delay = {};
    plan.outcome = sandbox_errc::fault_reset;
    return plan;
  }
  if (draw(cfg_.fault_5xx)) {
    ++stats_.faults.http_5xx;
    static constexpr int codes[] = {500, 502, 503, 504};
    int status = codes[std::uniform_int_distribution<int>(0, 3)(fault_rng_)];
    if (status == 500) {
      // Key order as captured: correlationId, message, status.
      s.body = "{\"correlationId\":\"";
      s.body += id;
      s.body += "\",\"message\":\"internal error\",\"status\":\"error\"}";
      return send(status, json_type, s.body, sandbox_errc::fault_5xx);
    }
    if (status == 503) return send(status, {}, {}, sandbox_errc::fault_5xx);  // empty body
    cloudflare_page(s.body, status);
    return send(status, "text/html", s.body, sandbox_errc::fault_5xx);
  }
  if (draw(cfg_.fault_423)) {
    ++stats_.faults.locked_423;
    h.retry_after_s = 2;  // "locks last 2 s" (error-handling doc)
    error_head(s.body, "The resource is locked. Please try again in 2 seconds.", id);
    s.body += ",\"category\":\"LOCKED\"}";
    return send_json_error(423, sandbox_errc::fault_423);
  }
  if (draw(cfg_.fault_477)) {
    ++stats_.faults.migration_477;
    h.retry_after_s = std::max<std::uint32_t>(1, cfg_.fault_477_retry_after_s);
    error_head(s.body, "This account is being migrated. Please retry after the time in the Retry-After header.", id);
    s.body += ",\"category\":\"MIGRATION_IN_PROGRESS\"}";
    return send_json_error(477, sandbox_errc::fault_477);
  }

  // --- object types ---
  auto from_type = resolve_object_type(r.from);
  auto to_type = from_type ? resolve_object_type(r.to) : std::nullopt;
  if (!from_type || !to_type) {
    s.message = "Unable to infer object type from: ";
    s.message += from_type ? r.to : r.from;
    error_head(s.body, s.message, id);
    s.body += '}';
    return send_json_error(400, sandbox_errc::unknown_object_type);
  }

  // --- scopes: write access on both object types ---
  if (cfg_.missing_scopes) {
    error_head(s.body,
                       "This app hasn't been granted all required scopes to make this call. Read more about required "
                       "scopes here: https://developers.hubspot.com/scopes.",
                       id);
    s.body += ",\"errors\":[{\"message\":\"One or more of the following scopes are required.\",\"context\":{"
              "\"requiredGranularScopes\":[";
    auto scope = [&](const object_type& t) {
      s.body += "\"crm.objects.";
      if (t.key.starts_with("0-")) {
        std::string plural = t.singular;
        if (plural.ends_with("y")) plural.replace(plural.size() - 1, 1, "ies");
        else if (!plural.ends_with("s") && plural != "postal_mail") plural += 's';
        s.body += plural;
      } else {
        s.body += "custom";
      }
      s.body += ".write\"";
    };
    scope(*from_type);
    if (to_type->key != from_type->key && !(to_type->key[0] != '0' && from_type->key[0] != '0')) {
      s.body += ',';
      scope(*to_type);
    }
    s.body += "]}}],\"links\":{\"scopes\":\"https://developers.hubspot.com/scopes\"},\"category\":\"MISSING_SCOPES\"}";
    return send_json_error(403, sandbox_errc::missing_scopes);
  }

  // --- body ---
  std::string& body = *in.body;
  bool blank = std::all_of(body.begin(), body.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
  if (blank) {
    error_head(s.body, "Invalid JSON input: a request body was expected, but none found", id);
    s.body += ",\"category\":\"VALIDATION_ERROR\"}";
    return send_json_error(400, sandbox_errc::body_missing);
  }
  body_decoder dec{s, body, r.labels, s.message};
  switch (dec.run()) {
    case decode_result::ok: break;
    case decode_result::syntax:
      error_head(s.body, s.message, id);
      s.body += '}';
      return send_json_error(400, sandbox_errc::bad_json);
    case decode_result::shape:
      error_head(s.body, s.message, id);
      s.body += '}';
      return send_json_error(400, sandbox_errc::bad_shape);
    case decode_result::bad_id:
      error_head(s.body, s.message, id);
      s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\"}";
      return send_json_error(400, sandbox_errc::bad_id);
  }

  // --- batch limits ---
  std::size_t pair_count = s.pairs.size();
  if (r.labels) pair_count = s.inputs;  // each labels input names one pair, removing or not
  std::uint32_t exceeded = 0;
  if (cfg_.max_inputs && s.inputs > cfg_.max_inputs) exceeded = cfg_.max_inputs;
  else if (cfg_.max_pairs && pair_count > cfg_.max_pairs) exceeded = cfg_.max_pairs;
  if (exceeded) {
    s.message = "The maximum number of inputs supported in a batch is ";
    append_u64(s.message, exceeded);
    s.message += ". Please reduce the number of items and try again";
    error_head(s.body, s.message, id);
    s.body += ",\"category\":\"VALIDATION_ERROR\"}";
    return send_json_error(400, sandbox_errc::too_many_inputs);
  }

  // --- ids rejected by configuration: the whole batch fails ---
  if (!reject_ids_.empty()) {
    auto rejected = [&](std::uint64_t v) { return std::binary_search(reject_ids_.begin(), reject_ids_.end(), v); };
    std::string from_list, to_list;
    for (auto p : s.pairs) {
      if (rejected(p.from) && from_list.find("\"" + std::to_string(p.from) + "\"") == std::string::npos) {
        if (!from_list.empty()) from_list += ',';
        from_list += '"' + std::to_string(p.from) + '"';
      }
      if (rejected(p.to) && to_list.find("\"" + std::to_string(p.to) + "\"") == std::string::npos) {
        if (!to_list.empty()) to_list += ',';
        to_list += '"' + std::to_string(p.to) + '"';
      }
    }
    if (!from_list.empty() || !to_list.empty()) {
      error_head(s.body, "One or more object ids are invalid for this association batch.", id);
      s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\","
                "\"context\":{\"fromObjectId\":[";
      s.body += from_list;
      s.body += "],\"toObjectId\":[";
      s.body += to_list;
      s.body += "]}}";
      return send_json_error(400, sandbox_errc::rejected_id);
    }
  }

  // --- presence: decide for every pair before removing any (duplicates in
  // one request are then all "present") ---
  auto handle_t = store_.find(*from_type, *to_type);
  s.present.resize(s.pairs.size());
  handle_t.contains_many(s.pairs, s.present.data());
  std::size_t missing = 0;
  for (auto present : s.present) missing += present ? 0 : 1;
  stats_.missing_pairs += missing;
  auto append_missing_ids = [&](bool from_side) {
    bool first = true;
    for (std::size_t i = 0; i < s.pairs.size(); ++i) {
      if (s.present[i]) continue;
      if (!first) s.body += ',';
      first = false;
      s.body += '"';
      append_u64(s.body, from_side ? s.pairs[i].from : s.pairs[i].to);
      s.body += '"';
    }
  };
  if (missing && cfg_.missing == missing_mode::error) {
    s.message = "Could not archive: ";
    append_u64(s.message, missing);
    s.message += " of ";
    append_u64(s.message, s.pairs.size());
    s.message += " ";
    s.message += from_type->singular;
    s.message += " to ";
    s.message += to_type->singular;
    s.message += " pairs are not associated (fromObjectId[i] with toObjectId[i] in context)";
    error_head(s.body, s.message, id);
    s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\","
              "\"context\":{\"fromObjectId\":[";
    append_missing_ids(true);
    s.body += "],\"toObjectId\":[";
    append_missing_ids(false);
    s.body += "]}}";
    return send_json_error(400, sandbox_errc::missing_pairs);
  }

  // --- apply ---
  std::int64_t started = now.unix_ms;
  stats_.applied_request_pairs += s.pairs.size();
  stats_.archived_pairs += handle_t.remove_many(s.pairs, s.present.data());

  // --- faults after applying ---
  if (draw(cfg_.fault_reset_after_apply)) {
    ++stats_.faults.reset_after_apply;
    out.clear();
    plan.reset = true;
    plan.outcome = sandbox_errc::fault_reset_after_apply;
    return plan;
  }
  if (draw(cfg_.fault_garbage)) {
    ++stats_.faults.garbage;
    bool truncated = std::uniform_int_distribution<int>(0, 1)(fault_rng_) == 1;
    s.body = "{\"status\":\"COMPLETE\",\"results\":[],\"startedAt\":\"";
    if (truncated) {
      // Declares more than it sends, then closes: a body cut off mid-way.
      write_response(out, 200, json_type, s.body, h, rate, false, now.unix_ms, s.body.size() + 64);
      plan.close_after = true;
    } else {
      s.body.push_back('\0');
      s.body += "}<html>\x7f\xff";
      write_response(out, 200, json_type, s.body, h, rate, in.keep_alive, now.unix_ms);
    }
    ++stats_.by_status[200];
    plan.outcome = sandbox_errc::fault_garbage;
    return plan;
  }

  // --- success ---
  const bool with_errors = missing && cfg_.missing == missing_mode::partial;
  const int status = with_errors ? cfg_.partial_status : !r.dated ? 204 : cfg_.archive_status_dated;
  if (status == 204) return send(204, {}, {}, sandbox_errc::ok);
  s.body = "{\"status\":\"COMPLETE\",\"results\":[]";
  if (with_errors) {
    s.body += ",\"numErrors\":";
    append_u64(s.body, missing);
    s.body += ",\"errors\":[";
    bool first = true;
    for (std::size_t i = 0; i < s.pairs.size(); ++i) {
      if (s.present[i]) continue;
      if (!first) s.body += ',';
      first = false;
      s.body += "{\"status\":\"error\",\"category\":\"OBJECT_NOT_FOUND\","
                "\"subCategory\":\"crm.associations.NO_ASSOCIATIONS_FOUND\",\"message\":\"No ";
      append_json_escaped(s.body, to_type->singular);
      s.body += ' ';
      append_u64(s.body, s.pairs[i].to);
      s.body += " is associated with ";
      append_json_escaped(s.body, from_type->singular);
      s.body += ' ';
      append_u64(s.body, s.pairs[i].from);
      s.body += ".\",\"context\":{\"fromObjectId\":[\"";
      append_u64(s.body, s.pairs[i].from);
      s.body += "\"],\"toObjectId\":[\"";
      append_u64(s.body, s.pairs[i].to);
      s.body += "\"],\"fromObjectType\":[\"";
      append_json_escaped(s.body, from_type->singular);
      s.body += "\"],\"toObjectType\":[\"";
      append_json_escaped(s.body, to_type->singular);
      s.body += "\"]}}";
    }
    s.body += ']';
  }
  s.body += ",\"startedAt\":\"";
  append_iso8601(s.body, started);
  s.body += "\",\"completedAt\":\"";
  append_iso8601(s.body, clock_reading::now().unix_ms);
  s.body += "\"}";
  return send(status, json_type, s.body, with_errors ? sandbox_errc::missing_pairs : sandbox_errc::ok);
}

response_plan request_handler::handle_internal(const request_in& in, std::string_view path, std::string_view query,
                                               std::string& out) {
  auto id = next_correlation_id();
  response_headers h{id, 0, {}};
  std::string body;
  auto send = [&](int status, std::string_view type) {
    write_response<rate_view>(out, status, type, body, h, nullptr, in.keep_alive, in.now.unix_ms);
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
  while (!query.empty()) {
    auto amp = query.find('&');
    auto kv = query.substr(0, amp);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) {
      if (kv.substr(0, eq) == "from") from = kv.substr(eq + 1);
      if (kv.substr(0, eq) == "to") to = kv.substr(eq + 1);
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
  for (auto p : store_.remaining_pairs(*ft, *tt)) {
    append_u64(body, p.from);
    body += ',';
    append_u64(body, p.to);
    body += '\n';
  }
  return send(200, "text/csv;charset=utf-8");
}

stats_snapshot request_handler::snapshot(clock_reading now) const {
  stats_snapshot s = stats_;
  s.remaining_pairs = store_.remaining_total();
  auto sec = static_cast<std::size_t>(std::max<std::int64_t>(0, now.mono_ns - start_.mono_ns) / 1'000'000'000);
  if (s.requests_per_second.size() < sec + 1) s.requests_per_second.resize(sec + 1, 0);
  return s;
}

std::string stats_snapshot::to_json() const {
  std::string o = "{\"requests\":";
  append_u64(o, requests);
  o += ",\"by_status\":{";
  bool first = true;
  for (auto [code, n] : by_status) {
    if (!first) o += ',';
    first = false;
    o += '"';
    append_u64(o, static_cast<std::uint64_t>(code));
    o += "\":";
    append_u64(o, n);
  }
  o += "},\"accepted\":";
  append_u64(o, accepted);
  o += ",\"archived_pairs\":";
  append_u64(o, archived_pairs);
  o += ",\"applied_request_pairs\":";
  append_u64(o, applied_request_pairs);
  o += ",\"missing_pairs\":";
  append_u64(o, missing_pairs);
  o += ",\"remaining_pairs\":";
  append_u64(o, remaining_pairs);
  o += ",\"rate_limited\":";
  append_u64(o, rate_limited);
  o += ",\"rate_limited_daily\":";
  append_u64(o, rate_limited_daily);
  o += ",\"max_requests_in_window\":";
  append_u64(o, max_requests_in_window);
  o += ",\"faults_injected\":";
  append_u64(o, faults.total());
  o += ",\"faults_by_kind\":{\"5xx\":";
  append_u64(o, faults.http_5xx);
  o += ",\"423\":";
  append_u64(o, faults.locked_423);
  o += ",\"477\":";
  append_u64(o, faults.migration_477);
  o += ",\"reset\":";
  append_u64(o, faults.reset);
  o += ",\"reset_after_apply\":";
  append_u64(o, faults.reset_after_apply);
  o += ",\"garbage\":";
  append_u64(o, faults.garbage);
  o += ",\"slow\":";
  append_u64(o, faults.slow);
  o += "},\"connections\":";
  append_u64(o, connections);
  o += ",\"tls_failures\":";
  append_u64(o, tls_failures);
  o += ",\"connections_refused\":";
  append_u64(o, connections_refused);
  o += ",\"requests_per_second\":[";
  for (std::size_t i = 0; i < requests_per_second.size(); ++i) {
    if (i) o += ',';
    append_u64(o, requests_per_second[i]);
  }
  o += "]}";
  return o;
}

}  // namespace hubbatch::sandbox
