// What differs between the association operations (STYLE.md rule 15): the
// route, the request encoder, which statuses mean success, and what an
// error about one pair means for it. One immutable instance per operation;
// sessions ask it for the target and the body, the dispatcher for the
// meaning of a response. Everything else (grouping, pacing, retries,
// bisection, journal, failures file, report) is shared and never branches on
// the operation. docs/ARCHITECTURE.md says how to add one.
#pragma once

#include "io/pair.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hubbatch::engine {

class operation {
 public:
  virtual ~operation() = default;

  // "archive", "create", "archive-labels": the report's, the metrics' and
  // the logs' name for it.
  virtual std::string_view name() const noexcept = 0;
  // What a done pair is: "archived", "created" (report field <word>_pairs).
  virtual std::string_view done_word() const noexcept = 0;
  // The request target after /crm/v4/associations/{from}/{to}/ (see
  // associations_path) for this batch, e.g. "batch/archive". Per batch:
  // create sends untyped pairs and typed pairs to different endpoints (the
  // grouper never mixes them in one batch).
  virtual std::string_view route(std::span<const pair_id> pairs) const noexcept = 0;
  // Appends the request body for `pairs` (a batch: the pairs of one from-id
  // contiguous) to `out`, which it does not clear.
  virtual void encode(std::span<const pair_id> pairs, std::string& out) const = 0;
  // Whether one input carries every to-id of a from-id (archive) rather than
  // one pair (create): the grouper gathers to-ids only then, and otherwise
  // the input cap caps pairs.
  virtual bool groups_to_ids() const noexcept { return true; }
  // The inputs the body for `pairs` holds, as the server's input cap counts them.
  virtual std::size_t inputs(std::span<const pair_id> pairs) const noexcept = 0;
  // Whether the pairs' association types mean anything to it (create,
  // archive-labels); archive removes every type, so it drops them and two
  // lines naming one pair with two types are one pair to it.
  virtual bool uses_type() const noexcept { return false; }
  // Whether every pair must carry an association type (archive-labels: the
  // labels to remove); a pair without one is rejected before it is sent.
  virtual bool needs_type() const noexcept { return false; }
  // Whether a response status means the batch was applied (errors[] in its
  // body still name pairs that were not).
  virtual bool success(int status) const noexcept { return status >= 200 && status < 300; }
  // An error naming a pair (its category and subCategory) that nonetheless
  // leaves the pair as the user asked, e.g. "no association" for archive:
  // the category the pair is done under ("already_absent"), or nullopt when
  // the error fails the pair.
  virtual std::optional<std::string_view> done_despite(std::string_view category,
                                                       std::string_view sub_category) const noexcept = 0;
  // Whether it reads (batch/read): a 2xx is decoded into rows
  // (codec/read_response.hpp), rows go to the dispatcher's page sink as
  // read_mode() says, and a record with more pages is asked again at its
  // cursor. One input per from-id.
  virtual bool reads() const noexcept { return false; }
  enum class read_kind {
    records,  // a pair is a record (to-id 0): every row of it is kept (export)
    keep,     // a pair is an association: its rows are kept, and it is done (archive --backup)
    absent,   // a pair is an association that should be gone: listed, it fails still_present (verify)
  };
  virtual read_kind read_mode() const noexcept { return read_kind::records; }
  // The body for a batch some of whose records continue at a cursor:
  // `after[i]` for pairs[i], "" for a first page. Reading operations only.
  virtual void encode_pages(std::span<const pair_id> pairs, std::span<const std::string> after,
                            std::string& out) const {
    (void)after;
    encode(pairs, out);
  }
};

// The pairs a batch for `op` may carry under the input and pair caps (0 =
// no cap): max_pairs, and for an operation whose input is one pair the
// input cap too. The grouper cuts batches at max_inputs and this.
inline std::size_t batch_pair_cap(const operation& op, std::size_t max_inputs, std::size_t max_pairs) noexcept {
  if (op.groups_to_ids()) return max_pairs;
  return max_pairs == 0 ? max_inputs : std::min(max_pairs, max_inputs);
}

// POST …/batch/archive: the to-ids of one from-id in one input, every type
// between the records removed; "not associated" answers count as done
// (archive is idempotent).
const operation& archive_operation() noexcept;
// POST …/batch/associate/default for pairs without a type (the unlabelled
// association), …/batch/create for pairs with one (a label; HubSpot adds
// the unlabelled type with it). One pair per input.
const operation& create_operation() noexcept;
// POST …/batch/labels/archive: removes only the pair's type. Every pair
// needs one; one pair per input; "not associated" counts as done.
const operation& archive_labels_operation() noexcept;

// POST …/batch/read: each record's associations to the to-type, page by
// page. "No associations" leaves a record (or pair) done with none.
//   export  the pairs are records (to-id 0); every row is kept
//   backup  the pairs are associations; the rows of those listed are kept
//   verify  the pairs are associations that should be gone; one listed
//           fails "still_present"
const operation& read_operation(operation::read_kind kind);

// The failure category of a pair verify found still associated.
inline constexpr std::string_view still_present = "still_present";

// The removals' shared reading of an error about a pair: "no association"
// (NO_ASSOCIATIONS_FOUND, OBJECT_NOT_FOUND) leaves it done, as
// "already_absent" (engine/op_archive.cpp).
std::optional<std::string_view> already_absent(std::string_view category, std::string_view sub_category) noexcept;

}  // namespace hubbatch::engine
