#include "cli/plan.hpp"

#include "engine/grouper.hpp"
#include "engine/pair_type.hpp"
#include "io/pair_reader.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <unordered_set>

namespace hubbatch::cli {
namespace {

struct plan_sink : io::pair_sink {
  plan_sink(const engine::archive_config& cfg, const engine::operation& op, plan_figures& f, bool quiet)
      : grouper(cfg.group_window, cfg.batch_size, engine::batch_pair_cap(op, cfg.batch_size, cfg.max_pairs_per_request)),
        cfg(cfg),
        op(op),
        fig(f),
        quiet(quiet) {
    grouper.set_one_pair_per_input(!op.groups_to_ids());
  }

  // Pairs reach the grouper in blocks of 64, as in the job (engine/job.cpp
  // job_state::add_staged), so the batches come out the same.
  void on_pair(pair_id p, std::uint64_t line) override {
    // Types as the job takes them (the portal's unlabelled type is not
    // known without asking it, so only a missing type is rejected here).
    if (std::string why = engine::settle_type(p, op, cfg.label, {}); !why.empty()) {
      on_reject(line, io::reject_reason::bad_association_type, why, {});
      return;
    }
    ++fig.input_lines;
    ++fig.pairs;
    staged_pairs[staged] = p;
    staged_lines[staged] = line;
    if (++staged == stage_size) add_staged();
  }
  void add_staged() {
    bool accepted[stage_size];
    grouper.add_many(staged_pairs, staged_lines, staged, accepted);
    for (std::size_t k = 0; k < staged; ++k) {
      if (accepted[k]) from_ids.insert(staged_pairs[k].from);
      else ++fig.duplicates;
    }
    staged = 0;
    while (grouper.full()) take();
  }
  void on_reject(std::uint64_t line, io::reject_reason r, std::string_view detail, std::string_view) override {
    ++fig.input_lines;
    ++fig.rejected;
    ++fig.rejected_by_reason[io::to_string(r)];
    if (!quiet && ++printed <= 10) spdlog::warn("{}:{}: rejected: {}: {}: {}", name, line, io::to_string(r), io::describe(r), detail);
  }
  void take() {
    if (grouper.take_batch(batch)) ++fig.requests;
  }
  void finish() {
    add_staged();
    while (!grouper.empty()) take();
    fig.distinct_from_ids = from_ids.size();
  }

  engine::pair_grouper grouper;
  const engine::archive_config& cfg;
  const engine::operation& op;
  plan_figures& fig;
  bool quiet;
  std::string name;
  std::uint64_t printed = 0;
  std::vector<pair_id> batch;
  static constexpr std::size_t stage_size = 64;
  pair_id staged_pairs[stage_size];
  std::uint64_t staged_lines[stage_size];
  std::size_t staged = 0;
  std::unordered_set<std::uint64_t> from_ids;
};

std::string duration_text(double s) {
  if (!std::isfinite(s)) return "unbounded";
  if (s < 60) return fmt::format("{:.1f}s", s);
  auto t = static_cast<std::uint64_t>(std::ceil(s));
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m{:02}s", t / 3600, t / 60 % 60, t % 60);
}

}  // namespace

plan_figures plan_inputs(const engine::archive_config& cfg, const engine::operation& op,
                         const std::vector<std::string>& inputs, bool quiet) {
  plan_figures fig;
  plan_sink sink(cfg, op, fig, quiet);
  for (const auto& path : inputs) {
    sink.name = path == "-" ? "<stdin>" : path;
    io::input_format format = cfg.format ? *cfg.format : io::input_format_for_path(path);
    io::pair_parser parser(format, engine::input_options(cfg));
    io::read_pairs_file(path, parser, sink);
    // As the run's summary says it (engine/job.cpp note_input).
    const std::string prefix = inputs.size() > 1 ? sink.name + ": " : std::string();
    if (auto c = parser.columns()) fig.columns += (fig.columns.empty() ? "" : "; ") + prefix + io::to_string(*c);
    if (!parser.hint().empty()) fig.hint += (fig.hint.empty() ? "" : "; ") + prefix + parser.hint();
  }
  sink.finish();
  return fig;
}

plan_rate rate_for_plan(const engine::archive_config& cfg, const std::optional<engine::archive_config>& given) {
  const engine::archive_config& c = given ? *given : cfg;
  plan_rate r;
  switch (c.rate) {
    case engine::rate_mode::fixed:
      r.max = c.rate_max;
      r.window = c.rate_window;
      r.source = given ? "--plan-rate" : "--rate";
      break;
    case engine::rate_mode::unlimited:
      r.max = 0;
      r.source = "unpaced";
      break;
    case engine::rate_mode::automatic:
      // auto learns the limit from the first response; plan sends none, so it
      // assumes the fallback (a Free/Starter portal), scaled by a share.
      r.max = std::max(1, static_cast<int>(std::floor(100 * c.rate_share)));
      r.window = std::chrono::seconds(10);
      r.source = "auto fallback; give --plan-rate N/Ws for your portal's limit";
      break;
  }
  return r;
}

std::string plan_text(const plan_figures& f, const plan_rate& rate, std::uint64_t daily_budget,
                      const std::vector<std::string>& inputs, const engine::archive_config& cfg) {
  std::string in;
  for (const auto& i : inputs) in += (in.empty() ? "" : ", ") + (i == "-" ? std::string("<stdin>") : i);
  std::string out;
  auto line = [&](std::string_view label, const std::string& value) { out += fmt::format("{:<14}{}\n", label, value); };
  line("plan", fmt::format("{} -> {} (nothing sent)", cfg.from_type, cfg.to_type));
  line("input", in);
  line("lines", std::to_string(f.input_lines));
  line("pairs", std::to_string(f.pairs));
  line("rejected", std::to_string(f.rejected));
  if (!f.columns.empty()) line("columns", f.columns);
  if (!f.hint.empty()) line("hint", f.hint);
  line("duplicates", std::to_string(f.duplicates));
  line("from-ids", std::to_string(f.distinct_from_ids));
  line("requests", fmt::format("{} (batch size {}{}, group window {})", f.requests, cfg.batch_size,
                               cfg.batch_size_auto ? ": auto starts there, so at most this many" : "",
                               cfg.group_window));
  double window_s = std::chrono::duration<double>(rate.window).count();
  if (rate.max > 0) {
    double seconds = static_cast<double>(f.requests) * window_s / rate.max;
    line("rate", fmt::format("{}/{}s ({})", rate.max, window_s, rate.source));
    line("duration", "~" + duration_text(seconds));
  } else {
    line("rate", "unpaced");
    line("duration", "bounded by the server");
  }
  if (daily_budget > 0)
    line("daily budget", fmt::format("{} of {} requests ({:.3g}%)", f.requests, daily_budget,
                                     100.0 * static_cast<double>(f.requests) / static_cast<double>(daily_budget)));
  else
    line("daily budget", "not given (--daily-budget N)");
  return out;
}

}  // namespace hubbatch::cli
