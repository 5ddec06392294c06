// batch/read (docs/hubspot-api.md §1.3, §9): each input's record and the
// records associated with it of the other type, one page per input, with
// their types in the request's direction and labels by name.
//
// Shapes chosen where HubSpot's are unknown:
// - a page holds --read-page-size associated records (default 500), sorted
//   by to-id; paging.next.after is set only when more follow;
// - the cursor is base64 of the page's last to-id in decimal ("9001" →
//   "OTAwMQ=="): opaque to clients, stable while pairs are created or
//   archived between pages (the next page starts above that id). Anything
//   else in `after` fails the request with 400 VALIDATION_ERROR;
// - a record with nothing (more) to list is an errors[] item
//   NO_ASSOCIATIONS_FOUND, a record --objects does not list one with
//   VALIDATION_ERROR INVALID_OBJECT_IDS; either makes the answer 207 (v4,
//   2025-09, 2026-03) or 200 with the errors inside (2026-09, whose spec
//   dropped 207);
// - inputs are answered in request order, a repeated id each time.
#include <algorithm>
#include <limits>

#include "io/decimal.hpp"
#include "io/text.hpp"
#include "sandbox/handler_detail.hpp"

namespace hubbatch::sandbox {

using io::append_json_escaped;
using io::append_u64;

namespace {

constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void append_cursor(std::string& out, std::uint64_t last) {
  char digits[20];
  char* end = io::write_u64(digits, last);
  const auto n = static_cast<std::size_t>(end - digits);
  for (std::size_t i = 0; i < n; i += 3) {
    std::uint32_t v = static_cast<unsigned char>(digits[i]) << 16;
    if (i + 1 < n) v |= static_cast<unsigned char>(digits[i + 1]) << 8;
    if (i + 2 < n) v |= static_cast<unsigned char>(digits[i + 2]);
    out += b64[v >> 18 & 63];
    out += b64[v >> 12 & 63];
    out += i + 1 < n ? b64[v >> 6 & 63] : '=';
    out += i + 2 < n ? b64[v & 63] : '=';
  }
}

// The to-id a cursor of append_cursor() stands for; false for anything that
// is not exactly such a cursor (re-encoding must give the same text).
bool parse_cursor(std::string_view text, std::uint64_t& last) {
  if (text.empty() || text.size() % 4 || text.size() > 28) return false;
  std::string digits;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char ch = text[i + k];
      const char* at = ch ? std::char_traits<char>::find(b64, 64, ch) : nullptr;
      if (ch == '=' && k >= 2) {
        ++pad;
        v <<= 6;
      } else if (at && !pad) {
        v = v << 6 | static_cast<std::uint32_t>(at - b64);
      } else {
        return false;
      }
    }
    digits += static_cast<char>(v >> 16);
    if (pad < 2) digits += static_cast<char>(v >> 8 & 255);
    if (pad < 1) digits += static_cast<char>(v & 255);
  }
  if (!io::parse_u64(digits, last)) return false;
  std::string again;
  append_cursor(again, last);
  return again == text;
}

}  // namespace

// Every `after` must be a cursor this sandbox hands out. The one for the
// largest id never is: nothing can follow it.
bool request_handler::check_cursors(api_call& c) {
  auto& s = c.s;
  const auto reads = s.decoder.reads();
  s.read_min.assign(reads.size(), 0);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const std::string_view after = s.decoder.after_of(reads[i]);
    if (after.empty()) continue;
    std::uint64_t last = 0;
    if (parse_cursor(after, last) && last != std::numeric_limits<std::uint64_t>::max()) {
      s.read_min[i] = last + 1;
      continue;
    }
    s.message = "Invalid paging cursor for ";
    s.message += c.from_type->singular;
    s.message += ' ';
    append_u64(s.message, reads[i].id);
    s.message += ": '";
    s.message.append(after.substr(0, 64));
    s.message += "' is not an `after` value this API returned";
    error_head(s.body, s.message, c.id);
    s.body += ",\"category\":\"VALIDATION_ERROR\",\"context\":{\"fromObjectId\":[\"";
    append_u64(s.body, reads[i].id);
    s.body += "\"]}}";
    return answer_json_error(c, 400, sandbox_errc::bad_cursor);
  }
  return false;
}

void request_handler::apply_read(api_call& c) {
  auto& s = c.s;
  const auto reads = s.decoder.reads();
  const object_type& from_type = *c.from_type;
  const object_type& to_type = *c.to_type;
  c.table = store_.find(from_type, to_type);
  if (fault_after_apply(c)) return;  // a read changes nothing: "after apply" is after looking
  std::string errors;
  std::size_t answered = 0;
  s.body = "{\"status\":\"COMPLETE\",\"results\":[";
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const std::uint64_t id = reads[i].id;
    if (!records_.exists(from_type, id)) {
      s.message = "No ";
      s.message += from_type.singular;
      s.message += " with id ";
      append_u64(s.message, id);
      s.message += " exists";
      append_error_item(errors, "crm.associations.INVALID_OBJECT_IDS", s.message, &id, nullptr);
      ++c.failed;
      continue;
    }
    bool more = false;
    s.to_ids.clear();
    if (c.table.t) more = c.table.t->associated(id, !c.table.swapped, s.read_min[i], cfg_.read_page_size, s.to_ids);
    if (s.to_ids.empty()) {
      if (!errors.empty()) errors += ',';
      errors +=
          "{\"status\":\"error\",\"category\":\"OBJECT_NOT_FOUND\","
          "\"subCategory\":\"crm.associations.NO_ASSOCIATIONS_FOUND\",\"message\":\"No ";
      append_json_escaped(errors, to_type.singular);
      errors += " is associated with ";
      append_json_escaped(errors, from_type.singular);
      errors += ' ';
      append_u64(errors, id);
      errors += ".\",\"context\":{\"fromObjectId\":[\"";
      append_u64(errors, id);
      errors += "\"],\"fromObjectType\":[\"";
      append_json_escaped(errors, from_type.singular);
      errors += "\"],\"toObjectType\":[\"";
      append_json_escaped(errors, to_type.singular);
      errors += "\"]},\"errors\":[]}";
      ++c.failed;
      continue;
    }
    if (answered++) s.body += ',';
    read_result(c, id, more);
  }
  s.body += ']';
  finish_batch_body(s.body, c.failed, errors, c.in.now.unix_ms);
  ++stats_.read_requests;
  stats_.read_records += answered;
  const int status = c.failed && c.r.version != "2026-09" ? 207 : 200;
  answer(c, status, json_type, s.body, c.failed ? sandbox_errc::input_errors : sandbox_errc::ok);
}

// {"from":{"id":"101"},"to":[{"toObjectId":9001,"associationTypes":[...]}],"paging":{"next":{"after":"…"}}}
void request_handler::read_result(api_call& c, std::uint64_t id, bool more) {
  auto& s = c.s;
  const object_type& from_type = *c.from_type;
  const object_type& to_type = *c.to_type;
  std::string& b = s.body;
  b += "{\"from\":{\"id\":\"";
  append_u64(b, id);
  b += "\"},\"to\":[";
  for (std::size_t k = 0; k < s.to_ids.size(); ++k) {
    const std::uint64_t to = s.to_ids[k];
    if (k) b += ',';
    b += "{\"toObjectId\":";
    append_u64(b, to);  // a number in read answers (the spec's PublicAssociationMultiWithLabel)
    b += ",\"associationTypes\":[";
    // The pair's types as stored, turned to the request's direction.
    c.table.t->types_of_associated(c.table.oriented(pair_id{id, to}), s.stored);
    s.types.clear();
    for (auto t : s.stored) s.types.push_back(c.table.swapped ? types_.reverse(to_type, from_type, t) : t);
    std::sort(s.types.begin(), s.types.end(), [](assoc_type x, assoc_type y) {  // HUBSPOT_DEFINED first, as HubSpot's
      return std::pair(x.category, x.id) < std::pair(y.category, y.id);         // example answer lists them
    });
    for (std::size_t j = 0; j < s.types.size(); ++j) {
      const assoc_type t = s.types[j];
      if (j) b += ',';
      b += "{\"category\":\"";
      b += to_string(t.category);
      b += "\",\"typeId\":";
      append_u64(b, static_cast<std::uint64_t>(t.id));
      b += ",\"label\":";
      const std::string_view label = types_.label_of(from_type, to_type, t);
      if (label.empty()) {
        b += "null";
      } else {
        b += '"';
        append_json_escaped(b, label);
        b += '"';
      }
      b += '}';
    }
    b += "]}";
  }
  b += ']';
  if (more) {
    b += ",\"paging\":{\"next\":{\"after\":\"";
    append_cursor(b, s.to_ids.back());
    b += "\"}}";
  }
  b += '}';
}

}  // namespace hubbatch::sandbox
