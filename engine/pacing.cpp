#include "engine/pacing.hpp"

#include <fmt/format.h>

namespace hubbatch::engine {

namespace {
constexpr int evidence_needed = 10;  // answers in a row that show the window ignores us
constexpr int own_needed = 8;        // of ours in the window before Remaining can say so
}  // namespace

std::string_view to_string(pace_mode m) noexcept {
  switch (m) {
    case pace_mode::window:
      return "window";
    case pace_mode::adaptive:
      return "adaptive";
    case pace_mode::fixed:
      return "fixed";
    case pace_mode::unpaced:
      return "unpaced";
  }
  return "window";
}

pacing::pacing(const archive_config& cfg)
    : mode_(pace_mode::window), max_rate_(cfg.max_rate), connections_(cfg.connections) {
  switch (cfg.rate) {
    case rate_mode::automatic:
      controller_.emplace(rate_controller::limit{100, std::chrono::seconds(10)}, cfg.rate_share);
      may_adapt_ = cfg.adaptive && cfg.rate_share >= 1.0;
      break;
    case rate_mode::fixed:
      mode_ = pace_mode::fixed;
      fixed_max_ = cfg.rate_max;
      fixed_window_ = cfg.rate_window;
      break;
    case rate_mode::unlimited:
      mode_ = pace_mode::unpaced;
      fixed_window_ = cfg.rate_window;
      break;
  }
}

pace_limit pacing::limit() const noexcept {
  switch (mode_) {
    case pace_mode::fixed:
      return {fixed_max_, fixed_window_, {}};
    case pace_mode::unpaced:
      return {0, fixed_window_, {}};
    case pace_mode::adaptive: {
      const auto spacing = std::chrono::duration<double>(1.0 / pacer_->rate());
      return {pacer_->in_flight_cap(), duration::zero(), std::chrono::duration_cast<duration>(spacing)};
    }
    case pace_mode::window:
      break;
  }
  const auto l = controller_->current();
  return {l.max, l.window, {}};
}

double pacing::requests_per_second() const noexcept {
  if (mode_ == pace_mode::adaptive) return pacer_->rate();
  const pace_limit l = limit();
  const double s = std::chrono::duration<double>(l.window).count();
  return l.max > 0 && s > 0 ? l.max / s : 0;
}

bool pacing::on_answer(const pace_answer& a, time_point now) {
  if (!controller_) return false;  // fixed, unpaced: nothing to learn
  const pace_limit before = limit();
  const bool ten_secondly = a.status == 429 && a.policy == "TEN_SECONDLY_ROLLING";
  // The window's controller follows the headers in both modes, so a return
  // to the window starts from what the server announced last.
  controller_->on_response(a.max, a.remaining, a.interval_ms, a.own_occupied, now);
  if (mode_ == pace_mode::window) {
    if (a.throttled) controller_->on_rate_limited(a.own_occupied, now);
    if (may_adapt_) {
      const bool window_headers = a.max >= 0 && a.remaining >= 0;
      const bool ignored = window_headers && a.own_base >= own_needed && 2 * (a.max - a.remaining) < a.own_base;
      const bool daily_only = !window_headers && a.daily_headers;
      evidence_streak_ = (ignored || daily_only) && !a.throttled ? evidence_streak_ + 1 : 0;
      if (evidence_streak_ >= evidence_needed) {
        to_adaptive(now, ignored ? fmt::format("{} answers in a row left X-HubSpot-RateLimit-Remaining at {} of {} "
                                               "while {} of our requests were in the window",
                                               evidence_needed, a.remaining, a.max, a.own_base)
                                 : fmt::format("{} answers in a row carried daily rate headers and no window headers",
                                               evidence_needed));
      }
    }
  } else if (ten_secondly) {
    controller_->on_rate_limited(a.own_occupied, now);
    to_window("a 429 TEN_SECONDLY_ROLLING: the window counts these requests after all");
  } else {
    using answer = adaptive_pacer::answer;
    const answer kind = a.throttled                         ? answer::throttled
                        : a.status >= 500                   ? answer::server_error
                        : a.status >= 200 && a.status < 300 ? answer::clean
                                                            : answer::other;
    pacer_->on_answer(now, a.latency, kind);
  }
  return !(limit() == before);
}

void pacing::to_adaptive(time_point now, std::string evidence) {
  // The window's full rate: 429s from a capacity the window does not know
  // (SECONDLY) may have lowered the window's own limit before the switch.
  const auto l = controller_->announced();
  const double window_rate = l.max / std::chrono::duration<double>(l.window).count();
  pacer_.emplace(adaptive_pacer::settings{window_rate, max_rate_, connections_}, now);
  mode_ = pace_mode::adaptive;
  ++switches_;
  evidence_ = std::move(evidence);
}

void pacing::to_window(std::string evidence) {
  mode_ = pace_mode::window;
  may_adapt_ = false;  // for the rest of the run
  ++switches_;
  evidence_ = std::move(evidence);
}

}  // namespace hubbatch::engine
