#include "sandbox/config.hpp"

#include "sandbox/generated_pairs.hpp"
#include "sandbox/object_types.hpp"

#include <charconv>
#include <cmath>

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

std::string to_string(const rate_spec& r) {
  if (r.max == 0) return "0";
  auto ms = r.window.count();
  if (ms % 1000 == 0) return std::to_string(r.max) + "/" + std::to_string(ms / 1000) + "s";
  return std::to_string(r.max) + "/" + std::to_string(ms) + "ms";
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
