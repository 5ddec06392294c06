// Log lines about events (stop reasons, rejected lines, drain, failed
// responses with their correlation id) go through spdlog's default logger,
// which this installs: stderr, `text` ("hubbatch: message") or `json` (one
// object a line: ts, level, msg, and correlation_id when the message ends with
// "correlation_id=ID"). The report summary and the tty status line are not
// log lines and bypass it.
#pragma once

#include <string>

namespace hubbatch::cli {

enum class log_format { text, json };

// Installs the default logger. `level`: trace, debug, info, warn, error, off.
// Throws std::invalid_argument for an unknown level.
void setup_logging(log_format format, const std::string& level);

// The tty status line (cli/progress.cpp) tells the log sink that the cursor
// sits at the end of a status line; the next log line clears it first.
void set_status_line_shown(bool shown);
bool status_line_shown();

// One log line as the json format writes it (exposed for tests).
std::string json_log_line(const std::string& ts, const std::string& level, const std::string& msg);

}  // namespace hubbatch::cli
