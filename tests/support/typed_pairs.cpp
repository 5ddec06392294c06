#include "support/typed_pairs.hpp"

#include "engine/failures_file.hpp"
#include "support/https_client.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace hubbatch::test {
namespace {

std::vector<pair_id> sorted_unique(std::vector<pair_id> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

}  // namespace

std::string write_typed_csv(const std::string& path, const std::vector<pair_id>& pairs) {
  std::ofstream out(path);
  out << "from_id,to_id,category,type_id\n";
  for (const auto& p : pairs) {
    out << p.from << ',' << p.to << ',';
    if (!p.type.empty()) out << to_string(p.type.category) << ',' << p.type.id;
    else out << ',';
    out << '\n';
  }
  return path;
}

std::string write_billing_labels(const std::string& path) {
  std::ofstream(path) << "category,type_id,label\nUSER_DEFINED,36,Billing contact\n";
  return path;
}

std::vector<pair_id> with_types(std::vector<pair_id> pairs, const std::vector<assoc_type>& pattern) {
  for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i].type = pattern[i % pattern.size()];
  return pairs;
}

std::vector<pair_id> typed_listing(const sandbox::background_sandbox& sb, std::string_view from_type,
                                   std::string_view to_type) {
  https_client c(sb.host(), sb.port(), sb.ca_pem());
  auto r = c.get("/_sandbox/pairs?from=" + std::string(from_type) + "&to=" + std::string(to_type) + "&labels=1");
  if (r.status != 200) throw std::runtime_error("/_sandbox/pairs answered " + std::to_string(r.status) + ": " + r.body);
  std::vector<pair_id> out;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto cells = split_csv_line(line);
    if (cells.size() != 4) throw std::runtime_error("/_sandbox/pairs line: " + line);
    auto cat = parse_assoc_category(cells[2]);
    auto id = parse_assoc_type_id(cells[3]);
    if (!cat || !id) throw std::runtime_error("/_sandbox/pairs type: " + line);
    out.push_back({std::stoull(cells[0]), std::stoull(cells[1]), {*id, *cat}});
  }
  return sorted_unique(std::move(out));
}

std::vector<pair_id> listing_after_create(const std::vector<pair_id>& pairs, assoc_type default_type) {
  std::vector<pair_id> out;
  out.reserve(pairs.size() * 2);
  for (const auto& p : pairs) {
    out.push_back({p.from, p.to, default_type});
    if (!p.type.empty()) out.push_back(p);
  }
  return sorted_unique(std::move(out));
}

std::vector<pair_id> listing_union(const std::vector<pair_id>& a, const std::vector<pair_id>& b) {
  std::vector<pair_id> out(a);
  out.insert(out.end(), b.begin(), b.end());
  return sorted_unique(std::move(out));
}

std::vector<pair_id> listing_minus(const std::vector<pair_id>& a, const std::vector<pair_id>& b) {
  auto x = sorted_unique(a), y = sorted_unique(b);
  std::vector<pair_id> out;
  std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
  return out;
}

std::vector<pair_id> untyped(std::vector<pair_id> pairs) {
  for (auto& p : pairs) p.type = {};
  return pairs;
}

std::vector<std::vector<std::string>> read_csv_rows(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(split_csv_line(line));
  return rows;
}

pair_id failure_row::pair() const {
  pair_id p{std::stoull(from_id), std::stoull(to_id), {}};
  if (!association_category.empty()) {
    auto cat = parse_assoc_category(association_category);
    auto id = parse_assoc_type_id(association_type_id);
    if (!cat || !id) throw std::runtime_error("bad type cells: " + association_category + "," + association_type_id);
    p.type = {*id, *cat};
  }
  return p;
}

std::vector<failure_row> read_failures(const std::string& path) {
  auto rows = read_csv_rows(path);
  std::string header(engine::failures_file::header.substr(0, engine::failures_file::header.size() - 1));
  if (rows.empty() || split_csv_line(header) != rows.front())
    throw std::runtime_error(path + " does not start with the failures header");
  std::vector<failure_row> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    auto& r = rows[i];
    if (r.size() != 10) throw std::runtime_error(path + ": row " + std::to_string(i) + " has " +
                                                 std::to_string(r.size()) + " cells");
    out.push_back({r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]});
  }
  return out;
}

}  // namespace hubbatch::test
