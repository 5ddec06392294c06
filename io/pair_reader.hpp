// Streaming parser for association pair input: CSV, TSV and NDJSON.
//
// Push-based so the same code serves files (read synchronously), stdin
// (read asynchronously with an idle linger) and the sandbox's seed files:
// callers feed byte chunks of any size and the parser calls the sink once per
// complete line. Memory is bounded by max_line_bytes regardless of input size.
//
// Accepted lines:
//   csv    "from,to"  with an optional header naming the columns from/to,
//          from_id/to_id or fromObjectId/toObjectId (any order,
//          case-insensitive, other columns ignored). Without a header or
//          parse_options::columns a line has two columns (empty extra columns
//          aside): a third could mean the first is an index, not the from-id,
//          so such a line is rejected (unnamed_columns). The separator is a
//          comma unless parse_options::delimiter says otherwise.
//   tsv    the same with tabs.
//   ndjson {"from":"1","to":"2"} (numbers allowed; also fromObjectId/toObjectId
//          and from_id/to_id keys, matched case-insensitively; other keys
//          ignored; a repeated key's last value wins). The whole line must be
//          one valid JSON object; a number id must be a non-negative integer
//          (no sign, fraction or exponent), a string id must have no escapes.
// An id is 1-20 decimal digits whose value fits in 64 bits, optionally
// surrounded by spaces and (csv/tsv) double quotes. Blank lines are skipped
// silently (not counted as pairs or rejections). CRLF line ends are accepted.
// A UTF-8 BOM at the start of input is skipped.
//
// Association type (io/assoc_type.hpp), for create with labels and
// archive-labels: a header or parse_options::columns may name a category
// column (category, association_category, associationCategory) and a type id
// column (type_id, typeId, association_type_id, associationTypeId), both or
// neither: a header naming one alone is rejected (wrong_column_count), since
// half a label would be guessed into the wrong one. NDJSON takes the same
// names as keys (a type id as a number or a string). A category is spelled as
// HubSpot does (HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED, WORK;
// case-insensitive), a type id is 1-2147483647. Both cells empty (or missing,
// or JSON null) = no type (pair_id::type.empty()); one without the other or a
// bad value rejects the line (bad_association_type). Lines of a file whose
// columns are not named keep the two-column rule: a four-column line is
// unnamed_columns, never a labelled pair.
//
// Header detection (csv/tsv) looks at the first non-blank line only: if its
// two id columns parse, it is data; if it names the from and to columns (or,
// with parse_options::columns, repeats those names), it is the header;
// otherwise it is rejected like any bad line (bad_id, with a detail saying it
// is neither ids nor a recognised header). A header that puts the id or label
// columns elsewhere than parse_options::columns rejects itself and every line
// after it (header_mismatch): either could be wrong, and a guess would archive
// the wrong associations.
//
// A failures file (header failures_header, or failures_header_v1 written
// before association types) is read back as input: its pair rows keep their
// type from the association_category and association_type_id cells (never
// from its error `category` column); a row with both id cells empty (a
// rejected line) is read from its text cell, which a person may have fixed,
// as a from,to line (comma, tab or semicolon) or an NDJSON object; rejected
// again, it keeps that text, so the file stays the same shape however often
// it goes round.
//
// The first csv line rejected that has no separator but tabs or semicolons
// carries a hint in its detail (use --format tsv / --delimiter ';'), kept in
// pair_parser::hint(). A field opened
// by a double quote runs to its closing quote, so a quoted extra column may
// contain the delimiter. Checks run in this order: line length, NUL, UTF-8,
// then the format's own rules (ids before the type); each line gets at most
// one reject.
//
// Record ids (parse_options::records: export, archive --all, verify's reads):
// the parser yields one pair_id{id, 0, {}} per line instead of a pair.
//   csv/tsv a line whose first column is an id and whose other columns are
//          empty is that id. A header is optional: a first line that is not
//          an id and names an id column (a from column or id, record_id,
//          hs_object_id, object_id) is the header, and its other columns are
//          ignored (a to column and label columns included), so a pairs file
//          with a header gives its from ids. A header naming both a from
//          column and an id column takes the from column (a pairs file's
//          `id` may be a row number); of two of a kind, the first. Without a
//          header a line is read as a pair line whose to column may be
//          missing or empty: "101,9001" (two ids) gives its first, the from
//          id, and a line with a non-empty third column is unnamed_columns.
//          parse_options::columns names the columns as in pair mode, with one
//          id column and no to column needed (parse_record_column_names).
//          A failures file's header is a header like any other: its rows
//          with an empty from_id are bad_id, their text cell is not read.
//   ndjson {"id":"1"} (also the other id names and the from keys, string or
//          number as pair ids; a from key wins over an id key), every other
//          key ignored; neither present: missing_field.
// Every other rule (ids, blank lines, CRLF, BOM, the checks and their order,
// line_too_long, truncated_line, the separator hint) is the pair mode's.
//
// Implemented in io/pair_reader.cpp (pair_parser), io/input_format.cpp
// (formats, column names, delimiters, reject reasons), io/id_field.cpp
// (parse_id) and io/read_pairs.cpp (read_pairs_file, input_watch).
#pragma once

#include "io/pair.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::io {

enum class input_format { csv, tsv, ndjson };

// "csv", "tsv", "ndjson" (also "jsonl"); nullopt otherwise.
std::optional<input_format> parse_input_format(std::string_view name);
// From the file name's extension (.csv, .tsv, .tab, .ndjson, .jsonl, also
// behind .gz); csv when unknown or for "-".
input_format input_format_for_path(std::string_view path);
const char* to_string(input_format f);

// What a column name marks: from/from_id/fromObjectId, to/to_id/toObjectId,
// category/association_category/associationCategory,
// type_id/typeId/association_type_id/associationTypeId,
// id/record_id/hs_object_id/object_id (a record id: records mode only, other
// columns in pair mode) (case-insensitive, spaces and quotes around it
// ignored), anything else other (ignored).
enum class column_role { from, to, category, type_id, id, other };
column_role role_of_column(std::string_view name);

// Reading options beyond the format.
struct parse_options {
  std::size_t max_line_bytes = 4096;  // longer lines are rejected (line_too_long)
  char delimiter = ',';               // csv column separator (tsv: always a tab); see check_delimiter
  // The file's columns in order (--columns), exactly one from and one to,
  // and one category and one type id or neither (see parse_column_names);
  // empty = not named: a header names them, or a line has two columns.
  // In records mode, exactly one id column, a to column not needed (see
  // parse_record_column_names).
  std::vector<std::string> columns;
  // Records mode (see above): each line is one record id, yielded as
  // pair_id{id, 0, {}}; false = pairs.
  bool records = false;
};

// Splits "index,from,to" at commas into `names`. Returns "" when each name is
// non-empty, exactly one is a from and one a to column, and the label columns
// are one category and one type id or absent, else the problem.
std::string parse_column_names(std::string_view text, std::vector<std::string>& names);
// The same for records mode: "" when each name is non-empty and exactly one
// names the id (a from column or id, record_id, hs_object_id, object_id);
// other names, to and label columns included, mark columns that are ignored.
std::string parse_record_column_names(std::string_view text, std::vector<std::string>& names);
// "" when `d` can separate csv columns, else why not (a quote, CR, LF, NUL,
// a digit or a space cannot).
std::string check_delimiter(char d);

// A named column and its 1-based position.
struct named_column {
  std::string name;
  std::size_t position = 0;
  friend bool operator==(const named_column&, const named_column&) = default;
};
// Which columns a csv/tsv input's ids (and association types) came from, when
// the columns were named (by a header, else by parse_options::columns). In
// records mode `from` is the id column and `to` has position 0 (none): a to
// column the file has is among the ignored.
struct input_columns {
  named_column from, to;
  std::vector<named_column> ignored;
  std::optional<named_column> category{}, type_id{};  // both or neither
  friend bool operator==(const input_columns&, const input_columns&) = default;
};
// "from_id (1), to_id (3), category (4), type_id (5); ignored: index (2)"
// (no label part without label columns, no "; ignored" part when none; no to
// part when to.position is 0, e.g. "id (2); ignored: index (1)").
std::string to_string(const input_columns& c);

// The header of a failures file (engine/failures_file.hpp), which is read
// back as input (see above). Its `category` is the failure's, never a label
// column; the pair's type is in the last two.
inline constexpr std::string_view failures_header =
    "from_id,to_id,outcome,category,http_status,message,line,text,association_category,association_type_id";
// The header written before association types (issue 13), still read back.
inline constexpr std::string_view failures_header_v1 = "from_id,to_id,outcome,category,http_status,message,line,text";

// Why a line was rejected. Each value has a stable snake_case code, its
// name (to_string: report keys, metric labels, journal and failures-file
// categories; never change one), and a sentence for people (describe).
enum class reject_reason {
  wrong_column_count,    // csv/tsv: fewer columns than the ids need, or header columns missing
  bad_id,                // not 1-20 decimal digits
  id_out_of_range,       // 20 digits above 18446744073709551615
  invalid_utf8,          // line is not valid UTF-8
  line_too_long,         // longer than max_line_bytes (CR/LF not counted); reported as soon as
                         // the limit is passed, the rest of the line skipped unbuffered
  bad_json,              // ndjson: not a JSON object
  missing_field,         // ndjson: no from/to key (records mode: no id or from key)
  nul_byte,              // line contains a NUL byte
  truncated_line,        // last line had no newline and the file changed while being read
                         // (pair_parser::finish(sink, false)): it may be cut mid-id, so never sent
  unnamed_columns,       // csv/tsv: more than two non-empty columns, and neither a header nor
                         // parse_options::columns says which are the ids (the first may be an index)
  header_mismatch,       // csv/tsv: the header names the id or label columns elsewhere than
                         // parse_options::columns; the header and every line after it
  bad_association_type,  // a category without a type id or the reverse, a category HubSpot does not
                         // have, or a type id outside 1-2147483647 (the detail names the text)
};
// The stable code, e.g. "bad_id".
const char* to_string(reject_reason r);
// The sentence, e.g. "id is not 1-20 decimal digits".
const char* describe(reject_reason r);

// Bytes of an over-long line passed to pair_sink::on_reject as `raw`.
inline constexpr std::size_t raw_prefix_bytes = 256;

class pair_sink {
 public:
  virtual ~pair_sink() = default;
  // A valid pair from 1-based input line `line`.
  virtual void on_pair(pair_id pair, std::uint64_t line) = 0;
  // A rejected line; `detail` names the offending text (truncated to ~64
  // bytes, printable: other bytes as \xNN, "(empty)" for an empty id),
  // after the separator hint when it is the first to need one (see above). For
  // line_too_long it is the line's first min(64, max_line_bytes) bytes and
  // "...", whatever the chunking. `raw` is the line as read, byte for byte
  // (without its CR/LF, or a BOM on line 1), so it can be written back for a
  // person to fix; for line_too_long only its first
  // min(raw_prefix_bytes, max_line_bytes) bytes, whatever the chunking. Both
  // are valid only during the call.
  virtual void on_reject(std::uint64_t line, reject_reason reason, std::string_view detail,
                         std::string_view raw) = 0;
};

// Parses one id field (after the caller split columns): trims spaces and one
// level of double quotes, requires 1-20 digits fitting in uint64.
// Returns the reason on failure.
std::optional<reject_reason> parse_id(std::string_view field, std::uint64_t& out);

class pair_parser {
 public:
  explicit pair_parser(input_format format, std::size_t max_line_bytes = 4096);
  pair_parser(input_format format, const parse_options& options);
  ~pair_parser();
  pair_parser(const pair_parser&) = delete;
  pair_parser& operator=(const pair_parser&) = delete;

  // Feeds the next chunk; complete lines are parsed and reported to `sink`
  // before it returns. A partial last line is kept (up to max_line_bytes).
  void feed(std::string_view chunk, pair_sink& sink);
  // End of input: parses a last line that had no newline. With
  // `input_complete` false (the file changed while being read, see
  // input_watch) that line is rejected as truncated_line instead: "101,90"
  // cut from "101,9001" is a valid pair, but not the one the user meant.
  void finish(pair_sink& sink, bool input_complete = true);

  // Lines seen so far (including header, blank and rejected lines).
  std::uint64_t lines() const noexcept;
  // Whether the first line was taken as a header (csv/tsv).
  bool saw_header() const noexcept;
  // Which columns were read and which ignored, once known (after the header,
  // or from parse_options::columns); nullopt for ndjson or unnamed columns.
  // In records mode `to` has position 0 (see input_columns).
  std::optional<input_columns> columns() const;
  // The separator hint given with the first rejection it applied to (e.g.
  // "the line has tabs and no comma: for a tab-separated file use --format
  // tsv"); "" when none applied.
  const std::string& hint() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Notices a regular file changing while it is read (appended to, truncated
// or replaced): remembers its identity and size when opened; changed()
// compares them with the file now and the bytes actually read. Pipes and
// other non-regular files are never reported.
class input_watch {
 public:
  explicit input_watch(int fd);
  // "" when the file is as it was at open and `bytes_read` is all of it;
  // otherwise what changed, e.g. "input changed while being read: 4096 bytes
  // when opened, 8192 now, 4096 read; the last line may be incomplete".
  std::string changed(int fd, std::uint64_t bytes_read) const;

 private:
  bool regular_ = false;
  std::uint64_t size_ = 0;
  std::int64_t mtime_ns_ = 0;
};

// Reads a whole file (or "-" for stdin) synchronously through a pair_parser,
// with read(2) in 64 KiB chunks. gzip input (recognised by its magic bytes,
// concatenated members allowed) is inflated. Throws std::runtime_error naming
// the path if it cannot be opened or read, or if gzip data is corrupt or
// truncated.
void read_pairs_file(const std::string& path, input_format format, pair_sink& sink,
                     std::size_t max_line_bytes = 4096);
void read_pairs_file(const std::string& path, input_format format, pair_sink& sink, const parse_options& options);
// The same through the caller's parser (to ask it about columns() and
// hint() afterwards); finishes it.
void read_pairs_file(const std::string& path, pair_parser& parser, pair_sink& sink);

}  // namespace hubbatch::io
