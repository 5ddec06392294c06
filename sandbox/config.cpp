#include "sandbox/config.hpp"

#include "sandbox/generated_pairs.hpp"
#include "sandbox/object_types.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>

namespace hubbatch::sandbox {

std::optional<missing_mode> parse_missing_mode(std::string_view s) {
  if (s == "ok") return missing_mode::ok;
  if (s == "error") return missing_mode::error;
  if (s == "partial") return missing_mode::partial;
  return std::nullopt;
}

const char* to_string(missing_mode m) {
  switch (m) {
    case missing_mode::ok: return "ok";
    case missing_mode::error: return "error";
    case missing_mode::partial: return "partial";
  }
  return "?";
}

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::optional<rate_spec> parse_rate(std::string_view s) {
  rate_spec r;
  auto slash = s.find('/');
  std::uint64_t n = 0;
  if (!parse_u64(s.substr(0, slash), n) || n > 100'000'000) return std::nullopt;
  r.max = static_cast<std::uint32_t>(n);
  if (slash == std::string_view::npos) return r;  // "N": per 10 s
  auto w = s.substr(slash + 1);
  std::uint64_t unit_ms = 1000;
  if (w.ends_with("ms")) {
    unit_ms = 1;
    w.remove_suffix(2);
  } else if (w.ends_with("s")) {
    w.remove_suffix(1);
  }
  std::uint64_t len = 0;
  if (!parse_u64(w, len) || len == 0 || len > 86'400'000) return std::nullopt;
  r.window = std::chrono::milliseconds(static_cast<std::int64_t>(len * unit_ms));
  return r;
}

std::optional<std::uint32_t> parse_capacity(std::string_view s) {
  if (s.ends_with("/s"))
    s.remove_suffix(2);
  else if (s.ends_with("/1s"))
    s.remove_suffix(3);
  std::uint64_t n = 0;
  if (!parse_u64(s, n) || n > 100'000'000) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

std::string to_string(const rate_spec& r) {
  if (r.max == 0) return "0";
  auto ms = r.window.count();
  if (ms % 1000 == 0) return std::to_string(r.max) + "/" + std::to_string(ms / 1000) + "s";
  return std::to_string(r.max) + "/" + std::to_string(ms) + "ms";
}

std::string parse_input_limits(std::string_view s, input_limits& out) {
  struct op_name {
    std::string_view name;
    std::uint32_t input_limits::*field;
  };
  static constexpr op_name ops[] = {{"archive", &input_limits::archive},
                                    {"labels-archive", &input_limits::labels_archive},
                                    {"create", &input_limits::create},
                                    {"default", &input_limits::associate_default}};
  auto number = [](std::string_view v, std::uint32_t& n) {
    std::uint64_t u = 0;
    if (!parse_u64(v, u) || u > UINT32_MAX) return false;
    n = static_cast<std::uint32_t>(u);
    return true;
  };
  input_limits l;
  bool named[std::size(ops)] = {};
  std::optional<std::uint32_t> rest;  // a bare N: the operations not named
  if (s.empty()) return "empty value";
  for (std::string_view list = s; !list.empty();) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (comma != std::string_view::npos && list.empty()) return "empty item after the last ','";
    auto colon = item.find(':');
    std::uint32_t n = 0;
    if (colon == std::string_view::npos) {
      if (!number(item, n)) return "bad number '" + std::string(item) + "'";
      if (rest) return "more than one bare N";
      rest = n;
      continue;
    }
    std::string_view op = item.substr(0, colon), value = item.substr(colon + 1);
    std::size_t i = 0;
    while (i < std::size(ops) && ops[i].name != op) ++i;
    if (i == std::size(ops)) {
      if (op == "read") return "batch/read's cap is --max-read-inputs, not --max-inputs read:N";
      return "unknown operation '" + std::string(op) + "' (expected archive, labels-archive, create or default)";
    }
    if (!number(value, n)) return "bad number '" + std::string(value) + "' for " + std::string(op);
    if (named[i]) return std::string(op) + " named twice";
    named[i] = true;
    l.*ops[i].field = n;
  }
  if (rest)
    for (std::size_t i = 0; i < std::size(ops); ++i)
      if (!named[i]) l.*ops[i].field = *rest;
  out = l;
  return {};
}

std::string to_string(const input_limits& l) {
  if (l == input_limits::all(l.archive)) return std::to_string(l.archive);
  return "archive:" + std::to_string(l.archive) + ",labels-archive:" + std::to_string(l.labels_archive) +
         ",create:" + std::to_string(l.create) + ",default:" + std::to_string(l.associate_default);
}

std::string validate_config(const config& cfg) {
  auto prob = [](double p) { return std::isfinite(p) && p >= 0 && p <= 1; };
  if (cfg.listen_host.empty()) return "--listen: empty host";
  if (cfg.cert_file.empty() != cfg.key_file.empty()) return "--cert and --key must be given together";
  if (cfg.archive_status_dated != 200 && cfg.archive_status_dated != 204)
    return "--archive-status must be 200 or 204";
  if (cfg.partial_status != 200 && cfg.partial_status != 207) return "--partial-status must be 200 or 207";
  if (cfg.create_status != 200 && cfg.create_status != 201) return "--create-status must be 200 or 201";
  if (cfg.max_body_bytes == 0) return "--max-body-bytes must be positive";
  if (cfg.max_header_bytes < 1024) return "--max-header-bytes must be at least 1024";
  if (cfg.max_header_count < 8) return "--max-header-count must be at least 8";
  if (cfg.handshake_timeout.count() <= 0 || cfg.idle_timeout.count() <= 0 || cfg.io_timeout.count() <= 0)
    return "timeouts must be positive";
  if (cfg.rate.max != 0 && cfg.rate.window.count() <= 0) return "--rate: window must be positive";
  if (cfg.daily_utc_offset_minutes < -14 * 60 || cfg.daily_utc_offset_minutes > 14 * 60)
    return "--daily-utc-offset-min must be within -840..840";
  for (const auto& t : cfg.tokens)
    if (t.empty()) return "--token: empty token";
  for (const auto& t : cfg.expired_tokens)
    if (t.empty()) return "--expired-token: empty token";
  if (!prob(cfg.fault_5xx)) return "--fault-5xx: probability must be within 0..1";
  if (!prob(cfg.fault_reset)) return "--fault-reset: probability must be within 0..1";
  if (!prob(cfg.fault_reset_after_apply)) return "--fault-reset-after-apply: probability must be within 0..1";
  if (!prob(cfg.fault_slow)) return "--fault-slow: probability must be within 0..1";
  if (!prob(cfg.fault_garbage)) return "--fault-garbage: probability must be within 0..1";
  if (!prob(cfg.fault_423)) return "--fault-423: probability must be within 0..1";
  if (!prob(cfg.fault_477)) return "--fault-477: probability must be within 0..1";
  if (!prob(cfg.fault_ignore)) return "--fault-ignore: probability must be within 0..1";
  if (cfg.read_page_size == 0) return "--read-page-size must be positive";
  if (cfg.capacity_delay.count() < 0 || cfg.capacity_delay.count() > 600'000)
    return "--capacity-delay must be within 0..600000 ms";
  if (cfg.fault_slow_delay.count() < 0 || cfg.fault_slow_delay.count() > 600'000)
    return "--fault-slow: delay must be within 0..600000 ms";
  for (const auto& s : cfg.seeds)
    for (const auto& t : {s.from_type, s.to_type})
      if (!resolve_object_type(t)) return "--seed-types: unknown object type '" + t + "'";
  if (const auto& g = cfg.seed_generated; g.pairs > 0) {
    if (g.pairs > generated_pairs::max_pairs)
      return "--seed-generated: at most " + std::to_string(generated_pairs::max_pairs) + " pairs";
    auto from = resolve_object_type(g.from_type);
    auto to = resolve_object_type(g.to_type);
    if (!from || !to) return "--seed-types: unknown object type in '" + g.from_type + ":" + g.to_type + "'";
    if (from->key == to->key) return "--seed-generated: needs two different object types";
    for (const auto& s : cfg.seeds) {
      auto sf = resolve_object_type(s.from_type);
      auto st = resolve_object_type(s.to_type);
      if ((sf->key == from->key && st->key == to->key) || (sf->key == to->key && st->key == from->key))
        return "--seed-generated: another --seed has the same object types";
    }
  }
  return {};
}

}  // namespace hubbatch::sandbox
