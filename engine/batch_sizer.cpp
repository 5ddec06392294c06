#include "engine/batch_sizer.hpp"

#include <algorithm>

namespace hubbatch::engine {

batch_sizer::batch_sizer(settings s) : s_(s), good_(std::max<std::size_t>(1, s.start)) {
  if (s_.learn) good_ = std::min(good_, std::max<std::size_t>(1, s_.ceiling));
}

std::size_t batch_sizer::cut_size() const noexcept {
  if (settled() || probe_ != 0 || clean_ < s_.clean_to_grow) return good_;
  return std::min(good_ * 2, s_.ceiling);
}

bool batch_sizer::on_cut(std::size_t inputs) {
  if (settled() || probe_ != 0 || inputs <= good_) return false;
  probe_ = inputs;
  return true;
}

void batch_sizer::on_accepted(std::size_t inputs, bool clean) {
  if (clean) ++clean_;
  if (probe_ != 0 && inputs >= probe_) {
    good_ = std::max(good_, inputs);
    probe_ = 0;
    clean_ = 0;  // a run of clean answers at the new size before the next probe
  }
}

std::size_t batch_sizer::on_refused(std::size_t inputs, std::optional<std::size_t> named) {
  ++refusals_;
  std::size_t cap;
  if (named && *named >= 1 && *named < inputs)
    cap = *named;  // the server says where the limit is
  else if (probe_ != 0 && inputs > good_)
    cap = good_;  // the probe: the last size that passed
  else
    cap = std::max<std::size_t>(1, inputs / 2);                 // a size that passed before no longer does
  good_ = named && cap == *named ? cap : std::min(good_, cap);  // the server's word may be above what passed
  settled_ = true;
  if (probe_ != 0 && inputs >= probe_) probe_ = 0;
  clean_ = 0;
  return cap;
}

}  // namespace hubbatch::engine
