// The pair reader's records mode (parse_options::records, issue 14): one
// record id a line, for export, archive --all and verify's reads.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "io/pair_reader.hpp"

namespace {

using hubbatch::pair_id;
using hubbatch::io::input_columns;
using hubbatch::io::input_format;
using hubbatch::io::named_column;
using hubbatch::io::pair_parser;
using hubbatch::io::parse_options;
using hubbatch::io::reject_reason;

constexpr auto csv = input_format::csv;
constexpr auto tsv = input_format::tsv;
constexpr auto ndjson = input_format::ndjson;

// One sink callback: an id (the pair's from; its to and type must be empty)
// or a rejection with its detail and raw text.
struct event {
  bool ok = false;
  std::uint64_t line = 0;
  std::uint64_t id = 0;
  reject_reason reason{};
  std::string detail;
  std::string raw;
  friend bool operator==(const event&, const event&) = default;
  friend std::ostream& operator<<(std::ostream& os, const event& e) {
    if (e.ok) return os << "id(" << e.line << ": " << e.id << ")";
    return os << "reject(" << e.line << ": " << hubbatch::io::to_string(e.reason) << " '" << e.detail << "' raw '"
              << e.raw << "')";
  }
};
using E = std::vector<event>;

event id(std::uint64_t line, std::uint64_t value) { return {true, line, value, {}, {}, {}}; }
// A rejection; an empty `raw` is not compared (see records_result).
event bad(std::uint64_t line, reject_reason r, std::string detail = {}, std::string raw = {}) {
  return {false, line, 0, r, std::move(detail), std::move(raw)};
}

struct recording_sink : hubbatch::io::pair_sink {
  std::vector<event> events;
  void on_pair(pair_id pair, std::uint64_t line) override {
    EXPECT_EQ(pair.to, 0u) << "line " << line;
    EXPECT_TRUE(pair.type.empty()) << "line " << line;
    events.push_back({true, line, pair.from, {}, {}, {}});
  }
  void on_reject(std::uint64_t line, reject_reason reason, std::string_view detail, std::string_view raw) override {
    events.push_back({false, line, 0, reason, std::string(detail), std::string(raw)});
  }
};

struct records_result {
  std::vector<event> events;
  std::optional<input_columns> columns;
  bool header = false;
  std::string hint;
};

// Parses `input` in records mode, with `columns` (--columns text, "" =
// none) and `delimiter`, whole and a byte at a time (the byte-at-a-time run
// never takes the plain-line path): both must agree.
records_result parse(input_format f, std::string_view input, std::string_view columns = "", char delimiter = ',',
                     std::size_t max_line = 4096) {
  parse_options o;
  o.records = true;
  o.delimiter = delimiter;
  o.max_line_bytes = max_line;
  if (!columns.empty()) {
    EXPECT_EQ(hubbatch::io::parse_record_column_names(columns, o.columns), "");
  }
  records_result out;
  for (std::size_t chunk : {input.size() + 1, std::size_t{1}}) {
    pair_parser parser(f, o);
    recording_sink sink;
    for (std::size_t i = 0; i < input.size(); i += chunk) parser.feed(input.substr(i, chunk), sink);
    parser.finish(sink);
    if (chunk != 1) {
      out = {sink.events, parser.columns(), parser.saw_header(), parser.hint()};
    } else {
      EXPECT_EQ(sink.events, out.events) << "byte by byte";
      EXPECT_EQ(parser.saw_header(), out.header) << "byte by byte";
    }
  }
  return out;
}

// The events without details and raw text, for tests that check reasons.
E reasons(const records_result& r) {
  E out = r.events;
  for (event& e : out) e.detail.clear(), e.raw.clear();
  return out;
}

// ----------------------------------------------------------- csv/tsv ------

TEST(record_reader_csv, issue_14_one_id_a_line_without_header) {
  const auto r = parse(csv, "101\n0000000007\n\"42\"\n 18446744073709551615 \n");
  EXPECT_EQ(r.events, (E{id(1, 101), id(2, 7), id(3, 42), id(4, 18446744073709551615ULL)}));
  EXPECT_FALSE(r.header);
  EXPECT_FALSE(r.columns);
  EXPECT_EQ(r.hint, "");
}

TEST(record_reader_csv, issue_14_each_id_column_name_makes_a_header) {
  for (std::string_view name :
       {"id", "ID", "record_id", "Record_Id", "hs_object_id", "HS_OBJECT_ID", "object_id", "from", "from_id",
        "fromObjectId", "FROMOBJECTID", "\"id\"", " id ", "Record ID", "\"Record ID\""}) {
    const std::string input = std::string(name) + "\n101\n102\n";
    const auto r = parse(csv, input);
    EXPECT_EQ(r.events, (E{id(2, 101), id(3, 102)})) << name;
    EXPECT_TRUE(r.header) << name;
    ASSERT_TRUE(r.columns) << name;
    EXPECT_EQ(r.columns->from.position, 1u) << name;
    EXPECT_EQ(r.columns->to.position, 0u) << name;
    EXPECT_TRUE(r.columns->ignored.empty()) << name;
  }
  EXPECT_EQ(hubbatch::io::to_string(*parse(csv, "hs_object_id\n1\n").columns), "hs_object_id (1)");
  EXPECT_EQ(hubbatch::io::role_of_column(" \"Object_Id\" "), hubbatch::io::column_role::id);
  EXPECT_EQ(hubbatch::io::role_of_column("record id"), hubbatch::io::column_role::id);  // HubSpot's exports
  EXPECT_EQ(hubbatch::io::role_of_column("recordid"), hubbatch::io::column_role::other);
}

TEST(record_reader_csv, issue_14_a_header_puts_the_id_in_any_column) {
  const auto r = parse(csv, "name,record_id,email\nAda,101,a@x\nBob,102\nCy\n");
  EXPECT_EQ(reasons(r), (E{id(2, 101), id(3, 102), bad(4, reject_reason::wrong_column_count)}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(*r.columns, (input_columns{{"record_id", 2}, {}, {{"name", 1}, {"email", 3}}}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "record_id (2); ignored: name (1), email (3)");
}

TEST(record_reader_csv, issue_14_crlf_bom_and_blank_lines) {
  EXPECT_EQ(parse(csv, "\xEF\xBB\xBFid\r\n\r\n101\r\n   \r\n\n102\r\n").events, (E{id(3, 101), id(6, 102)}));
  const std::string bom = "\xEF\xBB\xBF";
  EXPECT_EQ(parse(csv, bom + "101\r\n102").events, (E{id(1, 101), id(2, 102)}));
  EXPECT_EQ(parse(tsv, "\n\nid\tname\r\n7\tx\r\n").events, (E{id(4, 7)}));
  EXPECT_EQ(parse(csv, "").events, E{});
}

// A pairs file read for its records: the from column is the id, the to and
// label columns are ignored and reported.
TEST(record_reader_csv, issue_14_a_pairs_file_with_header_gives_its_from_ids) {
  auto r = parse(csv, "to_id,note,from_id,category,type_id\n9001,x,101,USER_DEFINED,7\n9002,,102,,\n");
  EXPECT_EQ(r.events, (E{id(2, 101), id(3, 102)}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(hubbatch::io::to_string(*r.columns),
            "from_id (3); ignored: to_id (1), note (2), category (4), type_id (5)");
  // The to column's cells are not read at all: a bad one does not matter.
  r = parse(tsv, "fromObjectId\ttoObjectId\n101\tnot-an-id\n102\n");
  EXPECT_EQ(r.events, (E{id(2, 101), id(3, 102)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "fromObjectId (1); ignored: toObjectId (2)");
  // A from column wins over an id column (which may be a row number), and
  // the first of two from columns over the second.
  r = parse(csv, "id,from,to\n1,101,9001\n");
  EXPECT_EQ(r.events, (E{id(2, 101)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from (2); ignored: id (1), to (3)");
  r = parse(csv, "object_id,hs_object_id\n5,6\n");
  EXPECT_EQ(r.events, (E{id(2, 5)}));
  EXPECT_EQ(parse(csv, "from_id,from\n5,6\n").events, (E{id(2, 5)}));
  // A failures file is a pairs file like any other here.
  r = parse(csv, std::string(hubbatch::io::failures_header) +
                     "\n101,9001,failed,http_5xx,500,x,3,,,\n,,rejected,"
                     "bad_id,,x,4,\"1,2\",,\n");
  EXPECT_EQ(reasons(r), (E{id(2, 101), bad(3, reject_reason::bad_id)}));
  EXPECT_EQ(r.events[1].detail, "(empty)");
}

// Without a header a line is read as a pair line whose to cell may be
// missing: two ids give the first (the from id), a third column is refused.
TEST(record_reader_csv, issue_14_headerless_lines_are_pair_lines_with_an_optional_to) {
  EXPECT_EQ(parse(csv, "101,9001\n102,\n103\n104,,\n").events, (E{id(1, 101), id(2, 102), id(3, 103), id(4, 104)}));
  EXPECT_EQ(parse(tsv, "101\t9001\n").events, (E{id(1, 101)}));
  auto r = parse(csv, "101,9001\n1,102,9002\n103,,x\n104,9004, \n");
  EXPECT_EQ(r.events, (E{id(1, 101), bad(2, reject_reason::unnamed_columns, "1,102,9002", "1,102,9002"),
                         bad(3, reject_reason::unnamed_columns, "103,,x", "103,,x"), id(4, 104)}));
  EXPECT_FALSE(r.columns);
  // The second cell, when there is one, must be an id too: otherwise this
  // is not the file it looks like. The from cell may not be empty.
  r = parse(csv, "101\n102,abc\n,103\n104,99999999999999999999\n");
  EXPECT_EQ(r.events, (E{id(1, 101), bad(2, reject_reason::bad_id, "abc", "102,abc"),
                         bad(3, reject_reason::bad_id, "(empty)", ",103"),
                         bad(4, reject_reason::id_out_of_range, "99999999999999999999", "104,99999999999999999999")}));
  // A three-column first line is neither data nor a header.
  EXPECT_EQ(reasons(parse(csv, "1,101,9001\n5\n")), (E{bad(1, reject_reason::unnamed_columns), id(2, 5)}));
}

TEST(record_reader_csv, issue_14_bad_ids_keep_the_pair_modes_reasons_and_details) {
  const std::string input =
      "101\n"
      "12a\n"
      "-5\n"
      "\"\"\n"
      "18446744073709551616\n"
      "123456789012345678901\n"
      "\xD9\xA1\n"  // ARABIC-INDIC DIGIT ONE
      "1\xFF\n" +
      std::string("1\0002\n", 4) + "102\n";
  EXPECT_EQ(parse(csv, input).events,
            (E{id(1, 101), bad(2, reject_reason::bad_id, "12a", "12a"), bad(3, reject_reason::bad_id, "-5", "-5"),
               bad(4, reject_reason::bad_id, "\"\"", "\"\""),
               bad(5, reject_reason::id_out_of_range, "18446744073709551616", "18446744073709551616"),
               bad(6, reject_reason::bad_id, "123456789012345678901", "123456789012345678901"),
               bad(7, reject_reason::bad_id, "\\xD9\\xA1", "\xD9\xA1"),
               bad(8, reject_reason::invalid_utf8, "1\\xFF", "1\xFF"),
               bad(9, reject_reason::nul_byte, "1\\x002", std::string("1\0002", 3)), id(10, 102)}));
}

TEST(record_reader_csv, issue_14_a_first_line_neither_id_nor_header_is_rejected) {
  auto r = parse(csv, "Record No\n101\n");
  EXPECT_EQ(r.events, (E{bad(1, reject_reason::bad_id,
                             "first line is neither an id nor a header naming an id column (id, record_id, from_id, "
                             "...): Record No",
                             "Record No"),
                         id(2, 101)}));
  EXPECT_FALSE(r.header);
  // A to column alone names no id.
  EXPECT_EQ(reasons(parse(csv, "to_id\n101\n")), (E{bad(1, reject_reason::bad_id), id(2, 101)}));
  // Only the first non-blank line may be the header.
  EXPECT_EQ(reasons(parse(csv, "\n101\nid\n")), (E{id(2, 101), bad(3, reject_reason::bad_id)}));
}

TEST(record_reader_csv, issue_14_long_truncated_and_hinted_lines) {
  EXPECT_EQ(parse(csv, "123456789012\n5\n", "", ',', 8).events,
            (E{bad(1, reject_reason::line_too_long, "12345678...", "12345678"), id(2, 5)}));
  parse_options o;
  o.records = true;
  pair_parser parser(csv, o);
  recording_sink sink;
  parser.feed("101\n10", sink);
  parser.finish(sink, false);
  EXPECT_EQ(sink.events, (E{id(1, 101), bad(2, reject_reason::truncated_line, "10", "10")}));
  // A line with tabs and no comma says how to read a tab-separated file.
  const auto r = parse(csv, "101\n1\t2\n3\t4\n");
  EXPECT_EQ(r.hint, "the line has tabs and no ',': for a tab-separated file use --format tsv");
  EXPECT_EQ(r.events[1].detail, "(" + r.hint + ") 1\\x092");
  EXPECT_EQ(r.events[2].detail, "3\\x094");
}

// ----------------------------------------------------------- --columns ----

TEST(record_column_names, issue_14_one_id_column_and_no_to_column_needed) {
  std::vector<std::string> names;
  EXPECT_EQ(hubbatch::io::parse_record_column_names(" index , Record_Id ", names), "");
  EXPECT_EQ(names, (std::vector<std::string>{"index", "Record_Id"}));
  for (std::string_view good : {"id", "from", "fromObjectId,x", "index,from,to", "from_id,to_id,category,type_id"}) {
    EXPECT_EQ(hubbatch::io::parse_record_column_names(good, names), "") << good;
  }
  for (std::string_view bad : {"", "to", "index", "id,from", "id,id", "from,from_id", "id,,x", "category,type_id"}) {
    std::vector<std::string> untouched{"kept"};
    const std::string why = hubbatch::io::parse_record_column_names(bad, untouched);
    EXPECT_NE(why, "") << bad;
    EXPECT_EQ(untouched, std::vector<std::string>{"kept"}) << bad;
  }
  EXPECT_EQ(
      hubbatch::io::parse_record_column_names("x,y", names),
      "name exactly one id column (id, record_id, Record ID, hs_object_id, object_id, from, from_id or fromObjectId); "
      "other names mark columns that are ignored, e.g. index,id");
  // Pair mode ignores an id column as it ignored any other name.
  EXPECT_EQ(hubbatch::io::parse_column_names("id,from,to", names), "");
  EXPECT_NE(hubbatch::io::parse_column_names("id", names), "");
}

TEST(record_reader_columns, issue_14_columns_naming_only_an_id_column) {
  auto r = parse(csv, "x,5\ny,6,z\n7\n", "name,id");
  EXPECT_EQ(reasons(r), (E{id(1, 5), id(2, 6), bad(3, reject_reason::wrong_column_count)}));
  ASSERT_TRUE(r.columns);
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "id (2); ignored: name (1)");
  EXPECT_FALSE(r.header);
  // Pair mode's --columns read the from column, ignoring the rest.
  r = parse(csv, "1,101,9001\n", "index,from,to");
  EXPECT_EQ(r.events, (E{id(1, 101)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "from (2); ignored: index (1), to (3)");
  // A header repeating them is skipped; one contradicting them stops every line.
  r = parse(csv, "NAME,\"ID\"\nx,5\n", "name,id");
  EXPECT_EQ(r.events, (E{id(2, 5)}));
  EXPECT_TRUE(r.header);
  r = parse(csv, "id,name\n5,x\n", "name,id");
  EXPECT_EQ(
      r.events,
      (E{bad(1, reject_reason::header_mismatch, "header has the id column at 1, --columns at 2: id,name", "id,name"),
         bad(2, reject_reason::header_mismatch, "5,x", "5,x")}));
  // A header naming the id where --columns does is taken, with its names.
  r = parse(tsv, "n\trecord_id\tto\nx\t5\t6\n", "name,id");
  EXPECT_EQ(r.events, (E{id(2, 5)}));
  EXPECT_EQ(hubbatch::io::to_string(*r.columns), "record_id (2); ignored: n (1), to (3)");
}

// ------------------------------------------------------------- ndjson -----

TEST(record_reader_ndjson, issue_14_id_and_from_keys) {
  const auto r = parse(ndjson,
                       "\xEF\xBB\xBF{\"id\":\"101\"}\r\n"
                       "{\"ID\":102}\n"
                       "\n"
                       "{\"from\":104,\"to\":9001,\"category\":\"bogus\"}\n"
                       "{\"fromObjectId\":\" 105 \"}\n"
                       "{\"from_id\":106}\n"
                       "{\"hs_object_id\":\"107\",\"properties\":{\"id\":1}}\n"
                       "{\"record_id\":108}\n"
                       "{\"object_id\":109}\n"
                       "{\"id\":1,\"from\":110}\n"
                       "{\"id\":1,\"id\":111}\n");
  EXPECT_EQ(r.events, (E{id(1, 101), id(2, 102), id(4, 104), id(5, 105), id(6, 106), id(7, 107), id(8, 108), id(9, 109),
                         id(10, 110), id(11, 111)}));
  EXPECT_FALSE(r.columns);
  EXPECT_FALSE(r.header);
}

TEST(record_reader_ndjson, issue_14_missing_and_bad_ids) {
  const auto r = parse(ndjson,
                       "{\"to\":9001}\n"
                       "{}\n"
                       "{\"id\":-1}\n"
                       "{\"id\":1.5}\n"
                       "{\"id\":\"1\\u0030\"}\n"
                       "{\"id\":null}\n"
                       "{\"id\":18446744073709551616}\n"
                       "{\"id\":\"\"}\n"
                       "101\n"
                       "{\"id\":1,}\n");
  EXPECT_EQ(
      r.events,
      (E{bad(1, reject_reason::missing_field,
             "no id/record_id/hs_object_id/object_id/from/from_id/fromObjectId key: {\"to\":9001}", "{\"to\":9001}"),
         bad(2, reject_reason::missing_field,
             "no id/record_id/hs_object_id/object_id/from/from_id/fromObjectId key: {}", "{}"),
         bad(3, reject_reason::bad_id, "-1", "{\"id\":-1}"), bad(4, reject_reason::bad_id, "1.5", "{\"id\":1.5}"),
         bad(5, reject_reason::bad_id, "1\\u0030", "{\"id\":\"1\\u0030\"}"),
         bad(6, reject_reason::bad_id, "null", "{\"id\":null}"),
         bad(7, reject_reason::id_out_of_range, "18446744073709551616", "{\"id\":18446744073709551616}"),
         bad(8, reject_reason::bad_id, "(empty)", "{\"id\":\"\"}"), bad(9, reject_reason::bad_json, "101", "101"),
         bad(10, reject_reason::bad_json, "{\"id\":1,}", "{\"id\":1,}")}));
}

// ------------------------------------------------------------ fast path ---

// The plain-line path (whole input) and the general path (a byte at a time,
// which never takes it) agree on every line, headers and odd cells included.
TEST(record_reader_csv, issue_14_plain_line_fast_path_agrees_with_the_general_path) {
  std::mt19937_64 rng(14);
  auto digits = [&](std::size_t n) {
    std::string d;
    for (std::size_t i = 0; i < n; ++i) d += static_cast<char>('0' + rng() % 10);
    return d;
  };
  auto cell = [&]() -> std::string {
    switch (rng() % 10) {
      case 0:
        return std::string("1").append(digits(19));  // 20 digits, may be out of range (not "1" + ...: GCC 12's
                                                     // -Wrestrict false positive)
      case 1:
        return digits(21);
      case 2:
        return "";
      case 3:
        return std::string("\"").append(digits(4)).append("\"");
      case 4:
        return digits(3) + "x";
      case 5:
        return digits(1 + rng() % 9) + static_cast<char>(rng() % 256) + digits(rng() % 9);  // any byte
      default:
        return digits(1 + rng() % 19);
    }
  };
  for (input_format f : {csv, tsv}) {
    const std::string d(1, f == tsv ? '\t' : ',');
    for (int round = 0; round < 300; ++round) {
      std::string input;
      switch (rng() % 6) {
        case 0:
          input += "id\n";
          break;
        case 1:
          input += "from_id" + d + "to_id\n";
          break;
        case 2:
          input += "to_id" + d + "from_id\n";
          break;  // the id in the second column
        case 3:
          input += "\n";
          break;
        default:
          break;
      }
      const int lines = 1 + static_cast<int>(rng() % 30);
      for (int i = 0; i < lines; ++i) {
        std::string line;
        switch (rng() % 8) {
          case 0:
            line = cell();
            break;
          case 1:
            line = cell() + d + cell();
            break;
          case 2:
            line = cell() + d + cell() + d + cell();
            break;
          case 3:
            line = digits(1 + rng() % 19) + d + digits(1 + rng() % 19);
            break;
          default:
            line = digits(1 + rng() % 19);
            break;
        }
        if (rng() % 8 == 0) line += "\r";
        input += line;
        if (i + 1 < lines || rng() % 2) input += "\n";
      }
      const std::size_t max_line = rng() % 3 ? 4096 : 10 + rng() % 30;
      SCOPED_TRACE(testing::Message() << "max_line " << max_line << " input:\n" << input);
      parse(f, input, "", ',', max_line);  // compares the two paths itself
      if (testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
