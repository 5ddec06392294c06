// One association to write or remove: a source record id, a target record
// id, and the association type when one was given (create with a label,
// archive-labels; io/assoc_type.hpp).
//
// Ids are HubSpot record ids: 1 to 20 decimal digits whose value fits in 64
// bits. They are kept as integers and written back in canonical decimal
// form, so "007" and "7" are the same record. Two pairs with the same ids and
// different types are different work (two labels between the same records).
#pragma once

#include "io/assoc_type.hpp"

#include <cstdint>
#include <functional>

namespace hubbatch {

struct pair_id {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  assoc_type type{};
  friend bool operator==(const pair_id&, const pair_id&) = default;
  friend auto operator<=>(const pair_id&, const pair_id&) = default;
};

// splitmix64's finaliser: every bit of x moves every bit of the result. The
// flat hash tables keyed by ids (the grouper's index, a partition's
// regrouping, the sandbox's store) take their slot from its low bits.
inline std::uint64_t mix_id(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

struct pair_id_hash {
  std::size_t operator()(const pair_id& p) const noexcept {
    return static_cast<std::size_t>(mix_id(p.from * 0x9e3779b97f4a7c15ULL ^ (p.to + 0x632be59bd9b4e019ULL)));
  }
};

}  // namespace hubbatch
