// engine/read_output (issue 14): export's rows as CSV or NDJSON, appended
// to a file, written and synced on flush(); a write error is a value.
#include "engine/read_output.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/read_rows.hpp"
#include "support/test_data.hpp"

using namespace hubbatch;
using engine::output_format;
using engine::read_output;

namespace {

constexpr assoc_type billing = test::billing_row_type;
using test::read_row;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, output_format f, bool truncate, const std::vector<codec::read_row>& rows) {
  read_output out(path, f, truncate);
  out.rows(rows);
  ASSERT_TRUE(out.flush()) << out.error();
  EXPECT_EQ(out.rows_written(), rows.size());
}

}  // namespace

TEST(read_output, csv_has_its_header_once_and_appends_after_old_rows) {
  test::temp_dir dir;
  const auto path = dir.file("out.csv");
  write(path, output_format::csv, false, {read_row(1, 10), read_row(1, 10, billing, "Billing contact")});
  EXPECT_EQ(slurp(path),
            "from_id,to_id,category,type_id,label\n"
            "1,10,HUBSPOT_DEFINED,279,\n"
            "1,10,USER_DEFINED,36,Billing contact\n");
  write(path, output_format::csv, false, {read_row(18446744073709551615ULL, 2)});
  EXPECT_EQ(slurp(path),
            "from_id,to_id,category,type_id,label\n"
            "1,10,HUBSPOT_DEFINED,279,\n"
            "1,10,USER_DEFINED,36,Billing contact\n"
            "18446744073709551615,2,HUBSPOT_DEFINED,279,\n")
      << "appending: old rows kept, no second header";
  write(path, output_format::csv, true, {read_row(3, 30)});
  EXPECT_EQ(slurp(path), "from_id,to_id,category,type_id,label\n3,30,HUBSPOT_DEFINED,279,\n") << "truncated";
}

TEST(read_output, csv_header_goes_into_an_existing_empty_file) {
  test::temp_dir dir;
  const auto path = dir.file("empty.csv");
  std::ofstream(path).close();
  write(path, output_format::csv, false, {});
  EXPECT_EQ(slurp(path), "from_id,to_id,category,type_id,label\n") << "even with no rows";
}

TEST(read_output, csv_quotes_labels_with_commas_quotes_and_newlines) {
  test::temp_dir dir;
  const auto path = dir.file("out.csv");
  write(path, output_format::csv, false,
        {read_row(1, 2, billing, "Billing, EMEA"), read_row(1, 3, billing, "the \"final\" one"),
         read_row(1, 4, billing, "a\nb"), read_row(1, 5, billing, "Décideur;tab\there")});
  EXPECT_EQ(slurp(path),
            "from_id,to_id,category,type_id,label\n"
            "1,2,USER_DEFINED,36,\"Billing, EMEA\"\n"
            "1,3,USER_DEFINED,36,\"the \"\"final\"\" one\"\n"
            "1,4,USER_DEFINED,36,\"a\nb\"\n"
            "1,5,USER_DEFINED,36,Décideur;tab\there\n");
}

TEST(read_output, csv_a_row_without_a_type_keeps_five_columns) {
  test::temp_dir dir;
  const auto path = dir.file("out.csv");
  write(path, output_format::csv, false, {read_row(7, 8, assoc_type{})});
  EXPECT_EQ(slurp(path), "from_id,to_id,category,type_id,label\n7,8,,,\n");
}

TEST(read_output, ndjson_escapes_labels_and_writes_nulls) {
  test::temp_dir dir;
  const auto path = dir.file("out.ndjson");
  write(path, output_format::ndjson, false,
        {read_row(101, 9001), read_row(101, 9002, billing, "say \"hi\"\\ \x01\t"), read_row(5, 6, assoc_type{}),
         read_row(5, 7, billing, std::string("bad \xff utf8 é"))});
  EXPECT_EQ(slurp(path),
            "{\"from_id\":\"101\",\"to_id\":\"9001\",\"category\":\"HUBSPOT_DEFINED\",\"type_id\":279,\"label\":null}\n"
            "{\"from_id\":\"101\",\"to_id\":\"9002\",\"category\":\"USER_DEFINED\",\"type_id\":36,"
            "\"label\":\"say \\\"hi\\\"\\\\ \\u0001\\t\"}\n"
            "{\"from_id\":\"5\",\"to_id\":\"6\",\"category\":null,\"type_id\":null,\"label\":null}\n"
            "{\"from_id\":\"5\",\"to_id\":\"7\",\"category\":\"USER_DEFINED\",\"type_id\":36,"
            "\"label\":\"bad \\ufffd utf8 é\"}\n");
}

TEST(read_output, ndjson_has_no_header) {
  test::temp_dir dir;
  const auto path = dir.file("out.ndjson");
  write(path, output_format::ndjson, false, {});
  EXPECT_EQ(slurp(path), "");
}

TEST(read_output, rows_wait_in_memory_until_flush_or_a_full_buffer) {
  test::temp_dir dir;
  const auto path = dir.file("out.csv");
  read_output out(path, output_format::csv, false);
  out.rows(std::vector<codec::read_row>{read_row(1, 2)});
  EXPECT_EQ(slurp(path), "") << "nothing written before flush()";
  std::vector<codec::read_row> many(20'000, read_row(123456789012, 987654321098, billing, "Billing contact"));
  out.rows(many);
  EXPECT_GT(slurp(path).size(), 256u * 1024) << "a full buffer is written out";
  ASSERT_TRUE(out.flush()) << out.error();
  const auto text = slurp(path);
  EXPECT_EQ(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), 1 + 1 + many.size());
  EXPECT_EQ(out.rows_written(), 1 + many.size());
}

TEST(read_output, a_full_disk_is_reported_by_flush_not_thrown) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  read_output out("/dev/full", output_format::csv, false);
  EXPECT_NO_THROW(out.rows(std::vector<codec::read_row>{read_row(1, 2)}));
  EXPECT_FALSE(out.flush());
  EXPECT_NE(out.error().find("/dev/full"), std::string::npos) << out.error();
  EXPECT_NE(out.error().find("No space"), std::string::npos) << out.error();
  // Later rows are dropped, and the error stays.
  std::vector<codec::read_row> many(20'000, read_row(1, 2, billing, "Billing contact"));
  EXPECT_NO_THROW(out.rows(many));
  EXPECT_FALSE(out.flush());
  EXPECT_FALSE(out.error().empty());
}

TEST(read_output, a_full_buffer_on_a_full_disk_is_an_error_value_too) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  read_output out("/dev/full", output_format::ndjson, true);
  std::vector<codec::read_row> many(20'000, read_row(1, 2, billing, "Billing contact"));
  EXPECT_NO_THROW(out.rows(many));
  EXPECT_FALSE(out.error().empty()) << "the write that a full buffer triggers failed";
  EXPECT_FALSE(out.flush());
}

TEST(read_output, an_output_that_cannot_be_opened_throws_naming_it) {
  test::temp_dir dir;
  const auto path = dir.file("no/such/dir/out.csv");
  try {
    read_output out(path, output_format::csv, false);
    FAIL() << "opened " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}
