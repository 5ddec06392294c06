#include "io/pair_reader.hpp"

#include "io/input_decoder.hpp"
#include "io/text.hpp"

#include <simdjson.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace hubbatch::io {

namespace {

// Bytes of offending text kept in a reject detail.
constexpr std::size_t detail_bytes = 64;

constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }


std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Spaces, then one level of double quotes, then spaces inside them.
std::string_view unquote(std::string_view s) noexcept {
  s = trim_spaces(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim_spaces(s.substr(1, s.size() - 2));
  return s;
}

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

// ---------------------------------------------------------------- NDJSON ---
//
// A small strict scanner for one line holding one JSON object. It validates
// the whole line (so `{"from":1,"to":2,}` is bad_json) but only materialises
// the from/to values. UTF-8 was validated by the caller.

enum class json_kind { none, string, number, other };

struct json_value_ref {
  json_kind kind = json_kind::none;
  std::string_view text;   // string contents (between the quotes) or number token
  bool escaped = false;    // string contained a backslash escape
};

class json_line_scanner {
 public:
  json_line_scanner(const char* s, std::size_t n) : p_(s), e_(s + n) {}

  // Scans the line; false if it is not exactly one JSON object.
  bool scan_object(json_value_ref& from, json_value_ref& to) {
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return at_end_after_ws();
    for (;;) {
      skip_ws();
      json_value_ref key;
      if (!scan_string(key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      json_value_ref* slot = nullptr;
      if (!key.escaped) {
        if (iequals(key.text, "from") || iequals(key.text, "fromObjectId") || iequals(key.text, "from_id")) {
          slot = &from;
        } else if (iequals(key.text, "to") || iequals(key.text, "toObjectId") || iequals(key.text, "to_id")) {
          slot = &to;
        }
      }
      json_value_ref value;
      if (!scan_value(value, 0)) return false;
      if (slot) *slot = value;  // a repeated key: the last one wins, as in most JSON parsers
      skip_ws();
      if (eat(',')) continue;
      if (eat('}')) return at_end_after_ws();
      return false;
    }
  }

 private:
  static constexpr int max_depth = 64;

  void skip_ws() noexcept {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool eat(char c) noexcept {
    if (p_ < e_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool at_end_after_ws() noexcept {
    skip_ws();
    return p_ == e_;
  }
  static bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool scan_string(json_value_ref& v) noexcept {
    if (!eat('"')) return false;
    const char* start = p_;
    v.escaped = false;
    while (p_ < e_) {
      char c = *p_;
      if (c == '"') {
        v.kind = json_kind::string;
        v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        v.escaped = true;
        if (++p_ == e_) return false;
        switch (*p_) {
          case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            ++p_;
            break;
          case 'u':
            if (e_ - p_ < 5) return false;
            for (int i = 1; i <= 4; ++i) {
              if (!is_hex(p_[i])) return false;
            }
            p_ += 5;
            break;
          default:
            return false;
        }
        continue;
      }
      ++p_;
    }
    return false;
  }

  // JSON number grammar, except that leading zeros are tolerated (an id
  // written as 007 is still the id 7).
  bool scan_number(json_value_ref& v) noexcept {
    const char* start = p_;
    eat('-');
    if (!scan_digits()) return false;
    if (eat('.') && !scan_digits()) return false;
    if (p_ < e_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!eat('+')) eat('-');
      if (!scan_digits()) return false;
    }
    v.kind = json_kind::number;
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }
  bool scan_digits() noexcept {
    const char* start = p_;
    while (p_ < e_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }
  bool scan_literal(std::string_view lit) noexcept {
    if (static_cast<std::size_t>(e_ - p_) < lit.size() || std::string_view(p_, lit.size()) != lit) return false;
    p_ += lit.size();
    return true;
  }

  bool scan_value(json_value_ref& v, int depth) noexcept {
    if (p_ == e_) return false;
    const char* start = p_;
    switch (*p_) {
      case '"':
        return scan_string(v);
      case '-': case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        return scan_number(v);
      case 't':
        if (!scan_literal("true")) return false;
        break;
      case 'f':
        if (!scan_literal("false")) return false;
        break;
      case 'n':
        if (!scan_literal("null")) return false;
        break;
      case '{':
      case '[':
        if (!scan_container(depth + 1)) return false;
        break;
      default:
        return false;
    }
    v.kind = json_kind::other;
    v.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  bool scan_container(int depth) noexcept {
    if (depth > max_depth) return false;
    const bool object = *p_ == '{';
    const char close = object ? '}' : ']';
    ++p_;
    skip_ws();
    if (eat(close)) return true;
    for (;;) {
      skip_ws();
      json_value_ref ignored;
      if (object) {
        if (!scan_string(ignored)) return false;
        skip_ws();
        if (!eat(':')) return false;
        skip_ws();
      }
      if (!scan_value(ignored, depth)) return false;
      skip_ws();
      if (eat(',')) continue;
      return eat(close);
    }
  }

  const char* p_;
  const char* e_;
};

constexpr std::size_t read_chunk_bytes = 64 * 1024;

// read(2) retrying EINTR; throws naming `path` on error. 0 at end of input.
std::size_t read_some(int fd, char* buf, std::size_t n, const std::string& path) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) throw std::runtime_error(path + ": read failed: " + std::generic_category().message(errno));
  }
}

// Reads `fd` to the end through `parser`, inflating gzip through
// input_decoder (the one inflate loop: magic bytes, concatenated members, a
// truncated stream is an error naming `path`, not a short input). Plain input
// passes straight from the read buffer to the parser.
void pump_fd(int fd, const std::string& path, pair_parser& parser, pair_sink& sink) {
  const input_watch watch(fd);
  input_decoder decoder(path);
  std::uint64_t total = 0;  // raw bytes read (compressed ones for gzip)
  std::unique_ptr<char[]> in(new char[read_chunk_bytes]);
  while (std::size_t n = read_some(fd, in.get(), read_chunk_bytes, path)) {
    total += n;
    decoder.feed(std::string_view(in.get(), n), parser, sink);
  }
  decoder.finish(parser, sink);
  // A file that changed under us fails the read, after its possibly cut
  // last line is rejected rather than parsed.
  std::string change = watch.changed(fd, total);
  parser.finish(sink, change.empty());
  if (!change.empty()) throw std::runtime_error(path + ": " + change);
}

}  // namespace

// ------------------------------------------------------------- names -------

std::optional<input_format> parse_input_format(std::string_view name) {
  if (iequals(name, "csv")) return input_format::csv;
  if (iequals(name, "tsv")) return input_format::tsv;
  if (iequals(name, "ndjson") || iequals(name, "jsonl")) return input_format::ndjson;
  return std::nullopt;
}

input_format input_format_for_path(std::string_view path) {
  auto ends_with = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
  };
  if (ends_with(path, ".gz")) path.remove_suffix(3);
  if (ends_with(path, ".tsv") || ends_with(path, ".tab")) return input_format::tsv;
  if (ends_with(path, ".ndjson") || ends_with(path, ".jsonl")) return input_format::ndjson;
  return input_format::csv;
}

const char* to_string(input_format f) {
  switch (f) {
    case input_format::csv: return "csv";
    case input_format::tsv: return "tsv";
    case input_format::ndjson: return "ndjson";
  }
  return "unknown";
}

column_role role_of_column(std::string_view name) {
  name = unquote(name);
  if (iequals(name, "from") || iequals(name, "from_id") || iequals(name, "fromObjectId")) return column_role::from;
  if (iequals(name, "to") || iequals(name, "to_id") || iequals(name, "toObjectId")) return column_role::to;
  return column_role::other;
}

std::string parse_column_names(std::string_view text, std::vector<std::string>& names) {
  std::vector<std::string> out;
  int from = 0;
  int to = 0;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view name = trim_spaces(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (name.empty()) return "a column name is empty (expected names separated by commas, e.g. index,from,to)";
    from += role_of_column(name) == column_role::from;
    to += role_of_column(name) == column_role::to;
    out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (from != 1 || to != 1)
    return "name exactly one from column (from, from_id or fromObjectId) and one to column (to, to_id or toObjectId); "
           "other names mark columns that are ignored, e.g. index,from,to";
  names = std::move(out);
  return {};
}

std::string check_delimiter(char d) {
  if (d == '"') return "a double quote cannot separate columns (it quotes them)";
  if (d == '\r' || d == '\n' || d == '\0') return "CR, LF and NUL cannot separate columns";
  if (d == ' ') return "a space cannot separate columns (spaces around ids are ignored)";
  if (d >= '0' && d <= '9') return "a digit cannot separate columns of ids";
  return {};
}

std::string to_string(const input_columns& c) {
  std::string out = c.from.name + " (" + std::to_string(c.from.position) + "), " + c.to.name + " (" +
                    std::to_string(c.to.position) + ")";
  for (std::size_t i = 0; i < c.ignored.size(); ++i)
    out += (i ? ", " : "; ignored: ") + c.ignored[i].name + " (" + std::to_string(c.ignored[i].position) + ")";
  return out;
}

const char* to_string(reject_reason r) {
  switch (r) {
    case reject_reason::wrong_column_count: return "wrong_column_count";
    case reject_reason::bad_id: return "bad_id";
    case reject_reason::id_out_of_range: return "id_out_of_range";
    case reject_reason::invalid_utf8: return "invalid_utf8";
    case reject_reason::line_too_long: return "line_too_long";
    case reject_reason::bad_json: return "bad_json";
    case reject_reason::missing_field: return "missing_field";
    case reject_reason::nul_byte: return "nul_byte";
    case reject_reason::truncated_line: return "truncated_line";
    case reject_reason::unnamed_columns: return "unnamed_columns";
    case reject_reason::header_mismatch: return "header_mismatch";
  }
  return "unknown";
}

const char* describe(reject_reason r) {
  switch (r) {
    case reject_reason::wrong_column_count: return "wrong column count";
    case reject_reason::bad_id: return "id is not 1-20 decimal digits";
    case reject_reason::id_out_of_range: return "id above 18446744073709551615";
    case reject_reason::invalid_utf8: return "invalid UTF-8";
    case reject_reason::line_too_long: return "line too long";
    case reject_reason::bad_json: return "not a JSON object";
    case reject_reason::missing_field: return "missing from/to field";
    case reject_reason::nul_byte: return "NUL byte in line";
    case reject_reason::truncated_line: return "last line incomplete (input changed while being read)";
    case reject_reason::unnamed_columns:
      return "more than two columns and none named (the first may be an index, not the from-id): name them with "
             "--columns (e.g. --columns index,from,to) or a header line";
    case reject_reason::header_mismatch:
      return "the header names the id columns elsewhere than --columns: fix --columns or the header";
  }
  return "unknown reason";
}

namespace {

// Eight ASCII digits at once (SWAR, as simdjson and fast_float do). Ids are
// 9 to 20 digits, and a digit at a time was the largest cost of reading the
// input.
//
// 0x80 in each byte of w that is not '0'..'9'; exact up to and including the
// first such byte (the carries and borrows that may blur the bytes after it
// cannot reach it from the digits below), which is all the callers use.
std::uint64_t non_digits(std::uint64_t w) noexcept {
  return ((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) & 0x8080808080808080ULL;
}

// The value of eight digit bytes, the first (lowest address) the most significant.
std::uint64_t eight_digits_value(std::uint64_t w) noexcept {
  constexpr std::uint64_t mask = 0x000000FF000000FFULL;
  constexpr std::uint64_t mul1 = 0x000F424000000064ULL;  // 100 + (1000000 << 32)
  constexpr std::uint64_t mul2 = 0x0000271000000001ULL;  // 1 + (10000 << 32)
  w -= 0x3030303030303030ULL;
  w = (w * 10) + (w >> 8);
  return (((w & mask) * mul1) + (((w >> 16) & mask) * mul2)) >> 32;
}

constexpr std::uint64_t pow10_below_8[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

// The digits at p (none read at or past end) into v: the first byte after
// them, or null when there are none or more than 19 (the general path then
// decides, as a 20-digit id may still fit or be out of range).
const char* read_digits(const char* p, const char* end, std::uint64_t& v) noexcept {
  const char* const start = p;
  const auto result = [start](const char* q) { return q == start || q - start > 19 ? nullptr : q; };
  v = 0;
  while (end - p >= 8) {
    const std::uint64_t w = load8(p);
    const std::uint64_t bad = non_digits(w);
    if (bad == 0) {
      v = v * 100000000 + eight_digits_value(w);
      p += 8;
      continue;
    }
    // k digits, then the first non-digit: move the k digits to the top of
    // the word behind leading '0's and read them the same way.
    const auto k = static_cast<unsigned>(std::countr_zero(bad)) / 8;
    if (k > 0) {
      v = v * pow10_below_8[k] + eight_digits_value((w << (64 - 8 * k)) | (0x3030303030303030ULL >> (8 * k)));
      p += k;
    }
    return result(p);
  }
  while (p < end) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    if (d > 9) break;
    v = v * 10 + d;
    ++p;
  }
  return result(p);
}

}  // namespace

std::optional<reject_reason> parse_id(std::string_view field, std::uint64_t& out) {
  field = unquote(field);
  const std::size_t n = field.size();
  if (n == 0 || n > 20) return reject_reason::bad_id;
  const char* s = field.data();
  std::uint64_t v = 0;
  const std::size_t head = n == 20 ? 19 : n;  // 19 digits always fit in 64 bits
  if (read_digits(s, s + head, v) != s + head) return reject_reason::bad_id;
  if (n == 20) {
    auto d = static_cast<unsigned>(static_cast<unsigned char>(s[19]) - '0');
    if (d > 9) return reject_reason::bad_id;
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    if (v > (max - d) / 10) return reject_reason::id_out_of_range;
    v = v * 10 + d;
  }
  out = v;
  return std::nullopt;
}

// ------------------------------------------------------------- parser ------

struct pair_parser::impl {
  impl(input_format f, const parse_options& o)
      : format(f),
        delim(f == input_format::tsv ? '\t' : o.delimiter),
        max_line_bytes(o.max_line_bytes),
        given_names(o.columns) {
    // The partial line holds at most max_line_bytes plus a CR whose LF is in
    // the next chunk; reserving it now keeps the steady state allocation-free.
    partial.reserve(max_line_bytes + 1);
    detail.reserve(4 * detail_bytes + 128);
    raw_prefix.reserve(raw_prefix_bytes);
    for (std::size_t i = 0; i < given_names.size(); ++i) {
      if (role_of_column(given_names[i]) == column_role::from) from_col = i;
      if (role_of_column(given_names[i]) == column_role::to) to_col = i;
    }
    named = !given_names.empty();
    update_plain();
  }

  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  const input_format format;
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
  std::size_t from_col = 0;
  std::size_t to_col = 1;
  bool named = false;                // by given_names or a header: lines may have more columns
  std::size_t text_col = none;       // a failures file's text column
  bool mismatch = false;             // the header contradicted given_names: every line is rejected
  bool plain = false;                // plain_line() may read the next line (see update_plain)
  std::string hint;                  // the separator hint, once given

  void feed(std::string_view chunk, pair_sink& sink);
  void finish(pair_sink& sink, bool input_complete);
  std::optional<input_columns> columns() const;

 private:
  const char* plain_line(const char* p, const char* end, pair_sink& sink);
  void complete_line(const char* s, std::size_t n, pair_sink& sink);
  void process_line(const char* s, std::size_t n, pair_sink& sink);
  void parse_delimited(std::string_view text, pair_sink& sink);
  bool try_header(std::string_view text, pair_sink& sink);
  void parse_text_cell(std::string_view field, pair_sink& sink);
  void parse_ndjson(std::string_view text, pair_sink& sink);
  void report_too_long(std::string_view a, std::string_view b, pair_sink& sink);

  // Whether feed() may try plain_line(): "<digits><delim><digits>" means the
  // pair (from, to) only in the default column order, once the header
  // question is settled. One flag, so the hot loop tests one byte.
  void update_plain() {
    plain = format != input_format::ndjson && !header_pending && from_col == 0 && to_col == 1 && !mismatch;
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
const char* pair_parser::impl::plain_line(const char* p, const char* end, pair_sink& sink) {
  pair_id pair;
  const char* q = read_digits(p, end, pair.from);
  if (!q || q == end || *q != delim) return nullptr;
  q = read_digits(q + 1, end, pair.to);
  if (!q || q == end) return nullptr;
  const auto n = static_cast<std::size_t>(q - p);
  if (*q == '\r' && ++q == end) return nullptr;
  if (*q != '\n' || n > max_line_bytes) return nullptr;
  ++line;
  sink.on_pair(pair, line);
  return q + 1;
}

void pair_parser::impl::feed(std::string_view chunk, pair_sink& sink) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p < end) {
    if (plain && partial.empty() && !skipping) {
      if (const char* next = plain_line(p, end, sink)) {
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
  if (format == input_format::ndjson) {
    parse_ndjson(text, sink);
  } else {
    parse_delimited(text, sink);
  }
}

void pair_parser::impl::parse_delimited(std::string_view text, pair_sink& sink) {
  const bool first = header_pending;
  header_pending = false;
  update_plain();
  if (mismatch) {
    reject(reject_reason::header_mismatch, "", text, sink);
    return;
  }
  std::string_view from_field;
  std::string_view to_field;
  std::string_view text_field;
  bool extra = false;  // unnamed columns: a non-empty column besides the two ids
  const std::size_t need = std::max(from_col, to_col) + 1;
  const std::size_t cols = for_each_field(text, delim, [&](std::size_t col, std::string_view field) {
    if (col == from_col) from_field = field;
    else if (col == to_col) to_field = field;
    else if (col == text_col) text_field = field;
    else if (!named && !unquote(field).empty()) extra = true;
    return col + 1 < need || (!named && !extra) || (text_col != none && col < text_col);
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
  std::size_t f = none;
  std::size_t t = none;
  std::vector<std::string> names;
  for_each_field(text, delim, [&](std::size_t col, std::string_view field) {
    const column_role role = role_of_column(field);
    if (f == none && role == column_role::from) f = col;
    if (t == none && role == column_role::to) t = col;
    names.emplace_back(unquote(field));
    return true;
  });
  const bool repeats_given = !given_names.empty() && names.size() == given_names.size() &&
                             std::equal(names.begin(), names.end(), given_names.begin(),
                                        [](const std::string& a, const std::string& b) { return iequals(a, b); });
  if (repeats_given) {
    f = from_col;
    t = to_col;
  }
  if (f == none && t == none) return false;
  if (f == none || t == none) {
    reject(reject_reason::wrong_column_count,
           f == none ? "header has no from/from_id/fromObjectId column: " : "header has no to/to_id/toObjectId column: ",
           text, sink);
    return true;
  }
  if (!given_names.empty() && (f != from_col || t != to_col)) {
    mismatch = true;
    update_plain();
    const std::string why = "header has the from column at " + std::to_string(f + 1) + " and the to column at " +
                            std::to_string(t + 1) + ", --columns at " + std::to_string(from_col + 1) + " and " +
                            std::to_string(to_col + 1) + ": ";
    reject(reject_reason::header_mismatch, why, text, sink);
    return true;
  }
  from_col = f;
  to_col = t;
  named = true;
  saw_header = true;
  header_names = std::move(names);
  if (text == failures_header) text_col = 7;
  update_plain();
  return true;
}

// A failures file's rejected row: its text cell (CSV-quoted) read as a
// from,to line, separated by a comma, else a tab, else a semicolon, or as an
// NDJSON object. Rejected again, the row's raw text is that cell, so the next
// failures file carries the same text rather than the whole row.
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
  std::string_view from_field;
  std::string_view to_field;
  bool extra = false;
  const std::size_t cols = for_each_field(text, d, [&](std::size_t col, std::string_view f) {
    if (col == 0) from_field = f;
    else if (col == 1) to_field = f;
    else if (!unquote(f).empty()) extra = true;
    return !extra;
  });
  if (cols < 2) {
    reject(reject_reason::wrong_column_count, "", text, sink);
    return;
  }
  if (extra) {
    reject(reject_reason::unnamed_columns, "", text, sink);
    return;
  }
  pair_id pair;
  if (auto err = parse_id(from_field, pair.from)) {
    reject(*err, "", trim_spaces(from_field), sink);
  } else if (auto err2 = parse_id(to_field, pair.to)) {
    reject(*err2, "", trim_spaces(to_field), sink);
  } else {
    sink.on_pair(pair, line);
  }
}

void pair_parser::impl::parse_ndjson(std::string_view text, pair_sink& sink) {
  json_value_ref from;
  json_value_ref to;
  json_line_scanner scanner(text.data(), text.size());
  if (!scanner.scan_object(from, to)) {
    reject(reject_reason::bad_json, "", text, sink);
    return;
  }
  if (from.kind == json_kind::none || to.kind == json_kind::none) {
    reject(reject_reason::missing_field,
           from.kind == json_kind::none ? "no from/fromObjectId/from_id key: " : "no to/toObjectId/to_id key: ", text,
           sink);
    return;
  }
  pair_id pair;
  for (auto [ref, out] : {std::pair{&from, &pair.from}, std::pair{&to, &pair.to}}) {
    std::optional<reject_reason> err;
    if (ref->kind == json_kind::other || ref->escaped) {
      err = reject_reason::bad_id;
    } else if (ref->kind == json_kind::number &&
               ref->text.find_first_not_of("0123456789") != std::string_view::npos) {
      err = reject_reason::bad_id;  // negative, fraction or exponent
    } else {
      err = parse_id(ref->text, *out);
    }
    if (err) {
      reject(*err, "", ref->text, sink);
      return;
    }
  }
  sink.on_pair(pair, line);
}

pair_parser::pair_parser(input_format format, std::size_t max_line_bytes)
    : pair_parser(format, parse_options{max_line_bytes, ',', {}}) {}
pair_parser::pair_parser(input_format format, const parse_options& options)
    : impl_(std::make_unique<impl>(format, options)) {}
pair_parser::~pair_parser() = default;

void pair_parser::feed(std::string_view chunk, pair_sink& sink) { impl_->feed(chunk, sink); }
void pair_parser::finish(pair_sink& sink, bool input_complete) { impl_->finish(sink, input_complete); }

input_watch::input_watch(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  regular_ = true;
  size_ = static_cast<std::uint64_t>(st.st_size);
  mtime_ns_ = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string input_watch::changed(int fd, std::uint64_t bytes_read) const {
  if (!regular_) return {};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "input changed while being read: cannot stat it any more";
  const auto now = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (now == size_ && bytes_read == size_ && mtime == mtime_ns_) return {};
  std::string why = "input changed while being read: " + std::to_string(size_) + " bytes when opened, " +
                    std::to_string(now) + " now, " + std::to_string(bytes_read) + " read";
  if (mtime != mtime_ns_ && now == size_ && bytes_read == size_) why += " (rewritten in place)";
  return why + "; the last line may be incomplete, rerun on a finished file";
}
std::uint64_t pair_parser::lines() const noexcept { return impl_->line; }
bool pair_parser::saw_header() const noexcept { return impl_->saw_header; }
std::optional<input_columns> pair_parser::columns() const { return impl_->columns(); }
const std::string& pair_parser::hint() const noexcept { return impl_->hint; }

void read_pairs_file(const std::string& path, input_format format, pair_sink& sink, std::size_t max_line_bytes) {
  read_pairs_file(path, format, sink, parse_options{max_line_bytes, ',', {}});
}

void read_pairs_file(const std::string& path, input_format format, pair_sink& sink, const parse_options& options) {
  pair_parser parser(format, options);
  read_pairs_file(path, parser, sink);
}

void read_pairs_file(const std::string& path, pair_parser& parser, pair_sink& sink) {
  if (path == "-") {
    pump_fd(STDIN_FILENO, path, parser, sink);
    return;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::generic_category().message(errno));
  struct fd_guard {
    int fd;
    ~fd_guard() { ::close(fd); }
  } guard{fd};
  pump_fd(fd, path, parser, sink);
}

}  // namespace hubbatch::io
