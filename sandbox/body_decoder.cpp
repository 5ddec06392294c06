#include "sandbox/body_decoder.hpp"

#include "io/decimal.hpp"

#include <string>
#include <utility>

namespace hubbatch::sandbox {

namespace od = simdjson::ondemand;

namespace {

using io::append_u64;

// One decode: the body, what it is, where the message goes.
struct decode_call {
  body_decoder::buffers& s;
  std::string& body;
  body_kind kind;
  std::string& message;  // filled on failure

  bool one_to() const { return kind != body_kind::archive; }

  std::pair<int, int> line_col(const char* p) const {
    if (p < body.data() || p > body.data() + body.size()) p = body.data() + body.size();
    int line = 1, col = 1;
    for (const char* q = body.data(); q < p; ++q) {
      if (*q == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return {line, col};
  }

  void located(const char* p, std::string_view what) {
    auto [line, col] = line_col(p);
    message = "Invalid input JSON on line ";
    append_u64(message, static_cast<std::uint64_t>(line));
    message += ", column ";
    append_u64(message, static_cast<std::uint64_t>(col));
    message += ": ";
    message += what;
  }

  decode_result syntax_error(od::document& doc, simdjson::error_code ec) {
    const char* p = nullptr;
    if (doc.current_location().get(p) != simdjson::SUCCESS) p = body.data() + body.size();
    if (ec == simdjson::INCOMPLETE_ARRAY_OR_OBJECT || ec == simdjson::UNCLOSED_STRING ||
        p >= body.data() + body.size()) {
      located(body.data() + body.size(), "Unexpected end-of-input");
    } else {
      std::string what = "Unexpected character ('";
      char c = *p;
      if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') what.push_back(c);
      what += "' (code ";
      append_u64(what, static_cast<unsigned char>(c));
      what += ")): ";
      what += simdjson::error_message(ec);
      located(p, what);
    }
    return decode_result::syntax;
  }

  static const char* token_name(od::json_type t) {
    switch (t) {
      case od::json_type::array: return "Array value (token `JsonToken.START_ARRAY`)";
      case od::json_type::object: return "Object value (token `JsonToken.START_OBJECT`)";
      case od::json_type::number: return "Integer value (token `JsonToken.VALUE_NUMBER_INT`)";
      case od::json_type::string: return "String value (token `JsonToken.VALUE_STRING`)";
      case od::json_type::boolean: return "Boolean value (token `JsonToken.VALUE_TRUE`)";
      case od::json_type::null: return "Null value (token `JsonToken.VALUE_NULL`)";
    }
    return "value";
  }

  template <class V>
  decode_result shape_error(V& v, od::json_type t, std::string_view java_type) {
    const char* p = v.raw_json_token().data();
    std::string what = "Cannot deserialize value of type `";
    what += java_type;
    what += "` from ";
    what += token_name(t);
    located(p, what);
    return decode_result::shape;
  }

  decode_result missing_property(const char* at, std::string_view name) {
    std::string what = "Missing required creator property '";
    what += name;
    what += '\'';
    located(at, what);
    return decode_result::shape;
  }

  // {"id":"123"} → id
  decode_result object_id(od::document& doc, od::value v, std::uint64_t& id) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object) return shape_error(v, t, "PublicObjectId");
    const char* start = v.raw_json_token().data();
    od::object o;
    if (auto ec = v.get_object().get(o)) return syntax_error(doc, ec);
    bool seen = false;
    for (auto field : o) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      if (key != "id") continue;
      od::value iv;
      if (auto ec = field.value().get(iv)) return syntax_error(doc, ec);
      if (auto r = id_value(doc, iv, id, seen); r != decode_result::ok) return r;
    }
    if (!seen) return missing_property(start, "id");
    return decode_result::ok;
  }

  // The value of an "id" member: a string of digits (null: as if absent).
  decode_result id_value(od::document& doc, od::value iv, std::uint64_t& id, bool& seen) {
    od::json_type t;
    if (auto ec = iv.type().get(t)) return syntax_error(doc, ec);
    if (t == od::json_type::null) return decode_result::ok;
    if (t != od::json_type::string) return shape_error(iv, t, "java.lang.String");
    std::string_view text;
    if (auto ec = iv.get_string().get(text)) return syntax_error(doc, ec);
    if (!io::parse_u64(text, id)) {
      message = "Invalid object id: '";
      message.append(text.substr(0, 64));
      message += "' is not a valid identifier";
      return decode_result::bad_id;
    }
    seen = true;
    return decode_result::ok;
  }

  // {"id":"1","after":"CURSOR"}: `id` as object_id() takes it, `after` a
  // string or null. The cursor is copied as it is; the read checks it.
  decode_result read_input(od::document& doc, od::value v) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object) return shape_error(v, t, input_java_type());
    const char* start = v.raw_json_token().data();
    od::object o;
    if (auto ec = v.get_object().get(o)) return syntax_error(doc, ec);
    sandbox::read_input in;
    bool seen = false;
    for (auto field : o) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      od::value fv;
      if (auto ec = field.value().get(fv)) return syntax_error(doc, ec);
      if (key == "id") {
        if (auto r = id_value(doc, fv, in.id, seen); r != decode_result::ok) return r;
      } else if (key == "after") {
        if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
        if (t == od::json_type::null) continue;
        if (t != od::json_type::string) return shape_error(fv, t, "java.lang.String");
        std::string_view text;
        if (auto ec = fv.get_string().get(text)) return syntax_error(doc, ec);
        in.after_at = static_cast<std::uint32_t>(s.afters.size());  // a repeated member: the last one counts
        in.after_size = static_cast<std::uint32_t>(text.size());
        s.afters.append(text);
      }
    }
    if (!seen) return missing_property(start, "id");
    ++s.inputs;
    s.reads.push_back(in);
    return decode_result::ok;
  }

  decode_result input(od::document& doc, od::value v) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object)
      return shape_error(v, t, input_java_type());
    const char* start = v.raw_json_token().data();
    od::object o;
    if (auto ec = v.get_object().get(o)) return syntax_error(doc, ec);
    std::uint64_t from = 0;
    bool seen_from = false, seen_to = false, seen_types = false;
    s.to_ids.clear();
    const std::size_t types_before = s.types.size();
    for (auto field : o) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      od::value fv;
      if (auto ec = field.value().get(fv)) return syntax_error(doc, ec);
      if (key == "from") {
        if (auto r = object_id(doc, fv, from); r != decode_result::ok) return r;
        seen_from = true;
      } else if (key == "to" && one_to()) {
        std::uint64_t id = 0;
        if (auto r = object_id(doc, fv, id); r != decode_result::ok) return r;
        s.to_ids.assign(1, id);  // a repeated member: the last one counts (as Jackson)
        seen_to = true;
      } else if (key == "to") {
        if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
        if (t != od::json_type::array) return shape_error(fv, t, "java.util.ArrayList<PublicObjectId>");
        od::array arr;
        if (auto ec = fv.get_array().get(arr)) return syntax_error(doc, ec);
        for (auto item : arr) {
          od::value iv;
          if (auto ec = item.get(iv)) return syntax_error(doc, ec);
          std::uint64_t id = 0;
          if (auto r = object_id(doc, iv, id); r != decode_result::ok) return r;
          s.to_ids.push_back(id);
        }
        seen_to = true;
      } else if (key == "types" && kind == body_kind::multi_post) {
        if (seen_types) s.types.resize(types_before);  // a repeated member: the last one counts
        if (auto r = types(doc, fv); r != decode_result::ok) return r;
        seen_types = true;
      }
    }
    if (!seen_from) return missing_property(start, "from");
    if (!seen_to) return missing_property(start, "to");
    if (kind == body_kind::multi_post && !seen_types) return missing_property(start, "types");
    ++s.inputs;
    for (auto to : s.to_ids) s.pairs.push_back(pair_id{from, to});
    if (kind == body_kind::multi_post) s.type_begin.push_back(static_cast<std::uint32_t>(s.types.size()));
    return decode_result::ok;
  }

  const char* input_java_type() const {
    switch (kind) {
      case body_kind::archive: return "PublicAssociationMultiArchive";
      case body_kind::multi_post: return "PublicAssociationMultiPost";
      case body_kind::default_pair: return "PublicDefaultAssociationMultiPost";
      case body_kind::read: return "PublicFetchAssociationsBatchRequest";
    }
    return "";
  }

  // types: [{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]
  decode_result types(od::document& doc, od::value v) {
    od::json_type t;
    if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::array) return shape_error(v, t, "java.util.ArrayList<AssociationSpec>");
    od::array arr;
    if (auto ec = v.get_array().get(arr)) return syntax_error(doc, ec);
    for (auto item : arr) {
      od::value iv;
      if (auto ec = item.get(iv)) return syntax_error(doc, ec);
      if (auto ec = iv.type().get(t)) return syntax_error(doc, ec);
      if (t != od::json_type::object) return shape_error(iv, t, "AssociationSpec");
      od::object o;
      if (auto ec = iv.get_object().get(o)) return syntax_error(doc, ec);
      std::string_view category;
      assoc_type type;
      bool has_id = false;
      for (auto field : o) {
        std::string_view key;
        if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
        od::value fv;
        if (auto ec = field.value().get(fv)) return syntax_error(doc, ec);
        if (key == "associationCategory") {
          if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
          if (t != od::json_type::string) return shape_error(fv, t, "AssociationCategory");
          if (auto ec = fv.get_string().get(category)) return syntax_error(doc, ec);
          // Exactly HubSpot's spelling (Jackson's enums are case-sensitive).
          auto c = parse_assoc_category(category);
          if (!c || to_string(*c) != category) {
            message = "Invalid association category: '";
            message.append(category.substr(0, 32));
            message += "' is not one of HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED, WORK";
            return decode_result::bad_type;
          }
          type.category = *c;
        } else if (key == "associationTypeId") {
          if (auto ec = fv.type().get(t)) return syntax_error(doc, ec);
          if (t != od::json_type::number) return shape_error(fv, t, "int");
          std::string_view raw = fv.raw_json_token();
          while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
            raw.remove_suffix(1);
          auto id = parse_assoc_type_id(raw);
          if (!id) {
            message = "Invalid association type id: ";
            message.append(raw.substr(0, 32));
            message += " is not an integer from 1 to 2147483647";
            return decode_result::bad_type;
          }
          type.id = *id;
          has_id = true;
        }
      }
      if (category.empty() || !has_id) return missing_property(body.data(), category.empty() ? "associationCategory" : "associationTypeId");
      s.types.push_back(type);
    }
    return decode_result::ok;
  }

  decode_result run() {
    s.pairs.clear();
    s.types.clear();
    s.type_begin.assign(1, 0);
    s.reads.clear();
    s.afters.clear();
    s.inputs = 0;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end.
    if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    od::document doc;
    if (auto ec = s.parser.iterate(simdjson::padded_string_view(body.data(), body.size(), body.capacity())).get(doc)) {
      located(body.data(), simdjson::error_message(ec));
      return decode_result::syntax;
    }
    od::json_type t;
    if (auto ec = doc.type().get(t)) return syntax_error(doc, ec);
    if (t != od::json_type::object) {
      std::string java = "BatchInput";
      java += input_java_type();
      std::string what = "Cannot deserialize value of type `";
      what += java;
      what += "` from ";
      what += token_name(t);
      located(body.data(), what);
      return decode_result::shape;
    }
    od::object root;
    if (auto ec = doc.get_object().get(root)) return syntax_error(doc, ec);
    bool seen_inputs = false;
    for (auto field : root) {
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return syntax_error(doc, ec);
      od::value v;
      if (auto ec = field.value().get(v)) return syntax_error(doc, ec);
      if (key != "inputs") continue;  // unknown members are ignored (skipped unparsed)
      if (auto ec = v.type().get(t)) return syntax_error(doc, ec);
      if (t == od::json_type::null) continue;
      if (t != od::json_type::array)
        return shape_error(v, t, "java.util.ArrayList<" + std::string(input_java_type()) + ">");
      od::array arr;
      if (auto ec = v.get_array().get(arr)) return syntax_error(doc, ec);
      for (auto item : arr) {
        od::value iv;
        if (auto ec = item.get(iv)) return syntax_error(doc, ec);
        if (auto r = kind == body_kind::read ? read_input(doc, iv) : input(doc, iv); r != decode_result::ok) return r;
      }
      seen_inputs = true;
    }
    // Trailing content after the root object (current_location fails at the end).
    if (const char* p = nullptr; doc.current_location().get(p) == simdjson::SUCCESS && p < body.data() + body.size()) {
      std::string what = "Unexpected character ('";
      what.push_back(*p);
      what += "'): expected end-of-input";
      located(p, what);
      return decode_result::syntax;
    }
    if (!seen_inputs) return missing_property(body.data(), "inputs");
    return decode_result::ok;
  }
};

}  // namespace

decode_result body_decoder::decode(std::string& body, body_kind kind, std::string& message) {
  return decode_call{buf_, body, kind, message}.run();
}

}  // namespace hubbatch::sandbox
