#include "sandbox/response_writer.hpp"

#include "io/decimal.hpp"
#include "io/text.hpp"

#include <cstdio>
#include <ctime>

namespace hubbatch::sandbox {

using io::append_json_escaped;
using io::append_u64;

void append_i64(std::string& out, std::int64_t v) {
  if (v < 0) {
    out.push_back('-');
    append_u64(out, static_cast<std::uint64_t>(-(v + 1)) + 1);
  } else {
    append_u64(out, static_cast<std::uint64_t>(v));
  }
}

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

void append_iso8601(std::string& out, std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  out.append(buf, static_cast<std::size_t>(n));
}

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

void write_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                    const response_headers& h, const rate_headers* rate, bool keep_alive, std::int64_t unix_ms,
                    std::size_t declared_length) {
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
    append_u64(out, declared_length != body_length ? declared_length : body.size());
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

void error_head(std::string& body, std::string_view message, std::string_view correlation_id) {
  body.clear();
  body += "{\"status\":\"error\",\"message\":\"";
  append_json_escaped(body, message);
  body += "\",\"correlationId\":\"";
  body += correlation_id;
  body += '"';
}

}  // namespace hubbatch::sandbox
