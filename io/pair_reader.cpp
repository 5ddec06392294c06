// The line parser (pair_parser); io/pair_reader.hpp names the files that
// implement the rest of it. NDJSON lines are scanned by io/json_line.hpp.
#include "io/pair_reader.hpp"

#include "io/id_field.hpp"
#include "io/json_line.hpp"
#include "io/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace hubbatch::io {

namespace {

// Bytes of offending text kept in a reject detail.
constexpr std::size_t detail_bytes = 64;

// Which bytes a line contains, one 8-byte word at a time: any NUL, any byte
// >= 0x80 (only then is the slower UTF-8 validation needed).
struct byte_scan {
  bool nul = false;
  bool high = false;
};

byte_scan scan_bytes(const char* s, std::size_t n) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::uint64_t zero_bits = 0;
  std::uint64_t high_bits = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    // Classic "has zero byte" test; exact in its any-byte answer.
    zero_bits |= (w - ones) & ~w & highs;
    high_bits |= w & highs;
  }
  byte_scan r{zero_bits != 0, high_bits != 0};
  for (; i < n; ++i) {
    r.nul |= s[i] == '\0';
    r.high |= (static_cast<unsigned char>(s[i]) & 0x80) != 0;
  }
  return r;
}

// Appends a printable rendering of `s` (bytes outside 0x20..0x7e as \xNN) to
// `out`, keeping at most `budget` input bytes; returns the bytes kept.
std::size_t append_printable(std::string& out, std::string_view s, std::size_t budget) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::size_t kept = std::min(s.size(), budget);
  for (std::size_t i = 0; i < kept; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
  return kept;
}

// An NDJSON id value into `out`: a string without escapes or a number
// without sign, fraction or exponent, holding an id as parse_id reads one.
std::optional<reject_reason> parse_json_id(const json_value_ref& v, std::uint64_t& out) {
  if (v.kind == json_kind::other || v.escaped) return reject_reason::bad_id;
  if (v.kind == json_kind::number && v.text.find_first_not_of("0123456789") != std::string_view::npos)
    return reject_reason::bad_id;  // negative, fraction or exponent
  return parse_id(v.text, out);
}

}  // namespace

// ------------------------------------------------------------- parser ------

struct pair_parser::impl {
  impl(input_format f, const parse_options& o)
      : format(f),
        records(o.records),
        kind(f == input_format::ndjson ? (o.records ? line_kind::ndjson_records : line_kind::ndjson_pairs)
                                       : (o.records ? line_kind::delimited_records : line_kind::delimited_pairs)),
        delim(f == input_format::tsv ? '\t' : o.delimiter),
        max_line_bytes(o.max_line_bytes),
        given_names(o.columns) {
    // The partial line holds at most max_line_bytes plus a CR whose LF is in
    // the next chunk; reserving it now keeps the steady state allocation-free.
    partial.reserve(max_line_bytes + 1);
    detail.reserve(4 * detail_bytes + 128);
    raw_prefix.reserve(raw_prefix_bytes);
    for (std::size_t i = 0; i < given_names.size() && !records; ++i) {
      switch (role_of_column(given_names[i])) {
        case column_role::from: from_col = i; break;
        case column_role::to: to_col = i; break;
        case column_role::category: cat_col = i; break;
        case column_role::type_id: type_col = i; break;
        case column_role::id:  // a record id: pair mode ignores it
        case column_role::other: break;
      }
    }
    named = !given_names.empty();
    if (records && named) {
      if (const std::size_t c = record_id_column(given_names); c != none) from_col = c;
      to_col = none;
    }
    update_scan_to();
    update_plain();
  }

  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  // Which parse_* function reads a line, chosen once (see process_line).
  enum class line_kind { delimited_pairs, delimited_records, ndjson_pairs, ndjson_records };

  const input_format format;
  const bool records;    // parse_options::records
  const line_kind kind;  // from format and records
  const char delim;
  const std::size_t max_line_bytes;
  const std::vector<std::string> given_names;  // parse_options::columns
  std::string partial;     // bytes of an unfinished line carried across chunks
  std::string detail;      // scratch for reject details
  std::string raw_prefix;  // scratch: the first bytes of an over-long line
  std::string cell;        // scratch: a failures file's text cell, unquoted
  std::string_view raw;    // the line being parsed, as read (for on_reject)
  std::uint64_t line = 0;  // lines completed so far
  bool skipping = false;   // inside an over-long line already reported
  // csv/tsv: the first non-blank line decides whether there is a header.
  bool header_pending = true;
  bool saw_header = false;
  std::vector<std::string> header_names;  // the header's fields, once read
  std::size_t from_col = 0;               // records mode: the id column
  std::size_t to_col = 1;                 // records mode: 1 while no column is named (a pair line's to id), then none
  bool named = false;                // by given_names or a header: lines may have more columns
  std::size_t text_col = none;       // a failures file's text column
  std::size_t cat_col = none;        // the association category column, when named
  std::size_t type_col = none;       // the association type id column, named with cat_col
  std::size_t scan_to = 0;           // the last of text_col, cat_col, type_col (0: none)
  bool mismatch = false;             // the header contradicted given_names: every line is rejected
  bool plain = false;                // plain_line() may read the next line (see update_plain)
  std::string hint;                  // the separator hint, once given

  // The mode is chosen once a chunk, so the pairs' loop is the one it was.
  void feed(std::string_view chunk, pair_sink& sink) {
    if (records) {
      feed_lines<true>(chunk, sink);
    } else {
      feed_lines<false>(chunk, sink);
    }
  }
  void finish(pair_sink& sink, bool input_complete);
  std::optional<input_columns> columns() const;

 private:
  template <bool Records>
  void feed_lines(std::string_view chunk, pair_sink& sink);
  template <bool Records>
  const char* plain_line(const char* p, const char* end, pair_sink& sink);
  void complete_line(const char* s, std::size_t n, pair_sink& sink);
  void process_line(const char* s, std::size_t n, pair_sink& sink);
  void parse_delimited(std::string_view text, pair_sink& sink);
  bool try_header(std::string_view text, pair_sink& sink);
  void parse_record_delimited(std::string_view text, pair_sink& sink);
  bool try_record_header(std::string_view text, pair_sink& sink);
  void parse_text_cell(std::string_view field, pair_sink& sink);
  void parse_ndjson(std::string_view text, pair_sink& sink);
  void parse_ndjson_record(std::string_view text, pair_sink& sink);
  bool parse_type(std::string_view category, std::string_view type_id, assoc_type& out, pair_sink& sink);
  void report_too_long(std::string_view a, std::string_view b, pair_sink& sink);

  // Whether feed() may try plain_line(): "<digits><delim><digits>" means the
  // pair (from, to) only in the default column order, once the header
  // question is settled. One flag, so the hot loop tests one byte.
  //
  // With label columns named, such a line has both label cells missing, so
  // it is an untyped pair on either path. In records mode the line is
  // "<digits>" or "<digits><delim><digits>", the id first whatever names the
  // other columns.
  void update_plain() {
    plain = format != input_format::ndjson && !header_pending && from_col == 0 && (records || to_col == 1) && !mismatch;
  }

  // Records mode: the id column of a header or --columns, the first from
  // column, else the first id column (a pairs file's `id` may be a row
  // number); none when neither is named.
  static std::size_t record_id_column(const std::vector<std::string>& names) {
    std::size_t id = none;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const column_role role = role_of_column(names[i]);
      if (role == column_role::from) return i;
      if (role == column_role::id && id == none) id = i;
    }
    return id;
  }

  // Whether a header's fields are parse_options::columns again.
  bool repeats_given(const std::vector<std::string>& names) const {
    return !given_names.empty() && names.size() == given_names.size() &&
           std::equal(names.begin(), names.end(), given_names.begin(),
                      [](const std::string& a, const std::string& b) { return iequals(a, b); });
  }

  void update_scan_to() {
    scan_to = 0;
    for (std::size_t c : {text_col, cat_col, type_col})
      if (c != none) scan_to = std::max(scan_to, c);
  }

  // A csv/tsv line's first step: ends the header question (`first`: this
  // line may still be the header) and rejects every line after a header that
  // contradicted given_names. False when the line was rejected. (plain needs
  // no update after the first line: what it depends on changes only with
  // header_pending or in the functions that read a header, which update it.)
  bool begin_delimited(std::string_view text, bool& first, pair_sink& sink) {
    first = header_pending;
    if (first) {
      header_pending = false;
      update_plain();
    }
    if (!mismatch) return true;
    reject(reject_reason::header_mismatch, "", text, sink);
    return false;
  }

  void reject(reject_reason r, std::string_view prefix, std::string_view text, pair_sink& sink) {
    detail.clear();
    add_hint();
    detail += prefix;
    if (text.empty()) {
      detail += "(empty)";
    } else if (append_printable(detail, text, detail_bytes) < text.size()) {
      detail += "...";
    }
    sink.on_reject(line, r, detail, raw);
  }

  // A csv line without the separator but with tabs or semicolons is probably
  // from a file with another separator: the first such rejection says how
  // to read it (once; hint() keeps it for the summary).
  void add_hint() {
    if (!hint.empty() || format != input_format::csv || text_col != none ||
        raw.find(delim) != std::string_view::npos)
      return;
    if (delim != '\t' && raw.find('\t') != std::string_view::npos) {
      hint = "the line has tabs and no '";
      hint += delim;
      hint += "': for a tab-separated file use --format tsv";
    } else if (delim != ';' && raw.find(';') != std::string_view::npos) {
      hint = "the line has semicolons and no '";
      hint += delim;
      hint += "': for a semicolon-separated file use --delimiter ';'";
    } else if (delim != ',' && raw.find(',') != std::string_view::npos) {
      hint = "the line has commas and no '";
      hint += delim;
      hint += "': for a comma-separated file leave out --delimiter";
    } else {
      return;
    }
    detail += "(";
    detail += hint;
    detail += ") ";
  }

  // Calls f(column, field) for each field of a line separated by `d` until it
  // returns false; returns the number of fields visited. A field opened by a
  // double quote runs to its closing quote ("" escapes one), so a quoted
  // extra column may contain the delimiter.
  template <class F>
  static std::size_t for_each_field(std::string_view text, char d, F&& f) {
    const char* p = text.data();
    const char* e = p + text.size();
    std::size_t col = 0;
    for (;;) {
      const char* q = p;
      while (q < e && *q == ' ') ++q;
      if (q < e && *q == '"') {
        for (++q; q < e; ++q) {
          if (*q == '"') {
            if (q + 1 < e && q[1] == '"') {
              ++q;
            } else {
              ++q;
              break;
            }
          }
        }
      }
      const void* hit = q < e ? std::memchr(q, d, static_cast<std::size_t>(e - q)) : nullptr;
      const char* sep = hit ? static_cast<const char*>(hit) : e;
      bool more = f(col, std::string_view(p, static_cast<std::size_t>(sep - p)));
      ++col;
      if (!more || sep == e) return col;
      p = sep + 1;
    }
  }
};

std::optional<input_columns> pair_parser::impl::columns() const {
  if (format == input_format::ndjson || !named) return std::nullopt;
  const std::vector<std::string>& names = saw_header ? header_names : given_names;
  input_columns c;
  for (std::size_t i = 0; i < names.size(); ++i) {
    named_column col{std::string(unquote(names[i])), i + 1};
    if (i == from_col) c.from = std::move(col);
    else if (i == to_col) c.to = std::move(col);
    else if (i == cat_col) c.category = std::move(col);
    else if (i == type_col) c.type_id = std::move(col);
    else c.ignored.push_back(std::move(col));
  }
  return c;
}

// The line almost every input is made of, "<digits><delim><digits>" and LF
// or CRLF, in the default column order once the first line is behind: read
// in one pass, without finding the line end first or looking at its bytes
// again. Returns the byte after the line, or null for any other line (none
// of it consumed: the general path reads it and gives the same result, which
// tests/io/pair_reader_test.cpp checks line by line). Reading lines the
// general way was the largest user-space cost of the unthrottled client.
//
// Records mode reads "<digits>" and "<digits><delim><digits>" lines here,
// yielding the first.
template <bool Records>
const char* pair_parser::impl::plain_line(const char* p, const char* end, pair_sink& sink) {
  pair_id pair;
  const char* q = read_digits(p, end, pair.from);
  if constexpr (Records) {
    if (!q || q == end) return nullptr;
    if (*q == delim) {
      std::uint64_t second;
      q = read_digits(q + 1, end, second);
      if (!q || q == end) return nullptr;
    }
  } else {
    if (!q || q == end || *q != delim) return nullptr;
    q = read_digits(q + 1, end, pair.to);
    if (!q || q == end) return nullptr;
  }
  const auto n = static_cast<std::size_t>(q - p);
  if (*q == '\r' && ++q == end) return nullptr;
  if (*q != '\n' || n > max_line_bytes) return nullptr;
  ++line;
  sink.on_pair(pair, line);
  return q + 1;
}

template <bool Records>
void pair_parser::impl::feed_lines(std::string_view chunk, pair_sink& sink) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p < end) {
    if (plain && partial.empty() && !skipping) {
      if (const char* next = plain_line<Records>(p, end, sink)) {
        p = next;
        continue;
      }
    }
    const auto left = static_cast<std::size_t>(end - p);
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', left));
    if (skipping) {
      if (!nl) return;
      skipping = false;
      p = nl + 1;
      continue;
    }
    if (!nl) {
      // Unfinished line: keep it unless it is already certainly too long
      // (more than max plus a CR that may belong to a CRLF).
      const std::size_t total = partial.size() + left;
      if (total > max_line_bytes + 1 || (total == max_line_bytes + 1 && end[-1] != '\r')) {
        report_too_long(partial, std::string_view(p, left), sink);
        partial.clear();
        skipping = true;
      } else {
        partial.append(p, left);
      }
      return;
    }
    const auto n = static_cast<std::size_t>(nl - p);
    if (partial.empty()) {
      complete_line(p, n, sink);
    } else if (partial.size() + n > max_line_bytes + 1) {
      report_too_long(partial, std::string_view(p, n), sink);
      partial.clear();
    } else {
      partial.append(p, n);
      complete_line(partial.data(), partial.size(), sink);
      partial.clear();
    }
    p = nl + 1;
  }
}

void pair_parser::impl::finish(pair_sink& sink, bool input_complete) {
  if (skipping) {
    skipping = false;  // already counted and reported
  } else if (!partial.empty() && !input_complete) {
    std::size_t n = partial.size();
    if (partial.back() == '\r') --n;
    ++line;
    header_pending = false;
    update_plain();
    raw = std::string_view(partial.data(), n);
    reject(reject_reason::truncated_line, "", raw, sink);
    partial.clear();
  } else if (!partial.empty()) {
    complete_line(partial.data(), partial.size(), sink);
    partial.clear();
  }
}

void pair_parser::impl::report_too_long(std::string_view a, std::string_view b, pair_sink& sink) {
  // The line may be reported before all of it arrived, with at least
  // max_line_bytes + 1 of its bytes in hand. Showing a fixed prefix keeps the
  // detail independent of how the input was chunked.
  ++line;
  detail.clear();
  const std::size_t budget = std::min(detail_bytes, max_line_bytes);
  const std::size_t kept = append_printable(detail, a, budget);
  append_printable(detail, b, budget - kept);
  detail += "...";
  raw_prefix.clear();
  const std::size_t raw_budget = std::min(raw_prefix_bytes, max_line_bytes);
  raw_prefix.append(a.substr(0, raw_budget));
  raw_prefix.append(b.substr(0, raw_budget - raw_prefix.size()));
  sink.on_reject(line, reject_reason::line_too_long, detail, raw_prefix);
}

void pair_parser::impl::complete_line(const char* s, std::size_t n, pair_sink& sink) {
  if (n > 0 && s[n - 1] == '\r') --n;
  if (n > max_line_bytes) {
    report_too_long(std::string_view(s, n), {}, sink);
    return;
  }
  process_line(s, n, sink);
}

void pair_parser::impl::process_line(const char* s, std::size_t n, pair_sink& sink) {
  ++line;
  if (line == 1 && n >= 3 && std::memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
    s += 3;
    n -= 3;
  }
  std::size_t i = 0;
  while (i < n && is_space(s[i])) ++i;
  if (i == n) return;  // blank

  const std::string_view text(s, n);
  raw = text;
  const byte_scan bytes = scan_bytes(s, n);
  if (bytes.nul) {
    header_pending = false;
    update_plain();
    reject(reject_reason::nul_byte, "", text, sink);
    return;
  }
  if (bytes.high && !simdjson::validate_utf8(s, n)) {
    header_pending = false;
    update_plain();
    reject(reject_reason::invalid_utf8, "", text, sink);
    return;
  }
  if (kind == line_kind::delimited_pairs) {
    parse_delimited(text, sink);
  } else if (kind == line_kind::ndjson_pairs) {
    parse_ndjson(text, sink);
  } else if (kind == line_kind::delimited_records) {
    parse_record_delimited(text, sink);
  } else {
    parse_ndjson_record(text, sink);
  }
}

void pair_parser::impl::parse_delimited(std::string_view text, pair_sink& sink) {
  bool first;
  if (!begin_delimited(text, first, sink)) return;
  std::string_view from_field;
  std::string_view to_field;
  std::string_view text_field;
  std::string_view cat_field;  // a missing label cell is an empty one
  std::string_view type_field;
  bool extra = false;  // unnamed columns: a non-empty column besides the two ids
  const std::size_t need = std::max(from_col, to_col) + 1;
  const std::size_t cols = for_each_field(text, delim, [&](std::size_t col, std::string_view field) {
    if (col == from_col) from_field = field;
    else if (col == to_col) to_field = field;
    else if (col == text_col) text_field = field;
    else if (col == cat_col) cat_field = field;
    else if (col == type_col) type_field = field;
    else if (!named && !unquote(field).empty()) extra = true;
    return col + 1 < need || (!named && !extra) || col < scan_to;
  });
  if (cols < need) {
    // A lone header name is still a header with a column missing.
    if (first && try_header(text, sink)) return;
    reject(reject_reason::wrong_column_count, "", text, sink);
    return;
  }
  if (text_col != none && unquote(from_field).empty() && unquote(to_field).empty() && !unquote(text_field).empty()) {
    parse_text_cell(text_field, sink);
    return;
  }
  pair_id pair;
  std::string_view bad_field = from_field;
  std::optional<reject_reason> err = parse_id(from_field, pair.from);
  if (!err) {
    bad_field = to_field;
    err = parse_id(to_field, pair.to);
  }
  if (!err && !extra) {
    if (cat_col == none || parse_type(unquote(cat_field), unquote(type_field), pair.type, sink))
      sink.on_pair(pair, line);
    return;
  }
  if (first && try_header(text, sink)) return;
  if (extra) {
    reject(reject_reason::unnamed_columns, "", text, sink);
    return;
  }
  if (first && *err == reject_reason::bad_id) {
    reject(*err, "first line is neither ids nor a header naming from_id,to_id or fromObjectId,toObjectId: ", text,
           sink);
    return;
  }
  reject(*err, "", trim_spaces(bad_field), sink);
}

// Takes `text` as the header if any field names a from or to column (or, with
// given_names, if it repeats them). Returns false if it names neither (the
// caller rejects it as data); true if it was handled, either as a header or
// rejected for naming only one column or contradicting given_names.
bool pair_parser::impl::try_header(std::string_view text, pair_sink& sink) {
  // A failures file's `category` is its error category: its labels are
  // association_category and association_type_id, and only in the new header.
  const bool failures = text == failures_header || text == failures_header_v1;
  std::size_t f = none;
  std::size_t t = none;
  std::size_t c = failures && text == failures_header ? 8 : none;
  std::size_t y = failures && text == failures_header ? 9 : none;
  std::vector<std::string> names;
  for_each_field(text, delim, [&](std::size_t col, std::string_view field) {
    const column_role role = role_of_column(field);
    if (f == none && role == column_role::from) f = col;
    if (t == none && role == column_role::to) t = col;
    if (!failures && c == none && role == column_role::category) c = col;
    if (!failures && y == none && role == column_role::type_id) y = col;
    names.emplace_back(unquote(field));
    return true;
  });
  if (repeats_given(names)) {
    f = from_col;
    t = to_col;
    c = cat_col;
    y = type_col;
  }
  if (f == none && t == none) return false;
  if (f == none || t == none) {
    reject(reject_reason::wrong_column_count,
           f == none ? "header has no from/from_id/fromObjectId column: " : "header has no to/to_id/toObjectId column: ",
           text, sink);
    return true;
  }
  if ((c == none) != (y == none)) {
    reject(reject_reason::wrong_column_count,
           c == none ? "header has a type id column but no category/association_category/associationCategory "
                       "column: "
                     : "header has a category column but no type_id/typeId/association_type_id/associationTypeId "
                       "column: ",
           text, sink);
    return true;
  }
  // Label columns the header names must be where --columns puts them. A
  // header naming none (an old failures file included) leaves --columns'
  // own; a failures file's own stand when --columns names none.
  const bool labels_differ = c != none && (c != cat_col || y != type_col) && !(failures && cat_col == none);
  if (!given_names.empty() && (f != from_col || t != to_col || labels_differ)) {
    mismatch = true;
    update_plain();
    const auto at = [](std::size_t col) { return col == none ? std::string("none") : std::to_string(col + 1); };
    const std::string why = f != from_col || t != to_col
                                ? "header has the from column at " + at(f) + " and the to column at " + at(t) +
                                      ", --columns at " + at(from_col) + " and " + at(to_col) + ": "
                                : "header has the category column at " + at(c) + " and the type id column at " + at(y) +
                                      ", --columns at " + at(cat_col) + " and " + at(type_col) + ": ";
    reject(reject_reason::header_mismatch, why, text, sink);
    return true;
  }
  from_col = f;
  to_col = t;
  if (c != none) {
    cat_col = c;
    type_col = y;
  }
  named = true;
  saw_header = true;
  header_names = std::move(names);
  if (failures) text_col = 7;
  update_scan_to();
  update_plain();
  return true;
}

// A failures file's rejected row: its text cell (CSV-quoted) read as a
// from,to line, separated by a comma, else a tab, else a semicolon, or as an
// NDJSON object. A line rejected from a labelled file is from,to,category,
// type_id: cells whose third is a category name are read so (no index or id
// is spelled HUBSPOT_DEFINED, so this guesses nothing). Rejected again,
// the row's raw text is that cell, so the next failures file carries the same
// text rather than the whole row.
void pair_parser::impl::parse_text_cell(std::string_view field, pair_sink& sink) {
  field = trim_spaces(field);
  cell.clear();
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    for (std::size_t i = 1; i + 1 < field.size(); ++i) {
      cell.push_back(field[i]);
      if (field[i] == '"' && i + 2 < field.size() && field[i + 1] == '"') ++i;
    }
  } else {
    cell.assign(field);
  }
  raw = cell;
  const std::string_view text = trim_spaces(cell);
  if (!text.empty() && text.front() == '{') {
    parse_ndjson(cell, sink);
    return;
  }
  const char d = text.find(',') != std::string_view::npos    ? ','
                 : text.find('\t') != std::string_view::npos ? '\t'
                                                             : ';';
  std::string_view fields[4];  // as written (parse_id unquotes ids itself)
  bool extra = false;           // a non-empty fifth cell or beyond
  const std::size_t cols = for_each_field(text, d, [&](std::size_t col, std::string_view f) {
    if (col < 4) fields[col] = f;
    else if (!unquote(f).empty()) extra = true;
    return !extra;
  });
  const std::string_view category = unquote(fields[2]);
  const std::string_view type_id = unquote(fields[3]);
  const bool labelled = parse_assoc_category(category).has_value();
  if (!labelled && (!category.empty() || !type_id.empty())) extra = true;
  if (cols < 2) {
    reject(reject_reason::wrong_column_count, "", text, sink);
    return;
  }
  if (extra) {
    reject(reject_reason::unnamed_columns, "", text, sink);
    return;
  }
  pair_id pair;
  if (auto err = parse_id(fields[0], pair.from)) {
    reject(*err, "", trim_spaces(fields[0]), sink);
  } else if (auto err2 = parse_id(fields[1], pair.to)) {
    reject(*err2, "", trim_spaces(fields[1]), sink);
  } else if (!labelled || parse_type(category, type_id, pair.type, sink)) {
    sink.on_pair(pair, line);
  }
}

void pair_parser::impl::parse_ndjson(std::string_view text, pair_sink& sink) {
  json_pair_fields fields;
  if (!scan_json_object(text, fields)) {
    reject(reject_reason::bad_json, "", text, sink);
    return;
  }
  const json_value_ref& from = fields.from;
  const json_value_ref& to = fields.to;
  if (from.kind == json_kind::none || to.kind == json_kind::none) {
    reject(reject_reason::missing_field,
           from.kind == json_kind::none ? "no from/fromObjectId/from_id key: " : "no to/toObjectId/to_id key: ", text,
           sink);
    return;
  }
  pair_id pair;
  for (auto [ref, out] : {std::pair{&from, &pair.from}, std::pair{&to, &pair.to}}) {
    if (std::optional<reject_reason> err = parse_json_id(*ref, *out)) {
      reject(*err, "", ref->text, sink);
      return;
    }
  }
  // An absent key and null are no value; anything but a string (and a number
  // for the type id) is a bad one, shown as written.
  const auto label = [](const json_value_ref& v) {
    if (v.kind == json_kind::none || (v.kind == json_kind::other && v.text == "null")) return std::string_view();
    return trim_spaces(v.text);
  };
  if (parse_type(label(fields.category), label(fields.type_id), pair.type, sink)) sink.on_pair(pair, line);
}

// Records mode, csv/tsv. Without named columns a line is read as a pair
// line whose to cell may be missing or empty ("101,9001" gives 101, a
// non-empty third cell is unnamed_columns); with them, the id column's cell
// and nothing else.
void pair_parser::impl::parse_record_delimited(std::string_view text, pair_sink& sink) {
  bool first;
  if (!begin_delimited(text, first, sink)) return;
  std::string_view id_field;
  std::string_view to_field;
  bool extra = false;  // unnamed columns: a non-empty column besides the two ids
  const std::size_t need = from_col + 1;
  const std::size_t cols = for_each_field(text, delim, [&](std::size_t col, std::string_view field) {
    if (col == from_col)
      id_field = field;
    else if (col == to_col)
      to_field = field;
    else if (!named && !unquote(field).empty())
      extra = true;
    return col + 1 < need || (!named && !extra);
  });
  if (cols < need) {
    if (first && try_record_header(text, sink)) return;
    reject(reject_reason::wrong_column_count, "", text, sink);
    return;
  }
  pair_id pair;
  std::string_view bad_field = id_field;
  std::optional<reject_reason> err = parse_id(id_field, pair.from);
  if (!err && !unquote(to_field).empty()) {
    // Not an id: then the file is not the pairs file it looks like.
    std::uint64_t to = 0;
    bad_field = to_field;
    err = parse_id(to_field, to);
  }
  if (!err && !extra) {
    sink.on_pair(pair, line);
    return;
  }
  // As parse_delimited's own ending, written out again: sharing it as a call
  // cost the pairs' general path about 1% of its instructions.
  if (first && try_record_header(text, sink)) return;
  if (extra) {
    reject(reject_reason::unnamed_columns, "", text, sink);
    return;
  }
  if (first && *err == reject_reason::bad_id) {
    reject(*err, "first line is neither an id nor a header naming an id column (id, record_id, from_id, ...): ", text,
           sink);
    return;
  }
  reject(*err, "", trim_spaces(bad_field), sink);
}

// Records mode: takes `text` as the header if it names an id column (see
// record_id_column) or repeats given_names. Returns false if not (the caller
// rejects it as data); true if it was handled, as the header or rejected for
// contradicting given_names.
bool pair_parser::impl::try_record_header(std::string_view text, pair_sink& sink) {
  std::vector<std::string> names;
  for_each_field(text, delim, [&](std::size_t, std::string_view field) {
    names.emplace_back(unquote(field));
    return true;
  });
  const std::size_t f = repeats_given(names) ? from_col : record_id_column(names);
  if (f == none) return false;
  if (!given_names.empty() && f != from_col) {
    mismatch = true;
    update_plain();
    reject(reject_reason::header_mismatch,
           "header has the id column at " + std::to_string(f + 1) + ", --columns at " + std::to_string(from_col + 1) +
               ": ",
           text, sink);
    return true;
  }
  from_col = f;
  to_col = none;
  named = true;
  saw_header = true;
  header_names = std::move(names);
  update_plain();
  return true;
}

// Records mode, NDJSON: the id from a from key, else an id key.
void pair_parser::impl::parse_ndjson_record(std::string_view text, pair_sink& sink) {
  json_pair_fields fields;
  if (!scan_json_object(text, fields)) {
    reject(reject_reason::bad_json, "", text, sink);
    return;
  }
  const json_value_ref& id = fields.from.kind != json_kind::none ? fields.from : fields.id;
  if (id.kind == json_kind::none) {
    reject(reject_reason::missing_field, "no id/record_id/hs_object_id/object_id/from/from_id/fromObjectId key: ", text,
           sink);
    return;
  }
  pair_id pair;
  if (std::optional<reject_reason> err = parse_json_id(id, pair.from)) {
    reject(*err, "", id.text, sink);
    return;
  }
  sink.on_pair(pair, line);
}

// The type from a line's two label values (csv cells unquoted, JSON values):
// both empty = no type. Otherwise both must parse; false when the line was
// rejected, with a detail naming the value at fault.
bool pair_parser::impl::parse_type(std::string_view category, std::string_view type_id, assoc_type& out,
                                   pair_sink& sink) {
  if (category.empty() && type_id.empty()) {
    out = {};
    return true;
  }
  const auto fail = [&](std::string_view what, std::string_view value, std::string_view why) {
    detail.clear();
    add_hint();
    detail += what;
    detail += " '";
    if (append_printable(detail, value, detail_bytes) < value.size()) detail += "...";
    detail += "' ";
    detail += why;
    sink.on_reject(line, reject_reason::bad_association_type, detail, raw);
    return false;
  };
  if (type_id.empty()) return fail("category", category, "has no type id");
  if (category.empty()) return fail("type id", type_id, "has no category");
  const std::optional<assoc_category> c = parse_assoc_category(category);
  if (!c) return fail("category", category, "is not HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK");
  const std::optional<std::int32_t> id = parse_assoc_type_id(type_id);
  if (!id) return fail("type id", type_id, "is not 1-2147483647");
  out = assoc_type{*id, *c};
  return true;
}

pair_parser::pair_parser(input_format format, std::size_t max_line_bytes)
    : pair_parser(format, parse_options{max_line_bytes, ',', {}}) {}
pair_parser::pair_parser(input_format format, const parse_options& options)
    : impl_(std::make_unique<impl>(format, options)) {}
pair_parser::~pair_parser() = default;

void pair_parser::feed(std::string_view chunk, pair_sink& sink) { impl_->feed(chunk, sink); }
void pair_parser::finish(pair_sink& sink, bool input_complete) { impl_->finish(sink, input_complete); }

std::uint64_t pair_parser::lines() const noexcept { return impl_->line; }
bool pair_parser::saw_header() const noexcept { return impl_->saw_header; }
std::optional<input_columns> pair_parser::columns() const { return impl_->columns(); }
const std::string& pair_parser::hint() const noexcept { return impl_->hint; }

}  // namespace hubbatch::io
