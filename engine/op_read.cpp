// The read operation: POST …/batch/read (docs/hubspot-api.md §9), one input
// per record, {"id":"101"} or, for a later page, {"id":"101","after":"…"}.
// What an answer means (rows, cursors, errors) the dispatcher decides
// (dispatcher::on_page); where the rows go, the command (export's file).
#include "codec/pair_encoder.hpp"
#include "engine/operation.hpp"

namespace hubbatch::engine {
namespace {

class read_op final : public operation {
 public:
  explicit read_op(std::string_view name) : name_(name) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view done_word() const noexcept override { return "read"; }
  std::string_view route(std::span<const pair_id>) const noexcept override { return "batch/read"; }
  void encode(std::span<const pair_id> pairs, std::string& out) const override {
    codec::encode_read_inputs(pairs, {}, out);
  }
  void encode_pages(std::span<const pair_id> pairs, std::span<const std::string> after,
                    std::string& out) const override {
    codec::encode_read_inputs(pairs, after, out);
  }
  bool groups_to_ids() const noexcept override { return false; }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return pairs.size(); }
  bool reads() const noexcept override { return true; }
  // NO_ASSOCIATIONS_FOUND: the record was read, and has none.
  std::optional<std::string_view> done_despite(std::string_view category,
                                               std::string_view sub_category) const noexcept override {
    if (sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND") return std::string_view{};
    (void)category;
    return std::nullopt;
  }

 private:
  std::string_view name_;
};

}  // namespace

const operation& read_operation(std::string_view command) {
  static const read_op verify("verify");
  static const read_op exporter("export");
  return command == "verify" ? static_cast<const operation&>(verify) : exporter;
}

}  // namespace hubbatch::engine
