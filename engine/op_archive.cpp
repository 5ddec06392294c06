// The archive operation: POST /crm/v4/associations/{from}/{to}/batch/archive
// (dated versions /crm/associations/{version}/…), docs/hubspot-api.md §3 and §9.
#include "codec/archive_encoder.hpp"
#include "engine/operation.hpp"

namespace hubbatch::engine {
namespace {

class archive_op final : public operation {
 public:
  std::string_view name() const noexcept override { return "archive"; }
  std::string_view done_word() const noexcept override { return "archived"; }
  std::string_view route(std::span<const pair_id>) const noexcept override { return "batch/archive"; }
  void encode(std::span<const pair_id> pairs, std::string& out) const override {
    codec::encode_archive_body(pairs, out);
  }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return codec::count_inputs(pairs); }
  std::optional<std::string_view> done_despite(std::string_view category,
                                               std::string_view sub_category) const noexcept override {
    return already_absent(category, sub_category);
  }
};

}  // namespace

// Removal is idempotent (docs/hubspot-api.md §3): a pair the server says is
// not associated is what the user asked for. INVALID_IDENTIFIER is
// deliberately not one of these: HubSpot uses it for malformed ids too, and
// calling a rejected pair archived would hide it.
std::optional<std::string_view> already_absent(std::string_view category, std::string_view sub_category) noexcept {
  if (sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND" || category == "OBJECT_NOT_FOUND")
    return "already_absent";
  return std::nullopt;
}

const operation& archive_operation() noexcept {
  static const archive_op op;
  return op;
}

}  // namespace hubbatch::engine
