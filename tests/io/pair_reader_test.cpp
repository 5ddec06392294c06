#include "io/pair_reader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using hubbatch::pair_id;
using hubbatch::io::input_format;
using hubbatch::io::pair_parser;
using hubbatch::io::reject_reason;

// One sink callback, recorded for exact comparison.
struct event {
  bool ok = false;
  std::uint64_t line = 0;
  pair_id pair;
  reject_reason reason{};
  std::string detail;
  friend bool operator==(const event&, const event&) = default;
  friend std::ostream& operator<<(std::ostream& os, const event& e) {
    if (e.ok)
      return os << "pair(" << e.line << ": " << e.pair.from << "," << e.pair.to
                << (e.pair.type.empty()
                        ? ""
                        : " " + std::string(to_string(e.pair.type.category)) + ":" + std::to_string(e.pair.type.id))
                << ")";
    return os << "reject(" << e.line << ": " << hubbatch::io::to_string(e.reason) << " '" << e.detail << "')";
  }
};

event ok(std::uint64_t line, std::uint64_t from, std::uint64_t to) { return {true, line, {from, to}, {}, {}}; }
event ok(std::uint64_t line, std::uint64_t from, std::uint64_t to, hubbatch::assoc_type type) {
  return {true, line, {from, to, type}, {}, {}};
}
event bad(std::uint64_t line, reject_reason r, std::string detail = {}) { return {false, line, {}, r, detail}; }

struct recording_sink : hubbatch::io::pair_sink {
  std::vector<event> events;
  // When false, details are not recorded (for tests that check only reasons).
  bool keep_detail = true;
  void on_pair(pair_id pair, std::uint64_t line) override { events.push_back({true, line, pair, {}, {}}); }
  std::vector<std::string> raws;  // the raw text of each reject, in order
  void on_reject(std::uint64_t line, reject_reason reason, std::string_view detail, std::string_view raw) override {
    events.push_back({false, line, {}, reason, keep_detail ? std::string(detail) : std::string()});
    raws.emplace_back(raw);
  }
};

struct parse_result {
  std::vector<event> events;
  std::uint64_t lines = 0;
  bool header = false;
  std::vector<std::string> raws;  // the raw text of each reject
};

// Feeds `input` in chunks of `chunk` bytes (0 = all at once), then finishes.
parse_result parse(input_format f, std::string_view input, std::size_t chunk = 0, std::size_t max_line = 4096,
                   bool keep_detail = false) {
  pair_parser parser(f, max_line);
  recording_sink sink;
  sink.keep_detail = keep_detail;
  if (chunk == 0) chunk = input.size() + 1;
  for (std::size_t i = 0; i < input.size(); i += chunk) parser.feed(input.substr(i, chunk), sink);
  parser.finish(sink);
  return {sink.events, parser.lines(), parser.saw_header(), sink.raws};
}

std::vector<event> events(input_format f, std::string_view input, std::size_t max_line = 4096) {
  return parse(f, input, 0, max_line).events;
}
std::vector<event> detailed(input_format f, std::string_view input, std::size_t max_line = 4096) {
  return parse(f, input, 0, max_line, true).events;
}

using E = std::vector<event>;
constexpr auto csv = input_format::csv;
constexpr auto tsv = input_format::tsv;
constexpr auto ndjson = input_format::ndjson;

// ------------------------------------------------------------ names -------

TEST(input_format, parse_names) {
  EXPECT_EQ(hubbatch::io::parse_input_format("csv"), input_format::csv);
  EXPECT_EQ(hubbatch::io::parse_input_format("tsv"), input_format::tsv);
  EXPECT_EQ(hubbatch::io::parse_input_format("ndjson"), input_format::ndjson);
  EXPECT_EQ(hubbatch::io::parse_input_format("jsonl"), input_format::ndjson);
  EXPECT_EQ(hubbatch::io::parse_input_format("CSV"), input_format::csv);
  EXPECT_EQ(hubbatch::io::parse_input_format("json"), std::nullopt);
  EXPECT_EQ(hubbatch::io::parse_input_format(""), std::nullopt);
  EXPECT_STREQ(hubbatch::io::to_string(input_format::tsv), "tsv");
}

TEST(input_format, from_path) {
  using hubbatch::io::input_format_for_path;
  EXPECT_EQ(input_format_for_path("a.csv"), csv);
  EXPECT_EQ(input_format_for_path("a.tsv"), tsv);
  EXPECT_EQ(input_format_for_path("dir.x/a.TAB"), tsv);
  EXPECT_EQ(input_format_for_path("a.ndjson"), ndjson);
  EXPECT_EQ(input_format_for_path("a.jsonl.gz"), ndjson);
  EXPECT_EQ(input_format_for_path("a.tsv.GZ"), tsv);
  EXPECT_EQ(input_format_for_path("a.txt"), csv);
  EXPECT_EQ(input_format_for_path("-"), csv);
  EXPECT_EQ(input_format_for_path("gz"), csv);
}

// Issue 11 item 9: the codes are what reports, metric labels, journals and
// failures files carry, and what the README's troubleshooting names: the
// enum's own names, never a sentence.
TEST(reject_reason, issue_11_codes_are_stable_snake_case_with_a_sentence_apart) {
  const std::pair<reject_reason, const char*> codes[] = {
      {reject_reason::wrong_column_count, "wrong_column_count"}, {reject_reason::bad_id, "bad_id"},
      {reject_reason::id_out_of_range, "id_out_of_range"},       {reject_reason::invalid_utf8, "invalid_utf8"},
      {reject_reason::line_too_long, "line_too_long"},           {reject_reason::bad_json, "bad_json"},
      {reject_reason::missing_field, "missing_field"},           {reject_reason::nul_byte, "nul_byte"},
      {reject_reason::truncated_line, "truncated_line"},         {reject_reason::unnamed_columns, "unnamed_columns"},
      {reject_reason::header_mismatch, "header_mismatch"},
  };
  for (auto [r, code] : codes) {
    EXPECT_STREQ(hubbatch::io::to_string(r), code);
    const std::string sentence = hubbatch::io::describe(r);
    EXPECT_NE(sentence, code);
    EXPECT_NE(sentence.find(' '), std::string::npos) << sentence;
  }
  EXPECT_STREQ(hubbatch::io::describe(reject_reason::bad_id), "id is not 1-20 decimal digits");
}

// ------------------------------------------------------------ parse_id ----

TEST(parse_id, accepts_digits_spaces_quotes) {
  std::uint64_t v = 99;
  EXPECT_EQ(hubbatch::io::parse_id("0", v), std::nullopt);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(hubbatch::io::parse_id("  123 ", v), std::nullopt);
  EXPECT_EQ(v, 123u);
  EXPECT_EQ(hubbatch::io::parse_id("\"456\"", v), std::nullopt);
  EXPECT_EQ(v, 456u);
  EXPECT_EQ(hubbatch::io::parse_id(" \" 789 \" ", v), std::nullopt);
  EXPECT_EQ(v, 789u);
  EXPECT_EQ(hubbatch::io::parse_id("007", v), std::nullopt);
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(hubbatch::io::parse_id("\t42\t", v), std::nullopt);
  EXPECT_EQ(v, 42u);
}

TEST(parse_id, twenty_digit_boundary) {
  std::uint64_t v = 0;
  EXPECT_EQ(hubbatch::io::parse_id("18446744073709551615", v), std::nullopt);
  EXPECT_EQ(v, 18446744073709551615ULL);
  EXPECT_EQ(hubbatch::io::parse_id("18446744073709551614", v), std::nullopt);
  EXPECT_EQ(v, 18446744073709551614ULL);
  EXPECT_EQ(hubbatch::io::parse_id("9999999999999999999", v), std::nullopt);  // 19 nines
  EXPECT_EQ(v, 9999999999999999999ULL);
  EXPECT_EQ(hubbatch::io::parse_id("00000000000000000001", v), std::nullopt);  // 20 digits, leading zeros
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(hubbatch::io::parse_id("18446744073709551616", v), reject_reason::id_out_of_range);
  EXPECT_EQ(hubbatch::io::parse_id("18446744073709551620", v), reject_reason::id_out_of_range);
  EXPECT_EQ(hubbatch::io::parse_id("99999999999999999999", v), reject_reason::id_out_of_range);
  EXPECT_EQ(hubbatch::io::parse_id("20000000000000000000", v), reject_reason::id_out_of_range);
  EXPECT_EQ(hubbatch::io::parse_id("000000000000000000001", v), reject_reason::bad_id);  // 21 digits
  EXPECT_EQ(hubbatch::io::parse_id("1844674407370955161x", v), reject_reason::bad_id);
  EXPECT_EQ(v, 1u);  // untouched on failure
}

TEST(parse_id, rejects_non_digits) {
  std::uint64_t v = 0;
  for (std::string_view s : {"", " ", "\"\"", "-1", "+1", "1.0", "1e3", "0x10", "12 34", "abc", "1_000",
                             "\"12", "12\"", "\xD9\xA1\xD9\xA2",  // Arabic-Indic digits 1 2
                             "\xEF\xBC\x91",                      // fullwidth 1
                             "\xC2\xB2"}) {                       // superscript 2
    EXPECT_EQ(hubbatch::io::parse_id(s, v), reject_reason::bad_id) << s;
  }
}

// The digits are read eight at a time: every length from 1 to 20 must give
// the value std::from_chars gives, and any byte that is not a digit, at any
// position of any length, must be refused (the eight-byte check must not let
// a byte slip through next to a carry or borrow).
TEST(parse_id, every_length_and_every_bad_byte_position) {
  std::mt19937_64 rng(7);
  for (std::size_t len = 1; len <= 20; ++len) {
    for (int round = 0; round < 200; ++round) {
      std::string s;
      for (std::size_t i = 0; i < len; ++i) s += static_cast<char>('0' + rng() % 10);
      if (len == 20) s.replace(0, 2, "10");  // below 2^64
      std::uint64_t expected = 0;
      ASSERT_EQ(std::from_chars(s.data(), s.data() + s.size(), expected).ec, std::errc{}) << s;
      std::uint64_t v = 0;
      ASSERT_EQ(hubbatch::io::parse_id(s, v), std::nullopt) << s;
      ASSERT_EQ(v, expected) << s;
      const std::size_t pos = rng() % len;
      for (int b = 0; b < 256; ++b) {
        if (b >= '0' && b <= '9') continue;
        std::string bad = s;
        bad[pos] = static_cast<char>(b);
        if ((b == ' ' || b == '\t') && (pos == 0 || pos == len - 1)) continue;  // trimmed at the ends
        ASSERT_EQ(hubbatch::io::parse_id(bad, v), reject_reason::bad_id) << len << " " << pos << " " << b;
      }
    }
  }
}

// ------------------------------------------------------------ csv/tsv -----

TEST(pair_reader_csv, plain_lines_without_header) {
  auto r = parse(csv, "1,2\n3,4\n");
  EXPECT_EQ(r.events, (E{ok(1, 1, 2), ok(2, 3, 4)}));
  EXPECT_EQ(r.lines, 2u);
  EXPECT_FALSE(r.header);
}

// Issue 11 item 4: in "1,101,9001" the first column may be an index, and
// (1,101) the wrong association; only empty extra columns are harmless.
TEST(pair_reader_csv, issue_11_more_than_two_unnamed_columns_are_rejected) {
  auto r = parse(csv, "1,101,9001\n2,102,9002\n3,4,\n5,6, \"\" \n7,8,x\n", 0, 4096, true);
  EXPECT_EQ(r.events, (E{bad(1, reject_reason::unnamed_columns, "1,101,9001"),
                         bad(2, reject_reason::unnamed_columns, "2,102,9002"), ok(3, 3, 4), ok(4, 5, 6),
                         bad(5, reject_reason::unnamed_columns, "7,8,x")}));
  EXPECT_EQ(parse(csv, "1,2,x\n").raws, (std::vector<std::string>{"1,2,x"}));
  EXPECT_NE(std::string(hubbatch::io::describe(reject_reason::unnamed_columns)).find("--columns"), std::string::npos);
  EXPECT_EQ(events(tsv, "1\t101\t9001\n3\t4\n"), (E{bad(1, reject_reason::unnamed_columns), ok(2, 3, 4)}));
  EXPECT_EQ(events(csv, "1,x,9001\n"), (E{bad(1, reject_reason::unnamed_columns)}));
}

TEST(pair_reader_csv, header_snake_case) {
  auto r = parse(csv, "from_id,to_id\n10,20\n");
  EXPECT_EQ(r.events, (E{ok(2, 10, 20)}));
  EXPECT_TRUE(r.header);
  EXPECT_EQ(r.lines, 2u);
}

TEST(pair_reader_csv, header_hubspot_names_case_insensitive) {
  auto r = parse(csv, "FROMOBJECTID,toObjectId\n10,20\n");
  EXPECT_EQ(r.events, (E{ok(2, 10, 20)}));
  EXPECT_TRUE(r.header);
}

TEST(pair_reader_csv, header_reordered_and_extra_columns) {
  auto r = parse(csv, "label,toObjectId,note,fromObjectId\nx,20,\"a,b\",10\ny,21,c,11,extra\n");
  EXPECT_EQ(r.events, (E{ok(2, 10, 20), ok(3, 11, 21)}));
  EXPECT_TRUE(r.header);
}

TEST(pair_reader_csv, header_quoted_with_spaces_after_blank_lines_and_bom) {
  auto r = parse(csv, "\xEF\xBB\xBF\n \n \"to_id\" , \"FROM_ID\"\r\n5,6\r\n");
  EXPECT_EQ(r.events, (E{ok(4, 6, 5)}));
  EXPECT_TRUE(r.header);
  EXPECT_EQ(r.lines, 4u);
}

TEST(pair_reader_csv, header_mixing_schemes) {
  EXPECT_EQ(events(csv, "fromObjectId,to_id\n1,2\n"), (E{ok(2, 1, 2)}));
}

TEST(pair_reader_csv, header_with_missing_column_is_rejected) {
  EXPECT_EQ(detailed(csv, "from_id,other\n1,2\n"),
            (E{bad(1, reject_reason::wrong_column_count, "header has no to/to_id/toObjectId column: from_id,other"),
               ok(2, 1, 2)}));
  EXPECT_EQ(detailed(csv, "to_id\n1,2\n"),
            (E{bad(1, reject_reason::wrong_column_count, "header has no from/from_id/fromObjectId column: to_id"),
               ok(2, 1, 2)}));
}

TEST(pair_reader_csv, unrecognised_first_line_is_rejected_with_hint) {
  auto r = parse(csv, "src,dst\n1,2\n", 0, 4096, true);
  EXPECT_EQ(r.events,
            (E{bad(1, reject_reason::bad_id,
                   "first line is neither ids nor a header naming from_id,to_id or fromObjectId,toObjectId: src,dst"),
               ok(2, 1, 2)}));
  EXPECT_FALSE(r.header);
  // from/to, as in --columns and NDJSON keys, name the columns too.
  r = parse(csv, "from,to\n1,2\n");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2)}));
  EXPECT_TRUE(r.header);
}

TEST(pair_reader_csv, header_only_detected_on_first_non_blank_line) {
  EXPECT_EQ(detailed(csv, "1,2\nfrom_id,to_id\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::bad_id, "from_id")}));
}

TEST(pair_reader_csv, header_column_mapping_requires_enough_columns) {
  EXPECT_EQ(events(csv, "a,b,from_id,to_id\n1,2,3,4\n1,2,3\n"),
            (E{ok(2, 3, 4), bad(3, reject_reason::wrong_column_count)}));
}

TEST(pair_reader_csv, quotes_and_spaces) {
  EXPECT_EQ(events(csv, "\"1\",\"2\"\n 3 , 4 \n\" 5 \",6\n\t7\t,8\n"),
            (E{ok(1, 1, 2), ok(2, 3, 4), ok(3, 5, 6), ok(4, 7, 8)}));
}

TEST(pair_reader_csv, leading_zeros_and_extremes) {
  EXPECT_EQ(events(csv, "007,0000000000000000042\n18446744073709551615,0\n"),
            (E{ok(1, 7, 42), ok(2, 18446744073709551615ULL, 0)}));
}

TEST(pair_reader_csv, out_of_range_ids) {
  EXPECT_EQ(detailed(csv, "1,2\n18446744073709551616,1\n1,99999999999999999999\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::id_out_of_range, "18446744073709551616"),
               bad(3, reject_reason::id_out_of_range, "99999999999999999999")}));
}

TEST(pair_reader_csv, bad_lines_with_line_numbers) {
  const std::string input =
      "1,2\n"        // 1
      "3\n"          // 2 one column
      "a,4\n"        // 3
      "5,\n"         // 4 empty id
      "\n"           // 5 blank
      "6,7\n"        // 6
      "-1,2\n"       // 7
      "1 2,3\n"      // 8
      "123456789012345678901,1\n"  // 9: 21 digits
      "8;9\n"        // 10
      "10,11\n";     // 11
  EXPECT_EQ(detailed(csv, input),
            (E{ok(1, 1, 2), bad(2, reject_reason::wrong_column_count, "3"), bad(3, reject_reason::bad_id, "a"),
               bad(4, reject_reason::bad_id, "(empty)"), ok(6, 6, 7), bad(7, reject_reason::bad_id, "-1"),
               bad(8, reject_reason::bad_id, "1 2"), bad(9, reject_reason::bad_id, "123456789012345678901"),
               bad(10, reject_reason::wrong_column_count,
                   "(the line has semicolons and no ',': for a semicolon-separated file use --delimiter ';') 8;9"),
               ok(11, 10, 11)}));
}

TEST(pair_reader_csv, unicode_digits_rejected) {
  // Arabic-Indic one-two and fullwidth three: valid UTF-8, not ASCII digits.
  EXPECT_EQ(detailed(csv, "1,2\n\xD9\xA1\xD9\xA2,3\n4,\xEF\xBC\x93\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::bad_id, "\\xD9\\xA1\\xD9\\xA2"),
               bad(3, reject_reason::bad_id, "\\xEF\\xBC\\x93")}));
}

TEST(pair_reader_csv, crlf_and_blank_lines) {
  auto r = parse(csv, "1,2\r\n\r\n   \r\n\t\n3,4\r\n");
  EXPECT_EQ(r.events, (E{ok(1, 1, 2), ok(5, 3, 4)}));
  EXPECT_EQ(r.lines, 5u);
}

TEST(pair_reader_csv, bom_only_at_start) {
  EXPECT_EQ(events(csv, "\xEF\xBB\xBF" "1,2\n"), (E{ok(1, 1, 2)}));
  EXPECT_EQ(detailed(csv, "1,2\n\xEF\xBB\xBF" "3,4\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::bad_id, "\\xEF\\xBB\\xBF3")}));
}

TEST(pair_reader_csv, last_line_without_newline) {
  auto r = parse(csv, "1,2\n3,4");
  EXPECT_EQ(r.events, (E{ok(1, 1, 2), ok(2, 3, 4)}));
  EXPECT_EQ(r.lines, 2u);
  EXPECT_EQ(parse(csv, "1,2\n3,4\r").events, (E{ok(1, 1, 2), ok(2, 3, 4)}));
}

TEST(pair_reader_csv, empty_input) {
  auto r = parse(csv, "");
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.lines, 0u);
  EXPECT_TRUE(parse(csv, "\n\n").events.empty());
  EXPECT_EQ(parse(csv, "\n\n").lines, 2u);
}

TEST(pair_reader_csv, invalid_utf8) {
  EXPECT_EQ(detailed(csv, "1,2\n3,4\xFF\n\xC3\x28,1\n5,6\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::invalid_utf8, "3,4\\xFF"),
               bad(3, reject_reason::invalid_utf8, "\\xC3(,1"), ok(4, 5, 6)}));
  // Overlong encoding and a surrogate, longer than one 8-byte word.
  EXPECT_EQ(events(csv, "12345678,\xC0\xAF\n12345678,\xED\xA0\x80\n"),
            (E{bad(1, reject_reason::invalid_utf8), bad(2, reject_reason::invalid_utf8)}));
}

TEST(pair_reader_csv, invalid_utf8_first_line_ends_header_detection) {
  EXPECT_EQ(events(csv, "\xFF\nfrom_id,to_id\n1,2\n"),
            (E{bad(1, reject_reason::invalid_utf8), bad(2, reject_reason::bad_id), ok(3, 1, 2)}));
}

TEST(pair_reader_csv, nul_bytes) {
  using namespace std::string_literals;
  EXPECT_EQ(detailed(csv, "1,2\n3,\0" "4\n123456789,\0\xFF\n5,6\n"s),
            (E{ok(1, 1, 2), bad(2, reject_reason::nul_byte, "3,\\x004"),
               bad(3, reject_reason::nul_byte, "123456789,\\x00\\xFF"), ok(4, 5, 6)}));
}

TEST(pair_reader_csv, long_line_limit_is_exact) {
  // 10 bytes allowed: "1234,56789" is exactly 10, CRLF not counted.
  EXPECT_EQ(events(csv, "1234,56789\n1234,56789\r\n1234,567890\n1,2\n", 10),
            (E{ok(1, 1234, 56789), ok(2, 1234, 56789), bad(3, reject_reason::line_too_long), ok(4, 1, 2)}));
}

TEST(pair_reader_csv, over_long_lines_skipped_then_good_lines) {
  std::string huge(100000, '9');
  std::string input = "1,2\n" + huge + "\n3,4\n" + huge + "," + huge + "\r\n5,6\n" + huge;
  auto r = parse(csv, input, 4096, 64, true);
  ASSERT_EQ(r.events.size(), 6u);
  EXPECT_EQ(r.events[0], ok(1, 1, 2));
  EXPECT_EQ(r.events[1], bad(2, reject_reason::line_too_long, std::string(64, '9') + "..."));
  EXPECT_EQ(r.events[2], ok(3, 3, 4));
  EXPECT_EQ(r.events[3].reason, reject_reason::line_too_long);
  EXPECT_EQ(r.events[3].line, 4u);
  EXPECT_EQ(r.events[4], ok(5, 5, 6));
  EXPECT_EQ(r.events[5], bad(6, reject_reason::line_too_long, std::string(64, '9') + "..."));
  EXPECT_EQ(r.lines, 6u);
}

TEST(pair_reader_csv, too_long_line_detail_spans_partial_and_chunk) {
  // 70 bytes fed 7 at a time: the detail keeps exactly the first 64, or
  // max_line_bytes when that is smaller.
  std::string line;
  for (int i = 0; i < 7; ++i) line += "abcdefghij";
  auto r = parse(csv, line + "\n1,2\n", 7, 64, true);
  EXPECT_EQ(r.events, (E{bad(1, reject_reason::line_too_long, line.substr(0, 64) + "..."), ok(2, 1, 2)}));
  r = parse(csv, line + "\n1,2\n", 7, 20, true);
  EXPECT_EQ(r.events, (E{bad(1, reject_reason::line_too_long, line.substr(0, 20) + "..."), ok(2, 1, 2)}));
}

TEST(pair_reader_tsv, tabs_and_header) {
  auto r = parse(tsv, "to_id\tfrom_id\n2\t1\n 4 \t 3 \t x\n5,6\t7\n");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2), ok(3, 3, 4), bad(4, reject_reason::bad_id)}));
  EXPECT_TRUE(r.header);
}

TEST(pair_reader_tsv, no_header_and_comma_is_not_a_delimiter) {
  EXPECT_EQ(events(tsv, "1\t2\n1,2\n\"3\"\t\"4\"\r\n"),
            (E{ok(1, 1, 2), bad(2, reject_reason::wrong_column_count), ok(3, 3, 4)}));
}

// ------------------------------------------------------- named columns ---

using hubbatch::io::input_columns;
using hubbatch::io::named_column;
using hubbatch::io::parse_options;

struct options_result {
  std::vector<event> events;
  std::optional<input_columns> columns;
  std::string hint;
};

// Parses with `columns` (--columns text, "" = none) and `delimiter`, whole and
// a byte at a time: both must agree.
options_result parse_with(input_format f, std::string_view input, std::string_view columns, char delimiter = ',') {
  parse_options o;
  o.delimiter = delimiter;
  if (!columns.empty()) {
    EXPECT_EQ(hubbatch::io::parse_column_names(columns, o.columns), "");
  }
  options_result out;
  for (std::size_t chunk : {input.size() + 1, std::size_t{1}}) {
    pair_parser parser(f, o);
    recording_sink sink;
    sink.keep_detail = true;
    for (std::size_t i = 0; i < input.size(); i += chunk) parser.feed(input.substr(i, chunk), sink);
    parser.finish(sink);
    if (chunk != 1) {
      out = {sink.events, parser.columns(), parser.hint()};
    } else {
      EXPECT_EQ(sink.events, out.events) << "byte by byte";
    }
  }
  return out;
}

TEST(column_names, issue_11_parse_and_validate) {
  std::vector<std::string> names;
  EXPECT_EQ(hubbatch::io::parse_column_names(" index , From ,TO", names), "");
  EXPECT_EQ(names, (std::vector<std::string>{"index", "From", "TO"}));
  EXPECT_EQ(hubbatch::io::parse_column_names("fromObjectId,x,to_id", names), "");
  for (std::string_view bad : {"", "from", "to", "index,from", "from,from,to", "from,to,to_id", "from,,to", "a,b"}) {
    std::vector<std::string> untouched{"kept"};
    EXPECT_NE(hubbatch::io::parse_column_names(bad, untouched), "") << bad;
    EXPECT_EQ(untouched, std::vector<std::string>{"kept"}) << bad;
  }
  EXPECT_EQ(hubbatch::io::check_delimiter(';'), "");
  EXPECT_EQ(hubbatch::io::check_delimiter('|'), "");
  for (char bad : {'"', '\r', '\n', '\0', '7', ' '}) EXPECT_NE(hubbatch::io::check_delimiter(bad), "") << int(bad);
}

// Issue 11 item 4: --columns index,from,to reads the ids from columns 2 and
// 3, and lines with fewer columns are wrong, not guessed.
TEST(pair_reader_columns, issue_11_named_columns_pick_the_ids) {
  auto r = parse_with(csv, "1,101,9001\n2,102,9002,extra\n103,9003\n", "index,from,to");
  EXPECT_EQ(r.events, (E{ok(1, 101, 9001), ok(2, 102, 9002), bad(3, reject_reason::wrong_column_count, "103,9003")}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from (2), to (3); ignored: index (1)");
  // from,to takes the first two explicitly and ignores any more.
  r = parse_with(csv, "1,101,9001\n5,6\n", "from,to");
  EXPECT_EQ(r.events, (E{ok(1, 1, 101), ok(2, 5, 6)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from (1), to (2)");
  r = parse_with(tsv, "x\t9001\t101\n", "note,toObjectId,fromObjectId");
  EXPECT_EQ(r.events, (E{ok(1, 101, 9001)}));
  // Without names nothing is reported.
  EXPECT_FALSE(parse_with(csv, "1,2\n", "").columns);
  EXPECT_FALSE(parse_with(ndjson, "{\"from\":1,\"to\":2}\n", "").columns);
}

TEST(pair_reader_columns, issue_11_a_header_names_the_columns_used_and_ignored) {
  auto r = parse_with(csv, "from_id,index,to_id\n101,1,9001\n", "");
  EXPECT_EQ(r.events, (E{ok(2, 101, 9001)}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(*r.columns, (input_columns{{"from_id", 1}, {"to_id", 3}, {{"index", 2}}}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from_id (1), to_id (3); ignored: index (2)");
  // With a header, extra columns are named, so no line is unnamed_columns.
  r = parse_with(csv, "\"from_id\",to_id,note\n1,2,x,y\n", "");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from_id (1), to_id (2); ignored: note (3)");
}

TEST(pair_reader_columns, issue_11_a_header_that_agrees_with_columns_is_skipped) {
  auto r = parse_with(csv, "idx,from_id,to_id\n1,101,9001\n", "index,from,to");
  EXPECT_EQ(r.events, (E{ok(2, 101, 9001)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from_id (2), to_id (3); ignored: idx (1)");
  // A header repeating the names given, whatever they are.
  r = parse_with(csv, "Index,From,To\n1,101,9001\n", "index,from,to");
  EXPECT_EQ(r.events, (E{ok(2, 101, 9001)}));
  r = parse_with(csv, "n,src,dst\n1,101,9001\n", "n,src,dst_to_ignore,from,to");  // not a header: rejected
  EXPECT_EQ(r.events.size(), 2u);
}

// A header that contradicts --columns: neither can be trusted, so nothing
// of the file is read as pairs, and the first rejection says why.
TEST(pair_reader_columns, issue_11_a_header_contradicting_columns_stops_every_line) {
  auto r = parse_with(csv, "to_id,from_id,index\n9001,101,1\n9002,102,2\n", "index,from,to");
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0],
            bad(1, reject_reason::header_mismatch,
                "header has the from column at 2 and the to column at 1, --columns at 2 and 3: to_id,from_id,index"));
  EXPECT_EQ(r.events[1], bad(2, reject_reason::header_mismatch, "9001,101,1"));
  EXPECT_EQ(r.events[2].reason, reject_reason::header_mismatch);
  // Even plain two-column lines after it.
  r = parse_with(csv, "to,from\n1,2\n", "from,to");
  EXPECT_EQ(r.events[1], bad(2, reject_reason::header_mismatch, "1,2"));
}

// Issue 11 item 8: European spreadsheets separate with semicolons.
TEST(pair_reader_delimiter, issue_11_semicolons_with_delimiter) {
  auto r = parse_with(csv, "from_id;to_id\n101;9001\n\"102\" ; \"9002\"\n103,9003\n", "", ';');
  EXPECT_EQ(r.events, (E{ok(2, 101, 9001), ok(3, 102, 9002),
                         bad(4, reject_reason::wrong_column_count,
                             "(the line has commas and no ';': for a comma-separated file leave out --delimiter) "
                             "103,9003")}));
  r = parse_with(csv, "1|101|9001\n", "index,from,to", '|');
  EXPECT_EQ(r.events, (E{ok(1, 101, 9001)}));
}

// Issue 11 item 8: a csv of tabs or semicolons says how to read it, once.
TEST(pair_reader_delimiter, issue_11_the_first_rejection_hints_at_the_separator_once) {
  auto r = parse_with(csv, "from_id\tto_id\n101\t9001\n102\t9002\n", "");
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0], bad(1, reject_reason::wrong_column_count,
                             "(the line has tabs and no ',': for a tab-separated file use --format tsv) "
                             "from_id\\x09to_id"));
  EXPECT_EQ(r.events[1], bad(2, reject_reason::wrong_column_count, "101\\x099001"));
  EXPECT_EQ(r.hint, "the line has tabs and no ',': for a tab-separated file use --format tsv");
  r = parse_with(csv, "1,2\nx\n101;9001\n102;9002\n", "");
  EXPECT_EQ(r.events[1], bad(2, reject_reason::wrong_column_count, "x"));
  EXPECT_EQ(r.events[2].detail,
            "(the line has semicolons and no ',': for a semicolon-separated file use --delimiter ';') 101;9001");
  EXPECT_EQ(r.events[3].detail, "102;9002");
  EXPECT_EQ(r.hint, "the line has semicolons and no ',': for a semicolon-separated file use --delimiter ';'");
  // Not for tsv or ndjson, nor for a csv line that has commas.
  EXPECT_EQ(parse_with(tsv, "1;2\n", "").hint, "");
  EXPECT_EQ(parse_with(ndjson, "1;2\n", "").hint, "");
  EXPECT_EQ(parse_with(csv, "a,b;c\n", "").hint, "");
}

// Issue 11 item 6: a failures file is input again; a rejected row is read
// from its text cell, fixed or not, and keeps that text when rejected again.
TEST(pair_reader_failures_file, issue_11_rejected_rows_are_read_from_their_text) {
  const std::string input = std::string(hubbatch::io::failures_header) + "\n" +
                            "1,2,failed,VALIDATION_ERROR,400,\"x, y\",7,\n"
                            ",,rejected,bad_id,,line 3: id is not 1-20 decimal digits: 1O1,3,\"101,\"\"9001\"\"\"\n"
                            ",,rejected,wrong_column_count,,line 4: wrong column count,4,102\t9002\n"
                            ",,rejected,wrong_column_count,,line 5: wrong column count,5,103;9003\n"
                            ",,rejected,bad_json,,line 6: not a JSON object,6,\"{\"\"from\"\":104,\"\"to\"\":9004}\"\n"
                            ",,rejected,bad_id,,line 7: still bad,7,1O5;9005\n"
                            ",,rejected,unnamed_columns,,line 8,8,\"1,106,9006\"\n";
  pair_parser parser(csv);
  recording_sink sink;
  sink.keep_detail = true;
  parser.feed(input, sink);
  parser.finish(sink);
  EXPECT_EQ(sink.events, (E{ok(2, 1, 2), ok(3, 101, 9001), ok(4, 102, 9002), ok(5, 103, 9003), ok(6, 104, 9004),
                            bad(7, reject_reason::bad_id, "1O5"), bad(8, reject_reason::unnamed_columns, "1,106,9006")}));
  EXPECT_EQ(sink.raws, (std::vector<std::string>{"1O5;9005", "1,106,9006"}));  // the text, not the row
  EXPECT_EQ(parser.hint(), "");
  // A file that merely has a "text" column is not a failures file.
  EXPECT_EQ(events(csv, "from_id,to_id,text\n,,\"1,2\"\n"), (E{bad(2, reject_reason::bad_id)}));
}

// ------------------------------------------------------------ ndjson ------

TEST(pair_reader_ndjson, key_schemes_strings_and_numbers) {
  const std::string input =
      "{\"from\":\"1\",\"to\":\"2\"}\n"
      "{\"fromObjectId\":3,\"toObjectId\":4}\n"
      "{ \"to_id\" : \"6\" , \"from_id\" : 5 , \"extra\": {\"a\":[1,2,{\"b\":null}]}, \"t\": true }\r\n"
      "{\"from\":18446744073709551615,\"to\":\"007\"}\n"
      "\n"
      "{\"from\":\" 9 \",\"to\":10}";
  auto r = parse(ndjson, input);
  EXPECT_EQ(r.events, (E{ok(1, 1, 2), ok(2, 3, 4), ok(3, 5, 6), ok(4, 18446744073709551615ULL, 7), ok(6, 9, 10)}));
  EXPECT_EQ(r.lines, 6u);
}

TEST(pair_reader_ndjson, repeated_key_last_wins) {
  EXPECT_EQ(events(ndjson, "{\"from\":1,\"to\":2,\"from\":3}\n"), (E{ok(1, 3, 2)}));
}

TEST(pair_reader_ndjson, bad_json) {
  for (std::string_view line : {
           "[1,2]", "\"x\"", "1,2", "{", "{\"from\":1,\"to\":2", "{\"from\":1,\"to\":2,}", "{\"from\":1 \"to\":2}",
           "{\"from\":1,\"to\":2} x", "{\"from\":1,\"to\":2}{}", "{from:1,to:2}", "{'from':1,'to':2}",
           "{\"from\":01x,\"to\":2}", "{\"from\":1,\"to\":tru}", "{\"from\":\"1\\q\",\"to\":2}",
           "{\"from\":\"1\\u12\",\"to\":2}", "{\"from\":\"1\t\",\"to\":2}", "{\"from\":1,\"to\":2,\"x\":[1,]}",
           "{\"from\":1,\"to\":2,\"x\":-}", "{\"from\":1,\"to\":2,\"x\":1.}", "{\"from\":1,\"to\":2,\"x\":1e}",
           "from,to"}) {
    EXPECT_EQ(events(ndjson, std::string(line) + "\n"), (E{bad(1, reject_reason::bad_json)})) << line;
  }
}

TEST(pair_reader_ndjson, deep_nesting_is_bad_json_not_a_crash) {
  std::string deep = "{\"from\":1,\"to\":2,\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}\n";
  EXPECT_EQ(events(ndjson, deep, 1 << 20), (E{bad(1, reject_reason::bad_json)}));
  std::string ok_depth = "{\"from\":1,\"to\":2,\"x\":" + std::string(60, '[') + std::string(60, ']') + "}\n";
  EXPECT_EQ(events(ndjson, ok_depth), (E{ok(1, 1, 2)}));
}

TEST(pair_reader_ndjson, missing_fields) {
  EXPECT_EQ(detailed(ndjson, "{\"from\":1}\n{\"to\":1}\n{}\n{\"src\":1,\"dst\":2}\n"),
            (E{bad(1, reject_reason::missing_field, "no to/toObjectId/to_id key: {\"from\":1}"),
               bad(2, reject_reason::missing_field, "no from/fromObjectId/from_id key: {\"to\":1}"),
               bad(3, reject_reason::missing_field, "no from/fromObjectId/from_id key: {}"),
               bad(4, reject_reason::missing_field, "no from/fromObjectId/from_id key: {\"src\":1,\"dst\":2}")}));
}

TEST(pair_reader_ndjson, bad_id_values) {
  EXPECT_EQ(detailed(ndjson,
                     "{\"from\":-1,\"to\":2}\n{\"from\":1.5,\"to\":2}\n{\"from\":1e3,\"to\":2}\n"
                     "{\"from\":null,\"to\":2}\n{\"from\":1,\"to\":[2]}\n{\"from\":\"x\",\"to\":2}\n"
                     "{\"from\":\"\\u0031\",\"to\":2}\n{\"from\":1,\"to\":{\"id\":\"2\"}}\n"
                     "{\"from\":\"\",\"to\":2}\n{\"from\":true,\"to\":2}\n"),
            (E{bad(1, reject_reason::bad_id, "-1"), bad(2, reject_reason::bad_id, "1.5"),
               bad(3, reject_reason::bad_id, "1e3"), bad(4, reject_reason::bad_id, "null"),
               bad(5, reject_reason::bad_id, "[2]"), bad(6, reject_reason::bad_id, "x"),
               bad(7, reject_reason::bad_id, "\\u0031"), bad(8, reject_reason::bad_id, "{\"id\":\"2\"}"),
               bad(9, reject_reason::bad_id, "(empty)"), bad(10, reject_reason::bad_id, "true")}));
}

TEST(pair_reader_ndjson, out_of_range_and_unicode) {
  EXPECT_EQ(detailed(ndjson,
                     "{\"from\":18446744073709551616,\"to\":2}\n{\"from\":\"99999999999999999999\",\"to\":2}\n"
                     "{\"from\":\"\xD9\xA1\",\"to\":2}\n{\"from\":1,\"to\":2,\"name\":\"J\xC3\xBCrgen\"}\n"
                     "{\"from\":1,\"to\":\"2\xFF\"}\n"),
            (E{bad(1, reject_reason::id_out_of_range, "18446744073709551616"),
               bad(2, reject_reason::id_out_of_range, "99999999999999999999"),
               bad(3, reject_reason::bad_id, "\\xD9\\xA1"), ok(4, 1, 2),
               bad(5, reject_reason::invalid_utf8, "{\"from\":1,\"to\":\"2\\xFF\"}")}));
}

TEST(pair_reader_ndjson, bom_crlf_nul_and_long_lines) {
  using namespace std::string_literals;
  const std::string input = "\xEF\xBB\xBF{\"from\":1,\"to\":2}\r\n{\"from\":1,\0\"to\":2}\n"s +
                            "{\"from\":1,\"to\":2,\"pad\":\"" + std::string(200, 'x') + "\"}\n{\"to\":4,\"from\":3}";
  EXPECT_EQ(events(ndjson, input, 100),
            (E{ok(1, 1, 2), bad(2, reject_reason::nul_byte), bad(3, reject_reason::line_too_long), ok(4, 3, 4)}));
}

// ------------------------------------------------------------ chunking ----

// Every reject reason and edge in one input, per format.
const std::string csv_mix = std::string("\xEF\xBB\xBF") +
                            "fromObjectId,toObjectId,x\r\n"
                            "1,2,a\r\n"
                            "\r\n"
                            "\"3\", 4 ,\"q,q\"\n"
                            "5\n"
                            "x,6\n"
                            "18446744073709551616,7\n"
                            "8,9\xFF\n" +
                            std::string("8,\0,9\n", 6) + std::string(40, '7') + "," + std::string(40, '8') + "\n" +
                            "007,18446744073709551615\n"
                            "10,11";
const std::string ndjson_mix = std::string("\xEF\xBB\xBF") +
                               "{\"from\":\"1\",\"to\":2}\r\n"
                               "\n"
                               "{\"fromObjectId\":3,\"toObjectId\":\"4\",\"n\":[1,{\"a\":\"}\"}]}\n"
                               "[1]\n"
                               "{\"from\":1}\n"
                               "{\"from\":-1,\"to\":2}\n"
                               "{\"from\":1,\"to\":\"\xC3\"}\n" +
                               std::string("{\"from\":1,\"to\":\"\0\"}\n", 20) + "{\"from\":\"" +
                               std::string(70, '1') + "\",\"to\":2}\n" +
                               "{\"from_id\":\"18446744073709551616\",\"to_id\":1}\n"
                               "{\"from\":5,\"to\":6}";

class chunk_split : public ::testing::TestWithParam<input_format> {};

TEST_P(chunk_split, every_split_point_and_chunk_size_gives_the_same_result) {
  const input_format f = GetParam();
  const std::string& input = f == ndjson ? ndjson_mix : csv_mix;
  const std::size_t max_line = 60;
  const parse_result whole = parse(f, input, 0, max_line, true);
  ASSERT_GE(whole.events.size(), 9u);
  // One split at every byte position.
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    pair_parser parser(f, max_line);
    recording_sink sink;
    parser.feed(std::string_view(input).substr(0, cut), sink);
    parser.feed(std::string_view(input).substr(cut), sink);
    parser.finish(sink);
    ASSERT_EQ(sink.events, whole.events) << "cut at " << cut;
    ASSERT_EQ(parser.lines(), whole.lines);
  }
  // Fixed chunk sizes, including one byte at a time.
  for (std::size_t chunk = 1; chunk <= 17; ++chunk) {
    auto r = parse(f, input, chunk, max_line, true);
    ASSERT_EQ(r.events, whole.events) << "chunk " << chunk;
    ASSERT_EQ(r.header, whole.header);
    ASSERT_EQ(r.raws, whole.raws) << "chunk " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(formats, chunk_split, ::testing::Values(input_format::csv, input_format::ndjson));

TEST(chunk_split, expected_csv_mix_result) {
  auto r = parse(csv, csv_mix, 0, 60, false);
  EXPECT_TRUE(r.header);
  EXPECT_EQ(r.events, (E{ok(2, 1, 2), ok(4, 3, 4), bad(5, reject_reason::wrong_column_count),
                          bad(6, reject_reason::bad_id), bad(7, reject_reason::id_out_of_range),
                          bad(8, reject_reason::invalid_utf8), bad(9, reject_reason::nul_byte),
                          bad(10, reject_reason::line_too_long), ok(11, 7, 18446744073709551615ULL),
                          ok(12, 10, 11)}));
  EXPECT_EQ(r.lines, 12u);
}

// Issue 11 item 6: a rejected line reaches the sink as it was read, so the
// failures file can keep it for a person to fix and feed back.
TEST(pair_parser, issue_11_rejects_carry_the_raw_line) {
  const std::string long_line = std::string(300, '7') + "," + std::string(10, '8');
  const std::string input = std::string("\xEF\xBB\xBF") + "1;2\r\n" + "3,\"4 x\"\n" + long_line + "\r\n" +
                            "{\"from\":5}\n" + "6,7\n" + "8,9";
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
    pair_parser parser(csv, 280);
    recording_sink sink;
    const std::size_t step = chunk ? chunk : input.size();
    for (std::size_t i = 0; i < input.size(); i += step) parser.feed(std::string_view(input).substr(i, step), sink);
    parser.finish(sink, false);  // the last line is cut: truncated_line, its text kept too
    EXPECT_EQ(sink.raws, (std::vector<std::string>{"1;2", "3,\"4 x\"", long_line.substr(0, 256), "{\"from\":5}", "8,9"}))
        << "chunk " << chunk;
  }
  // A limit below 256 bytes keeps that many.
  auto r = parse(csv, long_line + "\n", 0, 100);
  EXPECT_EQ(r.raws, (std::vector<std::string>{long_line.substr(0, 100)}));
}

TEST(chunk_split, expected_ndjson_mix_result) {
  auto r = parse(ndjson, ndjson_mix, 0, 60, false);
  EXPECT_EQ(r.events, (E{ok(1, 1, 2), ok(3, 3, 4), bad(4, reject_reason::bad_json),
                          bad(5, reject_reason::missing_field), bad(6, reject_reason::bad_id),
                          bad(7, reject_reason::invalid_utf8), bad(8, reject_reason::nul_byte),
                          bad(9, reject_reason::line_too_long), bad(10, reject_reason::id_out_of_range),
                          ok(11, 5, 6)}));
  EXPECT_EQ(r.lines, 11u);
}

// Plain lines ("<digits>,<digits>") are read by a fast path when a line is
// whole in one chunk; fed one byte at a time, every line goes through the
// general path instead. Random inputs made mostly of near-plain lines (every
// way a line can be almost plain: 19/20/21 digits, CR, CRCR, spaces, quotes,
// empty fields, extra columns, signs, a last line without LF, headers that
// reorder the columns, a small line limit) must give the same events both ways.
TEST(pair_reader_csv, plain_line_fast_path_agrees_with_the_general_path) {
  std::mt19937_64 rng(5);
  auto digits = [&](std::size_t n) {
    std::string d;
    for (std::size_t i = 0; i < n; ++i) d += static_cast<char>('0' + rng() % 10);
    return d;
  };
  auto id = [&]() -> std::string {
    switch (rng() % 12) {
      case 0: return digits(19);
      case 1: return "1" + digits(19);  // 20 digits, may be out of range
      case 2: return digits(21);
      case 3: return "";
      case 4: return " " + digits(5);
      case 5: return "\"" + digits(4) + "\"";
      case 6: return "-" + digits(3);
      case 7: return digits(3) + "x";
      case 9: return digits(1 + rng() % 9) + static_cast<char>(rng() % 256) + digits(rng() % 9);  // any byte
      case 8: return "18446744073709551615";
      default: return digits(1 + rng() % 14);
    }
  };
  for (input_format f : {csv, tsv}) {
    const char delim = f == tsv ? '\t' : ',';
    for (int round = 0; round < 300; ++round) {
      std::string input;
      switch (rng() % 4) {
        case 0: input += "to_id" + std::string(1, delim) + "from_id\n"; break;  // columns swapped
        case 1: input += "from_id" + std::string(1, delim) + "to_id\n"; break;
        case 2: input += "\n"; break;
        default: break;
      }
      const int lines = 1 + static_cast<int>(rng() % 30);
      for (int i = 0; i < lines; ++i) {
        std::string line = rng() % 3 ? digits(1 + rng() % 19) + delim + digits(1 + rng() % 19) : id() + delim + id();
        switch (rng() % 10) {
          case 0: line += "\r"; break;
          case 1: line += "\r\r"; break;
          case 2: line += std::string(1, delim) + "extra"; break;
          case 3: line += " "; break;
          case 4: line = id(); break;
          default: break;
        }
        input += line;
        if (i + 1 < lines || rng() % 2) input += "\n";
      }
      const std::size_t max_line = rng() % 3 ? 4096 : 10 + rng() % 30;
      SCOPED_TRACE(testing::Message() << "max_line " << max_line << " input:\n" << input);
      const parse_result whole = parse(f, input, 0, max_line, true);
      const parse_result bytewise = parse(f, input, 1, max_line, true);
      ASSERT_EQ(whole.events, bytewise.events);
      ASSERT_EQ(whole.lines, bytewise.lines);
      ASSERT_EQ(whole.header, bytewise.header);
    }
  }
}

// ------------------------------------------------------------ files -------

class temp_file {
 public:
  explicit temp_file(std::string_view suffix) {
    std::string tmpl = ::testing::TempDir() + "hubbatch_pairs_XXXXXX";
    tmpl += suffix;
    int fd = ::mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
    if (fd < 0) throw std::runtime_error("mkstemps failed");
    ::close(fd);
    path_ = tmpl;
  }
  ~temp_file() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `content` gzipped (zlib's gz* writer) to `path`; returns the file's bytes.
std::string write_gzip_file(const std::string& path, const std::string& content) {
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) throw std::runtime_error("gzopen failed");
  gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
  gzclose(gz);
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// 20,000 csv lines, about 230 KB: several read chunks once gzipped.
std::string many_csv_lines() {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += std::to_string(i * 7919) + "," + std::to_string(i) + "\n";
  return content;
}

TEST(read_pairs_file, reads_a_large_file_across_chunk_boundaries) {
  temp_file tmp(".csv");
  std::string content = "from_id,to_id\n";
  for (std::uint64_t i = 0; i < 50000; ++i) content += std::to_string(i) + "," + std::to_string(i * 7) + "\n";
  content += "bad\n";
  std::ofstream(tmp.path(), std::ios::binary) << content;
  recording_sink sink;
  hubbatch::io::read_pairs_file(tmp.path(), csv, sink);
  ASSERT_EQ(sink.events.size(), 50001u);
  for (std::uint64_t i = 0; i < 50000; ++i) ASSERT_EQ(sink.events[i], ok(i + 2, i, i * 7));
  EXPECT_EQ(sink.events.back(), bad(50002, reject_reason::wrong_column_count, "bad"));
}

TEST(read_pairs_file, inflates_gzip_members) {
  temp_file tmp(".ndjson.gz");
  std::string part1;
  for (int i = 1; i <= 30000; ++i) part1 += "{\"from\":" + std::to_string(i) + ",\"to\":\"2\"}\n";
  // Two gzip members, the line split across them.
  for (std::string_view piece : {std::string_view(part1), std::string_view("{\"from\":7,\"t"),
                                 std::string_view("o\":8}")}) {
    gzFile gz = gzopen(tmp.path().c_str(), "ab");
    ASSERT_NE(gz, nullptr);
    ASSERT_EQ(gzwrite(gz, piece.data(), static_cast<unsigned>(piece.size())), static_cast<int>(piece.size()));
    gzclose(gz);
  }
  recording_sink sink;
  hubbatch::io::read_pairs_file(tmp.path(), ndjson, sink);
  ASSERT_EQ(sink.events.size(), 30001u);
  EXPECT_EQ(sink.events[29999], ok(30000, 30000, 2));
  EXPECT_EQ(sink.events.back(), ok(30001, 7, 8));
}

TEST(read_pairs_file, truncated_gzip_throws) {
  temp_file tmp(".csv.gz");
  const std::string bytes = write_gzip_file(tmp.path(), many_csv_lines());
  ASSERT_GT(bytes.size(), 100u);
  std::ofstream(tmp.path(), std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  recording_sink sink;
  EXPECT_THROW(hubbatch::io::read_pairs_file(tmp.path(), csv, sink), std::runtime_error);
}

// Issue 12: read_pairs_file inflates through io::input_decoder; its errors
// still name the file and say whether the gzip data is cut or damaged.
TEST(read_pairs_file, gzip_errors_name_the_path_and_the_damage) {
  temp_file tmp(".csv.gz");
  const std::string bytes = write_gzip_file(tmp.path(), many_csv_lines());
  ASSERT_GT(bytes.size(), 100u);
  auto error_of = [&](const std::string& data) -> std::string {
    std::ofstream(tmp.path(), std::ios::binary | std::ios::trunc) << data;
    recording_sink sink;
    try {
      hubbatch::io::read_pairs_file(tmp.path(), csv, sink);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of(bytes.substr(0, bytes.size() / 2)), tmp.path() + ": truncated gzip data");
  std::string corrupt = bytes;
  corrupt[3] = static_cast<char>(0xff);  // reserved FLG bits: not a gzip header zlib accepts
  EXPECT_EQ(error_of(corrupt).rfind(tmp.path() + ": corrupt gzip data", 0), 0u) << error_of(corrupt);
  EXPECT_EQ(error_of(bytes + "\x1f"), tmp.path() + ": truncated gzip data") << "a second member cut after one byte";
  EXPECT_EQ(error_of(bytes + "trailing garbage").rfind(tmp.path() + ": corrupt gzip data", 0), 0u)
      << error_of(bytes + "trailing garbage");
}

TEST(read_pairs_file, missing_file_names_the_path) {
  recording_sink sink;
  try {
    hubbatch::io::read_pairs_file("/nonexistent/hubbatch/pairs.csv", csv, sink);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hubbatch/pairs.csv"), std::string::npos) << e.what();
  }
}

TEST(read_pairs_file, directory_is_a_read_error) {
  recording_sink sink;
  EXPECT_THROW(hubbatch::io::read_pairs_file(::testing::TempDir(), csv, sink), std::runtime_error);
}

// --------------------------------------------- association types (13) ----

using hubbatch::assoc_category;
using hubbatch::assoc_type;

constexpr assoc_type user36{36, assoc_category::user_defined};
constexpr assoc_type hs279{279, assoc_category::hubspot_defined};

// Issue 13: a header names a category and a type id column; both cells empty
// (or missing) is an untyped pair.
TEST(pair_reader_types, issue_13_a_header_names_the_label_columns) {
  auto r =
      parse_with(csv, "from_id,to_id,category,type_id\n1,2,USER_DEFINED,36\n3,4,,\n5,6,hubspot_defined,279\n7,8\n", "");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, user36), ok(3, 3, 4), ok(4, 5, 6, hs279), ok(5, 7, 8)}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(*r.columns,
            (input_columns{{"from_id", 1}, {"to_id", 2}, {}, named_column{"category", 3}, named_column{"type_id", 4}}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from_id (1), to_id (2), category (3), type_id (4)");
  // Every alias, any order and case, quoted and spaced cells, other columns ignored.
  r = parse_with(csv,
                 "note,Association_Type_Id,fromObjectId,ASSOCIATIONCATEGORY,toObjectId\n"
                 "x,\" 36 \",1,\"User_Defined\",2\n"
                 "y,279,3,HUBSPOT_DEFINED,4\n",
                 "");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, user36), ok(3, 3, 4, hs279)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns),
            "fromObjectId (3), toObjectId (5), ASSOCIATIONCATEGORY (4), Association_Type_Id (2); ignored: note (1)");
  for (std::string_view header : {"from,to,association_category,typeId", "from,to,associationCategory,type_id",
                                  "from,to,category,associationTypeId", "from,to,category,association_type_id"}) {
    r = parse_with(csv, std::string(header) + "\n1,2,WORK,7\n", "");
    EXPECT_EQ(r.events, (E{ok(2, 1, 2, {7, assoc_category::work})})) << header;
  }
  r = parse_with(tsv, "to\tfrom\ttype_id\tcategory\n2\t1\t2147483647\tINTEGRATOR_DEFINED\n", "");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, {2147483647, assoc_category::integrator_defined})}));
}

// Issue 13: one label without the other, or a bad value, rejects the line
// with the text at fault; ids are checked first.
TEST(pair_reader_types, issue_13_bad_labels_are_rejected_with_their_text) {
  const auto r = parse_with(csv,
                            "from,to,category,type_id\n"
                            "1,2,FOO,5\n"
                            "1,2,USER_DEFINED,0\n"
                            "1,2,USER_DEFINED,2147483648\n"
                            "1,2,USER_DEFINED,-1\n"
                            "1,2,USER_DEFINED,1.5\n"
                            "1,2,USER_DEFINED,\n"
                            "1,2,,5\n"
                            "1,2,\" \",\"5\"\n"
                            "1O1,2,FOO,5\n"
                            "1,2,USER_DEFINED\n"
                            "1,2,HUBSPOT_DEFINED:1,1\n",
                            "");
  using R = reject_reason;
  const auto not_a_category = [](std::string_view c) {
    return "category '" + std::string(c) + "' is not HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK";
  };
  EXPECT_EQ(r.events, (E{bad(2, R::bad_association_type, not_a_category("FOO")),
                         bad(3, R::bad_association_type, "type id '0' is not 1-2147483647"),
                         bad(4, R::bad_association_type, "type id '2147483648' is not 1-2147483647"),
                         bad(5, R::bad_association_type, "type id '-1' is not 1-2147483647"),
                         bad(6, R::bad_association_type, "type id '1.5' is not 1-2147483647"),
                         bad(7, R::bad_association_type, "category 'USER_DEFINED' has no type id"),
                         bad(8, R::bad_association_type, "type id '5' has no category"),
                         bad(9, R::bad_association_type, "type id '5' has no category"), bad(10, R::bad_id, "1O1"),
                         bad(11, R::bad_association_type, "category 'USER_DEFINED' has no type id"),
                         bad(12, R::bad_association_type, not_a_category("HUBSPOT_DEFINED:1"))}));
  EXPECT_STREQ(hubbatch::io::to_string(R::bad_association_type), "bad_association_type");
  EXPECT_NE(std::string(hubbatch::io::describe(R::bad_association_type)).find("association type"), std::string::npos);
}

// Issue 13: a header naming one label column alone is refused (half a label
// would be guessed into the wrong one); later lines keep the unnamed rules.
TEST(pair_reader_types, issue_13_one_label_column_alone_refuses_the_header) {
  auto r = parse_with(csv, "from,to,category\n1,2,USER_DEFINED\n3,4\n", "");
  EXPECT_EQ(r.events,
            (E{bad(1, reject_reason::wrong_column_count,
                   "header has a category column but no type_id/typeId/association_type_id/associationTypeId column: "
                   "from,to,category"),
               bad(2, reject_reason::unnamed_columns, "1,2,USER_DEFINED"), ok(3, 3, 4)}));
  EXPECT_FALSE(r.columns);
  r = parse_with(csv, "typeId,from_id,to_id\n", "");
  EXPECT_EQ(r.events, (E{bad(1, reject_reason::wrong_column_count,
                             "header has a type id column but no category/association_category/associationCategory "
                             "column: typeId,from_id,to_id")}));
}

// Issue 13: without a header or --columns, a labelled line is still four
// unnamed columns, never a labelled pair.
TEST(pair_reader_types, issue_13_unnamed_lines_keep_the_two_column_rule) {
  EXPECT_EQ(detailed(csv, "1,2,USER_DEFINED,36\n3,4\n"),
            (E{bad(1, reject_reason::unnamed_columns, "1,2,USER_DEFINED,36"), ok(2, 3, 4)}));
}

// Issue 13: --columns names the label columns too; a header must agree.
TEST(pair_reader_types, issue_13_columns_name_the_label_columns) {
  auto r = parse_with(csv, "1,2,WORK,7\n3,4\n5,6,,\n", "from_id,to_id,category,type_id");
  EXPECT_EQ(r.events, (E{ok(1, 1, 2, {7, assoc_category::work}), ok(2, 3, 4), ok(3, 5, 6)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from_id (1), to_id (2), category (3), type_id (4)");
  r = parse_with(csv, "9,36,1,2,user_defined\n", "index,typeId,from,to,associationCategory");
  EXPECT_EQ(r.events, (E{ok(1, 1, 2, user36)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns),
            "from (3), to (4), associationCategory (5), typeId (2); ignored: index (1)");
  // A header in the same places is skipped; one naming no labels leaves --columns' own.
  r = parse_with(csv, "from,to,category,type_id\n1,2,WORK,7\n", "from_id,to_id,association_category,typeId");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, {7, assoc_category::work})}));
  r = parse_with(csv, "from,to,a,b\n1,2,WORK,7\n", "from_id,to_id,association_category,typeId");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, {7, assoc_category::work})}));
  // Labels elsewhere, or where --columns has none: every line refused.
  r = parse_with(csv, "from,to,type_id,category\n1,2,7,WORK\n", "from,to,category,type_id");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0], bad(1, reject_reason::header_mismatch,
                             "header has the category column at 4 and the type id column at 3, --columns at 3 and "
                             "4: from,to,type_id,category"));
  EXPECT_EQ(r.events[1].reason, reject_reason::header_mismatch);
  r = parse_with(csv, "from,to,category,type_id\n1,2,WORK,7\n", "from,to,x,y");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0], bad(1, reject_reason::header_mismatch,
                             "header has the category column at 3 and the type id column at 4, --columns at none "
                             "and none: from,to,category,type_id"));
  // Both label names or neither, once each.
  std::vector<std::string> names;
  for (std::string_view bad_names : {"from,to,category", "from,to,typeId", "from,to,category,category,type_id",
                                     "from,to,category,type_id,associationTypeId"}) {
    std::vector<std::string> untouched{"kept"};
    EXPECT_NE(hubbatch::io::parse_column_names(bad_names, untouched), "") << bad_names;
    EXPECT_EQ(untouched, std::vector<std::string>{"kept"}) << bad_names;
  }
  EXPECT_EQ(hubbatch::io::parse_column_names("from,to,Association_Category,associationTypeId", names), "");
  EXPECT_EQ(hubbatch::io::role_of_column("\"typeId\""), hubbatch::io::column_role::type_id);
  EXPECT_EQ(hubbatch::io::role_of_column(" category "), hubbatch::io::column_role::category);
}

// Issue 13: NDJSON takes the same names as keys, a type id as a number or a
// string; null or absent both = untyped.
TEST(pair_reader_types, issue_13_ndjson_label_keys) {
  const auto r = parse_with(ndjson,
                            "{\"from\":1,\"to\":2,\"category\":\"USER_DEFINED\",\"type_id\":36}\n"
                            "{\"from\":1,\"to\":2,\"associationCategory\":\"hubspot_defined\",\"associationTypeId\":"
                            "\"279\"}\n"
                            "{\"from\":1,\"to\":2,\"association_category\":\"WORK\",\"typeId\":7}\n"
                            "{\"from\":1,\"to\":2,\"Category\":\" USER_DEFINED \",\"association_type_id\":\" 36 \"}\n"
                            "{\"from\":3,\"to\":4,\"category\":null,\"typeId\":null}\n"
                            "{\"from\":3,\"to\":4,\"category\":\"\",\"typeId\":\"\"}\n"
                            "{\"from\":3,\"to\":4}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"USER_DEFINED\",\"typeId\":0}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"USER_DEFINED\",\"typeId\":1.5}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"USER_DEFINED\",\"typeId\":-3}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"USER_DEFINED\",\"typeId\":true}\n"
                            "{\"from\":1,\"to\":2,\"category\":5,\"typeId\":5}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"FOO\",\"typeId\":5}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"USER\\u005fDEFINED\",\"typeId\":5}\n"
                            "{\"from\":1,\"to\":2,\"category\":\"WORK\"}\n"
                            "{\"from\":1,\"to\":2,\"typeId\":5,\"category\":null}\n"
                            "{\"from\":\"x\",\"to\":2,\"typeId\":5}\n",
                            "");
  using R = reject_reason;
  const auto not_a_category = [](std::string_view c) {
    return "category '" + std::string(c) + "' is not HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED or WORK";
  };
  EXPECT_EQ(
      r.events,
      (E{ok(1, 1, 2, user36), ok(2, 1, 2, hs279), ok(3, 1, 2, {7, assoc_category::work}), ok(4, 1, 2, user36),
         ok(5, 3, 4), ok(6, 3, 4), ok(7, 3, 4), bad(8, R::bad_association_type, "type id '0' is not 1-2147483647"),
         bad(9, R::bad_association_type, "type id '1.5' is not 1-2147483647"),
         bad(10, R::bad_association_type, "type id '-3' is not 1-2147483647"),
         bad(11, R::bad_association_type, "type id 'true' is not 1-2147483647"),
         bad(12, R::bad_association_type, not_a_category("5")), bad(13, R::bad_association_type, not_a_category("FOO")),
         bad(14, R::bad_association_type, not_a_category("USER\\u005fDEFINED")),
         bad(15, R::bad_association_type, "category 'WORK' has no type id"),
         bad(16, R::bad_association_type, "type id '5' has no category"), bad(17, R::bad_id, "x")}));
}

// Issue 13: a failures file's `category` column is the failure's, never a
// label: the old header gives untyped pairs, the new one the types of its
// last two columns; a generic header with a `category` column alone is not
// a failures file and is refused.
TEST(pair_reader_types, issue_13_the_failures_files_category_is_never_a_label) {
  auto r = parse_with(csv,
                      std::string(hubbatch::io::failures_header_v1) +
                          "\n"
                          "1,2,failed,USER_DEFINED,400,x,7,\n"
                          ",,rejected,bad_id,,line 8,8,\"101,9001\"\n",
                      "");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2), ok(3, 101, 9001)}));
  EXPECT_FALSE(r.columns->category);
  r = parse_with(csv,
                 std::string(hubbatch::io::failures_header) +
                     "\n"
                     "1,2,failed,USER_DEFINED,400,x,7,,HUBSPOT_DEFINED,279\n"
                     "1,2,pending,interrupted,,SIGINT,,,,\n"
                     ",,rejected,bad_association_type,,line 9,9,\"9,10,USER_DEFINED,0\",,\n"
                     ",,rejected,bad_association_type,,line 10,10,\"9,10,user_defined,36\",,\n"
                     ",,rejected,bad_json,,line 11,11,\"{\"\"from\"\":9,\"\"to\"\":10,\"\"typeId\"\":36,"
                     "\"\"category\"\":\"\"USER_DEFINED\"\"}\",,\n"
                     ",,rejected,unnamed_columns,,line 12,12,\"1,9,10,USER_DEFINED,36\",,\n",
                 "");
  EXPECT_EQ(r.events,
            (E{ok(2, 1, 2, hs279), ok(3, 1, 2),
               bad(4, reject_reason::bad_association_type, "type id '0' is not 1-2147483647"), ok(5, 9, 10, user36),
               ok(6, 9, 10, user36), bad(7, reject_reason::unnamed_columns, "1,9,10,USER_DEFINED,36")}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns),
            "from_id (1), to_id (2), association_category (9), association_type_id (10); ignored: outcome (3), "
            "category (4), http_status (5), message (6), line (7), text (8)");
  // The failures header with --columns naming no labels keeps its own.
  r = parse_with(csv, std::string(hubbatch::io::failures_header) + "\n1,2,failed,X,400,x,7,,WORK,7\n", "from_id,to_id");
  EXPECT_EQ(r.events, (E{ok(2, 1, 2, {7, assoc_category::work})}));
  // Almost a failures header: `category` is then a label column without its type id.
  r = parse_with(csv, "from_id,to_id,outcome,category,http_status\n1,2,failed,WORK,400\n", "");
  EXPECT_EQ(r.events[0].reason, reject_reason::wrong_column_count);
}

}  // namespace
