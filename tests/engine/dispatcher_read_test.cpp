// dispatcher::on_page (issue 14): a reading operation's 2xx settles its
// records from the answer's rows, cursors and errors[], with no sockets and
// a fake clock. Records are pairs with to-id 0 (export); backup and verify
// read pairs (keep, absent).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/dispatcher.hpp"
#include "support/read_rows.hpp"

using namespace hubbatch;
using namespace hubbatch::engine;
using namespace std::chrono_literals;

namespace {

using kind = operation::read_kind;

constexpr assoc_type billing = test::billing_row_type;
using test::read_row;

std::vector<pair_id> records(std::initializer_list<std::uint64_t> ids) {
  std::vector<pair_id> v;
  for (auto id : ids) v.push_back({id, 0});
  return v;
}

codec::error_item error(std::string category, std::string sub_category, std::vector<std::uint64_t> from_ids) {
  codec::error_item e;
  e.category = std::move(category);
  e.sub_category = std::move(sub_category);
  e.message = "error about " + (from_ids.empty() ? std::string("nobody") : std::to_string(from_ids.front()));
  e.from_ids = std::move(from_ids);
  return e;
}

codec::error_item no_associations(std::uint64_t id) {
  return error("OBJECT_NOT_FOUND", "crm.associations.NO_ASSOCIATIONS_FOUND", {id});
}

// One answer: rows, cursors, errors[] (a 207 when there are errors).
struct page {
  page() = default;
  page(std::vector<codec::read_row> r, std::vector<codec::read_next> n = {}, std::vector<codec::error_item> e = {})
      : rows(std::move(r)), next(std::move(n)), errors(std::move(e)) {}

  std::vector<codec::read_row> rows;
  std::vector<codec::read_next> next;
  std::vector<codec::error_item> errors;
  std::int64_t num_errors = -1;  // -1: errors.size()
  codec::body_kind body = codec::body_kind::json_object;
};

struct harness {
  counters c;
  std::map<std::string, std::vector<pair_id>> outcomes;  // "done:" / "failed:CAT" / "pending:reason" -> pairs
  std::vector<codec::read_row> sink;                     // every row the page sink received
  int sink_calls = 0;
  dispatcher d;
  time_point now = time_point{} + 1000s;

  explicit harness(kind k, dispatcher::options o = {})
      : d(
            o, c,
            [this](std::span<const pair_id> pairs, std::span<const std::uint64_t>, const pair_outcome& out) {
              auto& into = outcomes[std::string(to_string(out.outcome)) + ":" + std::string(out.category)];
              into.insert(into.end(), pairs.begin(), pairs.end());
            },
            read_operation(k)) {
    d.set_page_sink([this](std::span<const codec::read_row> rows) {
      ++sink_calls;
      sink.insert(sink.end(), rows.begin(), rows.end());
    });
  }

  void add(std::vector<pair_id> pairs) {
    c.input_pairs += pairs.size();
    ++c.batches;
    d.add(std::move(pairs));
  }

  work_item take() {
    auto item = d.take(now);
    EXPECT_TRUE(item.has_value());
    if (!item) return {};
    ++c.requests;
    if (item->resend) ++c.retries;
    return std::move(*item);
  }

  void answer(work_item&& item, const page& p, int status = 0) {
    codec::decoded_response body;
    body.kind = p.body;
    body.errors = p.errors;
    body.num_errors = p.num_errors < 0 ? static_cast<std::int64_t>(p.errors.size()) : p.num_errors;
    codec::decoded_read read;
    read.kind = p.body;
    read.rows = p.rows;
    read.next = p.next;
    attempt_result r;
    r.status = status ? status : p.errors.empty() ? 200 : 207;
    r.body = &body;
    r.read = &read;
    d.on_result(std::move(item), r, now);
  }

  std::vector<pair_id> of(const std::string& key) {
    auto v = outcomes[key];
    std::sort(v.begin(), v.end());
    return v;
  }

  void expect_balanced() {
    EXPECT_EQ(c.input_pairs, c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs + c.pending_pairs);
    EXPECT_EQ(c.check(), "");
  }
};

std::vector<std::uint64_t> ids_of(const work_item& w) {
  std::vector<std::uint64_t> v;
  for (const auto& p : w.pairs) v.push_back(p.from);
  return v;
}

bool same_row(const codec::read_row& a, const codec::read_row& b) {
  return a.from == b.from && a.to == b.to && a.type == b.type && a.label == b.label;
}

}  // namespace

TEST(dispatcher_read, one_page_settles_every_record_and_its_rows_reach_the_sink) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  const std::vector<codec::read_row> rows{read_row(1, 10), read_row(1, 10, billing, "Billing contact"), read_row(1, 11),
                                          read_row(2, 20), read_row(3, 30)};
  h.answer(h.take(), {rows});
  EXPECT_EQ(h.c.done_pairs, 3u);
  EXPECT_EQ(h.c.read_pages, 3u);
  EXPECT_EQ(h.c.read_rows, 5u);
  EXPECT_EQ(h.c.read_associations, 4u);
  ASSERT_EQ(h.sink.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_TRUE(same_row(h.sink[i], rows[i])) << i;
  EXPECT_EQ(h.sink_calls, 1) << "one call per answer";
  EXPECT_EQ(h.d.queued(), 0u);
  EXPECT_EQ(h.d.in_flight(), 0u);
  h.expect_balanced();
}

TEST(dispatcher_read, a_record_with_a_cursor_is_asked_again_at_it_and_done_after_its_last_page) {
  harness h(kind::records);
  h.add(records({1, 2}));
  auto first = h.take();
  EXPECT_TRUE(first.after.empty()) << "first pages carry no cursor";
  h.answer(std::move(first), {{read_row(1, 10), read_row(1, 11), read_row(2, 20)}, {{1, "CURSOR-1"}}});
  EXPECT_EQ(h.c.done_pairs, 1u) << "record 2 had no cursor";
  EXPECT_EQ(h.of("done:"), records({2}));
  EXPECT_EQ(h.d.queued(), 1u);
  EXPECT_EQ(h.sink.size(), 3u) << "the rows of a record with more pages are kept at once";

  auto second = h.take();
  EXPECT_EQ(ids_of(second), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(second.after, (std::vector<std::string>{"CURSOR-1"}));
  EXPECT_FALSE(second.resend) << "a next page is not a resend";
  h.answer(std::move(second), {{read_row(1, 12)}, {{1, "CURSOR-2"}}});
  EXPECT_EQ(h.c.done_pairs, 1u);

  auto third = h.take();
  EXPECT_EQ(third.after, (std::vector<std::string>{"CURSOR-2"}));
  h.answer(std::move(third), {{read_row(1, 13)}});
  EXPECT_EQ(h.c.done_pairs, 2u);
  EXPECT_EQ(h.c.read_pages, 4u);
  EXPECT_EQ(h.c.read_rows, 5u);
  EXPECT_EQ(h.sink.size(), 5u);
  EXPECT_EQ(h.d.queued(), 0u);
  EXPECT_EQ(h.c.retries, 0u);
  h.expect_balanced();
}

TEST(dispatcher_read, continuations_fill_requests_of_at_most_max_inputs_and_wait_for_an_empty_queue_and_no_answer_awaited) {
  dispatcher::options o;
  o.max_inputs = 3;
  harness h(kind::records, o);
  h.add(records({1, 2, 3, 4, 5, 6, 7}));
  h.add(records({100}));
  auto first = h.take();
  ASSERT_EQ(first.pairs.size(), 7u);
  page p;
  for (std::uint64_t id = 1; id <= 7; ++id) {
    p.rows.push_back(read_row(id, id * 10));
    p.next.push_back({id, fmt::format("C{}", id)});
  }
  h.answer(std::move(first), p);
  EXPECT_EQ(h.c.done_pairs, 0u);
  EXPECT_EQ(h.d.queued(), 4u) << "record 100's batch, two full continuations, one gathering";

  // The fresh batch queued before them goes first; full continuations next;
  // the one still gathering only when nothing else is ready and no answer
  // that could add to it is awaited.
  auto fresh = h.take();
  EXPECT_EQ(ids_of(fresh), (std::vector<std::uint64_t>{100}));
  EXPECT_TRUE(fresh.after.empty());
  std::vector<work_item> sent;
  while (auto w = h.d.take(h.now)) {
    ++h.c.requests;
    sent.push_back(std::move(*w));
  }
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ids_of(sent[0]), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(sent[0].after, (std::vector<std::string>{"C1", "C2", "C3"}));
  EXPECT_EQ(ids_of(sent[1]), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_EQ(sent[1].after, (std::vector<std::string>{"C4", "C5", "C6"}));
  EXPECT_EQ(h.d.queued(), 1u) << "record 7 waits for the answers in flight";
  EXPECT_EQ(h.d.next_due(), time_point::max());
  EXPECT_EQ(h.d.in_flight(), 3u);
  for (auto& w : sent) h.answer(std::move(w), {});
  EXPECT_FALSE(h.d.take(h.now).has_value()) << "record 100's answer is still awaited";
  h.answer(std::move(fresh), {{read_row(100, 1)}});
  EXPECT_EQ(h.c.done_pairs, 7u) << "a record with no rows and no error on its next page is done";
  auto last = h.take();
  EXPECT_EQ(ids_of(last), (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(last.after, (std::vector<std::string>{"C7"}));
  h.answer(std::move(last), {});
  EXPECT_EQ(h.c.done_pairs, 8u);
  h.expect_balanced();
}

TEST(dispatcher_read, no_associations_found_leaves_the_record_done_with_no_rows) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  h.answer(h.take(), {{read_row(1, 10), read_row(3, 30)}, {}, {no_associations(2)}});
  EXPECT_EQ(h.c.done_pairs, 3u);
  EXPECT_EQ(h.c.failed_pairs, 0u);
  EXPECT_EQ(h.c.already_absent_pairs, 0u) << "a read has nothing to archive: no already_absent";
  EXPECT_EQ(h.of("done:"), records({1, 2, 3}));
  EXPECT_EQ(h.sink.size(), 2u);
  EXPECT_EQ(h.d.queued(), 0u);
  h.expect_balanced();
}

TEST(dispatcher_read, an_error_naming_an_unknown_record_fails_it_alone) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  h.answer(h.take(), {{read_row(1, 10), read_row(3, 30)},
                      {},
                      {error("VALIDATION_ERROR", "crm.associations.INVALID_OBJECT_IDS", {2})}});
  EXPECT_EQ(h.of("failed:VALIDATION_ERROR"), records({2}));
  EXPECT_EQ(h.of("done:"), records({1, 3}));
  EXPECT_EQ(h.c.errors_by_category["VALIDATION_ERROR"], 1u);
  EXPECT_EQ(h.d.queued(), 0u) << "nothing resent: the error named its record";
  h.expect_balanced();
}

TEST(dispatcher_read, rows_of_a_record_not_asked_for_never_reach_the_sink) {
  harness h(kind::records);
  h.add(records({1, 2}));
  h.answer(h.take(), {{read_row(1, 10), read_row(99, 990), read_row(2, 20), read_row(98, 980), read_row(98, 981)},
                      {{99, "FOREIGN"}}});
  ASSERT_EQ(h.sink.size(), 2u);
  EXPECT_TRUE(same_row(h.sink[0], read_row(1, 10)));
  EXPECT_TRUE(same_row(h.sink[1], read_row(2, 20)));
  EXPECT_EQ(h.c.read_rows, 2u);
  EXPECT_EQ(h.c.read_associations, 2u);
  EXPECT_EQ(h.c.done_pairs, 2u);
  EXPECT_EQ(h.d.queued(), 0u) << "a cursor of a record not asked for is not followed";
  h.expect_balanced();
}

TEST(dispatcher_read, an_answer_of_foreign_rows_only_calls_no_sink) {
  harness h(kind::records);
  h.add(records({1}));
  h.answer(h.take(), {{read_row(99, 990)}});
  EXPECT_EQ(h.sink_calls, 0);
  EXPECT_EQ(h.c.done_pairs, 1u);
  h.expect_balanced();
}

TEST(dispatcher_read, a_cursor_unfit_to_send_back_fails_its_record_as_bad_cursor) {
  harness h(kind::records);
  h.add(records({1, 2}));
  h.answer(h.take(), {{read_row(1, 10), read_row(2, 20)}, {{1, ""}, {2, "OK"}}});
  EXPECT_EQ(h.of("failed:BAD_CURSOR"), records({1}));
  EXPECT_EQ(h.d.queued(), 1u);
  auto next = h.take();
  EXPECT_EQ(ids_of(next), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(next.after, (std::vector<std::string>{"OK"}));
  h.answer(std::move(next), {{read_row(2, 21)}});
  EXPECT_EQ(h.of("done:"), records({2}));
  EXPECT_EQ(h.sink.size(), 3u) << "the rows before the bad cursor were kept";
  h.expect_balanced();
}

// archive --verify: the pairs are associations that should be gone.
TEST(dispatcher_read, verify_fails_a_listed_pair_as_still_present_and_follows_the_others) {
  harness h(kind::absent);
  h.add({{1, 10}, {1, 11}, {1, 12}, {2, 20}, {3, 30}});
  auto first = h.take();
  h.answer(std::move(first), {{read_row(1, 11), read_row(1, 13), read_row(2, 21)}, {{1, "C1"}}, {no_associations(3)}});
  EXPECT_EQ(h.of("failed:still_present"), (std::vector<pair_id>{{1, 11}}));
  EXPECT_EQ(h.of("done:"), (std::vector<pair_id>{{2, 20}, {3, 30}}));
  auto second = h.take();
  EXPECT_EQ(second.pairs, (std::vector<pair_id>{{1, 10}, {1, 12}}));
  EXPECT_EQ(second.after, (std::vector<std::string>{"C1", "C1"}));
  h.answer(std::move(second), {{read_row(1, 12, billing, "Billing contact"), read_row(1, 14)}});
  EXPECT_EQ(h.of("failed:still_present"), (std::vector<pair_id>{{1, 11}, {1, 12}}));
  EXPECT_EQ(h.of("done:"), (std::vector<pair_id>{{1, 10}, {2, 20}, {3, 30}}));
  EXPECT_EQ(h.c.errors_by_category["still_present"], 2u);
  EXPECT_EQ(h.sink_calls, 0) << "verify keeps no rows";
  EXPECT_EQ(h.d.queued(), 0u);
  h.expect_balanced();
}

// archive --backup: only the rows of listed pairs are kept; a record with
// many pairs is one input of a continuation.
TEST(dispatcher_read, backup_keeps_only_the_rows_of_listed_pairs) {
  dispatcher::options o;
  o.max_inputs = 2;
  harness h(kind::keep, o);
  h.add({{1, 10}, {1, 11}, {1, 12}, {2, 20}, {2, 21}, {3, 30}});
  h.answer(h.take(), {{read_row(1, 10), read_row(1, 10, billing, "Billing contact"), read_row(1, 15), read_row(2, 22),
                       read_row(3, 30)},
                      {{1, "C1"}, {2, "C2"}}});
  ASSERT_EQ(h.sink.size(), 3u);
  EXPECT_TRUE(same_row(h.sink[0], read_row(1, 10)));
  EXPECT_TRUE(same_row(h.sink[1], read_row(1, 10, billing, "Billing contact")));
  EXPECT_TRUE(same_row(h.sink[2], read_row(3, 30)));
  EXPECT_EQ(h.c.read_rows, 3u);
  EXPECT_EQ(h.c.read_associations, 2u);
  EXPECT_EQ(h.of("done:"), (std::vector<pair_id>{{1, 10}, {3, 30}}));

  // Records 1 (two pairs) and 2 (two pairs): two inputs, one request.
  auto next = h.take();
  EXPECT_EQ(next.pairs, (std::vector<pair_id>{{1, 11}, {1, 12}, {2, 20}, {2, 21}}));
  EXPECT_EQ(next.after, (std::vector<std::string>{"C1", "C1", "C2", "C2"}));
  EXPECT_EQ(h.d.queued(), 0u);
  h.answer(std::move(next), {{read_row(1, 12), read_row(2, 23)}});
  EXPECT_EQ(h.sink.size(), 4u);
  EXPECT_TRUE(same_row(h.sink[3], read_row(1, 12)));
  EXPECT_EQ(h.c.done_pairs, 6u) << "a listed pair that does not exist has nothing to back up: done";
  h.expect_balanced();
}

TEST(dispatcher_read, a_garbled_2xx_is_resent_and_keeps_no_rows) {
  harness h(kind::records);
  h.add(records({1, 2}));
  page garbled{{read_row(1, 10)}};
  garbled.body = codec::body_kind::invalid_json;
  h.answer(h.take(), garbled, 200);
  EXPECT_EQ(h.c.done_pairs, 0u);
  EXPECT_EQ(h.sink_calls, 0) << "rows of an answer that did not parse are not kept";
  EXPECT_EQ(h.c.transport_errors, 1u);
  EXPECT_FALSE(h.d.take(h.now).has_value()) << "the resend waits for its backoff";
  h.now = h.d.next_due();
  auto again = h.take();
  EXPECT_TRUE(again.resend);
  EXPECT_EQ(ids_of(again), (std::vector<std::uint64_t>{1, 2}));
  h.answer(std::move(again), {{read_row(1, 10), read_row(2, 20)}});
  EXPECT_EQ(h.c.done_pairs, 2u);
  EXPECT_EQ(h.sink.size(), 2u);
  h.expect_balanced();
}

TEST(dispatcher_read, a_garbled_next_page_is_resent_at_the_same_cursor) {
  harness h(kind::records);
  h.add(records({1}));
  h.answer(h.take(), {{read_row(1, 10)}, {{1, "C1"}}});
  page garbled;
  garbled.body = codec::body_kind::not_json;
  h.answer(h.take(), garbled, 200);
  h.now = h.d.next_due();
  auto again = h.take();
  EXPECT_EQ(again.after, (std::vector<std::string>{"C1"}));
  h.answer(std::move(again), {{read_row(1, 11)}});
  EXPECT_EQ(h.c.done_pairs, 1u);
  EXPECT_EQ(h.sink.size(), 2u);
  h.expect_balanced();
}

TEST(dispatcher_read, a_stop_leaves_gathered_continuations_pending) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  h.answer(h.take(), {{read_row(1, 10), read_row(2, 20), read_row(3, 30)}, {{1, "C1"}, {2, "C2"}}});
  EXPECT_EQ(h.c.done_pairs, 1u);
  h.d.note_signal(SIGTERM);
  EXPECT_FALSE(h.d.take(h.now).has_value());
  h.d.drain_pending();
  EXPECT_EQ(h.of("pending:interrupted"), records({1, 2}));
  EXPECT_EQ(h.d.queued(), 0u);
  h.expect_balanced();
}

TEST(dispatcher_read, an_answer_after_a_stop_keeps_its_rows_and_leaves_its_next_pages_pending) {
  harness h(kind::records);
  h.add(records({1, 2}));
  auto item = h.take();
  h.d.note_signal(SIGINT);
  h.answer(std::move(item), {{read_row(1, 10), read_row(2, 20)}, {{1, "C1"}}});
  EXPECT_EQ(h.sink.size(), 2u) << "what was read is written";
  EXPECT_EQ(h.of("done:"), records({2}));
  EXPECT_EQ(h.of("pending:interrupted"), records({1}));
  EXPECT_EQ(h.d.queued(), 0u);
  h.d.drain_pending();
  h.expect_balanced();
}

TEST(dispatcher_read, the_request_budget_counts_continuations_as_work_left) {
  dispatcher::options o;
  o.max_requests = 1;
  harness h(kind::records, o);
  h.add(records({1}));
  h.answer(h.take(), {{read_row(1, 10)}, {{1, "C1"}}});
  EXPECT_FALSE(h.d.take(h.now).has_value());
  EXPECT_EQ(h.d.stopped(), stop_reason::request_budget);
  h.d.drain_pending();
  EXPECT_EQ(h.of("pending:request_budget"), records({1}));
  h.expect_balanced();
}

// An error naming no record: the records that got rows are done; those
// that got none are bisected until the error is pinned to one.
TEST(dispatcher_read, an_error_naming_no_record_bisects_the_records_that_got_no_rows) {
  harness h(kind::records);
  h.add(records({1, 2, 3, 4, 5}));
  const auto anonymous = error("VALIDATION_ERROR", "", {});
  h.answer(h.take(), {{read_row(1, 10), read_row(5, 50)}, {}, {anonymous}});
  EXPECT_EQ(h.of("done:"), records({1, 5}));
  int requests = 0;
  while (h.d.queued() > 0 && requests < 20) {
    auto w = h.take();
    ++requests;
    const bool has3 = std::find(w.pairs.begin(), w.pairs.end(), pair_id{3, 0}) != w.pairs.end();
    page p;
    for (const auto& r : w.pairs)
      if (r.from == 2) p.rows.push_back(read_row(2, 20));
    if (has3)
      p.errors.push_back(anonymous);
    else
      for (const auto& r : w.pairs)
        if (r.from == 4) p.errors.push_back(no_associations(4));
    h.answer(std::move(w), p);
  }
  EXPECT_EQ(h.of("failed:VALIDATION_ERROR"), records({3}));
  EXPECT_EQ(h.of("done:"), records({1, 2, 4, 5}));
  EXPECT_LE(requests, 4);
  EXPECT_EQ(h.sink.size(), 3u);
  h.expect_balanced();
}

// numErrors larger than errors[]: an error we cannot see names no record.
// The records without rows are asked again until it is pinned to one.
TEST(dispatcher_read, more_errors_than_listed_leave_rowless_records_unsure) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  page unseen{{read_row(1, 10)}};
  unseen.num_errors = 1;
  h.answer(h.take(), unseen, 207);
  EXPECT_EQ(h.of("done:"), records({1}));
  EXPECT_EQ(h.d.queued(), 2u) << "records 2 and 3 are asked again, apart";
  auto two = h.take();
  EXPECT_EQ(ids_of(two), (std::vector<std::uint64_t>{2}));
  h.answer(std::move(two), {{read_row(2, 20)}});
  auto three = h.take();
  EXPECT_EQ(ids_of(three), (std::vector<std::uint64_t>{3}));
  page still{};
  still.num_errors = 1;
  h.answer(std::move(three), still, 207);
  EXPECT_EQ(h.of("done:"), records({1, 2}));
  EXPECT_EQ(h.of("failed:BATCH_ERROR"), records({3}));
  h.expect_balanced();
}

// Every answer shape at random: the books balance, every record ends once.
TEST(dispatcher_read, books_balance_under_random_pages_errors_and_faults) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    dispatcher::options o;
    o.max_inputs = 4;
    o.max_retries = 100;
    o.seed = seed;
    const kind modes[] = {kind::records, kind::keep, kind::absent};
    const kind mode = modes[seed % 3];
    harness h(mode, o);
    std::mt19937_64 rng(seed);
    std::vector<pair_id> input;
    for (std::uint64_t f = 1; f <= 30; ++f) {
      if (mode == kind::records)
        input.push_back({f, 0});
      else
        for (std::uint64_t t = 0; t < 1 + rng() % 3; ++t) input.push_back({f, f * 100 + t});
    }
    for (std::size_t i = 0; i < input.size(); i += 7)
      h.add(std::vector<pair_id>(input.begin() + static_cast<std::ptrdiff_t>(i),
                                 input.begin() + static_cast<std::ptrdiff_t>(std::min(i + 7, input.size()))));
    std::map<std::uint64_t, int> pages_left;  // record -> more pages it has
    for (std::uint64_t f = 1; f <= 30; ++f) pages_left[f] = static_cast<int>(rng() % 4);
    int steps = 0;
    while ((h.d.queued() > 0 || h.d.in_flight() > 0) && steps++ < 5000) {
      auto w = h.d.take(h.now);
      if (!w) {
        h.now = std::max(h.d.next_due(), h.now + 1ms);
        continue;
      }
      ++h.c.requests;
      const auto roll = rng() % 10;
      if (roll == 0) {
        page garbled;
        garbled.body = codec::body_kind::invalid_json;
        h.answer(std::move(*w), garbled, 200);
        continue;
      }
      page p;
      for (std::size_t i = 0; i < w->pairs.size(); ++i) {
        const auto f = w->pairs[i].from;
        if (i > 0 && w->pairs[i - 1].from == f) continue;
        if (f % 11 == 0) {
          p.errors.push_back(no_associations(f));
          continue;
        }
        p.rows.push_back(read_row(f, f * 100 + rng() % 4));
        if (pages_left[f] > 0) {
          --pages_left[f];
          p.next.push_back({f, fmt::format("C{}-{}", f, pages_left[f])});
        }
      }
      if (roll == 1) p.rows.push_back(read_row(1000, 1));  // foreign
      h.answer(std::move(*w), p);
    }
    EXPECT_EQ(h.d.queued(), 0u) << seed;
    EXPECT_EQ(h.d.in_flight(), 0u) << seed;
    EXPECT_EQ(h.c.done_pairs + h.c.failed_pairs, input.size()) << seed;
    for (const auto& r : h.sink) EXPECT_NE(r.from, 1000u) << seed;
    h.expect_balanced();
  }
}

// Found writing these tests: an answer with parts the decoder could not read
// (decoded_read::skipped, e.g. a results[] item without a from id) settled
// the records it gave no rows as done with none: a backup then left a pair
// out that the archive removed, and verify called a pair gone that was still
// listed. Such records are unsure, as after an error naming no record:
// bisected, and failed when one stays so.
namespace {

codec::decoded_read unreadable_parts(std::vector<codec::read_row> rows) {
  codec::decoded_read read;
  read.kind = codec::body_kind::json_object;
  read.rows = std::move(rows);
  read.skipped = 1;
  return read;
}

void answer_read(harness& h, work_item&& item, const codec::decoded_read& read) {
  codec::decoded_response body;
  body.kind = codec::body_kind::json_object;
  attempt_result r;
  r.status = 200;
  r.body = &body;
  r.read = &read;
  h.d.on_result(std::move(item), r, h.now);
}

}  // namespace

TEST(dispatcher_read, export_records_without_rows_in_an_answer_with_unreadable_parts_are_asked_again) {
  harness h(kind::records);
  h.add(records({1, 2, 3}));
  answer_read(h, h.take(), unreadable_parts({read_row(1, 10)}));
  EXPECT_EQ(h.c.done_pairs + h.c.failed_pairs, 1u) << "only record 1, which has rows, settles";
  ASSERT_EQ(h.d.queued(), 2u) << "records 2 and 3 are asked again";
  while (h.d.queued() > 0) {
    auto again = h.take();
    ASSERT_EQ(again.pairs.size(), 1u);
    const auto p = again.pairs[0];
    h.answer(std::move(again), {{read_row(p.from, p.from * 10)}});
  }
  EXPECT_EQ(h.c.done_pairs, 3u);
  EXPECT_EQ(h.sink.size(), 3u);
  h.expect_balanced();
}

TEST(dispatcher_read, backup_and_verify_resend_an_answer_with_unreadable_parts_whole) {
  // A pair judged by rows the decoder dropped would be missed by a backup,
  // or taken for gone by verify: nothing of such an answer is used.
  for (const kind mode : {kind::keep, kind::absent}) {
    harness h(mode);
    h.add({{1, 10}, {2, 20}, {3, 30}});
    answer_read(h, h.take(), unreadable_parts({read_row(1, 10)}));
    EXPECT_EQ(h.c.done_pairs + h.c.failed_pairs, 0u) << "nothing settles";
    EXPECT_EQ(h.sink_calls, 0);
    EXPECT_EQ(h.c.transport_errors, 1u);
    h.now = h.d.next_due();
    auto again = h.take();
    EXPECT_TRUE(again.resend);
    EXPECT_EQ(again.pairs.size(), 3u);
    h.answer(std::move(again), {{read_row(1, 10), read_row(2, 20), read_row(3, 30)}});
    if (mode == kind::absent) {
      EXPECT_EQ(h.c.errors_by_category["still_present"], 3u);
    } else {
      EXPECT_EQ(h.sink.size(), 3u) << "every pair backed up";
    }
    h.expect_balanced();
  }
}

TEST(dispatcher_read, a_backup_whose_answer_stays_unreadable_fails_retryable_never_done) {
  dispatcher::options o;
  o.max_retries = 2;
  harness h(kind::keep, o);
  h.add({{2, 20}});
  for (int attempt = 0; attempt <= o.max_retries; ++attempt) {
    h.now = std::max(h.now, h.d.next_due());
    answer_read(h, h.take(), unreadable_parts({}));
  }
  EXPECT_EQ(h.c.done_pairs, 0u) << "not backed up: not done";
  EXPECT_EQ(h.c.failed_pairs, 1u);
  EXPECT_EQ(h.c.errors_by_category["BAD_RESPONSE"], 1u);
  EXPECT_EQ(h.d.queued(), 0u);
  h.expect_balanced();
}
