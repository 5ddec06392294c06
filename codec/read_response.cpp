#include "codec/read_response.hpp"

#include <simdjson.h>

#include <limits>

#include "codec/error_items.hpp"
#include "io/decimal.hpp"

namespace hubbatch::codec {

namespace sj = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

namespace {

using detail::trim_ws;

// A decimal id, as a string ("101") or a number (9001); false otherwise.
error_code take_id(sj::value& v, std::uint64_t& id, bool& ok) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  ok = false;
  if (t == sj::json_type::string) {
    std::string_view s;
    HUBBATCH_TRY(v.get_string().get(s));
    ok = io::parse_u64(s, id);
  } else if (t == sj::json_type::number) {
    ok = io::parse_u64(trim_ws(v.raw_json_token()), id);
  }
  return SUCCESS;
}

// {"id":"101"}
error_code take_object_id(sj::value& v, std::uint64_t& id, bool& ok) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) return SUCCESS;
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    if (key == "id") HUBBATCH_TRY(take_id(f.value(), id, ok));
  }
  return SUCCESS;
}

// A label: cut to max_label_bytes at a UTF-8 boundary, made printable.
void keep_label(std::string_view s, std::string& out) {
  if (s.size() > max_label_bytes) {
    std::size_t n = max_label_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] starts the cut part
    s = s.substr(0, n);
  }
  out.assign(s);
  detail::make_printable(out);
}

// One associationTypes[] element into `row` (type and label); false when
// its category or type id does not decode.
error_code take_type(sj::value& v, read_row& row, bool& ok) {
  ok = false;
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) return SUCCESS;
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  std::optional<assoc_category> category;
  std::optional<std::int32_t> id;
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    HUBBATCH_TRY(value.type().get(t));
    std::string_view s;
    if (key == "category" && t == sj::json_type::string) {
      HUBBATCH_TRY(value.get_string().get(s));
      category = parse_assoc_category(s);
    } else if (key == "typeId" && t == sj::json_type::number) {
      id = parse_assoc_type_id(trim_ws(value.raw_json_token()));
    } else if (key == "label") {
      row.label.clear();
      if (t == sj::json_type::string) {
        HUBBATCH_TRY(value.get_string().get(s));
        keep_label(s, row.label);
      }
    }
  }
  if (!category || !id) return SUCCESS;
  row.type = assoc_type{*id, *category};
  ok = true;
  return SUCCESS;
}

// One to[] element: {"toObjectId":9001,"associationTypes":[...]}; rows with
// from left 0 (the caller fills it in).
error_code take_to(sj::value& v, decoded_read& out) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) {
    ++out.skipped;
    return SUCCESS;
  }
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  const std::size_t first = out.rows.size();
  std::uint64_t to = 0;
  bool has_to = false;
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    if (key == "toObjectId") {
      HUBBATCH_TRY(take_id(value, to, has_to));
    } else if (key == "associationTypes") {
      HUBBATCH_TRY(value.type().get(t));
      if (t != sj::json_type::array) continue;
      sj::array a;
      HUBBATCH_TRY(value.get_array().get(a));
      for (auto item_result : a) {
        sj::value item;
        HUBBATCH_TRY(item_result.get(item));
        read_row row;
        bool ok = false;
        HUBBATCH_TRY(take_type(item, row, ok));
        if (ok) {
          out.rows.push_back(std::move(row));
        } else {
          ++out.skipped;
        }
      }
    }
  }
  if (!has_to) {
    out.rows.resize(first);
    ++out.skipped;
    return SUCCESS;
  }
  if (out.rows.size() == first) out.rows.emplace_back();  // associated, with no type we could read
  for (std::size_t i = first; i < out.rows.size(); ++i) out.rows[i].to = to;
  return SUCCESS;
}

// paging: {"next":{"after":"CURSOR","link":"…"}}; `after` set when present.
error_code take_paging(sj::value& v, std::string& after, bool& has_next) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) return SUCCESS;
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    if (key != "next") continue;
    sj::value& next = f.value();
    HUBBATCH_TRY(next.type().get(t));
    if (t != sj::json_type::object) continue;
    sj::object n;
    HUBBATCH_TRY(next.get_object().get(n));
    for (auto inner_result : n) {
      sj::field g;
      HUBBATCH_TRY(std::move(inner_result).get(g));
      HUBBATCH_TRY(g.unescaped_key().get(key));
      if (key != "after") continue;
      HUBBATCH_TRY(g.value().type().get(t));
      if (t == sj::json_type::null) continue;
      has_next = true;
      after.clear();
      std::string_view s;
      if (t == sj::json_type::string) HUBBATCH_TRY(g.value().get_string().get(s));
      if (t == sj::json_type::number) s = trim_ws(g.value().raw_json_token());  // tolerated: sent back as text
      bool fit = !s.empty() && s.size() <= max_cursor_bytes;
      for (char c : s) fit = fit && c > 0x20 && c < 0x7f && c != '"' && c != '\\';
      if (fit) after.assign(s);
    }
  }
  return SUCCESS;
}

// One results[] element.
error_code take_result(sj::value& v, decoded_read& out) {
  sj::json_type t;
  HUBBATCH_TRY(v.type().get(t));
  if (t != sj::json_type::object) {
    ++out.skipped;
    return SUCCESS;
  }
  sj::object o;
  HUBBATCH_TRY(v.get_object().get(o));
  const std::size_t first = out.rows.size();
  const std::uint64_t skipped_before = out.skipped;
  std::uint64_t from = 0;
  bool has_from = false, has_next = false;
  std::string after;
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    if (key == "from") {
      HUBBATCH_TRY(take_object_id(value, from, has_from));
    } else if (key == "to") {
      HUBBATCH_TRY(value.type().get(t));
      if (t != sj::json_type::array) continue;
      sj::array a;
      HUBBATCH_TRY(value.get_array().get(a));
      for (auto item_result : a) {
        sj::value item;
        HUBBATCH_TRY(item_result.get(item));
        HUBBATCH_TRY(take_to(item, out));
      }
    } else if (key == "paging") {
      HUBBATCH_TRY(take_paging(value, after, has_next));
    }
  }
  if (!has_from) {  // rows of nobody: the whole item counts as one skipped part
    out.rows.resize(first);
    out.skipped = skipped_before + 1;
    return SUCCESS;
  }
  for (std::size_t i = first; i < out.rows.size(); ++i) out.rows[i].from = from;
  if (has_next) out.next.push_back(read_next{from, std::move(after)});
  return SUCCESS;
}

error_code decode_object(sj::document& doc, decoded_read& out, std::optional<std::int64_t>& num_errors) {
  sj::object o;
  HUBBATCH_TRY(doc.get_object().get(o));
  std::vector<std::string> scopes;  // not kept: a read answer's errors name records, not scopes
  for (auto field_result : o) {
    sj::field f;
    HUBBATCH_TRY(std::move(field_result).get(f));
    std::string_view key;
    HUBBATCH_TRY(f.unescaped_key().get(key));
    sj::value& value = f.value();
    sj::json_type t;
    HUBBATCH_TRY(value.type().get(t));
    std::string_view s;
    if (key == "results" && t == sj::json_type::array) {
      sj::array a;
      HUBBATCH_TRY(value.get_array().get(a));
      for (auto item_result : a) {
        sj::value item;
        HUBBATCH_TRY(item_result.get(item));
        HUBBATCH_TRY(take_result(item, out));
      }
    } else if (key == "errors") {
      HUBBATCH_TRY(detail::take_error_items(value, out.errors, scopes));
    } else if (key == "numErrors" && t == sj::json_type::number) {
      std::uint64_t n = 0;
      if (io::parse_u64(trim_ws(value.raw_json_token()), n,
                        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())))
        num_errors = static_cast<std::int64_t>(n);
    } else if (key == "status" && t == sj::json_type::string) {
      HUBBATCH_TRY(value.get_string().get(s));
      out.status.assign(s.substr(0, 64));
    } else if (key == "message" && t == sj::json_type::string) {
      HUBBATCH_TRY(value.get_string().get(s));
      out.message.assign(s.substr(0, 1024));
    }
  }
  // Trailing bytes make the body invalid (current_location fails exactly at the end).
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == SUCCESS) return simdjson::TRAILING_CONTENT;
  return SUCCESS;
}

#undef HUBBATCH_TRY

}  // namespace

void decoded_read::clear() {
  kind = body_kind::empty;
  status.clear();
  message.clear();
  rows.clear();
  next.clear();
  errors.clear();
  num_errors = 0;
  skipped = 0;
}

constexpr std::size_t max_kept_capacity = 512 * 1024;

struct read_response_decoder::impl {
  sj::parser parser;
};

read_response_decoder::read_response_decoder() : impl_(std::make_unique<impl>()) {}
read_response_decoder::~read_response_decoder() = default;

void read_response_decoder::decode(std::string& body, decoded_read& out) {
  out.clear();
  std::optional<std::int64_t> num_errors;
  std::string excerpt;
  const body_kind kind = detail::parse_object(body, impl_->parser, excerpt, [&](sj::document& doc) {
    return decode_object(doc, out, num_errors);
  });
  // The parser keeps index room of about four bytes per byte of the largest
  // body it saw; one per connection must not hold that for a few big pages.
  if (impl_->parser.capacity() > max_kept_capacity) impl_->parser = sj::parser{};
  if (kind != body_kind::json_object) {
    out.clear();
    out.kind = kind;
    out.message = std::move(excerpt);
    return;
  }
  out.kind = body_kind::json_object;
  detail::make_printable(out.status);
  detail::make_printable(out.message);
  for (auto& e : out.errors) detail::make_printable(e);
  out.num_errors = num_errors ? *num_errors : static_cast<std::int64_t>(out.errors.size());
}

}  // namespace hubbatch::codec
