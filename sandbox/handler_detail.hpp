// Inside the request handler, shared by its two files only (handler.cpp:
// routing, the internal routes, shared state; api_stages.cpp: the API
// route's stages). Not for other includes.
#pragma once

#include "sandbox/body_decoder.hpp"
#include "sandbox/handler.hpp"
#include "sandbox/object_types.hpp"
#include "sandbox/rate_window.hpp"
#include "sandbox/response_writer.hpp"

#include <zlib.h>

#include <optional>
#include <string>
#include <vector>

namespace hubbatch::sandbox {

struct session_scratch::impl {
  body_decoder decoder;               // request body → pairs
  std::vector<std::uint8_t> present;  // per decoded pair: was associated before this request (archive)
  std::vector<std::uint8_t> failed;   // per input of create / associate-default: answered in errors[]
  std::vector<assoc_type> types;      // one input's types, turned to the store's orientation
  std::vector<std::uint8_t> remove;   // archive with --fault-ignore: per decoded pair, present and not ignored
  std::vector<std::uint64_t> read_min;  // read: per input, the least to-id of its page (from its cursor)
  std::vector<std::uint64_t> to_ids;    // read: one record's associated ids on this page
  std::vector<assoc_type> stored;       // read: one pair's types as the store holds them
  std::string body;                   // response body being built
  std::string message;                // error message being built
  // gzip of response bodies for clients that ask (Accept-Encoding: gzip);
  // the deflate state (~256 KiB) is created on first use and then reset.
  z_stream zs{};
  bool zs_ready = false;
  std::string gz;

  // Compresses `in` into gz; false if zlib fails (the caller sends identity).
  bool gzip(std::string_view in);
  ~impl();
};

// One token's rolling window and per-second capacity counter.
struct request_handler::bucket {
  bucket(rate_spec r, std::uint32_t capacity, std::uint32_t id)
      : window(r), second(rate_spec{capacity, std::chrono::milliseconds(1000)}), app_id(id) {}
  rolling_window window;
  rolling_window second;  // accepted batch-route requests in the trailing second (--capacity; measured when off)
  std::uint32_t app_id;  // for the 429 groupName
};

// The operations of the API routes.
enum class api_op {
  archive,            // POST .../batch/archive: every type of each pair
  labels_archive,     // POST .../batch/labels/archive: the listed types (the default cascades)
  create,             // POST .../batch/create: the listed types and the default
  associate_default,  // POST .../batch/associate/default: the default type
  list_labels,        // GET .../labels: the pair's types
  read,               // POST .../batch/read: each record's associated records with their types, a page each
};

// An API route as parsed from the path.
struct request_handler::route {
  std::string_view from, to;  // object-type path segments as sent
  bool dated = false;         // /crm/associations/{version}/...
  std::string_view version;   // "2025-09", "2026-03", "2026-09"; empty for v4
  api_op op = api_op::archive;
};

// One request on an API route on its way through the stages; each stage
// reads what the earlier ones left here.
struct request_handler::api_call {
  api_call(const request_in& in_, const route& r_, session_scratch::impl& s_, std::string& out_, correlation_id id_)
      : in(in_), r(r_), s(s_), out(out_), id(id_) {
    plan.close_after = !in.keep_alive;
    h.correlation_id = id;
  }
  api_call(const api_call&) = delete;  // h.correlation_id points into id
  api_call& operator=(const api_call&) = delete;

  const request_in& in;
  const route& r;
  session_scratch::impl& s;
  std::string& out;
  correlation_id id;
  response_plan plan;                  // what handle_api returns; close_after preset from keep-alive
  response_headers h;                  // correlation id (→ id), Retry-After, gzip
  rate_headers rate_view{};            // filled by fill_rate_headers()
  const rate_headers* rate = nullptr;  // &rate_view once filled and rate headers are on; null: none sent
  std::string_view token;              // authenticate → limit_rate
  bucket* b = nullptr;                 // limit_rate: the token's window
  std::optional<object_type> from_type, to_type;  // validate → apply
  association_store::handle table{};              // validate → apply: the store's table for (from, to)
  std::size_t missing = 0;                        // validate → apply: pairs not in the store
  std::size_t failed = 0;                         // apply: inputs answered in errors[] (create, associate-default)
};

// Shared by the operations' answers (defined in api_writes.cpp).
// One StandardError item of errors[] (category VALIDATION_ERROR), with a
// context naming `from` and/or `to` when given; a comma first unless `out` is empty.
void append_error_item(std::string& out, std::string_view sub_category, std::string_view message,
                       const std::uint64_t* from, const std::uint64_t* to);
// "numErrors":N,"errors":[...] when `failed`; then the timestamps and the closing brace.
void finish_batch_body(std::string& body, std::size_t failed, std::string_view errors, std::int64_t started);

}  // namespace hubbatch::sandbox
