// The read operations: POST …/batch/read (docs/hubspot-api.md §9), one input
// per from-id, {"id":"101"} or, for a later page, {"id":"101","after":"…"}.
// What an answer means (rows, cursors, errors) the dispatcher decides
// (dispatcher::on_page) by read_mode(); where kept rows go, the job (export's
// --output, archive's --backup).
#include "codec/archive_encoder.hpp"
#include "codec/pair_encoder.hpp"
#include "engine/operation.hpp"

namespace hubbatch::engine {
namespace {

class read_op final : public operation {
 public:
  read_op(std::string_view name, read_kind kind) : name_(name), kind_(kind) {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view done_word() const noexcept override {
    return kind_ == read_kind::records ? "read" : kind_ == read_kind::keep ? "backed_up" : "verified";
  }
  std::string_view route(std::span<const pair_id>) const noexcept override { return "batch/read"; }
  void encode(std::span<const pair_id> pairs, std::string& out) const override {
    codec::encode_read_inputs(pairs, {}, out);
  }
  void encode_pages(std::span<const pair_id> pairs, std::span<const std::string> after,
                    std::string& out) const override {
    codec::encode_read_inputs(pairs, after, out);
  }
  // A record is one input; the pairs of one from-id are one input too.
  bool groups_to_ids() const noexcept override { return kind_ != read_kind::records; }
  std::size_t inputs(std::span<const pair_id> pairs) const noexcept override { return codec::count_inputs(pairs); }
  bool reads() const noexcept override { return true; }
  read_kind read_mode() const noexcept override { return kind_; }
  // NO_ASSOCIATIONS_FOUND: the record was read, and has none.
  std::optional<std::string_view> done_despite(std::string_view,
                                               std::string_view sub_category) const noexcept override {
    if (sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND") return std::string_view{};
    return std::nullopt;
  }

 private:
  std::string_view name_;
  read_kind kind_;
};

}  // namespace

const operation& read_operation(operation::read_kind kind) {
  static const read_op exporter("export", operation::read_kind::records);
  static const read_op backup("backup", operation::read_kind::keep);
  static const read_op verify("verify", operation::read_kind::absent);
  switch (kind) {
    case operation::read_kind::keep:
      return backup;
    case operation::read_kind::absent:
      return verify;
    case operation::read_kind::records:
      break;
  }
  return exporter;
}

}  // namespace hubbatch::engine
