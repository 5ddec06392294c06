#include "cli/progress.hpp"

#include "cli/logging.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

namespace hubbatch::cli {
namespace {

std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string span(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto t = static_cast<std::uint64_t>(s + 0.5);
  if (t < 60) return fmt::format("{}s", t);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
}

int terminal_columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string progress_text(const engine::job_progress& p, std::string_view unit) {
  const auto& c = p.totals;
  std::uint64_t done = c.done_pairs + c.failed_pairs + c.rejected_pairs + c.duplicate_pairs;
  // The total is exact once the input is read; before that, estimated from
  // the share of the file read so far; unknown for a pipe.
  std::optional<double> total;
  bool estimated = false;
  if (p.reading_done) {
    total = static_cast<double>(c.input_pairs);
  } else if (p.input_bytes_total > 0 && p.input_bytes_read > 0) {
    total = static_cast<double>(c.input_pairs) * static_cast<double>(p.input_bytes_total) /
            static_cast<double>(p.input_bytes_read);
    estimated = true;
  }
  double rate = p.elapsed_s > 0 ? static_cast<double>(done) / p.elapsed_s : 0;
  // A paced run starts with a burst (a whole window's requests at once), so
  // the rate so far overstates what the pace allows: the ETA takes the lower
  // of the two (the pace in pairs: requests per second times pairs per request).
  double eta_rate = rate;
  if (p.request_rate > 0 && c.requests > 0)
    eta_rate = std::min(rate, p.request_rate * static_cast<double>(c.sent_pairs) / static_cast<double>(c.requests));
  // The first pass of a partitioned input sends nothing: say so rather than show a rate of 0.
  std::string s = p.partitioning ? "partitioning the input: " : "";
  if (total) {
    auto t = static_cast<std::uint64_t>(std::llround(*total));
    double pct = t ? 100.0 * static_cast<double>(done) / static_cast<double>(t) : 100.0;
    s += fmt::format("{} of {}{} {} ({:.1f}%), {:.0f} {}/s, ETA {}", grouped(done), estimated ? "~" : "", grouped(t),
                     unit, pct, rate, unit, eta_rate > 0 ? span((*total - static_cast<double>(done)) / eta_rate) : "?");
  } else {
    s += fmt::format("{} {} done, {:.0f} {}/s", grouped(done), unit, rate, unit);
  }
  s += fmt::format(", 429s {}, retries {}, failed {}", grouped(c.rate_limited), grouped(c.retries),
                   grouped(c.failed_pairs));
  if (p.rate_mode == "adaptive") s += fmt::format(", pace adaptive {:.1f} req/s", p.request_rate);
  else s += fmt::format(", pace {}", p.rate_mode);
  return s;
}

engine::duration progress_reporter::tick_interval() const {
  if (s_.tty && !s_.quiet) return std::chrono::milliseconds(100);  // redraw at most 10 times a second
  return s_.interval;
}

void progress_reporter::tick(const engine::job_progress& p) {
  if (!s_.quiet) {
    if (s_.tty) {
      std::string line = progress_text(p, s_.unit);
      auto cols = static_cast<std::size_t>(terminal_columns());
      if (line.size() >= cols) line.resize(cols - 1);  // a wrapped line could not be redrawn in place
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
      set_status_line_shown(true);
    } else if (p.elapsed_s - last_line_s_ >= std::chrono::duration<double>(s_.interval).count() * 0.999) {
      last_line_s_ = p.elapsed_s;
      spdlog::info("progress: {}", progress_text(p, s_.unit));
    }
  }
  if (!s_.metrics_path.empty() &&
      p.elapsed_s - last_metrics_s_ >= std::chrono::duration<double>(s_.interval).count() * 0.999) {
    last_metrics_s_ = p.elapsed_s;
    write_metrics(p.totals, p.elapsed_s, true, std::nullopt);
  }
}

void progress_reporter::finish(const engine::counters& c, double elapsed_s, int exit_code) {
  if (status_line_shown()) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    set_status_line_shown(false);
  }
  if (!s_.metrics_path.empty()) write_metrics(c, elapsed_s, false, exit_code);
}

void progress_reporter::write_metrics(const engine::counters& c, double elapsed_s, bool running,
                                      std::optional<int> exit_code) {
  metrics_context ctx;
  ctx.operation = s_.operation;
  ctx.done_word = s_.done_word;
  ctx.from_type = s_.from_type;
  ctx.to_type = s_.to_type;
  ctx.elapsed_s = elapsed_s;
  ctx.running = running;
  ctx.exit_code = exit_code;
  ctx.unix_time_s = unix_now();
  try {
    write_metrics_file(s_.metrics_path, prometheus_text(c, ctx));
  } catch (const std::exception& e) {  // a full disk must not stop the archive job
    spdlog::warn("cannot write metrics: {}", e.what());
  }
}

}  // namespace hubbatch::cli
