// The reading operations' side of the dispatcher (engine/dispatcher.hpp):
// what a batch/read answer means for the pairs of the item it answers
// (rows kept by the operation's read_mode(), pairs settled, records with
// more pages gathered into continued_). Socket-free like the rest of it;
// tests/engine/dispatcher_read_test.cpp drives it with a fake clock.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "engine/dispatcher.hpp"

namespace hubbatch::engine {

void dispatcher::on_page(work_item&& item, const attempt_result& r, time_point now) {
  static const codec::decoded_response empty_body;
  const codec::decoded_read& page = *r.read;
  const codec::decoded_response& body = r.body ? *r.body : empty_body;
  const auto mode = op_.read_mode();
  if (page.skipped > 0 && mode != operation::read_kind::records) {
    // Backup and verify judge each listed pair by the rows: an association
    // or label the decoder could not read would be missed in a backup, or
    // taken for gone. Ask again; a server that keeps answering so fails them.
    ++c_.transport_errors;
    retry_later(std::move(item), now, std::nullopt, "BAD_RESPONSE", r.status,
                fmt::format("2xx with {} part(s) of results[] that could not be read", page.skipped));
    return;
  }
  const std::size_t n = item.pairs.size();
  // The item's pairs by (from, to), to find each row's and each cursor's.
  struct key {
    std::uint64_t from, to;
    std::size_t i;
    bool operator<(const key& o) const noexcept { return from != o.from ? from < o.from : to < o.to; }
  };
  std::vector<key> index;
  index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) index.push_back({item.pairs[i].from, item.pairs[i].to, i});
  std::sort(index.begin(), index.end());
  auto first_of = [&index](std::uint64_t from) {  // the first pair of `from`, or index.end()
    auto it = std::lower_bound(index.begin(), index.end(), key{from, 0, 0});
    return it != index.end() && it->from == from ? it : index.end();
  };
  // Rows first: the kept ones reach the sink (and its file) before any pair
  // of this answer settles. Rows of a record we did not ask for are dropped.
  std::vector<char> answered(n, 0), present(n, 0);
  std::vector<std::size_t> row_count(n, 0);  // by the first pair of each from
  std::vector<codec::read_row> kept;         // when some row is dropped: the kept ones
  bool keep_all = true;
  std::uint64_t present_rows = 0, present_pairs = 0;  // verify: rows of listed pairs (not kept)
  auto drop = [&](std::size_t k) {                    // row k is not kept
    if (!keep_all) return;
    keep_all = false;
    kept.assign(page.rows.begin(), page.rows.begin() + static_cast<std::ptrdiff_t>(k));
  };
  for (std::size_t k = 0; k < page.rows.size(); ++k) {
    const auto& row = page.rows[k];
    auto it = first_of(row.from);
    if (it == index.end()) {
      drop(k);
      continue;
    }
    answered[it->i] = 1;
    ++row_count[it->i];
    bool keep = mode == operation::read_kind::records;
    if (!keep) {
      auto hit = std::lower_bound(it, index.end(), key{row.from, row.to, 0});
      if (hit != index.end() && hit->from == row.from && hit->to == row.to) {
        present_pairs += !present[hit->i];
        present[hit->i] = 1;
        keep = mode == operation::read_kind::keep;
        present_rows += !keep;
      }
    }
    if (!keep)
      drop(k);
    else if (!keep_all)
      kept.push_back(row);
  }
  const std::span<const codec::read_row> rows = keep_all ? std::span<const codec::read_row>(page.rows) : kept;
  c_.read_rows += rows.size();
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (k == 0 || rows[k].from != rows[k - 1].from || rows[k].to != rows[k - 1].to) ++c_.read_associations;
  if (mode == operation::read_kind::absent) {
    c_.read_rows += present_rows;
    c_.read_associations += present_pairs;
  }
  if (on_page_ && !rows.empty()) on_page_(rows);

  std::vector<char> settled(n, 0);
  // Parts of the answer the decoder could not read (page.skipped) may have
  // been a record's rows: a record without rows is then as unsure as after
  // an error naming nobody, never done with none (a backup would miss it).
  const bool unmatched = settle_named(item, body, r.status, settled) || page.skipped > 0;
  std::vector<const std::string*> cursor(n, nullptr);  // by the first pair of each from
  for (const auto& next : page.next)
    if (auto it = first_of(next.from); it != index.end()) cursor[it->i] = &next.after;
  work_item unsure;
  unsure.attempt = item.attempt;
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 0 || item.pairs[i].from != item.pairs[i - 1].from) ++c_.read_pages;  // a record's page answered
    if (settled[i]) continue;
    const std::size_t first = first_of(item.pairs[i].from)->i;
    if (present[i] && mode == operation::read_kind::absent) {
      settle_failed(item, i, still_present, r.status, "still associated when read back");
    } else if (present[i]) {
      settle_done(item, i);
    } else if (cursor[first]) {
      if (cursor[first]->empty())
        settle_failed(item, i, "BAD_CURSOR", r.status, "the server said more pages follow but gave no usable cursor");
      else
        continue_read(item, i, *cursor[first], row_count[first]);
    } else if (answered[first] || !unmatched) {
      settle_done(item, i);
    } else {
      unsure.push_from(item, i);  // no rows, and an error we could not pin: ask again
    }
  }
  if (!unsure.pairs.empty()) settle_unmatched(std::move(unsure), body, r.status);
}

void dispatcher::continue_read(const work_item& item, std::size_t i, std::string after, std::size_t rows) {
  if (stop_ != stop_reason::none) {
    work_item one;
    one.push_from(item, i);
    settle_pending(one, to_string(stop_));
    return;
  }
  // A full item goes to the queue before a new from-id would overfill it
  // (the pairs of one from-id stay together).
  if (continued_.pairs.empty() || continued_.pairs.back().from != item.pairs[i].from) {
    if (continued_inputs_ >= sizer_.size() || continued_rows_ + rows > continued_row_budget) {
      if (!continued_.pairs.empty()) ready_.push_back(std::exchange(continued_, work_item{}));
      continued_inputs_ = continued_rows_ = 0;
    }
    ++continued_inputs_;
    continued_rows_ += rows;
  }
  continued_.after.push_back(std::move(after));
  continued_.pairs.push_back(item.pairs[i]);
  if (item.lines.size() == item.pairs.size()) continued_.lines.push_back(item.lines[i]);
}

}  // namespace hubbatch::engine
