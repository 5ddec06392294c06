#include "io/input_decoder.hpp"

#include <zlib.h>

#include <stdexcept>
#include <vector>

namespace hubbatch::io {

struct input_decoder::impl {
  std::string name;
  enum class mode { undecided, plain, gzip } m = mode::undecided;
  std::string head;  // up to 2 bytes held until the format is known
  z_stream zs{};
  bool z_init = false;
  bool member_open = false;
  std::vector<char> out = std::vector<char>(64 * 1024);

  ~impl() {
    if (z_init) inflateEnd(&zs);
  }

  void inflate_chunk(std::string_view raw, pair_parser& parser, pair_sink& sink) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    zs.avail_in = static_cast<uInt>(raw.size());
    while (zs.avail_in > 0) {
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        throw std::runtime_error(name + ": corrupt gzip data" + (zs.msg ? std::string(": ") + zs.msg : ""));
      parser.feed(std::string_view(out.data(), out.size() - zs.avail_out), sink);
      member_open = rc != Z_STREAM_END;
      if (rc == Z_STREAM_END) inflateReset(&zs);  // another member may follow
      else if (rc == Z_BUF_ERROR && zs.avail_out != 0) break;
    }
  }

  void decide(pair_parser& parser, pair_sink& sink) {
    bool gz = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
              static_cast<unsigned char>(head[1]) == 0x8b;
    if (gz) {
      if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error(name + ": zlib init failed");
      z_init = true;
      m = mode::gzip;
      member_open = true;
      inflate_chunk(head, parser, sink);
    } else {
      m = mode::plain;
      parser.feed(head, sink);
    }
    head.clear();
  }

  // Large chunks decide on their own first bytes without copying them.
  void feed(std::string_view raw, pair_parser& parser, pair_sink& sink) {
    if (raw.empty()) return;
    if (m == mode::undecided) {
      std::size_t take = std::min<std::size_t>(2 - head.size(), raw.size());
      head.append(raw.substr(0, take));
      raw.remove_prefix(take);
      if (head.size() < 2) return;
      decide(parser, sink);
    }
    if (raw.empty()) return;
    if (m == mode::plain) parser.feed(raw, sink);
    else inflate_chunk(raw, parser, sink);
  }

  void finish(pair_parser& parser, pair_sink& sink) {
    if (m == mode::undecided) {
      if (!head.empty()) {
        m = mode::plain;
        parser.feed(head, sink);
        head.clear();
      }
      return;
    }
    if (m != mode::gzip) return;
    while (member_open) {  // flush what inflate still holds
      zs.next_in = nullptr;
      zs.avail_in = 0;
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&zs, Z_NO_FLUSH);
      parser.feed(std::string_view(out.data(), out.size() - zs.avail_out), sink);
      if (rc == Z_STREAM_END) member_open = false;
      else if (rc != Z_OK || zs.avail_out != 0) throw std::runtime_error(name + ": truncated gzip data");
    }
  }
};

input_decoder::input_decoder(std::string name) : impl_(std::make_unique<impl>()) { impl_->name = std::move(name); }
input_decoder::~input_decoder() = default;
void input_decoder::feed(std::string_view raw, pair_parser& parser, pair_sink& sink) { impl_->feed(raw, parser, sink); }
void input_decoder::finish(pair_parser& parser, pair_sink& sink) { impl_->finish(parser, sink); }
bool input_decoder::gzip() const noexcept { return impl_->m == impl::mode::gzip; }

}  // namespace hubbatch::io
