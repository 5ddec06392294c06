// archive's passes around the job itself (issue 14): --backup reads, before
// anything is removed, the associations the input's pairs name and appends
// them to a file; --verify reads the pairs back afterwards and reports those
// still associated. Each pass is a job of its own (engine::run_job with a
// read operation) over the same input, with the same connection, pacing and
// retry settings.
#pragma once

#include <string>

#include "engine/job.hpp"

namespace hubbatch::cli {

// Reads the from-ids of cfg.input's pairs (up to 1,000 a request, every
// page) and appends the rows of the listed pairs that exist to `path`
// (export's columns, labels included), synced before the pass ends. Its
// journal is cfg.journal_path + ".backup", so a resumed archive continues
// its backup. Throws as run_job does.
engine::job_result run_backup_pass(const engine::archive_config& cfg, const engine::job_options& opt,
                                   const std::string& path);

// Reads the from-ids of cfg.input's pairs back; a pair still listed fails
// "still_present" (added to cfg.failures_path, if any). No journal: it is
// cheap to run again.
engine::job_result run_verify_pass(const engine::archive_config& cfg, const engine::job_options& opt);

// archive --all: reads every association of the records cfg.input lists
// (export's pass) into `work`, which the archive then takes as its input.
// Its journal is cfg.journal_path + ".all".
engine::job_result run_all_read_pass(const engine::archive_config& cfg, const engine::job_options& opt,
                                     const std::string& work);

// Appends the rows of export file `from` (its header left out) to `to`
// (with a header when `to` is empty) and syncs it. Throws
// std::runtime_error naming the file that failed.
void append_rows(const std::string& from, const std::string& to);

// Whether a backup pass covered every pair (none failed or pending, no stop).
bool backup_complete(const engine::job_result& b);

// Pairs a verify job found still associated.
std::uint64_t still_present_pairs(const engine::job_result& v);

// The verify pass in a line for stderr: pairs read back, still present,
// not read, requests.
std::string verify_summary(const engine::job_result& v);

// A pass's figures as one JSON object for the archive's report: file (or
// null), requests, the pairs it read, failed and pending pairs, the
// associations and rows found, still_present_pairs (verify).
std::string pass_json(const engine::job_result& r, const std::string& path);

}  // namespace hubbatch::cli
