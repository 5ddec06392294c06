// The streaming decoder: plain bytes pass through, gzip (by magic bytes) is
// inflated whatever the chunking, concatenated members are read in turn,
// corrupt or truncated gzip is an error.
#include "io/input_decoder.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace hubbatch;

namespace {

std::string gzip(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct collect : io::pair_sink {
  std::vector<pair_id> pairs;
  std::vector<std::uint64_t> rejected_lines;
  void on_pair(pair_id p, std::uint64_t) override { pairs.push_back(p); }
  void on_reject(std::uint64_t line, io::reject_reason, std::string_view, std::string_view) override {
    rejected_lines.push_back(line);
  }
};

collect decode(const std::string& raw, std::size_t chunk) {
  collect sink;
  io::pair_parser parser(io::input_format::csv);
  io::input_decoder d("test.csv");
  for (std::size_t i = 0; i < raw.size(); i += chunk) d.feed(std::string_view(raw).substr(i, chunk), parser, sink);
  d.finish(parser, sink);
  parser.finish(sink);
  return sink;
}

std::string many_pairs(int n, int base) {
  std::string s = "from_id,to_id\n";
  for (int i = 0; i < n; ++i) s += std::to_string(base + i) + "," + std::to_string(9 * (base + i)) + "\n";
  return s;
}

}  // namespace

TEST(input_decoder, plain_and_gzip_give_the_same_pairs_whatever_the_chunking) {
  std::string text = many_pairs(50000, 1) + "bad,line\n";  // inflates to more than one output buffer
  std::string gz = gzip(text);
  ASSERT_LT(gz.size(), text.size());
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{65536}, gz.size()}) {
    auto plain = decode(text, chunk);
    auto inflated = decode(gz, chunk);
    ASSERT_EQ(plain.pairs.size(), 50000u) << chunk;
    EXPECT_EQ(inflated.pairs.size(), plain.pairs.size()) << chunk;
    EXPECT_EQ(inflated.pairs.back().from, 50000u);
    EXPECT_EQ(inflated.rejected_lines, std::vector<std::uint64_t>{50002}) << chunk;
  }
}

TEST(input_decoder, concatenated_members_are_read_in_turn) {
  std::string gz = gzip(many_pairs(10, 1)) + gzip("11,99\n12,108\n");
  EXPECT_EQ(decode(gz, 3).pairs.size(), 12u);
  EXPECT_EQ(decode(gz, gz.size()).pairs.size(), 12u);
}

TEST(input_decoder, truncated_or_corrupt_gzip_is_an_error) {
  std::string gz = gzip(many_pairs(1000, 1));
  EXPECT_THROW(decode(gz.substr(0, gz.size() / 2), 100), std::runtime_error);
  std::string corrupt = gz;
  corrupt[gz.size() / 2] = static_cast<char>(corrupt[gz.size() / 2] ^ 0x5a);
  try {
    decode(corrupt, 100);
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("test.csv"), std::string::npos) << e.what();
  }
}

TEST(input_decoder, one_byte_input_is_plain) {
  EXPECT_EQ(decode("\n", 1).pairs.size(), 0u);
  EXPECT_EQ(decode("1,2", 1).pairs.size(), 1u);
}
