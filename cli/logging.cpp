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

class line_formatter final : public spdlog::formatter {
 public:
  explicit line_formatter(log_format f) : format_(f) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string line;
    if (format_ == log_format::json) {
      auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(msg.time);
      auto ms = t.time_since_epoch().count() % 1000;
      std::string ts = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(t)), ms);
      line = json_log_line(ts, level_name(msg.level), text);
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
    if (status_shown) {
      std::fputs("\r\033[K", stderr);
      status_shown = false;
    }
    std::fwrite(buf.data(), 1, buf.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

std::string json_log_line(const std::string& ts, const std::string& level, const std::string& msg) {
  std::string text = msg, correlation;
  static constexpr std::string_view key = " correlation_id=";
  if (auto at = text.rfind(key); at != std::string::npos && text.find(' ', at + key.size()) == std::string::npos) {
    correlation = text.substr(at + key.size());
    text.resize(at);
  }
  std::string line = fmt::format(R"({{"ts":"{}","level":"{}","msg":"{}")", ts, level, json_escape(text));
  if (!correlation.empty()) line += fmt::format(R"(,"correlation_id":"{}")", json_escape(correlation));
  line += '}';
  return line;
}

void setup_logging(log_format format, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + level + "' (trace, debug, info, warn, error, off)");
  auto sink = std::make_shared<stderr_sink>();
  sink->set_formatter(std::make_unique<line_formatter>(format));
  auto logger = std::make_shared<spdlog::logger>("hubbatch", sink);
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

void set_status_line_shown(bool shown) { status_shown = shown; }
bool status_line_shown() { return status_shown; }

}  // namespace hubbatch::cli
