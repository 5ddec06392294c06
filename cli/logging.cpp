#include "cli/logging.hpp"

#include "io/text.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace hubbatch::cli {
namespace {

bool status_shown = false;  // written and read on the main thread only
log_format installed_format = log_format::text;  // set by setup_logging (main thread, before the run)
std::string installed_operation;                  // set by setup_logging: the json lines' "operation"

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  io::append_json_escaped(out, s);
  return out;
}

const char* level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// "2026-04-02T10:15:00.123Z"
std::string json_timestamp(std::chrono::system_clock::time_point when) {
  auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(when);
  auto ms = t.time_since_epoch().count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(t)), ms);
}

// Writes whole lines to stderr, clearing a tty status line first.
void write_stderr(std::string_view text) {
  if (status_shown) {
    std::fputs("\r\033[K", stderr);
    status_shown = false;
  }
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

class line_formatter final : public spdlog::formatter {
 public:
  explicit line_formatter(log_format f) : format_(f) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string line;
    if (format_ == log_format::json) {
      line = json_log_line(json_timestamp(msg.time), level_name(msg.level), text, installed_operation);
    } else {
      const char* tag = msg.level == spdlog::level::debug || msg.level == spdlog::level::trace ? "debug: "
                        : msg.level >= spdlog::level::err                                        ? "error: "
                                                                                                 : "";
      line = fmt::format("hubbatch: {}{}", tag, text);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<line_formatter>(format_); }

 private:
  log_format format_;
};

// stderr, clearing a tty status line first (single-threaded: null_mutex).
class stderr_sink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    write_stderr(std::string_view(buf.data(), buf.size()));
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

std::string json_log_line(const std::string& ts, const std::string& level, const std::string& msg,
                          const std::string& operation) {
  std::string text = msg, correlation;
  static constexpr std::string_view key = " correlation_id=";
  if (auto at = text.rfind(key); at != std::string::npos && text.find(' ', at + key.size()) == std::string::npos) {
    correlation = text.substr(at + key.size());
    text.resize(at);
  }
  std::string line = fmt::format(R"({{"ts":"{}","level":"{}","msg":"{}")", ts, level, json_escape(text));
  if (!correlation.empty()) line += fmt::format(R"(,"correlation_id":"{}")", json_escape(correlation));
  if (!operation.empty()) line += fmt::format(R"(,"operation":"{}")", json_escape(operation));
  line += '}';
  return line;
}

void setup_logging(log_format format, const std::string& level, const std::string& operation) {
  installed_operation = operation;
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
  auto sink = std::make_shared<stderr_sink>();
  sink->set_formatter(std::make_unique<line_formatter>(format));
  auto logger = std::make_shared<spdlog::logger>("hubbatch", sink);
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  installed_format = format;
}

log_format current_log_format() { return installed_format; }

void print_stderr(notice_level level, std::string_view prefix, std::string_view message) {
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (installed_format == log_format::text) {
    write_stderr(fmt::format("{}{}\n", prefix, message));
    return;
  }
  const char* name = level == notice_level::error ? "error" : level == notice_level::warn ? "warn" : "info";
  write_stderr(json_log_line(json_timestamp(std::chrono::system_clock::now()), name, std::string(message),
                             installed_operation) +
               "\n");
}

void print_summary(std::string_view summary, std::string_view report_json) {
  if (installed_format == log_format::text) {
    write_stderr(summary);
    return;
  }
  // The report is pretty-printed; its line breaks and indents sit between
  // tokens (strings in it are escaped), so dropping them leaves one line.
  std::string report;
  report.reserve(report_json.size());
  for (std::size_t i = 0; i < report_json.size(); ++i) {
    if (report_json[i] != '\n') {
      report += report_json[i];
      continue;
    }
    while (i + 1 < report_json.size() && report_json[i + 1] == ' ') ++i;
  }
  std::string line =
      json_log_line(json_timestamp(std::chrono::system_clock::now()), "info", "summary", installed_operation);
  line.pop_back();  // its closing brace
  write_stderr(line + R"(,"report":)" + report + "}\n");
}

void set_status_line_shown(bool shown) { status_shown = shown; }
bool status_line_shown() { return status_shown; }

}  // namespace hubbatch::cli
