// How many inputs a batch may carry: fixed (--batch-size N) or learned
// (--batch-size auto).
//
// HubSpot documents no input cap for most association batch endpoints
// (docs/hubspot-api.md §2): 100 is the safe reading, connectors document up
// to 2,000 for create. A learner starts at a size known to pass, and after a
// run of clean answers lets one batch try twice the size (a probe). The
// probe's 2xx makes its size the new one; a 400 "too many inputs" settles
// the size for the rest of the run just below the refused one (at the limit
// the answer names, when it names one). Only one probe is out at a time, so
// each size tried costs at most one refused request.
//
// Pure: the dispatcher tells it what it cut and what came back; the grouper
// cuts at cut_size(). Decisions only, no clock.
#pragma once

#include <cstddef>
#include <optional>

namespace hubbatch::engine {

class batch_sizer {
 public:
  struct settings {
    std::size_t start = 100;     // the first size (--batch-size N: the only one)
    bool learn = false;          // --batch-size auto
    std::size_t ceiling = 2000;  // the learner never tries more
    int clean_to_grow = 4;       // clean answers in a row before a probe
  };

  explicit batch_sizer(settings s);

  // The size the next batch may be cut at: the probe's size when one is due
  // and none is out, else size().
  std::size_t cut_size() const noexcept;
  // The size known to pass (the cap every waiting batch must respect).
  std::size_t size() const noexcept { return good_; }
  // No probe will be tried any more (fixed, settled by a refusal, or at the ceiling).
  bool settled() const noexcept { return !s_.learn || settled_ || good_ >= s_.ceiling; }
  // Refused requests so far ("too many inputs").
  int refusals() const noexcept { return refusals_; }

  // A batch of `inputs` inputs was cut: true when it is the probe (send it first).
  bool on_cut(std::size_t inputs);
  // A batch of `inputs` inputs got a 2xx; `clean` when it named no error.
  void on_accepted(std::size_t inputs, bool clean);
  // A 429, 5xx or transport error: the run of clean answers starts over.
  void on_trouble() noexcept { clean_ = 0; }
  // A batch of `inputs` got "too many inputs"; `named` is the limit the
  // answer states, if any. Returns the size to split the refused batch to.
  std::size_t on_refused(std::size_t inputs, std::optional<std::size_t> named);

 private:
  settings s_;
  std::size_t good_;
  std::size_t probe_ = 0;  // inputs of the probe waiting for its answer; 0 = none out
  int clean_ = 0;
  bool settled_ = false;
  int refusals_ = 0;
};

}  // namespace hubbatch::engine
