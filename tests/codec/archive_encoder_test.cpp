#include "codec/archive_encoder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using hubbatch::pair_id;
using hubbatch::codec::count_inputs;
using hubbatch::codec::encode_archive_body;

struct group {
  std::uint64_t from = 0;
  std::vector<std::uint64_t> to;
  friend bool operator==(const group&, const group&) = default;
};

// Runs of equal `from`, as the body must group them.
std::vector<group> expected_groups(const std::vector<pair_id>& pairs) {
  std::vector<group> out;
  for (const auto& p : pairs) {
    if (out.empty() || out.back().from != p.from) out.push_back({p.from, {}});
    out.back().to.push_back(p.to);
  }
  return out;
}

std::uint64_t id_of(simdjson::ondemand::value v) {
  std::string_view s;
  EXPECT_EQ(v["id"].get_string().get(s), simdjson::SUCCESS);
  std::uint64_t n = 0;
  for (char c : s) {
    EXPECT_TRUE(c >= '0' && c <= '9') << s;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  EXPECT_EQ(std::to_string(n), s) << "id not in canonical form";
  return n;
}

// Parses a body back with simdjson, asserting the exact shape.
std::vector<group> decode_body(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  EXPECT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  // Walk the whole document so trailing bytes and extra keys are caught.
  simdjson::ondemand::object root;
  EXPECT_EQ(doc.get_object().get(root), simdjson::SUCCESS);
  std::vector<group> out;
  int keys = 0;
  for (auto field : root) {
    ++keys;
    std::string_view key;
    EXPECT_EQ(field.unescaped_key().get(key), simdjson::SUCCESS);
    EXPECT_EQ(key, "inputs");
    simdjson::ondemand::array inputs;
    EXPECT_EQ(field.value().get_array().get(inputs), simdjson::SUCCESS);
    for (auto input : inputs) {
    group g;
    g.from = id_of(input["from"].value());
    simdjson::ondemand::array to;
    EXPECT_EQ(input["to"].get_array().get(to), simdjson::SUCCESS);
    for (auto t : to) g.to.push_back(id_of(t.value()));
    out.push_back(std::move(g));
    }
  }
  EXPECT_EQ(keys, 1);
  const char* rest = nullptr;
  EXPECT_EQ(doc.current_location().get(rest), simdjson::OUT_OF_BOUNDS) << "trailing bytes";
  return out;
}

TEST(count_inputs, runs_of_equal_from) {
  EXPECT_EQ(count_inputs({}), 0u);
  std::vector<pair_id> one{{1, 2}};
  EXPECT_EQ(count_inputs(one), 1u);
  std::vector<pair_id> runs{{1, 2}, {1, 3}, {2, 3}, {1, 4}, {1, 5}, {7, 7}};
  EXPECT_EQ(count_inputs(runs), 4u);  // 1 | 2 | 1 | 7: only consecutive pairs merge
}

TEST(encode_archive_body, exact_text) {
  std::string out;
  encode_archive_body({}, out);
  EXPECT_EQ(out, R"({"inputs":[]})");

  std::vector<pair_id> pairs{{101, 9001}, {101, 9002}, {102, 9003}};
  out.clear();
  encode_archive_body(pairs, out);
  EXPECT_EQ(out,
            R"({"inputs":[{"from":{"id":"101"},"to":[{"id":"9001"},{"id":"9002"}]},)"
            R"({"from":{"id":"102"},"to":[{"id":"9003"}]}]})");

  std::vector<pair_id> single{{0, std::numeric_limits<std::uint64_t>::max()}};
  out.clear();
  encode_archive_body(single, out);
  EXPECT_EQ(out, R"({"inputs":[{"from":{"id":"0"},"to":[{"id":"18446744073709551615"}]}]})");
}

TEST(encode_archive_body, appends_without_clearing) {
  std::string out = "prefix:";
  std::vector<pair_id> pairs{{1, 2}};
  encode_archive_body(pairs, out);
  EXPECT_EQ(out, R"(prefix:{"inputs":[{"from":{"id":"1"},"to":[{"id":"2"}]}]})");
}

TEST(encode_archive_body, round_trips_through_simdjson) {
  std::mt19937_64 rng(7);
  std::string out;
  for (int round = 0; round < 300; ++round) {
    std::vector<pair_id> pairs;
    const std::size_t n = rng() % 120;
    for (std::size_t i = 0; i < n; ++i) {
      // Few distinct froms so runs form; ids of every width.
      std::uint64_t from = (rng() % 4 == 0 && !pairs.empty()) ? pairs.back().from : rng() >> (rng() % 64);
      pairs.push_back({from, rng() >> (rng() % 64)});
    }
    out.clear();
    encode_archive_body(pairs, out);
    ASSERT_EQ(decode_body(out), expected_groups(pairs)) << out;
    ASSERT_EQ(expected_groups(pairs).size(), count_inputs(pairs));
  }
}

TEST(encode_archive_body, grows_the_buffer_at_most_once_and_reuses_it) {
  std::vector<pair_id> pairs;
  for (std::uint64_t i = 0; i < 100; ++i) pairs.push_back({std::numeric_limits<std::uint64_t>::max() - i / 3, i});
  std::string out;
  encode_archive_body(pairs, out);
  const std::size_t size = out.size();
  const char* data = out.data();
  out.clear();
  encode_archive_body(pairs, out);  // same size: no reallocation
  EXPECT_EQ(out.size(), size);
  EXPECT_EQ(out.data(), data);
}

}  // namespace
