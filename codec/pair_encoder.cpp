#include "codec/pair_encoder.hpp"

#include "io/decimal.hpp"

namespace hubbatch::codec {

void encode_pair_inputs(std::span<const pair_id> pairs, bool with_types, std::string& out) {
  // About 40 bytes of ids and punctuation an input, 80 more with a type.
  out.reserve(out.size() + 16 + pairs.size() * (with_types ? 128 : 48));
  out += "{\"inputs\":[";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const pair_id& p = pairs[i];
    out += i == 0 ? "{\"from\":{\"id\":\"" : ",{\"from\":{\"id\":\"";
    io::append_u64(out, p.from);
    out += "\"},\"to\":{\"id\":\"";
    io::append_u64(out, p.to);
    out += "\"}";
    if (with_types) {
      out += ",\"types\":[{\"associationCategory\":\"";
      out += to_string(p.type.category);
      out += "\",\"associationTypeId\":";
      io::append_u64(out, static_cast<std::uint64_t>(p.type.id));
      out += "}]";
    }
    out += '}';
  }
  out += "]}";
}

void encode_read_inputs(std::span<const pair_id> pairs, std::span<const std::string> after, std::string& out) {
  out.reserve(out.size() + 16 + pairs.size() * 32);
  out += "{\"inputs\":[";
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0 && pairs[i].from == pairs[i - 1].from) continue;
    out += i == 0 ? "{\"id\":\"" : ",{\"id\":\"";
    io::append_u64(out, pairs[i].from);
    out += '"';
    if (i < after.size() && !after[i].empty()) {
      out += ",\"after\":\"";
      out += after[i];
      out += '"';
    }
    out += '}';
  }
  out += "]}";
}

}  // namespace hubbatch::codec
