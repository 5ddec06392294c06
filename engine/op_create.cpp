// The create operation (docs/hubspot-api.md §9): pairs without a type go to
// POST …/batch/associate/default, pairs with one to …/batch/create. Any 2xx
// is success (batch/create answered 201 until August 2025 and 200 since);
// errors[] in a 200/201/207 name the pairs that were not created.
#include "codec/pair_encoder.hpp"
#include "engine/operation.hpp"

namespace hubbatch::engine {
namespace {

class create_op final : public operation {
 public:
  std::string_view name() const noexcept override { return "create"; }
  std::string_view done_word() const noexcept override { return "created"; }
  std::string_view route(std::span<const pair_id> pairs) const noexcept override {
    return typed(pairs) ? "batch/create" : "batch/associate/default";
  }
  void encode(std::span<const pair_id> pairs, std::string& out) const override {
    codec::encode_pair_inputs(pairs, typed(pairs), out);
  }
  bool groups_to_ids() const noexcept override { return false; }
  bool uses_type() const noexcept override { return true; }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return pairs.size(); }
  // Creating what exists succeeds (HubSpot and the sandbox): no error
  // leaves a pair created.
  std::optional<std::string_view> done_despite(std::string_view, std::string_view) const noexcept override {
    return std::nullopt;
  }

 private:
  // A batch is all typed or all untyped (engine/grouper.hpp).
  static bool typed(std::span<const pair_id> pairs) noexcept { return !pairs.empty() && !pairs.front().type.empty(); }
};

}  // namespace

const operation& create_operation() noexcept {
  static const create_op op;
  return op;
}

}  // namespace hubbatch::engine
