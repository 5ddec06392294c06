// Input formats, column names, delimiter checks and the names and sentences
// of reject reasons (declared in io/pair_reader.hpp).
#include "io/pair_reader.hpp"

#include "io/id_field.hpp"
#include "io/text.hpp"

#include <string>
#include <utility>

namespace hubbatch::io {

std::optional<input_format> parse_input_format(std::string_view name) {
  if (iequals(name, "csv")) return input_format::csv;
  if (iequals(name, "tsv")) return input_format::tsv;
  if (iequals(name, "ndjson") || iequals(name, "jsonl")) return input_format::ndjson;
  return std::nullopt;
}

input_format input_format_for_path(std::string_view path) {
  auto ends_with = [](std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
  };
  if (ends_with(path, ".gz")) path.remove_suffix(3);
  if (ends_with(path, ".tsv") || ends_with(path, ".tab")) return input_format::tsv;
  if (ends_with(path, ".ndjson") || ends_with(path, ".jsonl")) return input_format::ndjson;
  return input_format::csv;
}

const char* to_string(input_format f) {
  switch (f) {
    case input_format::csv: return "csv";
    case input_format::tsv: return "tsv";
    case input_format::ndjson: return "ndjson";
  }
  return "unknown";
}

column_role role_of_column(std::string_view name) {
  name = unquote(name);
  if (iequals(name, "from") || iequals(name, "from_id") || iequals(name, "fromObjectId")) return column_role::from;
  if (iequals(name, "to") || iequals(name, "to_id") || iequals(name, "toObjectId")) return column_role::to;
  if (iequals(name, "category") || iequals(name, "association_category") || iequals(name, "associationCategory"))
    return column_role::category;
  if (iequals(name, "type_id") || iequals(name, "typeId") || iequals(name, "association_type_id") ||
      iequals(name, "associationTypeId"))
    return column_role::type_id;
  // "Record ID": the column HubSpot's own exports name the id.
  if (iequals(name, "id") || iequals(name, "record_id") || iequals(name, "hs_object_id") || iequals(name, "object_id") ||
      iequals(name, "Record ID"))
    return column_role::id;
  return column_role::other;
}

namespace {

// How many names of each column_role a --columns text has, by role.
struct role_counts {
  int by_role[static_cast<std::size_t>(column_role::other) + 1] = {};
  int operator[](column_role r) const { return by_role[static_cast<std::size_t>(r)]; }
};

// Splits `text` at commas into `out`, counting roles; "" or the problem.
std::string split_column_names(std::string_view text, std::vector<std::string>& out, role_counts& n) {
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    const std::string_view name = trim_spaces(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (name.empty()) return "a column name is empty (expected names separated by commas, e.g. index,from,to)";
    ++n.by_role[static_cast<std::size_t>(role_of_column(name))];
    out.emplace_back(name);
    if (comma == std::string_view::npos) return {};
    start = comma + 1;
  }
}

}  // namespace

std::string parse_column_names(std::string_view text, std::vector<std::string>& names) {
  std::vector<std::string> out;
  role_counts n;
  if (std::string why = split_column_names(text, out, n); !why.empty()) return why;
  if (n[column_role::from] != 1 || n[column_role::to] != 1)
    return "name exactly one from column (from, from_id or fromObjectId) and one to column (to, to_id or toObjectId); "
           "other names mark columns that are ignored, e.g. index,from,to";
  if (n[column_role::category] > 1 || n[column_role::type_id] > 1 ||
      n[column_role::category] != n[column_role::type_id])
    return "name one category column (category, association_category or associationCategory) and one type id "
           "column (type_id, typeId, association_type_id or associationTypeId), or neither, e.g. "
           "from,to,category,type_id";
  names = std::move(out);
  return {};
}

std::string parse_record_column_names(std::string_view text, std::vector<std::string>& names) {
  std::vector<std::string> out;
  role_counts n;
  if (std::string why = split_column_names(text, out, n); !why.empty()) return why;
  if (n[column_role::from] + n[column_role::id] != 1)
    return "name exactly one id column (id, record_id, Record ID, hs_object_id, object_id, from, from_id or fromObjectId); "
           "other names mark columns that are ignored, e.g. index,id";
  names = std::move(out);
  return {};
}

std::string check_delimiter(char d) {
  if (d == '"') return "a double quote cannot separate columns (it quotes them)";
  if (d == '\r' || d == '\n' || d == '\0') return "CR, LF and NUL cannot separate columns";
  if (d == ' ') return "a space cannot separate columns (spaces around ids are ignored)";
  if (d >= '0' && d <= '9') return "a digit cannot separate columns of ids";
  return {};
}

std::string to_string(const input_columns& c) {
  std::string out = c.from.name + " (" + std::to_string(c.from.position) + ")";
  if (c.to.position != 0) out += ", " + c.to.name + " (" + std::to_string(c.to.position) + ")";
  for (const auto* label : {&c.category, &c.type_id})
    if (*label) out += ", " + (*label)->name + " (" + std::to_string((*label)->position) + ")";
  for (std::size_t i = 0; i < c.ignored.size(); ++i)
    out += (i ? ", " : "; ignored: ") + c.ignored[i].name + " (" + std::to_string(c.ignored[i].position) + ")";
  return out;
}

const char* to_string(reject_reason r) {
  switch (r) {
    case reject_reason::wrong_column_count: return "wrong_column_count";
    case reject_reason::bad_id: return "bad_id";
    case reject_reason::id_out_of_range: return "id_out_of_range";
    case reject_reason::invalid_utf8: return "invalid_utf8";
    case reject_reason::line_too_long: return "line_too_long";
    case reject_reason::bad_json: return "bad_json";
    case reject_reason::missing_field: return "missing_field";
    case reject_reason::nul_byte: return "nul_byte";
    case reject_reason::truncated_line: return "truncated_line";
    case reject_reason::unnamed_columns: return "unnamed_columns";
    case reject_reason::header_mismatch: return "header_mismatch";
    case reject_reason::bad_association_type: return "bad_association_type";
  }
  return "unknown";
}

const char* describe(reject_reason r) {
  switch (r) {
    case reject_reason::wrong_column_count: return "wrong column count";
    case reject_reason::bad_id: return "id is not 1-20 decimal digits";
    case reject_reason::id_out_of_range: return "id above 18446744073709551615";
    case reject_reason::invalid_utf8: return "invalid UTF-8";
    case reject_reason::line_too_long: return "line too long";
    case reject_reason::bad_json: return "not a JSON object";
    case reject_reason::missing_field: return "missing from/to field";
    case reject_reason::nul_byte: return "NUL byte in line";
    case reject_reason::truncated_line: return "last line incomplete (input changed while being read)";
    case reject_reason::unnamed_columns:
      return "more than two columns and none named (the first may be an index, not the from-id): name them with "
             "--columns (e.g. --columns index,from,to) or a header line";
    case reject_reason::header_mismatch:
      return "the header names the id or label columns elsewhere than --columns: fix --columns or the header";
    case reject_reason::bad_association_type:
      return "association type missing, malformed or not allowed here";
  }
  return "unknown reason";
}

}  // namespace hubbatch::io
