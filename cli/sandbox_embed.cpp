// Temporary until the sandbox lands.
#include "cli/sandbox_embed.hpp"
#include <stdexcept>
namespace hubbatch::cli {
std::unique_ptr<embedded_sandbox> start_embedded_sandbox(const engine::archive_config&, const std::string&) {
  throw std::runtime_error("--sandbox is not available in this build");
}
}  // namespace hubbatch::cli
