#include "support/export_rows.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>

#include "engine/job.hpp"
#include "engine/operation.hpp"
#include "io/files.hpp"
#include "support/engine_job.hpp"
#include "support/typed_pairs.hpp"

namespace hubbatch::test {

std::vector<pair_id> export_listing(const std::string& csv_path) {
  auto rows = read_csv_rows(csv_path);
  const std::vector<std::string> header{"from_id", "to_id", "category", "type_id", "label"};
  if (rows.empty() || rows.front() != header) throw std::runtime_error(csv_path + ": not an export's header");
  std::vector<pair_id> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() != 5) throw std::runtime_error(csv_path + ": row " + std::to_string(i) + " has not 5 cells");
    auto cat = parse_assoc_category(r[2]);
    auto id = parse_assoc_type_id(r[3]);
    if (!cat || !id) throw std::runtime_error(csv_path + ": row " + std::to_string(i) + " has no type");
    out.push_back({std::stoull(r[0]), std::stoull(r[1]), {*id, *cat}});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> sorted_rows(const std::string& csv_path) {
  std::ifstream in(csv_path);
  if (!in) throw std::runtime_error("cannot read " + csv_path);
  std::vector<std::string> lines;
  bool header = true;
  for (std::string line; std::getline(in, line);) {
    if (header) {
      header = false;
      continue;
    }
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string label_of(assoc_type t) {
  if (t == billing_type) return "Billing contact";
  if (t == primary_type) return "Primary";
  return "";
}

std::vector<std::string> wrong_labels(const std::string& csv_path) {
  auto rows = read_csv_rows(csv_path);
  std::vector<std::string> wrong;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    auto cat = parse_assoc_category(r.at(2));
    auto id = parse_assoc_type_id(r.at(3));
    if (!cat || !id || r.at(4) != label_of({*id, *cat}))
      wrong.push_back(r[0] + "," + r[1] + "," + r[2] + "," + r[3] + "," + r[4]);
  }
  return wrong;
}

std::string write_ids(const std::string& path, const std::vector<pair_id>& pairs,
                      const std::vector<std::uint64_t>& extra) {
  std::set<std::uint64_t> ids(extra.begin(), extra.end());
  for (const auto& p : pairs) ids.insert(p.from);
  std::ofstream out(path);
  out << "id\n";
  for (auto id : ids) out << id << '\n';
  return path;
}

std::unique_ptr<sandbox::background_sandbox> start_labelled_portal(const temp_dir& dir,
                                                                   const std::vector<pair_id>& seeded,
                                                                   void (*faults)(sandbox::config&)) {
  auto sc = sandbox_with(seeded);
  sc.labels_file = write_billing_labels(dir.file("labels.csv"));
  sc.read_page_size = 2;
  if (faults) faults(sc);
  auto sb = std::make_unique<sandbox::background_sandbox>(sc);
  std::vector<pair_id> labelled;
  for (std::size_t i = 0; i < seeded.size(); ++i)
    if (i % 3 != 2) labelled.push_back({seeded[i].from, seeded[i].to, i % 3 == 0 ? billing_type : primary_type});
  auto cfg = job_for(*sb, write_typed_csv(dir.file("labels-create.csv"), labelled));
  auto o = options_for(*sb);
  o.op = &engine::create_operation();
  auto r = engine::run_job(cfg, o);
  if (r.totals.done_pairs != labelled.size())
    throw std::runtime_error("labelling the portal: " + std::to_string(r.totals.done_pairs) + " of " +
                             std::to_string(labelled.size()) + " created");
  return sb;
}

process_spec binary_spec(const sandbox::background_sandbox& sb, const temp_dir& dir, const std::string& command,
                         std::vector<std::string> args) {
  io::write_file_atomic(dir.file("ca.pem"), sb.ca_pem());
  process_spec s;
  s.args = {HUBBATCH_BINARY, command,     "--from-type",      "contacts", "--to-type", "companies", "--base-url",
            sb.base_url(),   "--ca-file", dir.file("ca.pem"), "--rate",   "0",         "--quiet"};
  s.args.insert(s.args.end(), args.begin(), args.end());
  s.env = {{"HUBSPOT_ACCESS_TOKEN", "pat-test-token"}};
  s.stdout_path = dir.file("stdout.txt");
  s.stderr_path = dir.file("stderr.txt");
  return s;
}

std::uint64_t json_u64(const std::string& json, const std::string& name, std::size_t from) {
  auto p = json.find("\"" + name + "\":", from);
  if (p == std::string::npos) return ~0ULL;
  return std::stoull(json.substr(json.find(':', p) + 1));
}

}  // namespace hubbatch::test
