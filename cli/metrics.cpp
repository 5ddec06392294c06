#include "cli/metrics.hpp"

#include "io/files.hpp"

#include <fmt/format.h>

namespace hubbatch::cli {
namespace {

// Label values escape backslash, double quote and newline.
std::string label_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP hubbatch_{} {}\n# TYPE hubbatch_{} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, double v, std::string_view labels = {}) {
    if (labels.empty()) out_ += fmt::format("hubbatch_{} {}\n", name, v);
    else out_ += fmt::format("hubbatch_{}{{{}}} {}\n", name, labels, v);
  }
  void counter(std::string_view name, std::uint64_t v, std::string_view help) {
    family(name, "counter", help);
    sample(name, static_cast<double>(v));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string prometheus_text(const engine::counters& c, const metrics_context& ctx) {
  writer w;
  w.family("info", "gauge", "Constant 1, labelled with the version, the operation and the object types of the job.");
  w.sample("info", 1,
           fmt::format(R"(version="{}",operation="{}",from_type="{}",to_type="{}")", HUBBATCH_VERSION,
                       label_value(ctx.operation), label_value(ctx.from_type), label_value(ctx.to_type)));
  w.counter("input_pairs_total", c.input_pairs, "Input data lines read (valid pairs plus rejected lines).");
  const std::string done_total = ctx.done_word + "_pairs_total";
  w.counter(done_total, c.done_pairs, "Pairs " + ctx.done_word + " (a 2xx covered them).");
  w.counter("already_absent_pairs_total", c.already_absent_pairs,
            "Subset of " + ctx.done_word + ": the server said the pair was not associated.");
  w.counter("failed_pairs_total", c.failed_pairs, "Pairs given up on (see failed_pairs_by_category_total).");
  w.counter("rejected_pairs_total", c.rejected_pairs, "Bad input lines, never sent.");
  w.counter("duplicate_pairs_total", c.duplicate_pairs, "Pairs already waiting in the group window, sent once.");
  w.counter("pending_pairs_total", c.pending_pairs, "Pairs not settled when the run stopped (resumable).");
  w.counter("resent_pairs_total", c.resent_pairs, "Pairs an earlier run sent without learning the outcome.");
  w.counter("skipped_pairs_total", c.skipped_pairs, "Lines an earlier run of the job settled (journal).");
  w.counter("requests_total", c.requests, "HTTP requests sent, retries included.");
  w.counter("responses_total", c.responses, "HTTP responses received.");
  w.counter("retries_total", c.retries, "Requests that resend a batch.");
  w.counter("rate_limited_total", c.rate_limited, "429 responses.");
  w.counter("transport_errors_total", c.transport_errors, "Connect, TLS, reset and timeout failures of a request.");
  w.counter("batches_total", c.batches, "Batches formed by the grouper (before splits).");
  w.counter("split_batches_total", c.split_batches, "Extra batches created by halving or bisection.");
  w.counter("sent_pairs_total", c.sent_pairs, "Pairs carried by all requests, retries included.");
  w.counter("connections_opened_total", c.connections_opened, "TLS connections established.");

  w.family("http_responses_total", "counter", "HTTP responses by status code.");
  for (const auto& [status, n] : c.http_status)
    w.sample("http_responses_total", static_cast<double>(n), fmt::format(R"(status="{}")", status));
  w.family("failed_pairs_by_category_total", "counter", "Failed pairs by failure category.");
  for (const auto& [cat, n] : c.errors_by_category)
    w.sample("failed_pairs_by_category_total", static_cast<double>(n),
             fmt::format(R"(category="{}")", label_value(cat)));
  w.family("rejected_lines_by_reason_total", "counter", "Rejected input lines by reason.");
  for (const auto& [reason, n] : c.rejected_by_reason)
    w.sample("rejected_lines_by_reason_total", static_cast<double>(n),
             fmt::format(R"(reason="{}")", label_value(reason)));

  w.family("request_latency_seconds", "gauge",
           "Request latency (write start to response end) from a bounded sample; min/max exact.");
  for (double q : {0.0, 0.5, 0.95, 0.99, 1.0})
    w.sample("request_latency_seconds", c.latency_ms.quantile(q) / 1000.0, fmt::format(R"(quantile="{}")", q));
  w.family("elapsed_seconds", "gauge", "Seconds since the run started.");
  w.sample("elapsed_seconds", ctx.elapsed_s);
  w.family("running", "gauge", "1 while the run is in progress, 0 in the final write.");
  w.sample("running", ctx.running ? 1 : 0);
  if (ctx.exit_code) {
    w.family("exit_code", "gauge", "Exit code of the finished run (0 ok, 1 partial, 2 usage, 3 pending, 4 auth).");
    w.sample("exit_code", *ctx.exit_code);
  }
  w.family("last_update_timestamp_seconds", "gauge", "Unix time of this write.");
  w.sample("last_update_timestamp_seconds", ctx.unix_time_s);
  return w.take();
}

void write_metrics_file(const std::string& path, const std::string& text) { io::write_file_atomic(path, text); }

}  // namespace hubbatch::cli
