// The API operations beyond batch/archive: batch/create,
// batch/associate/default, batch/labels/archive (their type check, how they
// change the store, their answers) and GET .../labels. The stages around
// them are in api_stages.cpp; docs/hubspot-api.md §6 and §9 is the contract.
//
// Types travel in the request's direction (contact→company unlabelled is 279)
// and are stored in the table's orientation: to_store / from_store turn them
// when the request runs against it (type_catalog::reverse).
#include "io/decimal.hpp"
#include "io/text.hpp"
#include "sandbox/handler_detail.hpp"

namespace hubbatch::sandbox {

using io::append_json_escaped;
using io::append_u64;

namespace {

void append_type_name(std::string& out, assoc_type t) {
  out += to_string(t.category);
  out += ':';
  append_u64(out, static_cast<std::uint64_t>(t.id));
}

// {"fromObjectId":["F"]}, {"toObjectId":["T"]} or both.
void append_id_context(std::string& out, const std::uint64_t* from, const std::uint64_t* to) {
  out += "\"context\":{";
  if (from) {
    out += "\"fromObjectId\":[\"";
    append_u64(out, *from);
    out += "\"]";
  }
  if (to) {
    if (from) out += ',';
    out += "\"toObjectId\":[\"";
    append_u64(out, *to);
    out += "\"]";
  }
  out += '}';
}

}  // namespace

// One StandardError item of errors[].
void append_error_item(std::string& out, std::string_view sub_category, std::string_view message,
                       const std::uint64_t* from, const std::uint64_t* to) {
  if (out.size()) out += ',';
  out += "{\"status\":\"error\",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"";
  out += sub_category;
  out += "\",\"message\":\"";
  append_json_escaped(out, message);
  out += "\",";
  append_id_context(out, from, to);
  out += ",\"errors\":[]}";
}

void finish_batch_body(std::string& body, std::size_t failed, std::string_view errors, std::int64_t started) {
  if (failed) {
    body += ",\"numErrors\":";
    append_u64(body, failed);
    body += ",\"errors\":[";
    body += errors;
    body += ']';
  }
  body += ",\"startedAt\":\"";
  append_iso8601(body, started);
  body += "\",\"completedAt\":\"";
  append_iso8601(body, clock_reading::now().unix_ms);
  body += "\"}";
}

// Every type of a create or labels/archive must exist for the pair: the
// default, a built-in label or a --labels one. Otherwise the whole request
// fails, naming the type but no ids (it is not about any one input).
bool request_handler::check_types(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    for (auto t : s.decoder.types_of(i)) {
      if (types_.defined(*c.from_type, *c.to_type, t)) continue;
      std::string name;
      append_type_name(name, t);  // "USER_DEFINED:99"
      s.message = name;
      s.message += " is not a valid association type between ";
      s.message += c.r.from;
      s.message += " and ";
      s.message += c.r.to;
      error_head(s.body, s.message, c.id);
      s.body +=
          ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_ASSOCIATION_TYPE\","
          "\"context\":{\"type\":[\"";
      s.body += name;
      s.body += "\"]}}";
      return answer_json_error(c, 400, sandbox_errc::bad_type);
    }
  }
  return false;
}

// batch/labels/archive: remove the listed types of each pair; the default
// among them removes the association. Absent pairs and types: nothing to do.
// --fault-ignore keeps some present pairs untouched, silently.
void request_handler::apply_labels_archive(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  c.table = store_.find(*c.from_type, *c.to_type);
  stats_.applied_request_pairs += pairs.size();
  if (!c.table.t) return;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    s.types.clear();
    for (auto t : s.decoder.types_of(i))
      s.types.push_back(c.table.swapped ? types_.reverse(*c.from_type, *c.to_type, t) : t);
    if (cfg_.fault_ignore > 0 && c.table.t->contains(c.table.oriented(pairs[i])) && draw(cfg_.fault_ignore)) {
      ++stats_.ignored_pairs;  // --fault-ignore: answered as removed, kept
      continue;
    }
    auto r = c.table.t->remove_types(c.table.oriented(pairs[i]), s.types);
    stats_.archived_pairs += r.associations;
    stats_.labels_archived += r.labels;
  }
}

bool request_handler::input_error(api_call& c, std::size_t i, std::string& errors) {
  auto& s = c.s;
  const pair_id p = s.decoder.pairs()[i];
  for (bool from_side : {true, false}) {
    const object_type& t = from_side ? *c.from_type : *c.to_type;
    const std::uint64_t id = from_side ? p.from : p.to;
    if (records_.exists(t, id)) continue;
    s.message = "No ";
    s.message += t.singular;
    s.message += " with id ";
    append_u64(s.message, id);
    s.message += " exists";
    append_error_item(errors, "crm.associations.INVALID_OBJECT_IDS", s.message, from_side ? &p.from : nullptr,
                      from_side ? nullptr : &p.to);
    return true;
  }
  const std::uint32_t limit = cfg_.max_associations_per_record;
  if (!limit || c.table.t->contains(c.table.oriented(p))) return false;  // a label on an existing one is not new
  const bool from_first = !c.table.swapped;
  for (bool from_side : {true, false}) {
    const std::uint64_t id = from_side ? p.from : p.to;
    if (c.table.t->degree(id, from_side == from_first) < limit) continue;
    s.message = "Association limit exceeded: ";
    s.message += (from_side ? c.from_type : c.to_type)->singular;
    s.message += ' ';
    append_u64(s.message, id);
    s.message += " already has the maximum of ";
    append_u64(s.message, limit);
    s.message += " associated ";
    s.message += (from_side ? c.to_type : c.from_type)->singular;
    s.message += " records";
    append_error_item(errors, "crm.associations.ASSOCIATION_LIMIT_EXCEEDED", s.message, &p.from, &p.to);
    return true;
  }
  return false;
}

// batch/create and batch/associate/default: each input is applied in order
// (a later one sees what an earlier one created) or answered in errors[].
void request_handler::apply_create(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  const bool with_types = c.r.op == api_op::create;
  c.table = store_.find_or_add(*c.from_type, *c.to_type);
  std::string errors;
  s.failed.assign(pairs.size(), 0);
  stats_.applied_request_pairs += pairs.size();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (input_error(c, i, errors)) {
      s.failed[i] = 1;
      ++c.failed;
      continue;
    }
    s.types.clear();
    if (with_types)
      for (auto t : s.decoder.types_of(i))
        s.types.push_back(c.table.swapped ? types_.reverse(*c.from_type, *c.to_type, t) : t);
    auto r = c.table.t->create(c.table.oriented(pairs[i]), s.types);
    stats_.created_pairs += r.created ? 1 : 0;
    stats_.labels_created += r.added - (r.created ? 1 : 0);  // a new association's default is not a label
  }
  stats_.failed_inputs += c.failed;
  if (fault_after_apply(c)) return;
  if (with_types) {
    answer_create(c, errors);
  } else {
    answer_default(c, errors);
  }
}

// v4: 201 (--create-status 200) when every input was applied, 207 with
// errors[] otherwise; the dated versions: 200 either way.
void request_handler::answer_create(api_call& c, std::string_view errors) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  const object_type& from_type = *c.from_type;
  const object_type& to_type = *c.to_type;
  std::vector<assoc_type> stored;
  s.body = "{\"status\":\"COMPLETE\",\"results\":[";
  bool first = true;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (s.failed[i]) continue;
    if (!first) s.body += ',';
    first = false;
    s.body += "{\"fromObjectTypeId\":\"";
    append_json_escaped(s.body, from_type.key);
    s.body += "\",\"fromObjectId\":\"";
    append_u64(s.body, pairs[i].from);
    s.body += "\",\"toObjectTypeId\":\"";
    append_json_escaped(s.body, to_type.key);
    s.body += "\",\"toObjectId\":\"";
    append_u64(s.body, pairs[i].to);
    s.body += "\",\"labels\":[";
    // The pair's labels after the create, in the request's direction.
    c.table.t->types_of(c.table.oriented(pairs[i]), stored);
    s.types.clear();
    for (auto t : stored) s.types.push_back(c.table.swapped ? types_.reverse(to_type, from_type, t) : t);
    std::sort(s.types.begin(), s.types.end());
    bool first_label = true;
    for (auto t : s.types) {
      auto label = types_.label_of(from_type, to_type, t);
      if (label.empty()) continue;
      if (!first_label) s.body += ',';
      first_label = false;
      s.body += '"';
      append_json_escaped(s.body, label);
      s.body += '"';
    }
    s.body += "]}";
  }
  s.body += ']';
  finish_batch_body(s.body, c.failed, errors, c.in.now.unix_ms);
  const int status = c.r.dated ? 200 : c.failed ? 207 : cfg_.create_status;
  answer(c, status, json_type, s.body, c.failed ? sandbox_errc::input_errors : sandbox_errc::ok);
}

// 200 in every version, errors[] inside when some inputs failed.
void request_handler::answer_default(api_call& c, std::string_view errors) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  const assoc_type def = default_type(c.from_type->key, c.to_type->key);
  s.body = "{\"status\":\"COMPLETE\",\"results\":[";
  bool first = true;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (s.failed[i]) continue;
    if (!first) s.body += ',';
    first = false;
    s.body += "{\"from\":{\"id\":\"";
    append_u64(s.body, pairs[i].from);
    s.body += "\"},\"to\":{\"id\":\"";
    append_u64(s.body, pairs[i].to);
    s.body += "\"},\"associationSpec\":{\"associationCategory\":\"";
    s.body += to_string(def.category);
    s.body += "\",\"associationTypeId\":";
    append_u64(s.body, static_cast<std::uint64_t>(def.id));
    s.body += "}}";
  }
  s.body += ']';
  finish_batch_body(s.body, c.failed, errors, c.in.now.unix_ms);
  answer(c, 200, json_type, s.body, c.failed ? sandbox_errc::input_errors : sandbox_errc::ok);
}

// GET .../labels: the default type (label null), then the labelled types.
void request_handler::list_labels(api_call& c) {
  auto& s = c.s;
  auto item = [&](assoc_type t, std::string_view label, bool null_label) {
    s.body += "{\"category\":\"";
    s.body += to_string(t.category);
    s.body += "\",\"typeId\":";
    append_u64(s.body, static_cast<std::uint64_t>(t.id));
    s.body += ",\"label\":";
    if (null_label) {
      s.body += "null";
    } else {
      s.body += '"';
      append_json_escaped(s.body, label);
      s.body += '"';
    }
    s.body += '}';
  };
  s.body = "{\"results\":[";
  item(default_type(c.from_type->key, c.to_type->key), {}, true);
  for (const label_def* d : types_.labels_for(*c.from_type, *c.to_type)) {
    s.body += ',';
    item(d->type, d->label, false);
  }
  s.body += "]}";
  answer(c, 200, json_type, s.body, sandbox_errc::ok);
}

}  // namespace hubbatch::sandbox
