// libFuzzer target: the sandbox's request handler, the part of the server
// that reads what clients send (target path, Authorization, JSON body) once
// Beast has framed the request.
//
// Input: byte 0 picks method, missing mode, gzip and loopback; then the
// target up to the first '\n', the Authorization value up to the next '\n',
// and the body. Each input gets a fresh store seeded with a few pairs, so a
// crash reproduces from its input alone. Oracles: every answer is one
// well-formed HTTP/1.1 response whose Content-Length matches its body, and
// the store never gains pairs.
#include "sandbox/config.hpp"
#include "sandbox/handler.hpp"
#include "sandbox/store.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hubbatch::sandbox;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto take_line = [&] {
    auto nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
  };
  std::string_view target = take_line();
  std::string_view auth = take_line();

  config cfg;
  cfg.rate.max = (mode & 0x40) ? 2 : 0;
  cfg.missing = static_cast<missing_mode>((mode >> 2) % 3);
  cfg.max_inputs = input_limits::all(4);
  cfg.read_page_size = 1;  // batch/read: every record with two pairs pages
  cfg.max_pairs = (mode & 0x80) ? 3 : 0;
  cfg.reject_ids = {777};
  cfg.tokens = {"tok"};
  cfg.expired_tokens = {"old"};
  seed_spec seed;
  seed.pairs = {{101, 9001}, {101, 9002}, {102, 9003}, {777, 1}};
  cfg.seeds.push_back(seed);
  association_store store;
  load_seeds(cfg, store);
  const auto before = store.remaining_total();
  request_handler handler(cfg, store, clock_reading{1'000'000'000, 1'700'000'000'000});
  session_scratch scratch;

  std::string body(in);
  request_in req;
  req.method = (mode & 1) ? "POST" : "GET";
  req.target = target;
  req.authorization = auth;
  req.body = &body;
  req.accepts_gzip = (mode & 2) != 0;
  req.loopback = (mode & 0x20) != 0;
  req.now = clock_reading{2'000'000'000, 1'700'000'001'000};
  std::string out;
  for (int round = 0; round < 2; ++round) {  // twice: the second sees the first's effects (rate window, store)
    response_plan plan = handler.handle(req, scratch, out);
    if (plan.reset) {
      if (!out.empty()) std::abort();
      continue;
    }
    if (out.rfind("HTTP/1.1 ", 0) != 0) std::abort();
    auto head_end = out.find("\r\n\r\n");
    if (head_end == std::string::npos) std::abort();
    std::string_view head(out.data(), head_end);
    auto cl = head.find("\r\ncontent-length: ");
    if (cl == std::string_view::npos) cl = head.find("\r\nContent-Length: ");
    if (cl != std::string_view::npos) {
      std::size_t n = std::strtoull(head.data() + cl + 18, nullptr, 10);
      if (n != out.size() - head_end - 4) std::abort();
    }
    body.assign(in);
  }
  if (store.remaining_total() > before) std::abort();
  return 0;
}
