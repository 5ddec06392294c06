#include "engine/config.hpp"

#include "io/secret.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace hubbatch::engine {
namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// "%41b%3A" -> "Ab:"; nullopt on a bad escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 12) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool name_chars(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

bool host_chars(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

bool valid_object_type(const std::string& type) {
  std::string_view t(type);
  if (t.size() >= 3 && std::isdigit(static_cast<unsigned char>(t[0])) && t[1] == '-')
    return (t[0] == '0' || t[0] == '2') && all_digits(t.substr(2));  // 0-1, 2-123456
  if (!std::isalpha(static_cast<unsigned char>(t.empty() ? '0' : t[0]))) return false;
  return name_chars(t);  // contacts, line_items, p_vendor, p7878787_my_object
}

bool valid_token(std::string_view token) {
  if (token.empty() || token.size() > 4096) return false;
  for (char c : token)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
  return true;
}

bool valid_api_version(const std::string& v) {
  return v == "v4" || v == "2025-09" || v == "2026-03" || v == "2026-09";
}

std::string associations_path(const std::string& api_version, const std::string& from_type,
                              const std::string& to_type) {
  if (api_version == "v4") return "/crm/v4/associations/" + from_type + "/" + to_type + "/";
  return "/crm/associations/" + api_version + "/" + from_type + "/" + to_type + "/";
}

std::string archive_target(const std::string& api_version, const std::string& from_type,
                           const std::string& to_type) {
  return associations_path(api_version, from_type, to_type) + "batch/archive";
}

// A URL as error messages may show it: credentials (user:password@)
// replaced by "***@", control and non-ASCII bytes as \xNN, at most 200
// bytes. A base URL or an HTTPS_PROXY value can carry a password, and its
// text reaches the terminal and log collectors.
std::string shown_url(std::string_view url) {
  std::string_view rest = url;
  std::string out;
  // A scheme is kept only when it looks like one; otherwise the whole text
  // is treated as what follows it.
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos && scheme > 0 && scheme <= 16 &&
                                      std::isalpha(static_cast<unsigned char>(rest[0])) &&
                                      rest.substr(0, scheme).find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") ==
                                          std::string_view::npos) {
    out.append(rest.substr(0, scheme + 3));
    rest.remove_prefix(scheme + 3);
  }
  // Everything up to the last '@' may be a user:password (with or without a
  // scheme: "user:pw@proxy:3128" is a common slip; a password may hold '/').
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    out += "***@";
    rest.remove_prefix(at + 1);
  }
  for (unsigned char ch : rest) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    if (ch >= 0x20 && ch < 0x7f) out += static_cast<char>(ch);
    else out += fmt::format("\\x{:02x}", ch);
  }
  return out;
}

std::optional<endpoint_url> parse_base_url(const std::string& url, std::string& error) {
  const auto shown = [&] { return shown_url(url); };
  endpoint_url out;
  std::string_view rest(url);
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.tls = false;
    rest.remove_prefix(7);
  } else {
    error = "base URL must start with https:// (got '" + shown() + "')";
    return std::nullopt;
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    error = "base URL must be scheme://host[:port] without a path, query or credentials (got '" + shown() + "')";
    return std::nullopt;
  }
  std::string_view hostport = rest;
  const bool bracketed = hostport.starts_with('[');
  if (bracketed) {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) {
      error = "bad IPv6 address in base URL '" + shown() + "'";
      return std::nullopt;
    }
    out.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport[0] != ':') {
      error = "bad base URL '" + shown() + "'";
      return std::nullopt;
    }
    if (!hostport.empty()) out.port = std::string(hostport.substr(1));
  } else {
    auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
      out.host = std::string(hostport.substr(0, colon));
      out.port = std::string(hostport.substr(colon + 1));
    } else {
      out.host = std::string(hostport);
    }
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  // The host goes into the Host header, SNI and the resolver: a name of
  // letters, digits, '-', '_' and '.', or an IP literal ([v6] bracketed).
  // Anything else (CR, LF, ']', '%', controls) is refused here (issue 7;
  // found by fuzz_config_parsers: "https://:1\r]:443" used to parse).
  if (bracketed) {
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(out.host, ec);
    // Checked by hand too: the parser stops at a NUL ("[::\0junk]" parsed
    // as "::"), and zone ids ('%') would need %25 in the Host header.
    if (ec || out.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      error = "bad IPv6 address in base URL '" + shown() + "'";
      return std::nullopt;
    }
  } else if (!host_chars(out.host)) {
    error = "bad host in base URL '" + shown() + "' (letters, digits, '-', '_' and '.' only)";
    return std::nullopt;
  }
  if (out.host.empty() || !all_digits(out.port) || std::stoul(out.port) == 0 || std::stoul(out.port) > 65535) {
    error = "bad host or port in base URL '" + shown() + "'";
    return std::nullopt;
  }
  if (!out.tls) {
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(out.host, ec);
    bool loopback = out.host == "localhost" || (!ec && addr.is_loopback());
    if (!loopback) {
      error = "refusing http:// to a non-loopback host ('" + out.host +
              "'): the token would travel in clear text; use https://";
      return std::nullopt;
    }
  }
  return out;
}

std::optional<endpoint_url> parse_proxy_url(const std::string& url, std::string& error) {
  const auto shown = [&] { return shown_url(url); };
  std::string_view rest(url);
  if (!rest.starts_with("http://")) {
    error = "proxy URL must be http://HOST[:PORT] (got '" + shown() + "')";
    return std::nullopt;
  }
  rest.remove_prefix(7);
  while (rest.ends_with('/')) rest.remove_suffix(1);
  std::string credentials;
  // USER:PASSWORD@ ends at the last '@' of the authority (before any '/',
  // '?' or '#'), as every URL parser reads it; a '/' in a password must be
  // percent-encoded.
  if (auto at = rest.substr(0, rest.find_first_of("/?#")).rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1));
    // RFC 7617: the user id cannot contain ':'; neither may carry controls
    // (they would end up in a header line).
    if (!user || !password || user->empty() || user->find(':') != std::string::npos ||
        std::any_of(user->begin(), user->end(), is_control) ||
        std::any_of(password->begin(), password->end(), is_control)) {
      if (password) io::wipe(*password);
      error = "bad proxy credentials in '" + shown() + "' (USER:PASSWORD@, percent-encoded; the password is not shown)";
      return std::nullopt;
    }
    std::string plain = *user + ":" + *password;
    io::wipe(*password);
    credentials = base64(plain);
    io::wipe(plain);
  }
  // The same host[:port] rules as a base URL; loopback is irrelevant here.
  auto parsed = parse_base_url("https://" + std::string(rest), error);
  if (!parsed) {
    error = "bad proxy URL '" + shown() + "'";
    return std::nullopt;
  }
  if (rest.find(':') == std::string_view::npos || (rest.starts_with('[') && rest.ends_with(']'))) parsed->port = "80";
  parsed->tls = false;
  parsed->basic_credentials = std::move(credentials);
  return parsed;
}

io::parse_options input_options(const archive_config& cfg) {
  io::parse_options o{cfg.max_line_bytes, cfg.delimiter, cfg.columns};
  o.records = cfg.records_input;
  return o;
}

std::string validate(const archive_config& cfg) {
  if (!valid_object_type(cfg.from_type))
    return "invalid --from-type '" + cfg.from_type + "' (expected a name like contacts, an id like 0-1 or 2-123, or p_name)";
  if (!valid_object_type(cfg.to_type))
    return "invalid --to-type '" + cfg.to_type + "' (expected a name like companies, an id like 0-2 or 2-123, or p_name)";
  if (!valid_api_version(cfg.api_version))
    return "invalid --api-version '" + cfg.api_version + "' (expected v4, 2025-09, 2026-03 or 2026-09)";
  if (cfg.input.empty()) return "--input is required (a path, or - for stdin)";
  // The journal's identity and line numbers describe one file.
  for (const auto& extra : cfg.extra_inputs)
    if (extra == "-" || cfg.input == "-") return "stdin (-) cannot be one of several inputs";
  if (!cfg.extra_inputs.empty() && (!cfg.journal_path.empty() || cfg.resume || cfg.restart))
    return "--journal, --resume and --restart need a single --input (one file per job)";
  if (!cfg.journal_path.empty() && cfg.input == "-") return "a journal needs --input FILE (stdin cannot be resumed)";
  if (cfg.connections < 1 || cfg.connections > 256) return "--connections must be between 1 and 256";
  if (cfg.batch_size < 1 || cfg.batch_size > 10000) return "--batch-size must be between 1 and 10000";
  if (cfg.batch_size_auto && (cfg.batch_size_ceiling < cfg.batch_size || cfg.batch_size_ceiling > 10000))
    return "the batch size ceiling must be between the first size and 10000";
  if (!(cfg.max_rate >= 0.1 && cfg.max_rate <= 10000)) return "--max-rate must be between 0.1/s and 10000/s";
  if (cfg.group_window < 1) return "--group-window must be at least 1";
  if (cfg.max_retries < 0 || cfg.max_retries > 100) return "--max-retries must be between 0 and 100";
  if (cfg.rate == rate_mode::fixed && (cfg.rate_max < 1 || cfg.rate_window <= duration::zero()))
    return "--rate N/Ws needs N >= 1 and W > 0";
  if (cfg.rate_share <= 0 || cfg.rate_share > 1) return "rate share must be in (0%, 100%]";
  if (std::string why = io::check_delimiter(cfg.delimiter); !why.empty()) return "invalid --delimiter: " + why;
  if (!cfg.columns.empty()) {
    std::string joined;
    for (const auto& c : cfg.columns) joined += (joined.empty() ? "" : ",") + c;
    std::vector<std::string> names;
    const std::string why =
        cfg.records_input ? io::parse_record_column_names(joined, names) : io::parse_column_names(joined, names);
    if (!why.empty()) return "invalid --columns: " + why;
  }
  std::string error;
  if (!parse_base_url(cfg.base_url, error)) return error;
  if (!cfg.proxy.empty()) {
    auto proxy = parse_proxy_url(cfg.proxy, error);
    if (!proxy) return error;
    io::wipe(proxy->basic_credentials);  // only the check was wanted here
  }
  return {};
}

}  // namespace hubbatch::engine
