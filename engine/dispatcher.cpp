#include "engine/dispatcher.hpp"

#include "engine/grouper.hpp"
#include "io/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <iterator>
#include <string>
#include <utility>

namespace hubbatch::engine {
namespace {

bool contains(const std::vector<std::uint64_t>& v, std::uint64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string http_category(int status) { return "HTTP_" + std::to_string(status); }

// Statuses retried with backoff (429 has its own path).
bool retryable_status(int status) {
  return status >= 500 || status == 408 || status == 409 || status == 423 || status == 425 || status == 477 ||
         status < 200;
}

std::string format_seconds(duration d) {
  return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
}

}  // namespace

const char* to_string(pair_fate f) noexcept {
  switch (f) {
    case pair_fate::done: return "done";
    case pair_fate::failed: return "failed";
    case pair_fate::pending: return "pending";
  }
  return "unknown";
}

const char* to_string(stop_reason r) {
  switch (r) {
    case stop_reason::none: return "";
    case stop_reason::daily_limit: return "daily_limit";
    case stop_reason::auth: return "auth";
    case stop_reason::configuration: return "configuration";
    case stop_reason::interrupted: return "interrupted";
    case stop_reason::request_budget: return "request_budget";
    case stop_reason::deadline: return "deadline";
    case stop_reason::daily_reserve: return "daily_reserve";
    case stop_reason::rate_limited: return "rate_limited";
    case stop_reason::retry_after: return "retry_after";
    case stop_reason::tls: return "tls";
    case stop_reason::unreachable: return "unreachable";
    case stop_reason::local_io: return "local_io";
    case stop_reason::internal: return "internal";
  }
  return "unknown";
}

void work_item::push_from(const work_item& src, std::size_t i) {
  if (src.after.size() == src.pairs.size() && after.size() < pairs.size()) after.resize(pairs.size());
  pairs.push_back(src.pairs[i]);
  if (src.lines.size() == src.pairs.size()) lines.push_back(src.lines[i]);
  if (src.after.size() == src.pairs.size()) after.push_back(src.after[i]);
  else if (!after.empty()) after.emplace_back();
}

dispatcher::dispatcher(const options& opt, counters& c, outcome_fn on_outcome, const operation& op)
    : op_(op),
      opt_(opt),
      sizer_(batch_sizer::settings{opt.max_inputs, opt.learn_batch_size, opt.batch_ceiling, 4}),
      c_(c), on_outcome_(std::move(on_outcome)), rng_(opt.seed) {}

void dispatcher::add(std::vector<pair_id> pairs, std::vector<std::uint64_t> lines) {
  if (pairs.empty()) return;
  work_item item;
  item.pairs = std::move(pairs);
  item.lines = std::move(lines);
  if (stop_ != stop_reason::none) {
    settle_pending(item, to_string(stop_));
    return;
  }
  // A probe goes first: its answer decides the size of the batches after it.
  // (Once the size is settled, counting inputs is work for nothing.)
  if (!sizer_.settled() && sizer_.on_cut(op_.inputs(item.pairs))) ready_.push_front(std::move(item));
  else ready_.push_back(std::move(item));
}

std::optional<work_item> dispatcher::take(time_point now) {
  if (stop_ != stop_reason::none || now < pause_until_) return std::nullopt;
  if (opt_.max_requests && handed_out_ >= opt_.max_requests && queued() != 0) {
    stop(stop_reason::request_budget, "--max-requests " + std::to_string(opt_.max_requests) + " reached");
    return std::nullopt;
  }
  std::optional<work_item> out;
  if (!delayed_.empty() && delayed_.begin()->first <= now) {
    out.emplace(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  } else if (!ready_.empty()) {
    out.emplace(std::move(ready_.front()));
    ready_.pop_front();
  } else if (!continued_.pairs.empty() && in_flight_ == 0) {
    out.emplace(std::exchange(continued_, work_item{}));
    continued_inputs_ = continued_rows_ = 0;
  } else {
    return std::nullopt;
  }
  ++in_flight_;
  ++handed_out_;
  return out;
}

time_point dispatcher::next_due() const {
  time_point earliest = time_point::max();
  if (!ready_.empty() || (!continued_.pairs.empty() && in_flight_ == 0)) earliest = time_point::min();
  else if (!delayed_.empty()) earliest = delayed_.begin()->first;
  if (earliest == time_point::max()) return earliest;
  return std::max(earliest, pause_until_);
}

void dispatcher::note_time(time_point now) {
  if (now >= opt_.deadline) stop(stop_reason::deadline, "--deadline reached");
}

bool dispatcher::note_signal(int sig) {
  if (stop_ == stop_reason::interrupted) return true;
  stop(stop_reason::interrupted, sig == SIGINT ? "interrupted by SIGINT" : "terminated by SIGTERM");
  return false;
}

void dispatcher::note_local_failure(std::string what) { stop(stop_reason::local_io, std::move(what)); }

void dispatcher::note_internal_error(std::string what) { stop(stop_reason::internal, std::move(what)); }

void dispatcher::stop(stop_reason why, std::string message) {
  if (stop_ != stop_reason::none) return;  // the first reason wins
  stop_ = why;
  stop_message_ = std::move(message);
}

void dispatcher::drain_pending() {
  for (auto& item : ready_) settle_pending(item, to_string(stop_));
  ready_.clear();
  for (auto& [t, item] : delayed_) settle_pending(item, to_string(stop_));
  delayed_.clear();
  if (!continued_.pairs.empty()) settle_pending(std::exchange(continued_, work_item{}), to_string(stop_));
  continued_inputs_ = continued_rows_ = 0;
}

void dispatcher::requeue_now(work_item&& item, bool front) {
  if (stop_ != stop_reason::none) {
    settle_pending(item, to_string(stop_));
    return;
  }
  if (front) ready_.push_front(std::move(item));
  else ready_.push_back(std::move(item));
}

void dispatcher::retry_later(work_item&& item, time_point now, std::optional<duration> retry_after,
                             std::string_view category, int status, std::string_view message) {
  ++item.attempt;
  if (item.attempt > opt_.max_retries) {
    std::string why(message);
    why += " (gave up after " + std::to_string(item.attempt) + (item.attempt == 1 ? " attempt)" : " attempts)");
    settle_failed(item, category, status, why, /*retryable=*/true);
    return;
  }
  if (stop_ != stop_reason::none) {
    settle_pending(item, to_string(stop_));
    return;
  }
  item.resend = true;
  last_retry_ = item.attempt;
  item.not_before = now + backoff_delay(opt_.backoff, item.attempt, retry_after, rng_());
  delayed_.emplace(item.not_before, std::move(item));
}

std::size_t dispatcher::pair_cap() const noexcept {
  return batch_pair_cap(op_, sizer_.size(), opt_.max_pairs);
}

std::size_t dispatcher::cut_pair_cap() const noexcept {
  return batch_pair_cap(op_, sizer_.cut_size(), opt_.max_pairs);
}

void dispatcher::split_into(work_item&& item, bool front) {
  if (op_.inputs(item.pairs) <= sizer_.size() && (pair_cap() == 0 || item.pairs.size() <= pair_cap())) {
    requeue_now(std::move(item), front);
    return;
  }
  auto parts = split_batch(item.pairs, sizer_.size(), pair_cap());
  c_.split_batches += parts.size() - 1;
  // split_batch keeps order, so the lines are sliced at the same offsets.
  std::vector<work_item> pieces;
  std::size_t offset = 0;
  for (auto& part : parts) {
    work_item w;
    w.attempt = item.attempt;
    w.maybe_applied = item.maybe_applied;
    if (item.lines.size() == item.pairs.size())
      w.lines.assign(item.lines.begin() + static_cast<std::ptrdiff_t>(offset),
                     item.lines.begin() + static_cast<std::ptrdiff_t>(offset + part.size()));
    if (item.after.size() == item.pairs.size())
      w.after.assign(std::make_move_iterator(item.after.begin() + static_cast<std::ptrdiff_t>(offset)),
                     std::make_move_iterator(item.after.begin() + static_cast<std::ptrdiff_t>(offset + part.size())));
    offset += part.size();
    w.pairs = std::move(part);
    pieces.push_back(std::move(w));
  }
  if (front)
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) requeue_now(std::move(*it), true);
  else
    for (auto& w : pieces) requeue_now(std::move(w), false);
}

void dispatcher::bisect(work_item&& item) {
  // Halve by pairs, keeping order: each half stays grouped by from-id.
  std::size_t mid = item.pairs.size() / 2;
  work_item second;
  second.pairs.assign(item.pairs.begin() + static_cast<std::ptrdiff_t>(mid), item.pairs.end());
  if (item.lines.size() == item.pairs.size()) {
    second.lines.assign(item.lines.begin() + static_cast<std::ptrdiff_t>(mid), item.lines.end());
    item.lines.resize(mid);
  }
  if (item.after.size() == item.pairs.size()) {
    second.after.assign(std::make_move_iterator(item.after.begin() + static_cast<std::ptrdiff_t>(mid)),
                        std::make_move_iterator(item.after.end()));
    item.after.resize(mid);
  }
  second.attempt = item.attempt;
  second.maybe_applied = item.maybe_applied;
  item.pairs.resize(mid);
  ++c_.split_batches;
  requeue_now(std::move(second), true);
  requeue_now(std::move(item), true);
}

namespace {
// Pairs [first, first + n) of `w`, and their lines (none if `w` has none).
std::span<const pair_id> pairs_of(const work_item& w, std::size_t first, std::size_t n) {
  return std::span<const pair_id>(w.pairs).subspan(first, n);
}
std::span<const std::uint64_t> lines_of(const work_item& w, std::size_t first, std::size_t n) {
  if (w.lines.size() != w.pairs.size()) return {};
  return std::span<const std::uint64_t>(w.lines).subspan(first, n);
}

}  // namespace

void dispatcher::settle_done(const work_item& w, std::size_t i, std::string_view category) {
  ++c_.done_pairs;
  if (!category.empty()) ++c_.already_absent_pairs;  // done despite an error naming it
  if (on_outcome_) on_outcome_(pairs_of(w, i, 1), lines_of(w, i, 1), {pair_fate::done, category, 0, {}});
}

void dispatcher::settle_done(const work_item& w) {
  c_.done_pairs += w.pairs.size();
  if (on_outcome_) on_outcome_(w.pairs, lines_of(w, 0, w.pairs.size()), {pair_fate::done, {}, 0, {}});
}

void dispatcher::settle_failed(const work_item& w, std::size_t i, std::string_view category, int status,
                               std::string_view message) {
  ++c_.failed_pairs;
  c_.add_error(category, 1);
  if (on_outcome_) on_outcome_(pairs_of(w, i, 1), lines_of(w, i, 1), {pair_fate::failed, category, status, message});
}

void dispatcher::settle_failed(const work_item& w, std::string_view category, int status, std::string_view message,
                               bool retryable) {
  if (w.pairs.empty()) return;
  c_.failed_pairs += w.pairs.size();
  c_.add_error(category, w.pairs.size());
  if (on_outcome_)
    on_outcome_(w.pairs, lines_of(w, 0, w.pairs.size()), {pair_fate::failed, category, status, message, retryable});
}

void dispatcher::settle_pending(const work_item& w, std::string_view reason) {
  c_.pending_pairs += w.pairs.size();
  if (on_outcome_)
    on_outcome_(w.pairs, lines_of(w, 0, w.pairs.size()), {pair_fate::pending, reason, 0, stop_message_});
}

void dispatcher::on_result(work_item&& item, const attempt_result& r, time_point now) {
  --in_flight_;
  last_retry_ = 0;
  last_throttled_ = false;
  if (r.headers && r.headers->daily_remaining && opt_.daily_reserve >= 0 &&
      *r.headers->daily_remaining <= opt_.daily_reserve) {
    // Budget manners: leave the rest of the day's budget to the portal's
    // other integrations. This response still counts.
    stop(stop_reason::daily_reserve, "X-HubSpot-RateLimit-Daily-Remaining is " +
                                         std::to_string(*r.headers->daily_remaining) + ", at or below --daily-reserve " +
                                         std::to_string(opt_.daily_reserve));
  }
  if (r.what == attempt_result::kind::tls_failure) {
    // A certificate that fails verification will not get better by retrying,
    // and may be someone else's: stop at once, with the cause named; this
    // item and every other pair not yet settled end pending.
    ++c_.transport_errors;
    stop(stop_reason::tls, std::string(r.error));
    settle_pending(item, to_string(stop_));
    return;
  }
  if (r.what == attempt_result::kind::connect_error && !reached_ && opt_.unreachable_after > 0 &&
      ++unreached_failures_ >= opt_.unreachable_after) {
    // Every connection tried and none ever got through: a mistyped host or
    // port will not get better by retrying each batch.
    ++c_.transport_errors;
    stop(stop_reason::unreachable, "cannot reach the server: " + std::string(r.error));
    settle_pending(item, to_string(stop_));
    return;
  }
  if (r.too_large && op_.reads() && op_.inputs(item.pairs) > 1) {
    // A read answer past the response limit (records with many
    // associations): ask for fewer records at a time.
    ++c_.transport_errors;
    bisect(std::move(item));
    return;
  }
  if (r.what == attempt_result::kind::transport_error || r.what == attempt_result::kind::connect_error) {
    throttled_since_.reset();  // not a 429: the "nothing but 429s" clock starts again
    ++c_.transport_errors;
    sizer_.on_trouble();
    item.maybe_applied = item.maybe_applied || r.request_written;
    retry_later(std::move(item), now, std::nullopt, "TRANSPORT", 0, r.error);
    return;
  }
  ++c_.responses;
  ++c_.http_status[r.status];
  if (r.status == 429) ++c_.rate_limited;
  if (r.status == 429 || r.status >= 500) sizer_.on_trouble();
  static const codec::decoded_response empty_body;
  const codec::decoded_response& body = r.body ? *r.body : empty_body;
  std::optional<duration> retry_after;
  if (r.headers && r.headers->retry_after_ms)
    retry_after = std::chrono::milliseconds(*r.headers->retry_after_ms);
  if (r.status != 429) throttled_since_.reset();
  const bool daily_429 = r.status == 429 && body.policy_name == "DAILY";  // its own stop, below
  last_throttled_ = r.status == 429 && !daily_429;
  if (retry_after && *retry_after > opt_.max_retry_after && !daily_429 &&
      (r.status == 429 || retryable_status(r.status))) {
    stop(stop_reason::retry_after,
         "HTTP " + std::to_string(r.status) + " asked to retry after " + format_seconds(*retry_after) +
             " (Retry-After), longer than --max-retry-after " + format_seconds(opt_.max_retry_after) +
             "; resume later");
    settle_pending(item, to_string(stop_));
    return;
  }

  if (op_.success(r.status)) {
    on_success(std::move(item), r, now);
    return;
  }
  if (r.status == 429) {
    if (daily_429) {
      stop(stop_reason::daily_limit,
           (body.message.empty() ? std::string("daily limit reached") : body.message) +
               " (HubSpot resets it at midnight in the portal's time zone)");
      settle_pending(item, to_string(stop_));
      return;
    }
    if (!throttled_since_) {
      throttled_since_ = now;
      throttled_count_ = 0;
    }
    ++throttled_count_;
    if (opt_.throttle_timeout > duration::zero() && now - *throttled_since_ >= opt_.throttle_timeout) {
      stop(stop_reason::rate_limited, "every response for " + format_seconds(now - *throttled_since_) + " (" +
                                          std::to_string(throttled_count_) +
                                          " in a row) was a 429, reaching --throttle-timeout; resume later");
      settle_pending(item, to_string(stop_));
      return;
    }
    // TEN_SECONDLY_ROLLING, SECONDLY or unnamed: everyone waits, then resend
    // unchanged. Not a failed attempt: the server did nothing with it.
    duration pause = retry_after ? *retry_after : opt_.rate_pause;
    pause_until_ = std::max(pause_until_, now + pause);
    item.resend = true;
    requeue_now(std::move(item), true);
    return;
  }
  if (r.status == 401 || r.status == 403) {
    scopes_ = body.required_scopes;
    std::string msg = "HTTP " + std::to_string(r.status);
    if (!body.category.empty()) msg += " " + body.category;
    if (!body.message.empty()) msg += ": " + body.message;
    stop(stop_reason::auth, msg);
    settle_pending(item, to_string(stop_));
    return;
  }
  if ((r.status >= 300 && r.status < 400) || r.status == 404 || r.status == 405) {
    std::string msg = "HTTP " + std::to_string(r.status) + " for the " + std::string(op_.name()) + " route";
    if (r.status < 400) msg += " (redirects are never followed)";
    else msg += ": check --base-url, --api-version and the object types";
    if (!body.message.empty()) msg += " (" + body.message + ")";
    stop(stop_reason::configuration, msg);
    settle_pending(item, to_string(stop_));
    return;
  }
  if (r.status == 400 || r.status == 413 || r.status == 414 || r.status == 422) {
    on_client_error(std::move(item), r, now);
    return;
  }
  bool retryable = retryable_status(r.status);
  std::string category = body.category.empty() ? http_category(r.status) : body.category;
  std::string message = body.message.empty() ? "HTTP " + std::to_string(r.status) : body.message;
  if (r.status == 423 && !retry_after) retry_after = std::chrono::seconds(2);  // locks last 2 s
  if (retryable) {
    // A 5xx may come after the server applied the batch (docs/hubspot-api.md, sandbox checklist 7).
    item.maybe_applied = item.maybe_applied || r.status >= 500;
    retry_later(std::move(item), now, retry_after, category, r.status, message);
    return;
  }
  settle_failed(item, category, r.status, message);
}

void dispatcher::on_success(work_item&& item, const attempt_result& r, time_point now) {
  const codec::decoded_response* body = r.body;
  if (body && (body->kind == codec::body_kind::invalid_json || body->kind == codec::body_kind::not_json)) {
    // A 2xx whose body is garbage or cut short: we cannot tell whether the
    // server finished. Resend (idempotent).
    item.maybe_applied = true;
    ++c_.transport_errors;
    retry_later(std::move(item), now, std::nullopt, "BAD_RESPONSE",
                r.status, std::string("2xx with ") + codec::to_string(body->kind) + " body");
    return;
  }
  if (!sizer_.settled())
    sizer_.on_accepted(op_.inputs(item.pairs), !body || (body->errors.empty() && body->num_errors == 0));
  if (r.read) {
    on_page(std::move(item), r, now);
    return;
  }
  if (!body || (body->errors.empty() && body->num_errors == 0)) {
    settle_done(item);
    return;
  }
  // Partial failure: match errors[] to pairs through their context ids.
  std::vector<char> settled(item.pairs.size(), 0);
  const bool unmatched = settle_named(item, *body, r.status, settled);
  work_item rest;
  rest.attempt = item.attempt;
  rest.maybe_applied = true;
  for (std::size_t i = 0; i < item.pairs.size(); ++i)
    if (!settled[i]) rest.push_from(item, i);
  if (rest.pairs.empty()) return;
  if (!unmatched) {
    settle_done(rest);
    return;
  }
  settle_unmatched(std::move(rest), *body, r.status);
}

bool dispatcher::settle_named(const work_item& item, const codec::decoded_response& body, int status,
                              std::vector<char>& settled) {
  bool unmatched = body.num_errors > static_cast<std::int64_t>(body.errors.size());
  for (const auto& e : body.errors) {
    bool matched = false;
    if (!e.from_ids.empty() || !e.to_ids.empty()) {
      for (std::size_t i = 0; i < item.pairs.size(); ++i) {
        const auto& p = item.pairs[i];
        bool from_ok = e.from_ids.empty() || contains(e.from_ids, p.from);
        bool to_ok = e.to_ids.empty() || contains(e.to_ids, p.to);
        if (!from_ok || !to_ok) continue;
        // An error about pairs an earlier error already settled is
        // accounted for (HubSpot may send one per input of a missing
        // record): it must not make the rest of the batch look unsure.
        matched = true;
        if (!settled[i]) {
          settled[i] = 1;
          if (auto done = op_.done_despite(e.category, e.sub_category)) {
            settle_done(item, i, *done);
          } else {
            settle_failed(item, i, e.category.empty() ? "BATCH_ERROR" : e.category, status,
                          e.message.empty() ? e.sub_category : e.message);
          }
        }
      }
    }
    if (!matched) unmatched = true;
  }
  return unmatched;
}

void dispatcher::settle_unmatched(work_item&& rest, const codec::decoded_response& body, int status) {
  // Some error named no pair we can find: the pairs left may or may not have
  // been applied. Split until each error is pinned to one pair.
  if (rest.pairs.size() == 1) {
    const auto& e = body.errors.empty() ? codec::error_item{} : body.errors.front();
    if (auto done = op_.done_despite(e.category, e.sub_category)) {
      settle_done(rest, 0, *done);
    } else {
      settle_failed(rest, 0, e.category.empty() ? "BATCH_ERROR" : e.category, status,
                    e.message.empty() ? "batch reported an error for this pair" : e.message);
    }
    return;
  }
  bisect(std::move(rest));
}

void dispatcher::on_client_error(work_item&& item, const attempt_result& r, time_point now) {
  static const codec::decoded_response empty_body;
  const codec::decoded_response& body = r.body ? *r.body : empty_body;
  std::string category = body.category.empty() ? http_category(r.status) : body.category;
  std::string message = body.message.empty() ? "HTTP " + std::to_string(r.status) : body.message;

  if (body.batch_too_large || r.status == 413 || r.status == 414) {
    std::size_t inputs = op_.inputs(item.pairs);
    if (item.pairs.size() <= 1) {
      settle_failed(item, category, r.status, message);
      return;
    }
    // Lower the caps for the rest of the run (batch_sizer: to the limit the
    // answer states, the last size that passed, or half), then resend this
    // batch split.
    if (inputs > 1) {
      std::optional<std::size_t> named;
      if (body.batch_limit > 0) named = static_cast<std::size_t>(body.batch_limit);
      sizer_.on_refused(inputs, named);
    } else {
      opt_.max_pairs = std::max<std::size_t>(1, item.pairs.size() / 2);
    }
    // Batches already waiting were cut to the old caps: cut them again now
    // rather than collect one 400 each.
    std::deque<work_item> waiting;
    waiting.swap(ready_);
    for (auto& w : waiting) split_into(std::move(w), false);
    split_into(std::move(item), true);
    return;
  }
  if (io::istarts_with(body.message, "Unable to infer object type")) {
    stop(stop_reason::configuration, message);
    settle_pending(item, to_string(stop_));
    return;
  }
  // The body names the offending ids: settle those, resend the rest.
  if (!body.context_from_ids.empty() || !body.context_to_ids.empty()) {
    work_item rest;
    rest.attempt = item.attempt;
    rest.maybe_applied = item.maybe_applied;
    std::size_t named = 0;
    for (std::size_t i = 0; i < item.pairs.size(); ++i) {
      const auto& p = item.pairs[i];
      bool from_ok = body.context_from_ids.empty() || contains(body.context_from_ids, p.from);
      bool to_ok = body.context_to_ids.empty() || contains(body.context_to_ids, p.to);
      if (from_ok && to_ok) {
        ++named;
        if (auto done = op_.done_despite(body.category, body.sub_category)) {
          settle_done(item, i, *done);
        } else {
          settle_failed(item, i, category, r.status, message);
        }
      } else {
        rest.push_from(item, i);
      }
    }
    if (named > 0) {
      if (!rest.pairs.empty()) {
        ++c_.split_batches;
        requeue_now(std::move(rest), true);
      }
      return;
    }
  }
  if (item.pairs.size() > 1) {
    bisect(std::move(item));
    return;
  }
  if (auto done = op_.done_despite(body.category, body.sub_category)) {
    settle_done(item, 0, *done);
    return;
  }
  (void)now;
  settle_failed(item, category, r.status, message);
}

}  // namespace hubbatch::engine
