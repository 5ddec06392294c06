#include "codec/labels.hpp"

#include <simdjson.h>

namespace hubbatch::codec {

std::optional<std::vector<portal_label>> decode_labels(const std::string& body, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body).get(doc)) {
    error = std::string("not JSON: ") + simdjson::error_message(err);
    return std::nullopt;
  }
  simdjson::dom::array results;
  if (doc["results"].get_array().get(results)) {
    error = "no results[] array";
    return std::nullopt;
  }
  std::vector<portal_label> out;
  for (simdjson::dom::element item : results) {
    std::string_view category;
    if (item["category"].get_string().get(category)) continue;
    auto cat = parse_assoc_category(category);
    std::int64_t id = 0;
    if (!cat || item["typeId"].get_int64().get(id) || id < 1 || id > 2147483647) continue;
    portal_label l;
    l.type = assoc_type{static_cast<std::int32_t>(id), *cat};
    std::string_view label;
    if (!item["label"].get_string().get(label)) {
      l.label.assign(label);
      for (char& c : l.label)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace hubbatch::codec
