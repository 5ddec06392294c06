// A pair's association type as the operation takes it, one rule for the job
// (engine/job_state.hpp) and the plan (cli/plan.cpp): archive drops types
// (it removes every one, so two lines naming one pair with two types are
// one pair to it); create and archive-labels give a pair without one the
// --label; archive-labels needs a type, and the unlabelled type is refused
// unless allowed (it would remove every label and the association itself).
#pragma once

#include "engine/operation.hpp"
#include "io/pair.hpp"

#include <span>
#include <string>

namespace hubbatch::engine {

// Sets p.type as `op` takes it. Returns "" when the pair goes on, else why
// its line is rejected (io::reject_reason::bad_association_type's detail).
std::string settle_type(pair_id& p, const operation& op, assoc_type label, std::span<const assoc_type> refused);

// The pair as an input line ("from,to" or "from,to,CATEGORY,id"), for the
// failures file's text cell when a line is rejected after parsing.
std::string pair_line(const pair_id& p);

}  // namespace hubbatch::engine
