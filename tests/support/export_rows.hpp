// Issue 14 (export, archive --backup and --verify): what an export or a
// backup file holds, the binary's command line against a sandbox, and a
// sandbox whose associations carry labels.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/pair.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"
#include "support/process.hpp"
#include "support/test_data.hpp"

namespace hubbatch::test {

// The rows of an export CSV (from_id,to_id,category,type_id,label) as typed
// pairs, sorted, without repeats (a resumed run may write a row twice).
// Throws std::runtime_error when the header is not export's or a row does
// not read.
std::vector<pair_id> export_listing(const std::string& csv_path);

// The rows of an export CSV, header left out, sorted (repeats kept).
std::vector<std::string> sorted_rows(const std::string& csv_path);

// The label the labelled sandbox (write_billing_labels) gives a type:
// "Billing contact", "Primary", or "" for the unlabelled default.
std::string label_of(assoc_type t);

// Rows of an export CSV whose label is not label_of() their type, as text
// (empty when every label is right).
std::vector<std::string> wrong_labels(const std::string& csv_path);

// The distinct from-ids of `pairs`, written one a line under an `id` header.
std::string write_ids(const std::string& path, const std::vector<pair_id>& pairs,
                      const std::vector<std::uint64_t>& extra = {});

// A sandbox on 127.0.0.1:0 knowing USER_DEFINED:36 "Billing contact" (a
// labels file in `dir`), seeded with `seeded` (listed unlabelled), 2
// associated records a read page, then `faults` applied to its config; one
// pair in three is then labelled Billing and one in three Primary, through
// the create operation. Throws std::runtime_error unless every label was
// created.
std::unique_ptr<sandbox::background_sandbox> start_labelled_portal(const temp_dir& dir,
                                                                   const std::vector<pair_id>& seeded,
                                                                   void (*faults)(sandbox::config&) = nullptr);

// The binary as a user runs it against `sb`: `command` (export, archive,
// create) contacts → companies, the CA in dir/ca.pem (written here), the
// token in the environment, stdout and stderr in dir/stdout.txt and
// dir/stderr.txt, then `args`.
process_spec binary_spec(const sandbox::background_sandbox& sb, const temp_dir& dir, const std::string& command,
                         std::vector<std::string> args);

// One integer field of a report (`"name": 123`) searched from `from`;
// ~0 when absent.
std::uint64_t json_u64(const std::string& json, const std::string& name, std::size_t from = 0);

}  // namespace hubbatch::test
