#include "cli/job_passes.hpp"

#include <fmt/format.h>

#include "engine/operation.hpp"
#include "io/text.hpp"

namespace hubbatch::cli {
namespace {

// What a pass changes of the archive's settings: its operation, a read's
// batch cap, no report, no progress display of its own.
engine::archive_config pass_config(const engine::archive_config& cfg) {
  engine::archive_config p = cfg;
  p.batch_size = 1000;  // HubSpot's batch/read cap; the dispatcher halves it if the server says less
  p.max_pairs_per_request = 0;
  p.report_path.clear();
  p.output_path.clear();
  p.records_input = false;
  return p;
}

engine::job_options pass_options(const engine::job_options& opt, engine::operation::read_kind kind) {
  engine::job_options o = opt;
  o.op = &engine::read_operation(kind);
  o.on_progress = nullptr;
  return o;
}

std::uint64_t category_count(const engine::counters& c, std::string_view category) {
  auto it = c.errors_by_category.find(std::string(category));
  return it == c.errors_by_category.end() ? 0 : it->second;
}

}  // namespace

engine::job_result run_backup_pass(const engine::archive_config& cfg, const engine::job_options& opt,
                                   const std::string& path) {
  engine::archive_config p = pass_config(cfg);
  p.output_path = path;
  p.output_append = true;  // a backup file is never emptied
  p.failures_path.clear();
  if (!p.journal_path.empty()) p.journal_path += ".backup";
  return engine::run_job(p, pass_options(opt, engine::operation::read_kind::keep));
}

engine::job_result run_verify_pass(const engine::archive_config& cfg, const engine::job_options& opt) {
  engine::archive_config p = pass_config(cfg);
  p.failures_append = true;
  p.journal_path.clear();
  p.journal_automatic = false;
  p.resume = p.restart = false;
  return engine::run_job(p, pass_options(opt, engine::operation::read_kind::absent));
}

bool backup_complete(const engine::job_result& b) {
  return b.stop == engine::stop_reason::none && b.totals.failed_pairs == 0 && b.totals.pending_pairs == 0;
}

std::string verify_summary(const engine::job_result& v) {
  const auto& c = v.totals;
  const std::uint64_t still = category_count(c, engine::still_present);
  return fmt::format(
      "  verify        {:>12}  pairs read back: {} still present, {} could not be read, {} pending; {} "
      "requests",
      c.input_pairs, still, c.failed_pairs - still, c.pending_pairs, c.requests);
}

std::string pass_json(const engine::job_result& r, const std::string& path) {
  const auto& c = r.totals;
  std::string file = "null";
  if (!path.empty()) {
    file = "\"";
    io::append_json_escaped(file, path, io::invalid_utf8::replace);
    file += '"';
  }
  return fmt::format(
      "{{\"file\": {}, \"requests\": {}, \"pairs\": {}, \"failed_pairs\": {}, \"pending_pairs\": {}, "
      "\"associations\": {}, \"rows\": {}, \"still_present_pairs\": {}, \"stop_reason\": \"{}\"}}",
      file, c.requests, c.input_pairs, c.failed_pairs, c.pending_pairs, c.read_associations, c.read_rows,
      category_count(c, engine::still_present), r.context.stop_reason);
}

}  // namespace hubbatch::cli
