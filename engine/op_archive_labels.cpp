// The archive-labels operation: POST …/batch/labels/archive
// (docs/hubspot-api.md §6 and §9). Removing a pair's unlabelled type removes
// every label between the records: the command refuses that type unless
// asked (cli/), the operation only sends what it is given.
#include "codec/pair_encoder.hpp"
#include "engine/operation.hpp"

namespace hubbatch::engine {
namespace {

// POST …/batch/labels/archive: each pair's type removed, nothing else.
class archive_labels_op final : public operation {
 public:
  std::string_view name() const noexcept override { return "archive-labels"; }
  std::string_view done_word() const noexcept override { return "archived"; }
  std::string_view route(std::span<const pair_id>) const noexcept override { return "batch/labels/archive"; }
  void encode(std::span<const pair_id> pairs, std::string& out) const override {
    codec::encode_pair_inputs(pairs, true, out);
  }
  bool groups_to_ids() const noexcept override { return false; }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return pairs.size(); }
  bool uses_type() const noexcept override { return true; }
  bool needs_type() const noexcept override { return true; }
  std::optional<std::string_view> done_despite(std::string_view category,
                                               std::string_view sub_category) const noexcept override {
    return already_absent(category, sub_category);
  }
};

}  // namespace

const operation& archive_labels_operation() noexcept {
  static const archive_labels_op op;
  return op;
}

}  // namespace hubbatch::engine
