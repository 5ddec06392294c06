#include "cli/job_passes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/operation.hpp"
#include "engine/read_output.hpp"
#include "io/files.hpp"
#include "io/text.hpp"

namespace hubbatch::cli {
namespace {

// What a pass changes of the archive's settings: its operation, a read's
// batch cap, no report, no progress display of its own.
engine::archive_config pass_config(const engine::archive_config& cfg) {
  engine::archive_config p = cfg;
  p.batch_size = 1000;  // HubSpot's batch/read cap; the dispatcher halves it if the server says less
  p.batch_size_auto = false;
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

engine::job_result run_all_read_pass(const engine::archive_config& cfg, const engine::job_options& opt,
                                     const std::string& work) {
  engine::archive_config p = pass_config(cfg);
  p.records_input = true;
  p.output_path = work;
  p.output_overwrite = true;  // the job's own working file (a finished job's is refused by its journal)
  p.failures_path.clear();
  if (!p.journal_path.empty()) p.journal_path += ".all";
  return engine::run_job(p, pass_options(opt, engine::operation::read_kind::records));
}

namespace {
struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " '" + path + "': " + std::strerror(err ? err : EIO));
}
}  // namespace

void append_rows(const std::string& from, const std::string& to) {
  fd_closer in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) fail("cannot read", from, errno);
  fd_closer out{::open(to.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)};
  if (out.fd < 0) fail("cannot write backup", to, errno);
  struct stat st {};
  if (::fstat(out.fd, &st) != 0) fail("cannot write backup", to, errno);
  const std::string_view header = engine::read_output::csv_header;
  if (st.st_size == 0)
    if (int err = io::write_all(out.fd, header)) fail("cannot write backup", to, err);
  std::string buf(1 << 16, '\0');
  bool first = true;
  for (;;) {
    ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", from, errno);
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    if (first && chunk.starts_with(header)) chunk.remove_prefix(header.size());  // the file's own header
    first = false;
    if (int err = io::write_all(out.fd, chunk)) fail("cannot write backup", to, err);
  }
  if (::fdatasync(out.fd) != 0) fail("cannot sync backup", to, errno);
}

bool backup_complete(const engine::job_result& b) {
  return b.stop == engine::stop_reason::none && b.totals.failed_pairs == 0 && b.totals.pending_pairs == 0;
}

std::uint64_t still_present_pairs(const engine::job_result& v) {
  return category_count(v.totals, engine::still_present);
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
