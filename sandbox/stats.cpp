#include "sandbox/stats.hpp"

#include "io/decimal.hpp"
#include "sandbox/handler.hpp"

#include <algorithm>

namespace hubbatch::sandbox {

using io::append_u64;

const char* to_string(sandbox_errc e) {
  switch (e) {
    case sandbox_errc::ok: return "ok";
    case sandbox_errc::unknown_route: return "unknown route";
    case sandbox_errc::method_not_allowed: return "method not allowed";
    case sandbox_errc::bad_http: return "malformed HTTP request";
    case sandbox_errc::body_too_large: return "request body too large";
    case sandbox_errc::header_too_large: return "request head too large";
    case sandbox_errc::unknown_object_type: return "unknown object type";
    case sandbox_errc::missing_token: return "no bearer token";
    case sandbox_errc::invalid_token: return "token not accepted";
    case sandbox_errc::expired_token: return "token expired";
    case sandbox_errc::missing_scopes: return "missing scopes";
    case sandbox_errc::rate_limited: return "rolling-window rate limit";
    case sandbox_errc::daily_limited: return "daily rate limit";
    case sandbox_errc::secondly_limited:
      return "per-second capacity limit";
    case sandbox_errc::body_missing: return "request body missing";
    case sandbox_errc::bad_json: return "request body is not valid JSON";
    case sandbox_errc::bad_shape: return "request body has the wrong shape";
    case sandbox_errc::bad_id: return "invalid object id";
    case sandbox_errc::too_many_inputs: return "too many inputs in batch";
    case sandbox_errc::rejected_id: return "id rejected by --reject-ids";
    case sandbox_errc::missing_pairs: return "pairs not associated";
    case sandbox_errc::bad_type: return "invalid association type";
    case sandbox_errc::bad_cursor: return "invalid paging cursor";
    case sandbox_errc::input_errors: return "some inputs failed";
    case sandbox_errc::fault_5xx: return "injected 5xx";
    case sandbox_errc::fault_423: return "injected 423";
    case sandbox_errc::fault_477: return "injected 477";
    case sandbox_errc::fault_reset: return "injected reset";
    case sandbox_errc::fault_reset_after_apply: return "injected reset after apply";
    case sandbox_errc::fault_garbage: return "injected garbage body";
  }
  return "?";
}

stats_snapshot request_handler::snapshot(clock_reading now) const {
  stats_snapshot s = stats_;
  s.remaining_pairs = store_.remaining_total();
  auto sec = static_cast<std::size_t>(std::max<std::int64_t>(0, now.mono_ns - start_.mono_ns) / 1'000'000'000);
  if (s.requests_per_second.size() < sec + 1) s.requests_per_second.resize(sec + 1, 0);
  return s;
}

std::string stats_snapshot::to_json() const {
  std::string o = "{\"requests\":";
  append_u64(o, requests);
  o += ",\"by_status\":{";
  bool first = true;
  for (auto [code, n] : by_status) {
    if (!first) o += ',';
    first = false;
    o += '"';
    append_u64(o, static_cast<std::uint64_t>(code));
    o += "\":";
    append_u64(o, n);
  }
  o += "},\"accepted\":";
  append_u64(o, accepted);
  o += ",\"archived_pairs\":";
  append_u64(o, archived_pairs);
  o += ",\"applied_request_pairs\":";
  append_u64(o, applied_request_pairs);
  o += ",\"missing_pairs\":";
  append_u64(o, missing_pairs);
  o += ",\"created_pairs\":";
  append_u64(o, created_pairs);
  o += ",\"labels_created\":";
  append_u64(o, labels_created);
  o += ",\"labels_archived\":";
  append_u64(o, labels_archived);
  o += ",\"failed_inputs\":";
  append_u64(o, failed_inputs);
  o += ",\"read_requests\":";
  append_u64(o, read_requests);
  o += ",\"read_records\":";
  append_u64(o, read_records);
  o += ",\"ignored_pairs\":";
  append_u64(o, ignored_pairs);
  o += ",\"remaining_pairs\":";
  append_u64(o, remaining_pairs);
  o += ",\"rate_limited\":";
  append_u64(o, rate_limited);
  o += ",\"rate_limited_daily\":";
  append_u64(o, rate_limited_daily);
  o += ",\"rate_limited_secondly\":";
  append_u64(o, rate_limited_secondly);
  o += ",\"max_requests_in_window\":";
  append_u64(o, max_requests_in_window);
  o += ",\"max_requests_in_second\":";
  append_u64(o, max_requests_in_second);
  o += ",\"faults_injected\":";
  append_u64(o, faults.total());
  o += ",\"faults_by_kind\":{\"5xx\":";
  append_u64(o, faults.http_5xx);
  o += ",\"423\":";
  append_u64(o, faults.locked_423);
  o += ",\"477\":";
  append_u64(o, faults.migration_477);
  o += ",\"reset\":";
  append_u64(o, faults.reset);
  o += ",\"reset_after_apply\":";
  append_u64(o, faults.reset_after_apply);
  o += ",\"garbage\":";
  append_u64(o, faults.garbage);
  o += ",\"slow\":";
  append_u64(o, faults.slow);
  o += "},\"connections\":";
  append_u64(o, connections);
  o += ",\"tls_failures\":";
  append_u64(o, tls_failures);
  o += ",\"connections_refused\":";
  append_u64(o, connections_refused);
  o += ",\"requests_per_second\":[";
  for (std::size_t i = 0; i < requests_per_second.size(); ++i) {
    if (i) o += ',';
    append_u64(o, requests_per_second[i]);
  }
  o += "]}";
  return o;
}

}  // namespace hubbatch::sandbox
