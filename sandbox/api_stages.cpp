// The API route as stages in the order a client sees their answers:
// authenticate → limit_rate → inject_faults → validate → apply (handler.hpp
// gives the checks within each), and batch/archive's apply and answer (the
// other operations: api_writes.cpp). A stage either answers (returns true:
// `out` and the plan hold the response) or passes the request on.
#include "sandbox/handler_detail.hpp"

#include "io/decimal.hpp"
#include "io/text.hpp"

#include <algorithm>
#include <chrono>

namespace hubbatch::sandbox {

using io::append_json_escaped;
using io::append_u64;

response_plan request_handler::handle_api(const request_in& in, const route& r, session_scratch& scratch,
                                          std::string& out) {
  api_call c(in, r, scratch.get(), out, next_correlation_id());

  // The stages, in order; each answers (true) or passes on.
  if (authenticate(c) || limit_rate(c) || inject_faults(c)) return c.plan;
  if (r.op == api_op::list_labels) {
    if (!check_object_types(c) && !check_scopes(c)) list_labels(c);
    return c.plan;
  }
  if (validate(c)) return c.plan;
  apply(c);
  return c.plan;
}

bool request_handler::answer(api_call& c, int status, std::string_view type, std::string_view body,
                             sandbox_errc outcome) {
  if (c.in.accepts_gzip && !body.empty() && c.s.gzip(body)) {
    c.h.gzip = true;
    body = c.s.gz;
  }
  write_response(c.out, status, type, body, c.h, c.rate, c.in.keep_alive, c.in.now.unix_ms);
  ++stats_.by_status[status];
  c.plan.outcome = outcome;
  return true;
}

bool request_handler::answer_json_error(api_call& c, int status, sandbox_errc outcome) {
  return answer(c, status, json_type, c.s.body, outcome);
}

// ---------------------------------------------------------------------------
// Authentication: a bearer token, not expired, one of --token if any (401s).

bool request_handler::authenticate(api_call& c) {
  auto& s = c.s;
  std::string_view auth = c.in.authorization;
  while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
  std::string_view token;
  if (auth.size() > 7 && io::iequals(auth.substr(0, 7), "bearer ")) {
    token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  }
  auto invalid_auth = [&](sandbox_errc why) {
    error_head(s.body,
               "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
               "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
               c.id);
    s.body += ",\"category\":\"INVALID_AUTHENTICATION\"}";
    return answer_json_error(c, 401, why);
  };
  if (token.empty()) return invalid_auth(sandbox_errc::missing_token);
  if (std::find(cfg_.expired_tokens.begin(), cfg_.expired_tokens.end(), token) != cfg_.expired_tokens.end()) {
    std::int64_t ago = std::max<std::int64_t>(1, (c.in.now.unix_ms - expired_at_unix_ms_) / 1000);
    s.message = "The OAuth token used to make this call expired ";
    append_i64(s.message, ago);
    s.message += " second(s) ago.";
    error_head(s.body, s.message, c.id);
    s.body += ",\"category\":\"EXPIRED_AUTHENTICATION\",\"context\":{\"expire time\":[\"";
    append_iso8601(s.body, expired_at_unix_ms_);
    s.body += "\"]}}";
    return answer_json_error(c, 401, sandbox_errc::expired_token);
  }
  if (!cfg_.tokens.empty() && std::find(cfg_.tokens.begin(), cfg_.tokens.end(), token) == cfg_.tokens.end())
    return invalid_auth(sandbox_errc::invalid_token);
  c.token = token;
  return false;
}

// ---------------------------------------------------------------------------
// Rate limits: the daily budget, then the token's rolling window, then the
// batch routes' per-second capacity (429s). Passing counts the request as
// accepted (and may slow its answer near capacity); rate headers go on every
// answer from here on.

void request_handler::fill_rate_headers(api_call& c) {
  if (!cfg_.rate_headers) return;
  auto& rv = c.rate_view;
  const auto now = c.in.now;
  c.rate = &rv;
  if (cfg_.rate.max != 0) {
    rv.window = true;
    rv.max = cfg_.rate.max;
    rv.interval_ms = static_cast<std::uint32_t>(cfg_.rate.window.count());
    std::uint32_t used = c.b->window.count(now.mono_ns);
    rv.remaining = used >= rv.max ? 0 : rv.max - used;
    // Legacy per-second view: Max spread over the window's seconds.
    std::int64_t secs = std::max<std::int64_t>(1, cfg_.rate.window.count() / 1000);
    rv.secondly = static_cast<std::uint32_t>(std::max<std::int64_t>(1, rv.max / secs));
    std::uint32_t last_sec = c.b->window.count_within(
        now.mono_ns, std::min<std::int64_t>(1'000'000'000, std::chrono::nanoseconds(cfg_.rate.window).count()));
    rv.secondly_remaining = last_sec >= rv.secondly ? 0 : rv.secondly - last_sec;
  }
  if (daily_->enabled()) {
    rv.daily = true;
    rv.daily_max = daily_->limit();
    rv.daily_remaining = daily_->remaining(now.unix_ms);
  }
}

bool request_handler::limit_rate(api_call& c) {
  auto& s = c.s;
  const auto now = c.in.now;
  auto it = buckets_.find(c.token);
  if (it == buckets_.end())
    it = buckets_.emplace(std::string(c.token), std::make_unique<bucket>(cfg_.rate, cfg_.capacity, next_app_id_++))
             .first;
  bucket& b = *it->second;
  c.b = &b;
  const bool counts_in_window = !cfg_.exempt_batch;
  const bool batch_route = c.r.op != api_op::list_labels;  // the routes --capacity covers
  if (!daily_->has_room(now.unix_ms)) {
    ++stats_.rate_limited;
    ++stats_.rate_limited_daily;
    fill_rate_headers(c);
    c.h.retry_after_s = cfg_.retry_after_s;
    error_head(s.body, "You have reached your daily limit.", c.id);
    s.body += ",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"DAILY\",\"requestId\":\"";
    s.body += c.id;
    s.body += "\"}";
    return answer_json_error(c, 429, sandbox_errc::daily_limited);
  }
  if (counts_in_window && !b.window.has_room(now.mono_ns)) {
    ++stats_.rate_limited;
    fill_rate_headers(c);
    c.h.retry_after_s = cfg_.retry_after_s;
    error_head(s.body, "You have reached your ten_secondly_rolling limit.", c.id);
    s.body += ",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"TEN_SECONDLY_ROLLING\","
              "\"groupName\":\"publicapi:private_app-api-calls-ten-secondly:";
    append_u64(s.body, b.app_id);
    s.body += ':';
    append_u64(s.body, cfg_.portal_id);
    s.body += "\"}";
    return answer_json_error(c, 429, sandbox_errc::rate_limited);
  }
  if (batch_route && !b.second.has_room(now.mono_ns)) {
    // HubSpot's secondly answer (docs/hubspot-api.md §4.2, with the pre-2019
    // policyName and groupName). No Retry-After even with --retry-after.
    ++stats_.rate_limited;
    ++stats_.rate_limited_secondly;
    fill_rate_headers(c);
    s.body =
        "{\"status\":\"error\",\"message\":\"You have reached your secondly limit.\",\"errorType\":\"RATE_LIMIT\","
        "\"correlationId\":\"";
    s.body += c.id;
    s.body += "\",\"policyName\":\"SECONDLY\",\"groupName\":\"publicapi:private_app-api-calls-secondly:";
    append_u64(s.body, cfg_.portal_id);
    s.body += "\"}";
    return answer_json_error(c, 429, sandbox_errc::secondly_limited);
  }
  if (batch_route) {
    b.second.record(now.mono_ns);
    stats_.max_requests_in_second = std::max<std::uint64_t>(stats_.max_requests_in_second, b.second.max_in_window());
    c.plan.delay = capacity_delay_for(b.second.count(now.mono_ns), cfg_.capacity, cfg_.capacity_delay);
  }
  if (counts_in_window) {
    b.window.record(now.mono_ns);
    stats_.max_requests_in_window = std::max<std::uint64_t>(stats_.max_requests_in_window, b.window.max_in_window());
  }
  daily_->record(now.unix_ms);
  count_accepted(now);
  fill_rate_headers(c);
  return false;
}

// ---------------------------------------------------------------------------
// Faults before applying: slow (delays whatever answer follows), reset, 5xx,
// 423, 477. The draws happen in this fixed order, so a seed reproduces.

bool request_handler::inject_faults(api_call& c) {
  auto& s = c.s;
  if (draw(cfg_.fault_slow)) {
    ++stats_.faults.slow;
    c.plan.delay += cfg_.fault_slow_delay;  // on top of a --capacity delay
  }
  if (draw(cfg_.fault_reset)) {
    ++stats_.faults.reset;
    c.out.clear();
    c.plan.reset = true;
    c.plan.delay = {};
    c.plan.outcome = sandbox_errc::fault_reset;
    return true;
  }
  if (draw(cfg_.fault_5xx)) {
    ++stats_.faults.http_5xx;
    static constexpr int codes[] = {500, 502, 503, 504};
    int status = codes[std::uniform_int_distribution<int>(0, 3)(fault_rng_)];
    if (status == 500) {
      // Key order as captured: correlationId, message, status.
      s.body = "{\"correlationId\":\"";
      s.body += c.id;
      s.body += "\",\"message\":\"internal error\",\"status\":\"error\"}";
      return answer(c, status, json_type, s.body, sandbox_errc::fault_5xx);
    }
    if (status == 503) return answer(c, status, {}, {}, sandbox_errc::fault_5xx);  // empty body
    cloudflare_page(s.body, status);
    return answer(c, status, "text/html", s.body, sandbox_errc::fault_5xx);
  }
  if (draw(cfg_.fault_423)) {
    ++stats_.faults.locked_423;
    c.h.retry_after_s = 2;  // "locks last 2 s" (error-handling doc)
    error_head(s.body, "The resource is locked. Please try again in 2 seconds.", c.id);
    s.body += ",\"category\":\"LOCKED\"}";
    return answer_json_error(c, 423, sandbox_errc::fault_423);
  }
  if (draw(cfg_.fault_477)) {
    ++stats_.faults.migration_477;
    c.h.retry_after_s = std::max<std::uint32_t>(1, cfg_.fault_477_retry_after_s);
    error_head(s.body, "This account is being migrated. Please retry after the time in the Retry-After header.",
               c.id);
    s.body += ",\"category\":\"MIGRATION_IN_PROGRESS\"}";
    return answer_json_error(c, 477, sandbox_errc::fault_477);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Validation (400s and 403): object types → scopes → body → batch limits →
// --reject-ids → presence (--missing error). Nothing is applied before all
// have passed.

bool request_handler::validate(api_call& c) {
  if (check_object_types(c) || check_scopes(c) || decode_body(c) || check_limits(c) || check_rejected_ids(c))
    return true;
  switch (c.r.op) {
    case api_op::archive: return check_presence(c);
    case api_op::create:
    case api_op::labels_archive: return check_types(c);
    case api_op::read: return check_cursors(c);
    default: return false;
  }
}

bool request_handler::check_object_types(api_call& c) {
  auto& s = c.s;
  c.from_type = resolve_object_type(c.r.from);
  if (c.from_type) c.to_type = resolve_object_type(c.r.to);
  if (c.from_type && c.to_type) return false;
  s.message = "Unable to infer object type from: ";
  s.message += c.from_type ? c.r.to : c.r.from;
  error_head(s.body, s.message, c.id);
  s.body += '}';
  return answer_json_error(c, 400, sandbox_errc::unknown_object_type);
}

// Write access on both object types, read access for batch/read
// (--missing-scopes: never granted).
bool request_handler::check_scopes(api_call& c) {
  if (!cfg_.missing_scopes) return false;
  auto& s = c.s;
  const object_type& from_type = *c.from_type;
  const object_type& to_type = *c.to_type;
  error_head(s.body,
             "This app hasn't been granted all required scopes to make this call. Read more about required "
             "scopes here: https://developers.hubspot.com/scopes.",
             c.id);
  s.body += ",\"errors\":[{\"message\":\"One or more of the following scopes are required.\",\"context\":{"
            "\"requiredGranularScopes\":[";
  auto scope = [&](const object_type& t) {
    s.body += "\"crm.objects.";
    if (t.key.starts_with("0-")) {
      std::string plural = t.singular;
      if (plural.ends_with("y")) plural.replace(plural.size() - 1, 1, "ies");
      else if (!plural.ends_with("s") && plural != "postal_mail") plural += 's';
      s.body += plural;
    } else {
      s.body += "custom";
    }
    s.body += c.r.op == api_op::read ? ".read\"" : ".write\"";
  };
  scope(from_type);
  if (to_type.key != from_type.key && !(to_type.key[0] != '0' && from_type.key[0] != '0')) {
    s.body += ',';
    scope(to_type);
  }
  s.body += "]}}],\"links\":{\"scopes\":\"https://developers.hubspot.com/scopes\"},\"category\":\"MISSING_SCOPES\"}";
  return answer_json_error(c, 403, sandbox_errc::missing_scopes);
}

bool request_handler::decode_body(api_call& c) {
  auto& s = c.s;
  std::string& body = *c.in.body;
  bool blank = std::all_of(body.begin(), body.end(), [](char ch) { return ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t'; });
  if (blank) {
    error_head(s.body, "Invalid JSON input: a request body was expected, but none found", c.id);
    s.body += ",\"category\":\"VALIDATION_ERROR\"}";
    return answer_json_error(c, 400, sandbox_errc::body_missing);
  }
  const body_kind kind = c.r.op == api_op::archive             ? body_kind::archive
                         : c.r.op == api_op::associate_default ? body_kind::default_pair
                         : c.r.op == api_op::read              ? body_kind::read
                                                               : body_kind::multi_post;
  switch (s.decoder.decode(body, kind, s.message)) {
    case decode_result::ok: return false;
    case decode_result::syntax:
      error_head(s.body, s.message, c.id);
      s.body += '}';
      return answer_json_error(c, 400, sandbox_errc::bad_json);
    case decode_result::shape:
      error_head(s.body, s.message, c.id);
      s.body += '}';
      return answer_json_error(c, 400, sandbox_errc::bad_shape);
    case decode_result::bad_id:
      error_head(s.body, s.message, c.id);
      s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\"}";
      return answer_json_error(c, 400, sandbox_errc::bad_id);
    case decode_result::bad_type:
      error_head(s.body, s.message, c.id);
      s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_ASSOCIATION_TYPE\"}";
      return answer_json_error(c, 400, sandbox_errc::bad_type);
  }
  return false;
}

bool request_handler::check_limits(api_call& c) {
  auto& s = c.s;
  const std::size_t inputs = s.decoder.inputs();
  const std::size_t pair_count = s.decoder.pairs().size();  // one per input but for archive
  // The operation's cap: --max-read-inputs for read, --max-inputs per write operation.
  const std::uint32_t max_inputs = c.r.op == api_op::read                ? cfg_.max_read_inputs
                                   : c.r.op == api_op::labels_archive    ? cfg_.max_inputs.labels_archive
                                   : c.r.op == api_op::create            ? cfg_.max_inputs.create
                                   : c.r.op == api_op::associate_default ? cfg_.max_inputs.associate_default
                                                                         : cfg_.max_inputs.archive;
  std::uint32_t exceeded = 0;
  if (max_inputs && inputs > max_inputs)
    exceeded = max_inputs;
  else if (c.r.op != api_op::read && cfg_.max_pairs && pair_count > cfg_.max_pairs)
    exceeded = cfg_.max_pairs;
  if (!exceeded) return false;
  s.message = "The maximum number of inputs supported in a batch is ";
  append_u64(s.message, exceeded);
  s.message += ". Please reduce the number of items and try again";
  error_head(s.body, s.message, c.id);
  s.body += ",\"category\":\"VALIDATION_ERROR\"}";
  return answer_json_error(c, 400, sandbox_errc::too_many_inputs);
}

// Ids rejected by configuration: the whole batch fails.
bool request_handler::check_rejected_ids(api_call& c) {
  if (reject_ids_.empty()) return false;
  auto& s = c.s;
  auto rejected = [&](std::uint64_t v) { return std::binary_search(reject_ids_.begin(), reject_ids_.end(), v); };
  std::string from_list, to_list, quoted;
  auto add = [&](std::string& list, std::uint64_t v) {  // once each, in request order
    quoted.assign(1, '"');
    append_u64(quoted, v);
    quoted += '"';
    if (list.find(quoted) != std::string::npos) return;
    if (!list.empty()) list += ',';
    list += quoted;
  };
  for (auto p : s.decoder.pairs()) {
    if (rejected(p.from)) add(from_list, p.from);
    if (rejected(p.to)) add(to_list, p.to);
  }
  for (const auto& r : s.decoder.reads())
    if (rejected(r.id)) add(from_list, r.id);
  if (from_list.empty() && to_list.empty()) return false;
  error_head(s.body, "One or more object ids are invalid for this association batch.", c.id);
  s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\","
            "\"context\":{\"fromObjectId\":[";
  s.body += from_list;
  s.body += "],\"toObjectId\":[";
  s.body += to_list;
  s.body += "]}}";
  return answer_json_error(c, 400, sandbox_errc::rejected_id);
}

// Presence is decided for every pair before removing any (duplicates in one
// request are then all "present"). --missing error fails the batch here.
bool request_handler::check_presence(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  c.table = store_.find(*c.from_type, *c.to_type);
  s.present.resize(pairs.size());
  c.table.contains_many(pairs, s.present.data());
  std::size_t missing = 0;
  for (auto present : s.present) missing += present ? 0 : 1;
  stats_.missing_pairs += missing;
  c.missing = missing;
  if (!missing || cfg_.missing != missing_mode::error) return false;
  auto append_missing_ids = [&](bool from_side) {
    bool first = true;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      if (s.present[i]) continue;
      if (!first) s.body += ',';
      first = false;
      s.body += '"';
      append_u64(s.body, from_side ? pairs[i].from : pairs[i].to);
      s.body += '"';
    }
  };
  s.message = "Could not archive: ";
  append_u64(s.message, missing);
  s.message += " of ";
  append_u64(s.message, pairs.size());
  s.message += " ";
  s.message += c.from_type->singular;
  s.message += " to ";
  s.message += c.to_type->singular;
  s.message += " pairs are not associated (fromObjectId[i] with toObjectId[i] in context)";
  error_head(s.body, s.message, c.id);
  s.body += ",\"category\":\"VALIDATION_ERROR\",\"subCategory\":\"crm.associations.INVALID_IDENTIFIER\","
            "\"context\":{\"fromObjectId\":[";
  append_missing_ids(true);
  s.body += "],\"toObjectId\":[";
  append_missing_ids(false);
  s.body += "]}}";
  return answer_json_error(c, 400, sandbox_errc::missing_pairs);
}

// ---------------------------------------------------------------------------
// Apply: change the store, then the faults after applying (reset, garbage),
// else the operation's success answer.

void request_handler::apply(api_call& c) {
  switch (c.r.op) {
    case api_op::archive: apply_archive(c); break;
    case api_op::labels_archive: apply_labels_archive(c); break;
    case api_op::create:
    case api_op::associate_default: apply_create(c); return;  // it answers (its errors[] built on the way)
    case api_op::read: apply_read(c); return;                 // changes nothing; it answers
    case api_op::list_labels: return;                         // answered before validate
  }
  if (!fault_after_apply(c)) answer_archive(c);
}

// batch/archive: remove the present pairs with every type; --fault-ignore
// keeps some of them without a word in the answer.
void request_handler::apply_archive(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  stats_.applied_request_pairs += pairs.size();
  const std::uint8_t* only_if = s.present.data();
  if (cfg_.fault_ignore > 0) {
    s.remove.assign(s.present.begin(), s.present.end());
    for (auto& r : s.remove)
      if (r && draw(cfg_.fault_ignore)) {
        r = 0;
        ++stats_.ignored_pairs;
      }
    only_if = s.remove.data();
  }
  stats_.archived_pairs += c.table.remove_many(pairs, only_if);
}

bool request_handler::fault_after_apply(api_call& c) {
  auto& s = c.s;
  if (draw(cfg_.fault_reset_after_apply)) {
    ++stats_.faults.reset_after_apply;
    c.out.clear();
    c.plan.reset = true;
    c.plan.outcome = sandbox_errc::fault_reset_after_apply;
    return true;
  }
  if (draw(cfg_.fault_garbage)) {
    ++stats_.faults.garbage;
    bool truncated = std::uniform_int_distribution<int>(0, 1)(fault_rng_) == 1;
    s.body = "{\"status\":\"COMPLETE\",\"results\":[],\"startedAt\":\"";
    if (truncated) {
      // Declares more than it sends, then closes: a body cut off mid-way.
      write_response(c.out, 200, json_type, s.body, c.h, c.rate, false, c.in.now.unix_ms, s.body.size() + 64);
      c.plan.close_after = true;
    } else {
      s.body.push_back('\0');
      s.body += "}<html>\x7f\xff";
      write_response(c.out, 200, json_type, s.body, c.h, c.rate, c.in.keep_alive, c.in.now.unix_ms);
    }
    ++stats_.by_status[200];
    c.plan.outcome = sandbox_errc::fault_garbage;
    return true;
  }
  return false;
}

// The archives' success: 204, or 200/207 COMPLETE; with --missing partial
// (batch/archive only) the missing pairs as errors[].
void request_handler::answer_archive(api_call& c) {
  auto& s = c.s;
  const auto pairs = s.decoder.pairs();
  const std::int64_t started = c.in.now.unix_ms;
  const bool with_errors = c.missing && cfg_.missing == missing_mode::partial;
  const int status = with_errors ? cfg_.partial_status : !c.r.dated ? 204 : cfg_.archive_status_dated;
  if (status == 204) {
    answer(c, 204, {}, {}, sandbox_errc::ok);
    return;
  }
  const object_type& from_type = *c.from_type;
  const object_type& to_type = *c.to_type;
  s.body = "{\"status\":\"COMPLETE\",\"results\":[]";
  if (with_errors) {
    s.body += ",\"numErrors\":";
    append_u64(s.body, c.missing);
    s.body += ",\"errors\":[";
    bool first = true;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      if (s.present[i]) continue;
      if (!first) s.body += ',';
      first = false;
      s.body += "{\"status\":\"error\",\"category\":\"OBJECT_NOT_FOUND\","
                "\"subCategory\":\"crm.associations.NO_ASSOCIATIONS_FOUND\",\"message\":\"No ";
      append_json_escaped(s.body, to_type.singular);
      s.body += ' ';
      append_u64(s.body, pairs[i].to);
      s.body += " is associated with ";
      append_json_escaped(s.body, from_type.singular);
      s.body += ' ';
      append_u64(s.body, pairs[i].from);
      s.body += ".\",\"context\":{\"fromObjectId\":[\"";
      append_u64(s.body, pairs[i].from);
      s.body += "\"],\"toObjectId\":[\"";
      append_u64(s.body, pairs[i].to);
      s.body += "\"],\"fromObjectType\":[\"";
      append_json_escaped(s.body, from_type.singular);
      s.body += "\"],\"toObjectType\":[\"";
      append_json_escaped(s.body, to_type.singular);
      s.body += "\"]}}";
    }
    s.body += ']';
  }
  s.body += ",\"startedAt\":\"";
  append_iso8601(s.body, started);
  s.body += "\",\"completedAt\":\"";
  append_iso8601(s.body, clock_reading::now().unix_ms);
  s.body += "\"}";
  answer(c, status, json_type, s.body, with_errors ? sandbox_errc::missing_pairs : sandbox_errc::ok);
}

}  // namespace hubbatch::sandbox
