#include "engine/adaptive_pacer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace hubbatch::engine {

namespace {
constexpr std::size_t max_samples = 512;      // latencies kept per epoch (the median needs no more)
constexpr std::size_t baseline_epochs = 240;  // the baseline: the lowest epoch median of these (two minutes)
constexpr std::size_t latency_epochs = 8;
constexpr int min_samples = 5;  // answers an epoch needs before its median is judged     // the in-flight cap follows
                                // the highest median of these
}  // namespace

adaptive_pacer::adaptive_pacer(settings s, time_point now)
    : s_(s), rate_(std::clamp(s.start, 1.0, std::max(1.0, s.ceiling))), epoch_start_(now) {
  s_.max_in_flight = std::max(1, s_.max_in_flight);
  update_in_flight();
}

duration adaptive_pacer::epoch() const noexcept {
  const auto twice_baseline = std::chrono::duration<double, std::milli>(2 * baseline_ms_);
  return std::max<duration>(std::chrono::milliseconds(500), std::chrono::duration_cast<duration>(twice_baseline));
}

bool adaptive_pacer::on_answer(time_point now, duration latency, answer a) {
  const double before = rate_;
  const int cap_before = in_flight_;
  if (a == answer::throttled) {
    if (now >= hold_until_) decrease(now, "429 from the server");
  } else {
    // Answers to requests sent before the last decrease tell of the old rate.
    if (now - latency < decreased_at_) return false;
    ++answers_;
    if (a == answer::server_error) ++server_errors_;
    if (latencies_ms_.size() < max_samples)
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(latency).count());
    const bool burst = server_errors_ >= 3 || (server_errors_ >= 2 && server_errors_ * 5 >= answers_);
    if (burst && now >= hold_until_) {
      decrease(now, fmt::format("{} 5xx answers of {} in this epoch", server_errors_, answers_));
    } else if (now - epoch_start_ >= epoch() && (answers_ >= min_samples || now - epoch_start_ >= 8 * epoch())) {
      end_epoch(now);  // a slow pace waits for enough answers to judge (up to eight epochs)
    }
  }
  return rate_ != before || in_flight_ != cap_before;
}

bool adaptive_pacer::end_epoch(time_point now) {
  const double seconds = std::chrono::duration<double>(now - epoch_start_).count();
  const int answers = answers_;
  const bool clean = server_errors_ == 0;
  const std::size_t samples = latencies_ms_.size();
  double median = 0;
  if (samples > 0) {
    auto mid = latencies_ms_.begin() + static_cast<std::ptrdiff_t>(samples / 2);
    std::nth_element(latencies_ms_.begin(), mid, latencies_ms_.end());
    median = *mid;
    medians_ms_.push_back(median);
    if (medians_ms_.size() > baseline_epochs) medians_ms_.pop_front();
    baseline_ms_ = *std::min_element(medians_ms_.begin(), medians_ms_.end());
    const auto recent = std::min(latency_epochs, medians_ms_.size());
    recent_ms_ = *std::max_element(medians_ms_.end() - static_cast<std::ptrdiff_t>(recent), medians_ms_.end());
  }
  answers_ = server_errors_ = 0;
  latencies_ms_.clear();
  epoch_start_ = now;
  if (now < hold_until_ || samples == 0) {
    update_in_flight();
    return false;
  }
  // Latency bands above the baseline (absolute floors for a fast server,
  // shares of the baseline for a slow one).
  const double above = median - baseline_ms_;
  if (above > std::max(150.0, baseline_ms_)) {
    decrease(now, fmt::format("median latency {:.0f} ms against a baseline of {:.0f} ms", median, baseline_ms_));
    return true;
  }
  const double before = rate_;
  if (above > std::max(100.0, 0.5 * baseline_ms_)) {
    rate_ = std::max(1.0, rate_ * 0.97);                   // slow: ease off before it turns into 429s
  } else if (clean && answers >= 0.7 * rate_ * seconds) {  // only a rate the work used proves anything
    if (above > std::max(50.0, 0.25 * baseline_ms_))
      rate_ *= 1.01;  // warm: creep
    else
      rate_ *= halved_ ? 1.05 : 1.25;  // fast
    rate_ = std::min(rate_, std::max(1.0, s_.ceiling));
  }
  update_in_flight();
  if (rate_ > before) reason_.clear();
  return rate_ != before;
}

void adaptive_pacer::decrease(time_point now, std::string why) {
  halved_ = true;
  rate_ = std::max(1.0, rate_ / 2);
  ++decreases_;
  reason_ = std::move(why);
  decreased_at_ = now;
  // A server measures its load over a trailing second: the answers of the
  // next second still show the old rate.
  hold_until_ = now + std::max<duration>(2 * epoch(), std::chrono::seconds(1));
  answers_ = server_errors_ = 0;
  latencies_ms_.clear();
  epoch_start_ = now;
  update_in_flight();
}

void adaptive_pacer::update_in_flight() {
  // What the rate needs at the highest recent latency, twice over, plus two.
  const double needed = rate_ * recent_ms_ / 1000.0;
  const int cap = static_cast<int>(std::ceil(2 * needed)) + 2;
  in_flight_ = std::clamp(cap, std::min(2, s_.max_in_flight), s_.max_in_flight);
}

}  // namespace hubbatch::engine
