// Decoding of HubSpot responses: the X-HubSpot-RateLimit-* headers and every
// body shape in docs/hubspot-api.md (204 empty, 200/207 BatchResponse with
// errors[], error envelopes, 429 bodies, HTML or garbage from proxies).
//
// The decoder copies what it keeps out of the JSON document, so nothing in a
// decoded_response points into the body. One decoder per connection: it owns
// a reusable simdjson parser (STYLE.md rule 11).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubbatch::codec {

// Rate-limit view announced by one response. Absent headers stay nullopt.
struct rate_limit_headers {
  std::optional<std::int64_t> max;                  // X-HubSpot-RateLimit-Max
  std::optional<std::int64_t> remaining;            // X-HubSpot-RateLimit-Remaining
  std::optional<std::int64_t> interval_ms;          // X-HubSpot-RateLimit-Interval-Milliseconds
  std::optional<std::int64_t> daily;                // X-HubSpot-RateLimit-Daily
  std::optional<std::int64_t> daily_remaining;      // X-HubSpot-RateLimit-Daily-Remaining
  std::optional<std::int64_t> secondly;             // X-HubSpot-RateLimit-Secondly (legacy)
  std::optional<std::int64_t> secondly_remaining;   // X-HubSpot-RateLimit-Secondly-Remaining
  std::optional<std::int64_t> retry_after_ms;       // Retry-After (seconds; HTTP dates ignored) or retry-after-ms;
                                                    // the longer wait when both are sent
  std::string correlation_id;                       // x-hubspot-correlation-id (or x-request-id when that is absent);
                                                    // at most 128 bytes, non-printable bytes as '?'

  // Offer one response header; names match case-insensitively, values that
  // are not non-negative integers (after trimming spaces) are ignored.
  // Returns true if the name is one of the headers above, even when its
  // value was ignored. Use a fresh object per response.
  bool offer(std::string_view name, std::string_view value);
};

// What kind of body came back.
enum class body_kind {
  empty,         // no bytes (204, or an empty error)
  json_object,   // a JSON object, decoded below
  not_json,      // HTML from a proxy, plain text, a JSON non-object
  invalid_json,  // started like JSON but failed to parse (truncated, garbage)
};
const char* to_string(body_kind k);

// One item of errors[] in a BatchResponse / error envelope. An item that is
// not an object still counts as an error; its string (or raw JSON) is the message.
struct error_item {
  std::string category;       // e.g. OBJECT_NOT_FOUND, VALIDATION_ERROR (may be empty)
  std::string sub_category;   // string form; an object-valued subCategory is kept as its raw JSON
  std::string message;
  // Ids named in context: fromObjectId / from / fromId / ids under any key
  // containing "from" go to from_ids; toObjectId / to / toId / "to"-keys to to_ids.
  // Values that are not decimal ids are skipped. Precisely: keys containing
  // "from" (any case) give from ids, keys starting with "to" give to ids, and
  // the context of the item's own nested errors[] (ErrorDetail) counts too.
  std::vector<std::uint64_t> from_ids;
  std::vector<std::uint64_t> to_ids;
};

struct decoded_response {
  body_kind kind = body_kind::empty;
  // Top-level fields (empty when absent).
  std::string status;           // "error", "COMPLETE", ...
  // For not_json / invalid_json bodies: a short printable excerpt (the HTML
  // <title> when there is one), for logs and the failures file.
  std::string message;
  std::string category;         // VALIDATION_ERROR, INVALID_AUTHENTICATION, MISSING_SCOPES, ...
  std::string sub_category;
  std::string correlation_id;
  std::string error_type;       // 429: "RATE_LIMIT"
  std::string policy_name;      // 429: TEN_SECONDLY_ROLLING, DAILY, SECONDLY
  std::int64_t num_errors = 0;  // numErrors, or errors.size() when numErrors is absent or not a
                                // non-negative integer that fits int64
  std::vector<error_item> errors;       // errors[] (BatchResponse partial failures or error details)
  std::vector<std::string> required_scopes;  // 403: requiredGranularScopes / requiredScopes, anywhere in errors[].context or context
  // The same ids for a top-level error's own `context` (e.g. a 400 naming the bad ids).
  std::vector<std::uint64_t> context_from_ids;
  std::vector<std::uint64_t> context_to_ids;
  // "maximum number of inputs" (any case) in the top-level message or an
  // errors[] message. The decoder does not see the status: the caller acts on
  // it for a 400 only.
  bool batch_too_large = false;
  std::int64_t batch_limit = -1;  // the limit that message states ("... in a batch is 100"); -1 = none

  void clear();
};

// Replaces every occurrence of `secret` (the access token) in the texts a
// decoded response carries into logs, the failures file and the report
// (message, category, sub-categories, error messages, scopes, ids as text)
// with "[REDACTED]". A server that echoes the Authorization header back in
// an error must not get the token written to disk. No-op for a secret
// shorter than 8 bytes (it would redact ordinary words).
void redact(decoded_response& r, std::string_view secret);

class response_decoder {
 public:
  response_decoder();
  ~response_decoder();
  response_decoder(const response_decoder&) = delete;
  response_decoder& operator=(const response_decoder&) = delete;

  // Decodes `body` into `out` (cleared first). Every text kept is safe to
  // print: ASCII and C1 control characters (a server's ESC sequences would
  // reach the user's terminal through stderr) become '?', except tab, CR
  // and LF, which become spaces; other UTF-8 is kept. `body` may be modified: the
  // decoder may append simdjson padding to its capacity. Never throws for
  // bad input; bodies larger than max_body_bytes are the caller's to refuse.
  // Only a body starting with '{' (after whitespace) is parsed; if it fails
  // to parse (truncated, trailing bytes, bad escapes or UTF-8) nothing but
  // kind and message is kept. Unknown fields, and known fields of an
  // unexpected type, are skipped.
  void decode(std::string& body, decoded_response& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hubbatch::codec
