#include "api/notifications.h"

#include "api/account_json.h"
#include "api/devices.h"
#include "api/fields.h"
#include "device/privacy_schedule.h"
#include "device_protocol/json_input.h"
#include "http/json.h"
#include "notify/arming.h"
#include "notify/text.h"
#include "notify/web_push.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Response;
using nlohmann::json;

constexpr int kMaxSnoozeMinutes = 7 * 24 * 60;

// One tab's connection: notifications are pushed to it; what it sends is ignored (pings).
class NotificationSocket final : public http::WebSocketHandler {
 public:
  NotificationSocket(notify::InAppChannel& channel, std::shared_ptr<http::WebSocketPeer> peer)
      : channel_(channel), peer_(std::move(peer)) {}
  ~NotificationSocket() override { close(); }
  void start(uint64_t id, std::unique_ptr<device::AccessWatch::Hold> hold, bool consented) {
    id_ = id;
    hold_ = std::move(hold);
    consented_ = consented;
  }
  // It says at once whether in-app notifications are on, so the tab can offer to turn them on.
  void on_open() override {
    peer_->send(json{{"type", "hello"}, {"consent", consented_}}.dump(), false);
  }
  void on_message(std::string_view, bool) override {}
  void on_close() override { close(); }

 private:
  void close() {
    if (id_ != 0) channel_.disconnect(id_);
    id_ = 0;
    hold_.reset();
  }
  notify::InAppChannel& channel_;
  std::shared_ptr<http::WebSocketPeer> peer_;
  uint64_t id_ = 0;
  bool consented_ = false;
  std::unique_ptr<device::AccessWatch::Hold> hold_;
};

}  // namespace

json NotificationsApi::settings_json(const std::string& user_id) {
  const auto s = prefs_.settings(user_id);
  json kinds = json::array();
  for (auto k : s.kinds) kinds.push_back(std::string(events::kind_name(k)));
  json cameras = json::array();
  const int64_t now = clock_.now_ms();
  for (const auto& d : devices_.list(user_id)) {
    if (d.role < device::Role::kFamily) continue;
    const auto c = prefs_.camera(user_id, d.device.id);
    const bool snoozed = c.snooze_until_ms && *c.snooze_until_ms > now;
    cameras.push_back(
        {{"device_id", d.device.id},
         {"name", d.device.name},
         {"home", c.home},
         {"away", c.away},
         {"snoozed_until", snoozed ? json(rfc3339_ms(*c.snooze_until_ms)) : json(nullptr)},
         // The owner's: in which modes an events-only plan records this camera's events.
         {"record", d.role == device::Role::kOwner ? json{{"home", c.record_home},
                                                          {"away", c.record_away},
                                                          {"disarmed", c.record_disarmed}}
                                                   : json(nullptr)}});
  }
  json quiet = s.quiet_hours.empty() ? json(nullptr) : json::parse(s.quiet_hours, nullptr, false);
  // The schedule as stored (accepted by read_arming_schedule), and its next change.
  json arming = nullptr;
  json arming_next = nullptr;
  if (!s.arming_schedule.empty()) {
    if (auto j = device_protocol::parse_json(s.arming_schedule, {16 * 1024, 4})) {
      if (auto a = notify::read_arming_schedule(*j)) {
        arming = notify::to_json(*a);
        if (auto zone = zones_.find(a->hours.time_zone)) {
          if (auto next = notify::next_arming_change(*a, *zone, now)) {
            arming_next = {{"at", rfc3339_ms(next->at_ms)},
                           {"mode", std::string(notify::mode_name(next->mode))}};
          }
        }
      }
    }
  }
  return {{"mode", std::string(notify::mode_name(s.mode))},
          {"arming_schedule", arming},
          {"arming_next", arming_next},
          {"kinds", kinds},
          {"quiet_hours", quiet.is_discarded() ? json(nullptr) : quiet},
          {"cooldown_s", s.cooldown_s},
          {"cameras", cameras}};
}

void NotificationsApi::install(http::Router& router) {
  router.add_websocket(
      "/api/v1/notifications",
      [this](const Request& request,
             std::shared_ptr<http::WebSocketPeer> peer) -> http::WebSocketAccept {
        auto who = guard_.identify(request);
        if (!who) return {nullptr, std::move(who).error()};
        auto socket = std::make_shared<NotificationSocket>(in_app_, peer);
        const std::string session = who->session_id;
        std::weak_ptr<http::WebSocketPeer> weak_peer = peer;
        // Each notification first asks whether the session is still open: a tab whose person
        // signed out is closed, not told.
        const uint64_t id =
            in_app_.connect(who->user_id, [this, session, weak_peer](const std::string& text) {
              auto p = weak_peer.lock();
              if (!p) return false;
              if (!accounts_.session_open(session)) {
                p->close(1008, "signed out");
                return false;
              }
              return p->send(text, false);
            });
        // An account cancelled ends everything its person holds, this included.
        auto hold = watch_.hold("", who->user_id, 0, [weak_peer] {
          if (auto p = weak_peer.lock()) p->close(1008, "access ended");
        });
        socket->start(id, std::move(hold), consents_.granted(who->user_id, privacy::kNotifyInApp));
        return {socket, {}};
      });

  router.add_async(
      Method::kGet, "/api/v1/me/consents",
      guard_.user([this](const Request&, const account::Principal& who) {
        json current = json::object();
        for (const auto& [purpose, c] : consents_.current(who.user_id)) {
          current[purpose] = {{"granted", c.granted},
                              {"at", rfc3339_ms(c.at_ms)},
                              {"policy_version", c.policy_version},
                              {"method", c.method}};
        }
        json history = json::array();
        for (const auto& c : consents_.history(who.user_id)) {
          history.push_back({{"purpose", c.purpose},
                             {"granted", c.granted},
                             {"at", rfc3339_ms(c.at_ms)},
                             {"policy_version", c.policy_version},
                             {"method", c.method}});
        }
        json purposes = json::array();
        for (auto p : privacy::purposes()) purposes.push_back(std::string(p));
        return no_store(http::json_response(200, {{"consents", current},
                                                  {"history", history},
                                                  {"purposes", purposes},
                                                  {"policy_version", policy_version_}}));
      }));

  router.add_async(
      Method::kPut, "/api/v1/me/consents/{purpose}",
      guard_.user([this](const Request& r, const account::Principal& who) {
        const std::string purpose = r.params.at("purpose");
        if (!privacy::known_purpose(purpose)) {
          return http::error_response(404, "not_found", "no such purpose");
        }
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        if (!body->is_object()) return invalid_field("granted", "the body is {\"granted\": bool}");
        auto granted = bool_field(*body, "granted");
        if (!granted) return std::move(granted).error();
        if (!*granted) return invalid_field("granted", "granted is true or false");
        if (**granted && !privacy::grantable(purpose)) {
          return http::error_response(409, "no_advertising",
                                      "Nightjar shows no advertising: this stays off");
        }
        if (!consents_.record(who.user_id, purpose, **granted, policy_version_, "app")) {
          return http::error_response(500, "internal", "the consent could not be recorded");
        }
        const auto c = consents_.current(who.user_id)[purpose];
        return no_store(http::json_response(200, {{"purpose", purpose},
                                                  {"granted", c.granted},
                                                  {"at", rfc3339_ms(c.at_ms)},
                                                  {"policy_version", c.policy_version}}));
      }));

  router.add_async(Method::kGet, "/api/v1/me/notifications",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     return no_store(http::json_response(200, settings_json(who.user_id)));
                   }));

  router.add_async(
      Method::kPatch, "/api/v1/me/notifications",
      guard_.user([this](const Request& r, const account::Principal& who) {
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        if (!body->is_object()) return invalid_field("", "the body must be an object");
        auto s = prefs_.settings(who.user_id);
        for (const auto& [key, value] : body->items()) {
          if (key == "mode") {
            auto m = value.is_string() ? notify::parse_mode(value.get_ref<const std::string&>())
                                       : std::nullopt;
            if (!m) return invalid_field("mode", "home, away or disarmed");
            s.mode = *m;
          } else if (key == "kinds") {
            if (!value.is_array() || value.size() > 16) {
              return invalid_field("kinds", "a list of kinds of event");
            }
            s.kinds.clear();
            for (const auto& k : value) {
              auto kind = k.is_string() ? events::parse_kind(k.get_ref<const std::string&>())
                                        : std::nullopt;
              if (!kind) return invalid_field("kinds", "a list of kinds of event");
              if (std::find(s.kinds.begin(), s.kinds.end(), *kind) == s.kinds.end()) {
                s.kinds.push_back(*kind);
              }
            }
          } else if (key == "quiet_hours") {
            if (value.is_null()) {
              s.quiet_hours.clear();
              continue;
            }
            auto quiet = device::read_privacy_schedule(value);
            if (!quiet) {
              const auto& e = quiet.error();
              return invalid_field("quiet_hours" + (e.field.empty() ? "" : "." + e.field),
                                   e.message);
            }
            if (!zones_.find(quiet->time_zone)) {
              return invalid_field("quiet_hours.time_zone",
                                   "this server does not know that time zone");
            }
            s.quiet_hours = device::to_json(*quiet).dump();
          } else if (key == "arming_schedule") {
            if (value.is_null()) {
              s.arming_schedule.clear();
              continue;
            }
            auto arming = notify::read_arming_schedule(value);
            if (!arming) {
              const auto& e = arming.error();
              return invalid_field("arming_schedule" + (e.field.empty() ? "" : "." + e.field),
                                   e.message);
            }
            if (!zones_.find(arming->hours.time_zone)) {
              return invalid_field("arming_schedule.time_zone",
                                   "this server does not know that time zone");
            }
            s.arming_schedule = notify::to_json(*arming).dump();
          } else if (key == "cooldown_s") {
            device_protocol::ObjectReader reader(*body);
            auto seconds = reader.integer("cooldown_s", 0, 3600, true);
            if (!seconds) return invalid_field("cooldown_s", "0 to 3600 seconds");
            s.cooldown_s = static_cast<int>(*seconds);
          } else {
            return invalid_field(key, key + " cannot be changed here");
          }
        }
        if (!prefs_.save(who.user_id, s)) {
          return http::error_response(500, "internal", "the settings could not be saved");
        }
        return no_store(http::json_response(200, settings_json(who.user_id)));
      }));

  router.add(Method::kGet, "/api/v1/push/key", [this](const Request&) {
    if (!push_) return http::error_response(404, "not_found", "Web Push is not set up here");
    return http::json_response(200, {{"public_key", notify::webpush::base64url(push_key_)}});
  });

  router.add_async(Method::kGet, "/api/v1/me/push-subscriptions",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     json list = json::array();
                     if (push_) {
                       for (const auto& s : push_->of(who.user_id)) {
                         // The push service, not the whole endpoint (it is a capability).
                         auto origin = notify::push_origin(s.endpoint, push_targets_);
                         list.push_back({{"id", s.id},
                                         {"service", origin.value_or("")},
                                         {"created_at", rfc3339_ms(s.created_at)}});
                       }
                     }
                     return no_store(http::json_response(200, {{"subscriptions", list}}));
                   }));

  router.add_async(
      Method::kPost, "/api/v1/me/push-subscriptions",
      guard_.user([this](const Request& r, const account::Principal& who) {
        if (!push_) return http::error_response(404, "not_found", "Web Push is not set up here");
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        // The browser's PushSubscription as JSON; only these fields are read.
        const json* keys = body->is_object() && body->contains("keys") ? &(*body)["keys"] : nullptr;
        auto endpoint = string_field(*body, "endpoint", 1024, true);
        if (!endpoint) return std::move(endpoint).error();
        if (!notify::push_origin(**endpoint, push_targets_)) {
          return invalid_field("endpoint", "not a push service this server sends to");
        }
        if (!keys || !keys->is_object()) return invalid_field("keys", "keys has p256dh and auth");
        auto p256dh_text = string_field(*keys, "p256dh", 200, true);
        if (!p256dh_text) return std::move(p256dh_text).error();
        auto auth_text = string_field(*keys, "auth", 100, true);
        if (!auth_text) return std::move(auth_text).error();
        auto p256dh = notify::webpush::from_base64url(**p256dh_text);
        auto auth = notify::webpush::from_base64url(**auth_text);
        // A key is checked by using it: an empty message encrypted for it, or no subscription.
        if (!p256dh || !auth || !notify::webpush::encrypt("", *p256dh, *auth)) {
          return invalid_field("keys", "p256dh is a P-256 public key and auth 16 bytes");
        }
        auto id = push_->add(who.user_id, **endpoint, *p256dh, *auth);
        if (!id) return http::error_response(500, "internal", "the subscription was not kept");
        return no_store(http::json_response(201, {{"id", *id}}));
      }));

  router.add_async(Method::kDelete, "/api/v1/me/push-subscriptions/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     if (!push_ || !push_->remove(who.user_id, r.params.at("id"))) {
                       return http::error_response(404, "not_found", "no such subscription");
                     }
                     return Response{204, {}, {}};
                   }));

  // From a notification's button, in the service worker: no session and no CSRF token, so
  // the token carried by the push message is the whole right, and it can only do this.
  router.add(Method::kPost, "/api/v1/notifications/snooze", [this](const Request& r) {
    auto body = http::parse_json_body(r);
    if (!body) return std::move(body).error();
    if (!body->is_object()) return invalid_field("token", "the body is {\"token\"}");
    auto token = string_field(*body, "token", 256, true);
    if (!token) return std::move(token).error();
    const auto claim = action_tokens_ ? action_tokens_->check_snooze(**token) : std::nullopt;
    if (!claim) return http::error_response(401, "invalid_token", "the token is not valid");
    // The person must still be someone the camera notifies (a share may have ended).
    auto owned = devices_.get(claim->user_id, claim->device_id);
    if (!owned || owned->role < device::Role::kFamily) {
      return http::error_response(401, "invalid_token", "the token is not valid");
    }
    auto c = prefs_.camera(claim->user_id, claim->device_id);
    const int64_t until = clock_.now_ms() + int64_t{notify::kActionSnoozeMinutes} * 60'000;
    c.snooze_until_ms = std::max(c.snooze_until_ms.value_or(0), until);
    if (!prefs_.save_camera(claim->user_id, claim->device_id, c)) {
      return http::error_response(500, "internal", "the snooze was not saved");
    }
    return no_store(http::json_response(
        200, {{"device_id", claim->device_id}, {"snoozed_until", rfc3339_ms(*c.snooze_until_ms)}}));
  });

  // Per camera: notify in Home mode, in Away mode, and "silence for N minutes".
  router.add_async(
      Method::kPatch, "/api/v1/devices/{id}/notifications",
      guard_.user([this](const Request& r, const account::Principal& who) {
        auto owned = devices_.get(who.user_id, r.params.at("id"));
        if (!owned) return device_error(owned.error());
        if (owned->role < device::Role::kFamily) {
          return http::error_response(403, "forbidden", "notifications are for family and up");
        }
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        if (!body->is_object()) return invalid_field("", "the body must be an object");
        auto c = prefs_.camera(who.user_id, owned->device.id);
        for (const auto& [key, value] : body->items()) {
          const bool record = key.starts_with("record_");
          if (key != "home" && key != "away" && key != "snooze_minutes" && key != "record_home" &&
              key != "record_away" && key != "record_disarmed") {
            return invalid_field(key, key + " cannot be changed here");
          }
          if (record && owned->role != device::Role::kOwner) {
            return http::error_response(403, "forbidden", "recording is the owner's to choose");
          }
        }
        // Read through the validating layer: a wrong type is an error, never a throw.
        device_protocol::ObjectReader reader(*body);
        const auto home = reader.boolean("home");
        const auto away = reader.boolean("away");
        const auto minutes = reader.integer("snooze_minutes", 0, kMaxSnoozeMinutes);
        const auto record_home = reader.boolean("record_home");
        const auto record_away = reader.boolean("record_away");
        const auto record_disarmed = reader.boolean("record_disarmed");
        if (!reader.ok()) {
          const std::string field = reader.error()->field;
          return invalid_field(field, field == "snooze_minutes" ? "0 (none) to 10080 minutes"
                                                                : field + " is true or false");
        }
        if (home) c.home = *home;
        if (away) c.away = *away;
        if (record_home) c.record_home = *record_home;
        if (record_away) c.record_away = *record_away;
        if (record_disarmed) c.record_disarmed = *record_disarmed;
        if (minutes) {
          c.snooze_until_ms = *minutes == 0
                                  ? std::nullopt
                                  : std::optional<int64_t>(clock_.now_ms() + *minutes * 60'000);
        }
        if (!prefs_.save_camera(who.user_id, owned->device.id, c)) {
          return http::error_response(500, "internal", "the settings could not be saved");
        }
        return no_store(http::json_response(200, settings_json(who.user_id)));
      }));
}

}  // namespace nj::api
