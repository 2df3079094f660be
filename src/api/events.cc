#include "api/events.h"

#include <charconv>

#include "api/account_json.h"
#include "api/devices.h"
#include "api/fields.h"
#include "common/time.h"
#include "http/json.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr size_t kMaxPage = 200;
constexpr size_t kMaxMarkers = 10'000;
constexpr int64_t kMaxMarkerRangeMs = 7ll * 86'400'000;

Response not_found() { return http::error_response(404, "not_found", "no such event"); }

std::optional<int64_t> time_param(const Request& r, const char* name, bool& bad) {
  auto text = r.query_param(name);
  if (!text) return std::nullopt;
  auto t = parse_time_param(*text);
  if (!t) {
    bad = true;
    return std::nullopt;
  }
  return t->time_since_epoch().count();
}

}  // namespace

json EventsApi::event_json(const events::Event& e, const std::string& device_name) const {
  const int64_t clip_end = e.end_ms.value_or(clock_.now_ms()) + options_.post_roll_ms;
  json out = {
      {"id", e.id},
      {"device_id", e.device_id},
      {"device_name", device_name},
      {"kind", std::string(events::kind_name(e.kind))},
      {"start", rfc3339_ms(e.start_ms)},
      {"end", e.end_ms ? json(rfc3339_ms(*e.end_ms)) : json(nullptr)},
      {"score", e.score},
      {"reports", e.reports},
      {"read", e.read},
      {"snapshot",
       e.snapshot_bytes ? json("/api/v1/events/" + e.id + "/snapshot.jpg") : json(nullptr)},
      {"clip",
       {{"from", rfc3339_ms(e.start_ms - options_.pre_roll_ms)}, {"to", rfc3339_ms(clip_end)}}}};
  json zones = e.zones.empty() ? json::array() : json::parse(e.zones, nullptr, false);
  out["zones"] = zones.is_array() ? zones : json::array();
  return out;
}

Result<EventsApi::Found, Response> EventsApi::find(const std::string& user_id,
                                                   const std::string& event_id) {
  auto e = store_.get(event_id, user_id);
  if (!e) return Unexpected(not_found());
  auto owned = devices_.get(user_id, e->device_id);
  // Another person's event, or one of a camera shared without the family role: not found.
  if (!owned || owned->role < device::Role::kFamily) return Unexpected(not_found());
  return Found{std::move(*e), std::move(*owned)};
}

void EventsApi::install(http::Router& router) {
  router.add_async(
      Method::kGet, "/api/v1/events",
      guard_.user([this](const Request& r, const account::Principal& who) {
        events::EventQuery q;
        q.user_id = who.user_id;
        std::map<std::string, std::string> names;
        const auto device = r.query_param("device");
        for (const auto& d : devices_.list(who.user_id)) {
          if (d.role < device::Role::kFamily) continue;
          if (device && *device != d.device.id) continue;
          q.device_ids.push_back(d.device.id);
          names[d.device.id] = d.device.name;
        }
        // Another person's camera reads as one without events: nothing to tell apart.
        bool bad = false;
        q.from_ms = time_param(r, "from", bad);
        if (bad) return invalid_field("from", "a time in RFC 3339 or Unix milliseconds");
        q.to_ms = time_param(r, "to", bad);
        if (bad) return invalid_field("to", "a time in RFC 3339 or Unix milliseconds");
        if (auto kinds = r.query_param("kind")) {
          std::string_view rest = *kinds;
          while (!rest.empty()) {
            const size_t comma = rest.find(',');
            auto k = events::parse_kind(rest.substr(0, comma));
            if (!k) return invalid_field("kind", "a kind of event, or several with commas");
            q.kinds.push_back(*k);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
          }
        }
        q.unread_only = r.query_param("unread") == "1" || r.query_param("unread") == "true";
        if (auto cursor = r.query_param("cursor")) {
          q.before = events::Cursor::parse(*cursor);
          if (!q.before) return invalid_field("cursor", "a cursor from an earlier page");
        }
        if (auto limit = r.query_param("limit")) {
          size_t n = 0;
          auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
          if (ec != std::errc() || end != limit->data() + limit->size() || n == 0 || n > kMaxPage) {
            return invalid_field("limit", "1 to 200");
          }
          q.limit = n;
        }
        auto page = store_.list(q);
        json list = json::array();
        for (const auto& e : page.events) list.push_back(event_json(e, names[e.device_id]));
        return no_store(http::json_response(
            200, {{"events", list},
                  {"next_cursor", page.next ? json(page.next->text()) : json(nullptr)}}));
      }));

  router.add_async(
      Method::kGet, "/api/v1/events/unread",
      guard_.user([this](const Request&, const account::Principal& who) {
        std::vector<std::string> ids;
        for (const auto& d : devices_.list(who.user_id)) {
          if (d.role >= device::Role::kFamily) ids.push_back(d.device.id);
        }
        return no_store(http::json_response(200, {{"count", store_.unread(who.user_id, ids)}}));
      }));

  router.add_async(
      Method::kPost, "/api/v1/events/read",
      guard_.user([this](const Request& r, const account::Principal& who) {
        int64_t before = clock_.now_ms();
        auto body = http::parse_json_body(r);
        if (body && body->is_object() && body->contains("before")) {
          const json& b = (*body)["before"];
          auto t = b.is_string() ? parse_time_param(b.get_ref<const std::string&>()) : std::nullopt;
          if (!t) return invalid_field("before", "a time in RFC 3339");
          before = std::min(before, int64_t{t->time_since_epoch().count()});
        }
        store_.mark_all_read(who.user_id, before);
        return no_store(http::json_response(200, {{"read_before", rfc3339_ms(before)}}));
      }));

  router.add_async(Method::kGet, "/api/v1/events/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto found = find(who.user_id, r.params.at("id"));
                     if (!found) return std::move(found).error();
                     return no_store(http::json_response(
                         200, event_json(found->event, found->device.device.name)));
                   }));

  router.add_async(Method::kGet, "/api/v1/events/{id}/snapshot.jpg",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto found = find(who.user_id, r.params.at("id"));
                     if (!found) return std::move(found).error();
                     auto jpeg = files_.read(found->event.device_id, found->event.id);
                     if (!jpeg && jpeg.error() == recording::Unreadable::kUnavailable) {
                       return storage_unavailable();
                     }
                     if (!jpeg) {
                       return http::error_response(404, "no_picture", "this event has no picture");
                     }
                     // Alarm pictures are pictures of the camera: in its access log (one row
                     // per session and camera in 10 minutes, however many are looked at).
                     if (trail_) {
                       trail_({"event_picture",
                               {},
                               found->event.device_id,
                               who.user_id,
                               who.session_id,
                               {},
                               found->device.device.binding_generation});
                     }
                     Response res;
                     res.status = 200;
                     res.headers.set("Content-Type", "image/jpeg");
                     res.headers.set("Cache-Control", "no-store");  // a picture of someone's home
                     res.body = std::move(*jpeg);
                     return res;
                   }));

  router.add_async(Method::kPatch, "/api/v1/events/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     if (!body->is_object() || body->size() != 1 || !body->contains("read")) {
                       return invalid_field("read", "only read (true or false) can be changed");
                     }
                     auto read = bool_field(*body, "read");
                     if (!read) return std::move(read).error();
                     if (!*read) return invalid_field("read", "read is true or false");
                     auto found = find(who.user_id, r.params.at("id"));
                     if (!found) return std::move(found).error();
                     store_.set_read(who.user_id, found->event.id, **read);
                     found->event.read = **read;
                     return no_store(http::json_response(
                         200, event_json(found->event, found->device.device.name)));
                   }));

  router.add_async(Method::kDelete, "/api/v1/events/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto found = find(who.user_id, r.params.at("id"));
                     if (!found) return std::move(found).error();
                     if (found->device.role < device::Role::kAdmin) {
                       return http::error_response(403, "forbidden",
                                                   "only the owner or an admin may");
                     }
                     files_.remove(found->event.device_id, found->event.id);
                     store_.remove(found->event.id);
                     return Response{204, {}, {}};
                   }));

  // The timeline's markers: every event of the camera in [from, to), oldest first.
  router.add_async(
      Method::kGet, "/api/v1/devices/{id}/events",
      guard_.user([this](const Request& r, const account::Principal& who) {
        auto owned = devices_.get(who.user_id, r.params.at("id"));
        if (!owned) return device_error(owned.error());
        if (owned->role < device::Role::kFamily) {
          return http::error_response(403, "forbidden", "events are for family and up");
        }
        bool bad_from = false, bad_to = false;
        const int64_t now = clock_.now_ms();
        const int64_t from = time_param(r, "from", bad_from).value_or(now - 86'400'000);
        const int64_t to = time_param(r, "to", bad_to).value_or(now);
        if (bad_from || bad_to) {
          return invalid_field(bad_from ? "from" : "to", "a time in RFC 3339 or Unix milliseconds");
        }
        if (to <= from || to - from > kMaxMarkerRangeMs) {
          return invalid_field("to", "to is after from, at most 7 days later");
        }
        // Compact: what the timeline draws and what a tap opens (the event by its id).
        json markers = json::array();
        for (const auto& m : store_.markers(owned->device.id, from, to, kMaxMarkers)) {
          markers.push_back(
              {{"id", m.id},
               {"kind", std::string(events::kind_name(m.kind))},
               {"start", rfc3339_ms(m.start_ms)},
               {"end", m.end_ms ? json(rfc3339_ms(*m.end_ms)) : json(nullptr)},
               {"snapshot", m.has_snapshot ? json("/api/v1/events/" + m.id + "/snapshot.jpg")
                                           : json(nullptr)}});
        }
        return no_store(http::json_response(
            200, {{"from", rfc3339_ms(from)}, {"to", rfc3339_ms(to)}, {"events", markers}}));
      }));
}

}  // namespace nj::api
