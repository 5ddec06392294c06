#include "cli/sandbox_embed.hpp"

#include "io/pair_reader.hpp"
#include "sandbox/config.hpp"
#include "sandbox/server.hpp"

#include <fmt/format.h>

#include <random>
#include <stdexcept>
#include <vector>

namespace hubbatch::cli {
namespace {

// Collects the valid pairs of the input; rejections are the job's to report.
struct collect_sink : io::pair_sink {
  std::vector<pair_id> pairs;
  void on_pair(pair_id p, std::uint64_t) override { pairs.push_back(p); }
  void on_reject(std::uint64_t, io::reject_reason, std::string_view, std::string_view) override {}
};

class embedded final : public embedded_sandbox {
 public:
  explicit embedded(sandbox::config cfg, std::uint64_t seeded, std::string token)
      : token_(std::move(token)), seeded_(seeded), server_(std::move(cfg)) {}
  std::uint16_t port() const override { return server_.port(); }
  const std::string& ca_pem() const override { return server_.ca_pem(); }
  const std::string& token() const override { return token_; }
  std::uint64_t seeded_pairs() const override { return seeded_; }
  std::string summary() const override {
    auto s = server_.stats();
    std::string statuses;
    for (const auto& [code, n] : s.by_status) statuses += fmt::format("{}{}: {}", statuses.empty() ? "" : ", ", code, n);
    return fmt::format(
        "sandbox: {} requests ({}), {} rate-limited ({} daily, {} secondly), max {} requests in one window, max {} "
        "batch requests in one second, {} pairs created, {} archived, {} labels removed, {} left\n",
        s.requests, statuses, s.rate_limited, s.rate_limited_daily, s.rate_limited_secondly, s.max_requests_in_window,
        s.max_requests_in_second, s.created_pairs, s.archived_pairs, s.labels_archived, s.remaining_pairs);
  }

 private:
  std::string token_;
  std::uint64_t seeded_;
  sandbox::background_sandbox server_;
};

}  // namespace

std::unique_ptr<embedded_sandbox> start_embedded_sandbox(const engine::archive_config& cfg, const std::string& rate,
                                                         bool seed_input) {
  collect_sink sink;
  if (seed_input) {
    if (cfg.input == "-") throw std::runtime_error("--sandbox needs --input FILE (stdin cannot be read twice)");
    std::vector<std::string> inputs{cfg.input};
    inputs.insert(inputs.end(), cfg.extra_inputs.begin(), cfg.extra_inputs.end());
    for (const auto& in : inputs)
      io::read_pairs_file(in, cfg.format ? *cfg.format : io::input_format_for_path(in), sink,
                          engine::input_options(cfg));
  }
  sandbox::config sc;
  sc.listen_host = "127.0.0.1";
  sc.listen_port = 0;
  auto r = sandbox::parse_rate(rate);
  if (!r) throw std::runtime_error("bad --sandbox-rate '" + rate + "' (expected N/Ws or 0)");
  sc.rate = *r;
  // A throwaway token in the shape of a private app token; only this process knows it.
  std::random_device rd;
  std::string token = fmt::format("pat-sandbox-{:08x}{:08x}", rd(), rd());
  sc.tokens = {token};
  sandbox::seed_spec seed;
  seed.from_type = cfg.from_type;
  seed.to_type = cfg.to_type;
  std::uint64_t n = sink.pairs.size();
  seed.pairs = std::move(sink.pairs);
  sc.seeds.push_back(std::move(seed));
  return std::make_unique<embedded>(std::move(sc), n, std::move(token));
}

}  // namespace hubbatch::cli
