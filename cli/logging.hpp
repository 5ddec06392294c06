// Log lines about events (stop reasons, rejected lines, drain, failed
// responses with their correlation id) go through spdlog's default logger,
// which this installs: stderr, `text` ("hubbatch: message") or `json` (one
// object a line: ts, level, msg, correlation_id when the message ends with
// "correlation_id=ID", and operation for a job's command). The tty status line is not a log line and bypasses
// it (never shown with json). Other text for people on stderr (usage errors,
// warnings before the run, the end-of-run summary) goes through
// print_stderr() and print_summary(), which keep it as it is with text and
// make it one JSON object a line with json, so a log collector reading
// stderr gets nothing but JSON.
#pragma once

#include <string>
#include <string_view>

namespace hubbatch::cli {

enum class log_format { text, json };

// Installs the default logger. `level`: trace, debug, info, warn, error, off.
// `operation` ("archive", "create", ...; "" for none) goes into every json
// line. Throws std::invalid_argument for an unknown level.
void setup_logging(log_format format, const std::string& level, const std::string& operation = {});

// The format setup_logging() installed; text until it is called.
log_format current_log_format();

enum class notice_level { info, warn, error };

// A message for people on stderr outside the event log (not filtered by
// --log-level: a usage error must show whatever the level). text: `prefix`
// + `message` (less any trailing newline) + newline, exactly as before logging existed ("hubbatch
// archive: " + err). json: one log object with `message` as msg.
void print_stderr(notice_level level, std::string_view prefix, std::string_view message);

// The end-of-run summary. text: `summary` as is (engine::report_summary's
// fixed shape). json: one object, {"ts":…,"level":"info","msg":"summary",
// "report":{…}} with `report_json` (engine::report_json's text) on one line.
void print_summary(std::string_view summary, std::string_view report_json);

// The tty status line (cli/progress.cpp) tells the log sink that the cursor
// sits at the end of a status line; the next log line clears it first.
void set_status_line_shown(bool shown);
bool status_line_shown();

// One log line as the json format writes it (exposed for tests).
std::string json_log_line(const std::string& ts, const std::string& level, const std::string& msg,
                          const std::string& operation = {});

}  // namespace hubbatch::cli
