// The records the sandbox knows (--objects FILE). Without the file every id
// of every type exists; with it only the listed (type, id) records do, and
// create / associate-default fail an input naming another id (archives are
// unaffected: removing what is not there succeeds).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <string>

#include "sandbox/object_types.hpp"

namespace hubbatch::sandbox {

class record_set {
 public:
  // Lines `type,id` (type in any accepted form, header optional, blank lines
  // skipped). Throws std::runtime_error naming the file and line on a bad line.
  void load(const std::string& path);
  void add(const object_type& t, std::uint64_t id);

  // Whether every id exists (no --objects given).
  bool open() const noexcept { return !restricted_; }
  bool exists(const object_type& t, std::uint64_t id) const;

 private:
  bool restricted_ = false;
  boost::unordered_flat_map<std::string, boost::unordered_flat_set<std::uint64_t>> ids_;  // by object_type::key
};

}  // namespace hubbatch::sandbox
