// Association types the sandbox knows per object-type pair: the unlabelled
// default type, HubSpot's built-in labels (Primary) and the portal's own
// labels from --labels (docs/hubspot-api.md §6 and §9).
//
// Type ids are directional: contact→company unlabelled is 279 and
// company→contact 280. Built-in defaults (all HUBSPOT_DEFINED):
//   contact↔company 279/280 (Primary 1/2), deal→contact 3 / contact→deal 4,
//   deal↔company 341/342 (Primary 5/6), ticket→contact 16 / contact→ticket 15,
//   ticket↔company 339/340 (Primary 26/25), deal→ticket 27 / ticket→deal 28,
//   deal→line_item 19 / line_item→deal 20; contact→contact 449,
//   company→company 450, deal→deal 451, ticket→ticket 452.
// Any other pair (custom objects, other standard objects): HUBSPOT_DEFINED
// with id 1000000 + FNV-1a-32("FROM_KEY/TO_KEY") mod 1000000000, keys as
// object_type::key ("0-7", "2-123", "p_vendor"); deterministic, clear of the
// built-in ids, and different per direction.
//
// The reverse of a type (how the other direction shows it): the default maps
// to the other direction's default, Primary to its Primary; any other label
// keeps its id (the sandbox does not know a portal's label pairs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/assoc_type.hpp"
#include "sandbox/object_types.hpp"

namespace hubbatch::sandbox {

// The unlabelled type of from→to (keys as object_type::key).
assoc_type default_type(std::string_view from_key, std::string_view to_key);

// One label: a --labels line, or a built-in.
struct label_def {
  assoc_type type;
  std::string label;
  std::string from_key, to_key;  // both empty: the label applies to every pair
};

class type_catalog {
 public:
  // The labels of `path` (CSV `category,type_id,label[,from_type,to_type]`,
  // header optional, blank lines skipped; labels hold no commas). Throws
  // std::runtime_error naming the file and line on a bad line.
  void load(const std::string& path);
  void add(label_def d) { labels_.push_back(std::move(d)); }

  // Whether t may be used between from→to: the default, a built-in label or a --labels label.
  bool defined(const object_type& from, const object_type& to, assoc_type t) const;
  // The label of t for from→to; empty for the default or an unknown type.
  std::string_view label_of(const object_type& from, const object_type& to, assoc_type t) const;
  // Labelled types of from→to: built-in labels, then --labels ones in file order.
  std::vector<const label_def*> labels_for(const object_type& from, const object_type& to) const;
  // t (a type of from→to) as the to→from direction shows it.
  assoc_type reverse(const object_type& from, const object_type& to, assoc_type t) const;

 private:
  std::vector<label_def> labels_;  // --labels, in file order
};

}  // namespace hubbatch::sandbox
