// How the sandbox writes what it sends: the HTTP/1.1 response (status line,
// HubSpot's headers, rate-limit headers, body), the HTML error pages of
// HubSpot's edge (Jetty, Cloudflare), the head of a JSON error body, and the
// text helpers they use. Everything appends into caller-owned strings, so a
// session's buffers are reused across requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hubbatch::sandbox {

inline constexpr std::string_view json_type = "application/json;charset=utf-8";
inline constexpr std::string_view html_type = "text/html;charset=utf-8";

// The X-HubSpot-RateLimit-* headers of one answer.
struct rate_headers {
  bool window = false;  // the rolling-window headers (Interval, Max, Remaining, Secondly*)
  std::uint32_t max = 0, remaining = 0, interval_ms = 0, secondly = 0, secondly_remaining = 0;
  bool daily = false;  // the Daily and Daily-Remaining headers
  std::uint64_t daily_max = 0, daily_remaining = 0;
};

// Headers that vary by answer (besides the rate-limit ones).
struct response_headers {
  std::string_view correlation_id;  // x-hubspot-correlation-id and x-request-id
  std::uint32_t retry_after_s = 0;  // Retry-After when nonzero
  std::string_view allow;           // Allow header (405)
  bool gzip = false;                // body is gzip-compressed: Content-Encoding: gzip
};

// Content-Length is the body's own size unless a declared_length says otherwise.
inline constexpr std::size_t body_length = static_cast<std::size_t>(-1);

// Writes a complete response into `out` (cleared first). `rate` null: no
// rate-limit headers. `declared_length` overrides Content-Length (the
// truncated-garbage fault). A 204 has no body, Content-Type or Content-Length.
void write_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                    const response_headers& h, const rate_headers* rate, bool keep_alive, std::int64_t unix_ms,
                    std::size_t declared_length = body_length);

// Jetty's HTML error page (what HubSpot's edge returns for unknown routes)
// into `body` (cleared first).
void jetty_error_page(std::string& body, int status, std::string_view uri);

// Cloudflare-style HTML for 502/504 into `body` (cleared first).
void cloudflare_page(std::string& body, int status);

// {"status":"error","message":"<msg>","correlationId":"<id>" into `body`
// (cleared first); the caller appends further members and the closing brace.
void error_head(std::string& body, std::string_view message, std::string_view correlation_id);

// "OK", "Too Many Requests", ...; "Unknown" for a status the sandbox never sends.
const char* reason_phrase(int status);

// RFC 7231 date for the Date header ("Thu, 20 Aug 2026 10:00:00 GMT"),
// cached per second per thread; valid until the thread's next call.
std::string_view http_date(std::int64_t unix_ms);

// Signed decimal (io::append_u64 for the unsigned).
void append_i64(std::string& out, std::int64_t v);

// `s` with < > & " as HTML entities.
void append_html_escaped(std::string& out, std::string_view s);

// "2026-08-20T10:00:00.120Z"
void append_iso8601(std::string& out, std::int64_t unix_ms);

}  // namespace hubbatch::sandbox
