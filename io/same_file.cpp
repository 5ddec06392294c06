#include "io/same_file.hpp"

#include <filesystem>
#include <system_error>

#include <sys/stat.h>

namespace hubbatch::io {

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  const bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea || eb) return false;
  std::error_code e1, e2;
  auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, e1), e1);
  auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, e2), e2);
  return !e1 && !e2 && ca == cb;
}

std::string find_path_clash(const std::vector<named_path>& inputs, const std::vector<named_path>& outputs) {
  const auto none = [](const named_path& p) { return p.path.empty() || p.path == "-"; };
  const auto clash = [](const named_path& out, const named_path& other) {
    return out.what + " '" + out.path + "' is the same file as " + other.what + " '" + other.path + "'";
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (none(outputs[i])) continue;
    for (const auto& in : inputs)
      if (!none(in) && same_file(outputs[i].path, in.path)) return clash(outputs[i], in);
    for (std::size_t k = i + 1; k < outputs.size(); ++k)
      if (!none(outputs[k]) && same_file(outputs[i].path, outputs[k].path)) return clash(outputs[k], outputs[i]);
  }
  return {};
}

}  // namespace hubbatch::io
