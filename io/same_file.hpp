// Whether two paths name one file, so an output never overwrites an input
// (`--input pairs.csv --failures pairs.csv` once emptied the input).
#pragma once

#include <string>
#include <vector>

namespace hubbatch::io {

// True when both paths exist and are the same file (device and inode: a
// link, "./x" and "x" all match), or when neither exists yet and they
// resolve to the same absolute path.
bool same_file(const std::string& a, const std::string& b);

struct named_path {
  std::string what;  // e.g. "--failures"
  std::string path;  // "" or "-" = none
};

// The first clash between an output and an input, or between two outputs,
// as a message naming both ("--failures 'x.csv' is the same file as --input
// 'pairs.csv'"); "" when there is none.
std::string find_path_clash(const std::vector<named_path>& inputs, const std::vector<named_path>& outputs);

}  // namespace hubbatch::io
