// Typed pairs for the create and archive-labels tests (issue 13): input files
// with category,type_id columns, the sandbox's typed listing
// (/_sandbox/pairs?labels=1) and the listing a create should leave, and a
// plain CSV reader for the failures file.
#pragma once

#include "io/pair.hpp"
#include "sandbox/server.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::test {

// contact -> company types (docs/hubspot-api.md §9): the unlabelled default,
// HubSpot's Primary, and a portal label the tests define in a labels file.
inline constexpr assoc_type unlabelled_type{279, assoc_category::hubspot_defined};
inline constexpr assoc_type primary_type{1, assoc_category::hubspot_defined};
inline constexpr assoc_type billing_type{36, assoc_category::user_defined};

// Writes pairs as CSV with a from_id,to_id,category,type_id header; an
// untyped pair has both type cells empty. Returns the path.
std::string write_typed_csv(const std::string& path, const std::vector<pair_id>& pairs);

// Writes a sandbox labels file (category,type_id,label) defining
// USER_DEFINED:36 "Billing contact" for every pair. Returns the path.
std::string write_billing_labels(const std::string& path);

// Gives pair i the type pattern[i % pattern.size()] (an empty type leaves it untyped).
std::vector<pair_id> with_types(std::vector<pair_id> pairs, const std::vector<assoc_type>& pattern);

// What GET /_sandbox/pairs?from=F&to=T&labels=1 lists: one pair_id per
// (from, to, type), sorted. Throws std::runtime_error unless it answers 200.
std::vector<pair_id> typed_listing(const sandbox::background_sandbox& sb, std::string_view from_type = "contacts",
                                   std::string_view to_type = "companies");

// The typed listing a create of `pairs` adds: every pair with the default
// type, a typed pair with its own type too. Sorted, without repeats.
std::vector<pair_id> listing_after_create(const std::vector<pair_id>& pairs, assoc_type default_type = unlabelled_type);

// a ∪ b, a \ b over sorted listings (results sorted, without repeats).
std::vector<pair_id> listing_union(const std::vector<pair_id>& a, const std::vector<pair_id>& b);
std::vector<pair_id> listing_minus(const std::vector<pair_id>& a, const std::vector<pair_id>& b);

// The pairs without their types (ids only), as archive takes them.
std::vector<pair_id> untyped(std::vector<pair_id> pairs);

// A CSV file's rows split into cells (RFC 4180 quotes; no newline inside a
// field). The header is row 0.
std::vector<std::vector<std::string>> read_csv_rows(const std::string& path);

// One row of a failures file, by column name.
struct failure_row {
  std::string from_id, to_id, outcome, category, http_status, message, line, text, association_category,
      association_type_id;
  // The pair the row names, with its type (empty when the type cells are).
  pair_id pair() const;
};
// Every row after the header; throws std::runtime_error when the header is
// not the failures file's.
std::vector<failure_row> read_failures(const std::string& path);

}  // namespace hubbatch::test
