#include "engine/counters.hpp"

#include "io/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string_view>

namespace hubbatch::engine {

namespace {

__extension__ using uint128 = unsigned __int128;

// Uniform in [0, n) from 64 random bits (multiply-high). n >= 1.
std::uint64_t below(std::uint64_t n, std::uint64_t random_bits) noexcept {
  return static_cast<std::uint64_t>((static_cast<uint128>(random_bits) * n) >> 64);
}

// Moves a uniformly chosen subset of `k` elements of `v` to its front and
// drops the rest (partial Fisher-Yates).
void keep_random_subset(std::vector<double>& v, std::size_t k, std::mt19937_64& rng) {
  k = std::min(k, v.size());
  for (std::size_t i = 0; i < k; ++i) std::swap(v[i], v[i + below(v.size() - i, rng())]);
  v.resize(k);
}

}  // namespace

// ---------------------------------------------------------------- latency_reservoir

latency_reservoir::latency_reservoir(std::size_t capacity, std::uint64_t seed)
    : capacity_(std::max<std::size_t>(capacity, 1)), rng_(seed) {}

void latency_reservoir::add(double ms) {
  if (std::isnan(ms)) return;  // a bug upstream; keep min/max/quantiles meaningful
  ++count_;
  if (count_ == 1) {
    min_ = max_ = ms;
  } else {
    min_ = std::min(min_, ms);
    max_ = std::max(max_, ms);
  }
  // Algorithm R: the n-th value replaces a random slot with probability capacity/n.
  if (sample_.size() < capacity_) {
    sample_.push_back(ms);
  } else if (const std::uint64_t j = below(count_, rng_()); j < capacity_) {
    sample_[j] = ms;
  }
}

void latency_reservoir::merge(const latency_reservoir& other) {
  if (other.count_ == 0) return;
  const std::uint64_t total = count_ + other.count_;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  if (count_ == sample_.size() && other.count_ == other.sample_.size() && total <= capacity_) {
    // Both samples are complete: the union is exact.
    sample_.insert(sample_.end(), other.sample_.begin(), other.sample_.end());
    count_ = total;
    return;
  }
  // A uniform sample of the union: draw how many of k slots come from each
  // side as k draws without replacement from populations count_ and
  // other.count_ (hypergeometric), then take that many random elements of
  // each side's own uniform sample.
  const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(capacity_, total));
  std::uint64_t left_a = count_, left_b = other.count_;
  std::size_t from_a = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (below(left_a + left_b, rng_()) < left_a) {
      ++from_a;
      --left_a;
    } else {
      --left_b;
    }
  }
  std::vector<double> theirs = other.sample_;
  keep_random_subset(sample_, from_a, rng_);
  keep_random_subset(theirs, k - from_a, rng_);
  sample_.insert(sample_.end(), theirs.begin(), theirs.end());
  count_ = total;
}

double latency_reservoir::quantile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min_;  // also NaN
  if (q >= 1) return max_;
  std::vector<double> sorted = sample_;
  std::sort(sorted.begin(), sorted.end());
  // Linear interpolation between closest ranks (numpy's default).
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return std::clamp(sorted[lo] + (sorted[hi] - sorted[lo]) * frac, min_, max_);
}

// ---------------------------------------------------------------- counters

void counters::add_error(std::string_view category, std::uint64_t pairs) {
  std::string key(category);
  if (auto it = errors_by_category.find(key); it != errors_by_category.end()) {
    it->second += pairs;
    return;
  }
  // One key is held back for other_category, so the map never exceeds the cap.
  if (errors_by_category.size() + 1 >= max_error_categories) key = other_category;
  errors_by_category[key] += pairs;
}

void counters::merge(const counters& o) {
  input_pairs += o.input_pairs;
  done_pairs += o.done_pairs;
  failed_pairs += o.failed_pairs;
  rejected_pairs += o.rejected_pairs;
  duplicate_pairs += o.duplicate_pairs;
  pending_pairs += o.pending_pairs;
  requests += o.requests;
  responses += o.responses;
  retries += o.retries;
  rate_limited += o.rate_limited;
  transport_errors += o.transport_errors;
  batches += o.batches;
  split_batches += o.split_batches;
  sent_pairs += o.sent_pairs;
  sent_inputs += o.sent_inputs;
  connections_opened += o.connections_opened;
  read_pages += o.read_pages;
  read_rows += o.read_rows;
  read_associations += o.read_associations;
  already_absent_pairs += o.already_absent_pairs;
  resent_pairs += o.resent_pairs;
  skipped_pairs += o.skipped_pairs;
  retried_failed_pairs += o.retried_failed_pairs;
  for (const auto& [k, v] : o.http_status) http_status[k] += v;
  for (const auto& [k, v] : o.errors_by_category) add_error(k, v);
  for (const auto& [k, v] : o.rejected_by_reason) rejected_by_reason[k] += v;
  latency_ms.merge(o.latency_ms);
}

namespace {

// Sums in 128 bits so corrupted (huge) counters cannot wrap into agreement.
template <class Map>
uint128 map_sum(const Map& m) {
  uint128 s = 0;
  for (const auto& kv : m) s += kv.second;
  return s;
}

std::string u128_to_string(uint128 v) {
  if (v <= UINT64_MAX) return std::to_string(static_cast<std::uint64_t>(v));
  std::string s;
  while (v) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

}  // namespace

std::string counters::check() const {
  std::vector<std::string> problems;
  const uint128 settled = uint128{done_pairs} + failed_pairs + rejected_pairs + duplicate_pairs + pending_pairs;
  if (settled != input_pairs) {
    problems.push_back(fmt::format(
        "input_pairs {} != done_pairs {} + failed_pairs {} + rejected_pairs {} + duplicate_pairs {} + "
        "pending_pairs {} (= {})",
        input_pairs, done_pairs, failed_pairs, rejected_pairs, duplicate_pairs, pending_pairs,
        u128_to_string(settled)));
  }
  auto sums_to = [&](const auto& map, std::string_view map_name, std::uint64_t total, std::string_view total_name) {
    const uint128 s = map_sum(map);
    if (s != total) {
      problems.push_back(fmt::format("{} sums to {} but {} is {}", map_name, u128_to_string(s), total_name, total));
    }
  };
  sums_to(errors_by_category, "errors_by_category", failed_pairs, "failed_pairs");
  sums_to(rejected_by_reason, "rejected_by_reason", rejected_pairs, "rejected_pairs");
  sums_to(http_status, "http_status", responses, "responses");
  if (responses > requests) problems.push_back(fmt::format("responses {} > requests {}", responses, requests));
  if (retries > requests) problems.push_back(fmt::format("retries {} > requests {}", retries, requests));
  const auto it = http_status.find(429);
  const std::uint64_t status_429 = it == http_status.end() ? 0 : it->second;
  if (rate_limited != status_429) {
    problems.push_back(fmt::format("rate_limited {} != http_status[429] {}", rate_limited, status_429));
  }
  if (sent_inputs > sent_pairs) problems.push_back(fmt::format("sent_inputs {} > sent_pairs {}", sent_inputs, sent_pairs));
  return fmt::format("{}", fmt::join(problems, "; "));
}

// ---------------------------------------------------------------- report

namespace {

// A JSON string literal. Invalid UTF-8 becomes U+FFFD so the report always
// parses, whatever bytes reached a category name or URL.
std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  io::append_json_escaped(out, s, io::invalid_utf8::replace);
  out.push_back('"');
  return out;
}

// Fixed three decimals; JSON has no NaN or infinity, so those become null.
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", v) : std::string("null"); }

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

template <class Map>
std::string json_count_map(const Map& m) {
  if (m.empty()) return "{}";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    fmt::format_to(std::back_inserter(out), "{}{}: {}", first ? "" : ", ", json_string(fmt::format("{}", k)), v);
    first = false;
  }
  out += "}";
  return out;
}

}  // namespace

std::string report_json(const counters& c, const report_context& ctx) {
  const std::string problem = c.check();
  const auto& lat = c.latency_ms;
  std::string out;
  auto o = std::back_inserter(out);
  out += "{\n";
  fmt::format_to(o, "  \"hubbatch_version\": {},\n", json_string(HUBBATCH_VERSION));
  fmt::format_to(o, "  \"operation\": {},\n", json_string(ctx.operation));
  fmt::format_to(o, "  \"from_type\": {},\n  \"to_type\": {},\n", json_string(ctx.from_type), json_string(ctx.to_type));
  fmt::format_to(o, "  \"api_version\": {},\n  \"base_url\": {},\n", json_string(ctx.api_version),
                 json_string(ctx.base_url));
  fmt::format_to(o, "  \"exit_code\": {},\n  \"stop_reason\": {},\n", ctx.exit_code, json_string(ctx.stop_reason));
  fmt::format_to(o, "  \"input_columns\": {},\n  \"input_hint\": {},\n",
                 ctx.input_columns.empty() ? "null" : json_string(ctx.input_columns),
                 ctx.input_hint.empty() ? "null" : json_string(ctx.input_hint));
  const std::string done_field = ctx.done_word + "_pairs";
  const std::pair<const char*, std::uint64_t> fields[] = {
      {"input_pairs", c.input_pairs},         {done_field.c_str(), c.done_pairs},
      {"failed_pairs", c.failed_pairs},       {"rejected_pairs", c.rejected_pairs},
      {"duplicate_pairs", c.duplicate_pairs}, {"pending_pairs", c.pending_pairs},
      {"requests", c.requests},               {"responses", c.responses},
      {"retries", c.retries},                 {"rate_limited", c.rate_limited},
      {"transport_errors", c.transport_errors}, {"batches", c.batches},
      {"split_batches", c.split_batches},     {"sent_pairs", c.sent_pairs},
      {"sent_inputs", c.sent_inputs},         {"connections_opened", c.connections_opened},
      {"already_absent_pairs", c.already_absent_pairs}, {"resent_pairs", c.resent_pairs},
      {"skipped_pairs", c.skipped_pairs}, {"retried_failed_pairs", c.retried_failed_pairs},
  };
  for (const auto& [name, value] : fields) fmt::format_to(o, "  \"{}\": {},\n", name, value);
  if (ctx.reads) {
    // A reading operation's input is records: the same counts under their names.
    fmt::format_to(o, "  \"records\": {},\n  \"failed_records\": {},\n  \"pages\": {},\n", c.done_pairs,
                   c.failed_pairs, c.read_pages);
    fmt::format_to(o, "  \"associations\": {},\n  \"association_rows\": {},\n", c.read_associations, c.read_rows);
  }
  fmt::format_to(o, "  \"http_status\": {},\n", json_count_map(c.http_status));
  fmt::format_to(o, "  \"errors_by_category\": {},\n", json_count_map(c.errors_by_category));
  fmt::format_to(o, "  \"rejected_by_reason\": {},\n", json_count_map(c.rejected_by_reason));
  fmt::format_to(o, "  \"pairs_per_request\": {},\n",
                 json_number(ratio(static_cast<double>(c.sent_pairs), static_cast<double>(c.requests))));
  fmt::format_to(o, "  \"elapsed_s\": {},\n", json_number(ctx.elapsed_s));
  fmt::format_to(o, "  \"pairs_per_s\": {},\n", json_number(ratio(static_cast<double>(c.done_pairs), ctx.elapsed_s)));
  fmt::format_to(o, "  \"latency_ms\": {{\"count\": {}, \"min\": {}, \"p50\": {}, \"p95\": {}, \"p99\": {}, \"max\": {}}},\n",
                 lat.count(), json_number(lat.min()), json_number(lat.quantile(0.50)), json_number(lat.quantile(0.95)),
                 json_number(lat.quantile(0.99)), json_number(lat.max()));
  fmt::format_to(o, "  \"rate_limit\": {{\"max\": {}, \"window_s\": {}}},\n", ctx.effective_rate_max,
                 json_number(ctx.effective_rate_window_s));
  fmt::format_to(o, "  \"rate_mode\": {},\n  \"rate_mode_switches\": {},\n  \"adaptive_rate_per_s\": {},\n",
                 json_string(ctx.rate_mode), ctx.rate_mode_switches,
                 ctx.rate_mode == "adaptive" ? json_number(ctx.adaptive_rate) : std::string("null"));
  if (const auto& p = ctx.partition) {
    fmt::format_to(o,
                   "  \"partition\": {{\"inputs\": {}, \"files\": {}, \"pairs\": {}, \"bytes\": {}, \"seconds\": {}, "
                   "\"dir\": {}}},\n",
                   p->inputs, p->files, p->pairs, p->bytes, json_number(p->seconds), json_string(p->dir));
  } else {
    out += "  \"partition\": null,\n";
  }
  if (ctx.totals) {
    const auto& t = *ctx.totals;
    fmt::format_to(o,
                   "  \"job_totals\": {{\"runs\": {}, \"input_pairs\": {}, \"{}\": {}, "
                   "\"already_absent_pairs\": {}, \"failed_pairs\": {}, \"rejected_pairs\": {}, "
                   "\"duplicate_pairs\": {}, \"pending_pairs\": {}, \"journal\": {}}},\n",
                   t.runs, t.input_pairs, done_field, t.done_pairs, t.already_absent_pairs, t.failed_pairs,
                   t.rejected_pairs, t.duplicate_pairs, t.pending_pairs, json_string(t.journal_path));
  }
  for (const auto& [key, value] : ctx.sections) fmt::format_to(o, "  {}: {},\n", json_string(key), value);
  fmt::format_to(o, "  \"invariant_ok\": {},\n  \"invariant_error\": {}\n", problem.empty(),
                 problem.empty() ? std::string("null") : json_string(problem));
  out += "}\n";
  return out;
}

namespace {

template <class Map>
std::string summary_map(const Map& m) {
  std::string out;
  for (const auto& [k, v] : m) fmt::format_to(std::back_inserter(out), "{}{} {}", out.empty() ? "" : ", ", k, v);
  return out;
}

// The `keep` categories with the most pairs (ties: by name), in name order,
// then "and N more (M pairs)": a server that invents categories cannot turn
// the summary's failed line into hundreds of items.
std::string top_categories(const std::map<std::string, std::uint64_t>& m, std::size_t keep) {
  if (m.size() <= keep) return summary_map(m);
  std::vector<std::pair<std::string_view, std::uint64_t>> by_count(m.begin(), m.end());
  std::stable_sort(by_count.begin(), by_count.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::map<std::string_view, std::uint64_t> top(by_count.begin(), by_count.begin() + static_cast<std::ptrdiff_t>(keep));
  uint128 rest = 0;
  for (auto it = by_count.begin() + static_cast<std::ptrdiff_t>(keep); it != by_count.end(); ++it) rest += it->second;
  return fmt::format("{}, and {} more ({} pairs)", summary_map(top), m.size() - keep, u128_to_string(rest));
}

}  // namespace

std::string report_summary(const counters& c, const report_context& ctx) {
  const std::string problem = c.check();
  const auto& lat = c.latency_ms;
  std::string out;
  auto o = std::back_inserter(out);
  // Every line is always present (fixed shape); labels in a 14-column field,
  // counts right-aligned in 12, details after.
  auto line = [&](std::string_view label, std::uint64_t n, std::string_view detail) {
    fmt::format_to(o, "  {:<14}{:>12}{}{}\n", label, n, detail.empty() ? "" : "  ", detail);
  };
  auto text = [&](std::string_view label, std::string_view value) { fmt::format_to(o, "  {:<14}{}\n", label, value); };

  fmt::format_to(o, "hubbatch {} {} -> {} ({}, {})\n", ctx.operation, ctx.from_type, ctx.to_type, ctx.api_version, ctx.base_url);
  std::string result = ctx.stop_reason.empty() ? fmt::format("finished, exit {}", ctx.exit_code)
                                               : fmt::format("stopped ({}), exit {}", ctx.stop_reason, ctx.exit_code);
  text("result", result);
  line("input " + ctx.unit, c.input_pairs, "");
  line(ctx.done_word, c.done_pairs,
       c.already_absent_pairs ? fmt::format("{} already absent", c.already_absent_pairs) : std::string());
  line("failed", c.failed_pairs, top_categories(c.errors_by_category, summary_error_categories));
  line("rejected", c.rejected_pairs, summary_map(c.rejected_by_reason));
  line("duplicates", c.duplicate_pairs, "");
  line("pending", c.pending_pairs, "");
  line("requests", c.requests,
       fmt::format("{} responses, {} retries, {} rate-limited, {} transport errors", c.responses, c.retries,
                   c.rate_limited, c.transport_errors));
  line("batches", c.batches,
       fmt::format("{} split, {:.1f} pairs/request", c.split_batches,
                   ratio(static_cast<double>(c.sent_pairs), static_cast<double>(c.requests))));
  line("connections", c.connections_opened, "");
  if (ctx.reads)
    line("associations", c.read_associations, fmt::format("{} rows, {} record pages", c.read_rows, c.read_pages));
  text("http status", c.http_status.empty() ? std::string("-") : summary_map(c.http_status));
  text("elapsed", fmt::format("{:.3f} s, {:.1f} pairs/s", ctx.elapsed_s,
                              ratio(static_cast<double>(c.done_pairs), ctx.elapsed_s)));
  text("latency ms", fmt::format("min {:.1f}  p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}", lat.min(),
                                 lat.quantile(0.50), lat.quantile(0.95), lat.quantile(0.99), lat.max()));
  text("rate limit", ctx.rate_mode == "adaptive"
                         ? fmt::format("adaptive, {:.1f} requests/s at the end", ctx.adaptive_rate)
                     : ctx.effective_rate_max > 0 && c.requests == 0 ? std::string("not learned (nothing sent)")
                     : ctx.effective_rate_max > 0
                         ? fmt::format("{} per {:g} s", ctx.effective_rate_max, ctx.effective_rate_window_s)
                         : std::string("unlimited"));
  text("accounting", problem.empty() ? std::string("ok") : "MISMATCH: " + problem);
  if (!ctx.input_columns.empty()) text("columns", ctx.input_columns);
  if (!ctx.input_hint.empty()) text("hint", ctx.input_hint);
  if (ctx.totals) {
    const auto& t = *ctx.totals;
    text("job totals", fmt::format("{} runs: {} input = {} {} + {} failed + {} rejected + {} duplicates + {} pending",
                                   t.runs, t.input_pairs, t.done_pairs, ctx.done_word, t.failed_pairs, t.rejected_pairs,
                                   t.duplicate_pairs, t.pending_pairs));
    if (c.skipped_pairs || c.resent_pairs || c.retried_failed_pairs)
      text("resumed", fmt::format("{} pairs settled by earlier runs skipped, {} resent (outcome unknown), {} "
                                  "retried (failed before)",
                                  c.skipped_pairs, c.resent_pairs, c.retried_failed_pairs));
  }
  return out;
}

}  // namespace hubbatch::engine
