#include "api/devices.h"

#include <sodium.h>

#include <algorithm>

#include "api/account_json.h"
#include "api/auth.h"
#include "api/fields.h"
#include "common/qr.h"
#include "device/privacy_schedule.h"
#include "device/settings_change.h"
#include "device_protocol/messages.h"
#include "http/json.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Responder;
using http::Response;
using nlohmann::json;

Response rpc_error(const device::RpcError& e) {
  if (e.code == "offline") return http::error_response(409, "device_offline", e.message);
  if (e.code == "timeout") return http::error_response(504, "device_timeout", e.message);
  if (e.code == "invalid_params") return http::error_response(400, "invalid_field", e.message);
  if (e.code == "unsupported") return http::error_response(501, "unsupported", e.message);
  if (e.code == "no_card") return http::error_response(409, "no_card", e.message);
  if (e.code == "privacy_mode") return http::error_response(409, "privacy_mode", e.message);
  if (e.code == "not_ready") {  // the camera is settling whose it is (just connected)
    auto r = http::error_response(503, "device_not_ready", e.message);
    r.headers.set("Retry-After", "1");
    return r;
  }
  if (e.code == "not_found") return http::error_response(404, "not_found", e.message);
  if (e.code == "unplayable") return http::error_response(422, "unplayable", e.message);
  return http::error_response(502, "device_error", e.message);
}

std::string base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const uint8_t*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

}  // namespace

json device_json(const device::OwnedDevice& o) {
  const auto& d = o.device;
  json caps = json::array();
  std::string_view rest = d.capabilities;
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    caps.push_back(std::string(rest.substr(0, semi)));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
  }
  json out = {{"id", d.id},
              {"serial", d.serial},
              {"name", d.name},
              {"place", d.place},
              {"model", d.model},
              {"firmware", d.firmware},
              {"online", d.online},
              {"last_seen", d.last_seen_at ? json(rfc3339_ms(*d.last_seen_at)) : json(nullptr)},
              {"role", std::string(device::role_name(o.role))},
              {"capabilities", caps},
              {"bound_at", d.bound_at ? json(rfc3339_ms(*d.bound_at)) : json(nullptr)},
              {"privacy_mode", d.privacy_mode()}};
  if (o.role != device::Role::kOwner) out["shared_by"] = o.shared_by;
  // The camera's settings as it last said them, for those who may change them.
  if (o.role >= device::Role::kAdmin) {
    json settings = json::parse(d.settings, nullptr, false);
    out["settings"] = settings.is_object() ? settings : json::object();
    out["settings_reported_at"] = d.settings_at ? json(rfc3339_ms(*d.settings_at)) : json(nullptr);
    out["ip"] = d.ip;  // as the camera reported it
    json schedule = d.privacy_schedule.empty() ? json(nullptr)
                                               : json::parse(d.privacy_schedule, nullptr, false);
    out["privacy_schedule"] = schedule.is_object() ? schedule : json(nullptr);
  }
  // The card's state as it last reported it, for those who manage the card.
  if (o.role >= device::Role::kAdmin && !d.sd_state.empty()) {
    json sd = json::parse(d.sd_state, nullptr, false);
    if (sd.is_object()) {
      sd["reported_at"] = d.sd_state_at ? json(rfc3339_ms(*d.sd_state_at)) : json(nullptr);
      out["sd_card"] = std::move(sd);
    }
  }
  return out;
}

json share_json(const device::Share& s) {
  return {{"id", s.id},
          {"device_id", s.device_id},
          {"device_name", s.device_name},
          {"email", s.email},
          {"role", std::string(device::role_name(s.role))},
          {"state", s.state},
          {"created_at", rfc3339_ms(s.created_at)}};
}

Response device_error(const device::DeviceError& e) {
  switch (e.code) {
    case device::Errc::kInvalidInput:
      return invalid_field(e.field, e.message);
    case device::Errc::kConflict:
      return http::error_response(409, "conflict", e.message);
    case device::Errc::kNotFound:
      return http::error_response(404, "not_found", "no such device");
    case device::Errc::kInternal:
      break;
  }
  return http::error_response(500, "internal", "something went wrong");
}

std::optional<device::OwnedDevice> device_for(const Guard& guard, device::DeviceService& devices,
                                              const Request& r, const Responder& respond,
                                              device::Role at_least) {
  auto who = guard.identify(r);
  if (!who) {
    respond(std::move(who).error());
    return std::nullopt;
  }
  auto owned = devices.get(who->user_id, r.params.at("id"));
  if (!owned) {
    respond(device_error(owned.error()));
    return std::nullopt;
  }
  if (owned->role < at_least) {
    respond(http::error_response(403, "forbidden", "your role on this camera does not allow it"));
    return std::nullopt;
  }
  return std::move(*owned);
}

json DevicesApi::qr_payload(const std::string& token) const {
  json payload = {
      {"v", 1}, {"server", options_.public_url}, {"mqtt", options_.mqtt_url}, {"token", token}};
  // The broker over TLS and its certificate: a camera given this payload gives its secret
  // only to that broker (the certificate pinned; no public CA involved).
  if (!options_.mqtts_url.empty()) {
    payload["mqtts"] = options_.mqtts_url;
    payload["broker_cert"] = options_.broker_cert;
  }
  return payload;
}

json DevicesApi::detail_json(const device::OwnedDevice& owned) {
  json out = device_json(owned);
  if (owned.role < device::Role::kAdmin || owned.device.privacy_schedule.empty()) return out;
  out["privacy_schedule_next"] = nullptr;
  auto stored = device_protocol::parse_json(owned.device.privacy_schedule, {16 * 1024, 4});
  if (!stored) return out;
  auto schedule = device::read_privacy_schedule(*stored);
  if (!schedule || !schedule->enabled) return out;
  auto zone = zones_.find(schedule->time_zone);
  if (!zone) return out;
  if (auto next = device::next_edge(*schedule, *zone, clock_.now_ms())) {
    out["privacy_schedule_next"] = {{"at", rfc3339_ms(next->at_ms)},
                                    {"privacy_mode", next->privacy}};
  }
  return out;
}

void DevicesApi::log_share(const char* kind, const device::Share& s,
                           const account::Principal& who) {
  if (!trail_) return;
  // The share's id and role, not the invitee's address: the log names people by pseudonym.
  trail_({kind,
          {},
          s.device_id,
          who.user_id,
          who.session_id,
          json{{"share", s.id}, {"role", std::string(device::role_name(s.role))}}.dump(),
          std::nullopt});
}

void DevicesApi::install(http::Router& router) {
  // Where devices find the broker; public, and holds no secret.
  router.add(Method::kGet, "/api/v1/device-endpoints", [this](const Request&) {
    json out = {{"mqtt", options_.mqtt_url}, {"server", options_.public_url}};
    if (!options_.mqtts_url.empty()) {
      out["mqtts"] = options_.mqtts_url;
      out["broker_cert"] = options_.broker_cert;
    }
    return http::json_response(200, out);
  });

  // A one-time token for adding a camera, and the QR payload the camera scans: the server,
  // the broker, the token and, if given, the Wi-Fi network (never stored by the server).
  router.add_async(Method::kPost, "/api/v1/bind-tokens",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     json wifi;
                     if (!r.body.empty()) {
                       auto body = http::parse_json_body(r);
                       if (!body) return std::move(body).error();
                       if (!body->is_object())
                         return invalid_field("", "the body must be an object");
                       auto ssid = string_field(*body, "wifi_ssid", 32, false);
                       auto password = string_field(*body, "wifi_password", 63, false);
                       for (auto* f : {&ssid, &password}) {
                         if (!*f) return std::move(*f).error();
                       }
                       if (*ssid) wifi = {{"ssid", **ssid}, {"password", password->value_or("")}};
                     }
                     auto token = devices_.create_bind_token(who.user_id);
                     if (!token) return device_error(token.error());
                     json payload = qr_payload(token->token);
                     if (!wifi.is_null()) payload["wifi"] = wifi;
                     const std::string text = payload.dump();
                     auto png = qr_png(text);
                     json out = {{"token", token->token},
                                 {"qr_payload", text},
                                 {"expires_at", rfc3339_ms(token->expires_at)}};
                     if (png) out["qr_png"] = "data:image/png;base64," + base64(*png);
                     return no_store(http::json_response(201, out));
                   }));

  // Adding a camera by hand, with the serial and pairing code on its label. Guessing is
  // throttled per person and per address, like signing in.
  router.add_async(
      Method::kPost, "/api/v1/devices",
      guard_.user([this](const Request& r, const account::Principal& who) {
        auto body = http::parse_json_body(r);
        if (!body) return std::move(body).error();
        if (!body->is_object()) return invalid_field("", "the body must be an object");
        auto serial = string_field(*body, "serial", 64, true);
        if (!serial) return std::move(serial).error();
        auto code = string_field(*body, "pairing_code", 32, true);
        if (!code) return std::move(code).error();
        const std::string key = "pair:" + who.user_id;
        if (const auto wait_ms = pairing_throttle_.retry_after_ms(key, r.remote_address)) {
          const auto seconds = std::to_string((wait_ms + 999) / 1000);
          auto refused = http::error_response(
              429, "locked_out", "too many wrong pairing codes; try again in " + seconds + " s");
          refused.headers.set("Retry-After", seconds);
          return refused;
        }
        auto bound = devices_.bind_by_code(who.user_id, **serial, **code);
        if (!bound) {
          if (bound.error().code == device::Errc::kInvalidInput) {
            pairing_throttle_.record_failure(key, r.remote_address);
          }
          return device_error(bound.error());
        }
        pairing_throttle_.record_success(key, r.remote_address);
        link_.set_enabled(bound->serial, true);  // its credentials work again at once
        link_.announce_binding(bound->serial);   // whose it is now (a connected camera hears)
        auto owned = devices_.get(who.user_id, bound->id);
        if (!owned) return device_error(owned.error());
        return no_store(http::json_response(201, device_json(*owned)));
      }));

  // The QR code again (without Wi-Fi details, which the server never kept).
  router.add_async(Method::kGet, "/api/v1/bind-tokens/{token}/qr.png",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     const auto& token = r.params.at("token");
                     if (!devices_.bind_token_usable(who.user_id, token)) {
                       return http::error_response(404, "not_found",
                                                   "no such bind token (used or expired?)");
                     }
                     const json payload = qr_payload(token);
                     auto png = qr_png(payload.dump());
                     if (!png) return http::error_response(500, "internal", "no QR code");
                     Response out{200, {}, std::move(*png)};
                     out.headers.set("Content-Type", "image/png");
                     return no_store(std::move(out));
                   }));

  router.add_async(Method::kGet, "/api/v1/devices",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     json list = json::array();
                     for (const auto& d : devices_.list(who.user_id)) {
                       list.push_back(device_json(d));
                       list.back()["picture"] = !d.device.privacy_mode() && has_picture_ &&
                                                has_picture_(d.device.serial);
                     }
                     return no_store(http::json_response(200, {{"devices", list}}));
                   }));

  router.add_async(Method::kGet, "/api/v1/devices/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto d = devices_.get(who.user_id, r.params.at("id"));
                     if (!d) return device_error(d.error());
                     return no_store(http::json_response(200, detail_json(*d)));
                   }));

  // What the camera sent, per day, for its owner and admins (policy item 12 c).
  router.add_async(Method::kGet, "/api/v1/devices/{id}/traffic",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto d = devices_.get(who.user_id, r.params.at("id"));
                     if (!d) return device_error(d.error());
                     if (d->role < device::Role::kAdmin) {
                       return http::error_response(403, "forbidden",
                                                   "only the owner or an admin may");
                     }
                     json days = json::array();
                     for (const auto& t : registry_.traffic(d->device.id, 30)) {
                       days.push_back({{"day", t.day}, {"bytes", t.bytes}});
                     }
                     return no_store(http::json_response(200, {{"days", days}}));
                   }));

  // Rename ({"name"}) and settings ({"settings": {…}}, applied by the device over RPC).
  router.add_async(
      Method::kPatch, "/api/v1/devices/{id}", [this](Request& r, const Responder& respond) {
        auto who = guard_.identify(r);
        if (!who) return respond(std::move(who).error());
        auto body = http::parse_json_body(r);
        if (!body) return respond(std::move(body).error());
        if (!body->is_object()) return respond(invalid_field("", "the body must be an object"));
        for (const auto& [key, value] : body->items()) {
          if (key != "name" && key != "place" && key != "settings" && key != "privacy_schedule") {
            return respond(invalid_field(key, key + " cannot be changed here"));
          }
        }
        const std::string id = r.params.at("id");
        auto owned = devices_.get(who->user_id, id);
        if (!owned) return respond(device_error(owned.error()));
        if (owned->role < device::Role::kAdmin) {
          return respond(http::error_response(403, "forbidden", "only the owner or an admin may"));
        }
        // Everything is checked before anything changes: a bad setting renames nothing.
        std::optional<device_protocol::CameraSettings> change;
        if (body->contains("settings")) {
          const json& settings = (*body)["settings"];
          if (!settings.is_object() || settings.empty()) {
            return respond(invalid_field("settings", "settings must be a non-empty object"));
          }
          // The same schema the camera checks: a typo or a bad value never reaches it.
          auto checked = device_protocol::read_settings(settings);
          if (!checked) {
            return respond(
                invalid_field("settings." + checked.error().field, checked.error().message));
          }
          change = std::move(*checked);
        }
        // A schedule in the owner's time zone, or null to have none.
        std::optional<std::string> schedule;
        if (body->contains("privacy_schedule")) {
          const json& given = (*body)["privacy_schedule"];
          if (given.is_null()) {
            schedule = "";
          } else {
            auto checked = device::read_privacy_schedule(given);
            if (!checked) {
              const auto& e = checked.error();
              return respond(invalid_field(
                  "privacy_schedule" + (e.field.empty() ? "" : "." + e.field), e.message));
            }
            if (!zones_.find(checked->time_zone)) {
              return respond(invalid_field("privacy_schedule.time_zone",
                                           "this server does not know that time zone"));
            }
            schedule = device::to_json(*checked).dump();
          }
        }
        std::optional<std::string> name;
        if (body->contains("name")) {
          auto given = string_field(*body, "name", 256, true);
          if (!given) return respond(std::move(given).error());
          name = std::move(**given);
        }
        std::optional<std::string> place;
        if (body->contains("place")) {
          auto given = string_field(*body, "place", 256, false);
          if (!given) return respond(std::move(given).error());
          place = given->value_or("");
          const bool control = std::any_of(place->begin(), place->end(),
                                           [](unsigned char c) { return c < 0x20 || c == 0x7f; });
          if (place->size() > 64 || control) {
            return respond(invalid_field("place", "a place is up to 64 characters"));
          }
        }
        if (name) {
          auto renamed = devices_.rename(who->user_id, id, *name);
          if (!renamed) return respond(device_error(renamed.error()));
          owned = std::move(renamed);
        }
        if (place) {
          auto placed = devices_.set_place(who->user_id, id, *place);
          if (!placed) return respond(device_error(placed.error()));
          owned = std::move(placed);
        }
        if (schedule) {
          registry_.set_privacy_schedule(id, *schedule);
          if (auto now = registry_.by_id(id)) owned->device = std::move(*now);
        }
        if (!change) return respond(no_store(http::json_response(200, detail_json(*owned))));
        // The camera answers with all its settings now; they are kept as it said them.
        const std::string serial = owned->device.serial;  // read before `owned` moves below
        device::change_settings(
            link_, registry_, serial, *change,
            [this, respond, owned = std::move(*owned)](const device::RpcResult& result) mutable {
              if (!result) return respond(rpc_error(result.error()));
              if (auto now = registry_.by_serial(owned.device.serial)) {
                owned.device = std::move(*now);
              }
              respond(no_store(http::json_response(200, detail_json(owned))));
            });
      });

  // Unbind: the owner only. Streams are cut and the device's credentials refused at once.
  router.add_async(Method::kDelete, "/api/v1/devices/{id}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto done = devices_.unbind(who.user_id, r.params.at("id"),
                                                 [this](const std::string& serial) {
                                                   if (unbound_) unbound_(serial);
                                                 });
                     if (!done) return device_error(done.error());
                     return Response{204, {}, {}};
                   }));

  router.add_async(
      Method::kPost, "/api/v1/devices/{id}/reboot", [this](Request& r, const Responder& respond) {
        auto owned = device_for(r, respond, device::Role::kAdmin);
        if (!owned) return;
        link_.call(owned->device.serial, "reboot", json::object(), std::chrono::seconds(8),
                   [respond](const device::RpcResult& result) {
                     if (!result) return respond(rpc_error(result.error()));
                     respond(Response{202, {}, {}});
                   });
      });

  // Wakes the camera for live view: answers once its stream is live (or why not).
  router.add_async(
      Method::kPost, "/api/v1/devices/{id}/stream", [this](Request& r, const Responder& respond) {
        auto owned = device_for(r, respond, device::Role::kViewer);
        if (!owned) return;
        demand_.start(owned->device.serial, [respond](std::optional<device::RpcError> error) {
          if (error) return respond(rpc_error(*error));
          respond(http::json_response(200, {{"live", true}}));
        });
      });

  // Sharing: the owner (or an admin) invites an e-mail address with a role.
  router.add_async(Method::kGet, "/api/v1/devices/{id}/shares",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto shares = devices_.shares_of(who.user_id, r.params.at("id"));
                     if (!shares) return device_error(shares.error());
                     json list = json::array();
                     for (const auto& s : *shares) list.push_back(share_json(s));
                     return no_store(http::json_response(200, {{"shares", list}}));
                   }));
  router.add_async(Method::kPost, "/api/v1/devices/{id}/shares",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto body = http::parse_json_body(r);
                     if (!body) return std::move(body).error();
                     auto email = string_field(*body, "email", 254, true);
                     if (!email) return std::move(email).error();
                     auto role_name = string_field(*body, "role", 16, true);
                     if (!role_name) return std::move(role_name).error();
                     auto role = device::parse_role(**role_name);
                     if (!role) return invalid_field("role", "role is viewer, family or admin");
                     // An invitation is a mail: limited per address, account and invitee.
                     if (auto no = refuse_mail(mail_limits_, r, **email, who.user_id)) {
                       return std::move(*no);
                     }
                     auto share = devices_.share(who.user_id, r.params.at("id"), **email, *role);
                     if (!share) return device_error(share.error());
                     log_share("share.create", *share, who);
                     return http::json_response(201, share_json(*share));
                   }));
  // Revoke (owner or admin), or leave (the invitee): open live views end at once.
  router.add_async(Method::kDelete, "/api/v1/devices/{id}/shares/{share}",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto done = devices_.revoke(
                         who.user_id, r.params.at("id"), r.params.at("share"),
                         [this](const std::string& serial, const std::optional<std::string>& user) {
                           if (user && access_revoked_) access_revoked_(serial, *user);
                         });
                     if (!done) return device_error(done.error());
                     if (trail_) {
                       trail_({"share.end",
                               {},
                               r.params.at("id"),
                               who.user_id,
                               who.session_id,
                               json{{"share", r.params.at("share")}}.dump(),
                               std::nullopt});
                     }
                     return Response{204, {}, {}};
                   }));
  // The person's invitations (pending) and the shares they hold (accepted).
  router.add_async(Method::kGet, "/api/v1/shares",
                   guard_.user([this](const Request&, const account::Principal& who) {
                     json list = json::array();
                     for (const auto& s : devices_.invitations(who.user_id)) {
                       list.push_back(share_json(s));
                     }
                     return no_store(http::json_response(200, {{"shares", list}}));
                   }));
  router.add_async(Method::kPost, "/api/v1/shares/{share}/accept",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto share = devices_.accept(who.user_id, r.params.at("share"));
                     if (!share) return device_error(share.error());
                     log_share("share.accept", *share, who);
                     if (access_granted_) access_granted_(who.user_id);
                     return http::json_response(200, share_json(*share));
                   }));
  router.add_async(Method::kPost, "/api/v1/shares/{share}/decline",
                   guard_.user([this](const Request& r, const account::Principal& who) {
                     auto done = devices_.decline(who.user_id, r.params.at("share"));
                     if (!done) return device_error(done.error());
                     return Response{204, {}, {}};
                   }));

  // The camera's SD card (owner and admins): recordings and state, delete, format.
  auto card_admin = [this](const Request& r, const Responder& respond,
                           const std::function<void(const device::OwnedDevice&)>& then) {
    if (auto owned = device_for(r, respond, device::Role::kAdmin)) then(*owned);
  };
  router.add_async(Method::kGet, "/api/v1/devices/{id}/sdcard",
                   [this, card_admin](Request& r, const Responder& respond) {
                     card_admin(r, respond, [this, respond](const device::OwnedDevice& d) {
                       link_.call(d.device.serial, "sd.list", json::object(),
                                  std::chrono::seconds(8),
                                  [respond](const device::RpcResult& result) {
                                    if (!result) return respond(rpc_error(result.error()));
                                    respond(no_store(http::json_response(200, *result)));
                                  });
                     });
                   });
  // Formatting erases the card: the request must say so ({"confirm": true}), as the app asks.
  router.add_async(
      Method::kPost, "/api/v1/devices/{id}/sdcard/format",
      [this, card_admin](Request& r, const Responder& respond) {
        // Who may, first (a stranger learns nothing from the body's errors); then the body.
        card_admin(r, respond, [this, &r, respond](const device::OwnedDevice& d) {
          auto body = http::parse_json_body(r);
          if (!body) return respond(std::move(body).error());
          if (!body->is_object() || body->value("confirm", false) != true) {
            return respond(invalid_field(
                "confirm", "formatting erases every recording: send {\"confirm\": true}"));
          }
          link_.call(d.device.serial, "sd.format", json::object(), std::chrono::seconds(15),
                     [respond](const device::RpcResult& result) {
                       if (!result) return respond(rpc_error(result.error()));
                       respond(Response{204, {}, {}});
                     });
        });
      });
  router.add_async(Method::kDelete, "/api/v1/devices/{id}/sdcard/recordings/{name}",
                   [this, card_admin](Request& r, const Responder& respond) {
                     const std::string name = r.params.at("name");
                     card_admin(r, respond, [this, respond, name](const device::OwnedDevice& d) {
                       link_.call(d.device.serial, "sd.delete", {{"name", name}},
                                  std::chrono::seconds(8),
                                  [respond](const device::RpcResult& result) {
                                    if (!result) return respond(rpc_error(result.error()));
                                    respond(Response{204, {}, {}});
                                  });
                     });
                   });

  // Playing a recording of the card: the camera pushes it to sd/{serial}, and the caller
  // watches it on the WebSocket named in the answer (the live view's messages). Body,
  // optional: {"offset_ms": n} from the start of the recording.
  router.add_async(
      Method::kPost, "/api/v1/devices/{id}/sdcard/recordings/{name}/play",
      [this, card_admin](Request& r, const Responder& respond) {
        card_admin(r, respond, [this, &r, respond](const device::OwnedDevice& d) {
          int64_t offset_ms = 0;
          if (!r.body.empty()) {
            auto body = http::parse_json_body(r);
            if (!body) return respond(std::move(body).error());
            if (!body->is_object()) return respond(invalid_field("offset_ms", "send an object"));
            if (body->contains("offset_ms")) {
              const auto& o = (*body)["offset_ms"];
              if (!o.is_number_integer() || o.get<int64_t>() < 0 ||
                  o.get<int64_t>() > 24 * 3600 * 1000) {
                return respond(
                    invalid_field("offset_ms", "milliseconds from the start of the recording"));
              }
              offset_ms = o.get<int64_t>();
            }
          }
          const std::string id = d.device.id;
          demand_.play_recording(
              d.device.serial, r.params.at("name"), offset_ms,
              [respond, id](const device::RpcResult& result) {
                if (!result) return respond(rpc_error(result.error()));
                json out = {{"playback", "/api/v1/devices/" + id + "/sdcard/playback"}};
                if (result->is_object()) {
                  out["duration_ms"] = result->value("duration_ms", int64_t{0});
                  out["start_ms"] = result->value("start_ms", int64_t{0});
                }
                respond(no_store(http::json_response(200, out)));
              });
        });
      });

  // An RTSP URL with a short-lived play token, for an NVR or VLC.
  router.add_async(
      Method::kPost, "/api/v1/devices/{id}/stream-tokens",
      guard_.user([this](const Request& r, const account::Principal& who) {
        auto owned = devices_.get(who.user_id, r.params.at("id"));
        if (!owned) return device_error(owned.error());
        const int64_t ttl_ms = 10 * 60 * 1000;
        // For this person, under this binding: re-checked on every use.
        const auto token =
            tokens_.for_person(owned->device, who.user_id, device::StreamPurpose::kPlay, ttl_ms);
        if (trail_) {
          trail_({"live",
                  {},
                  owned->device.id,
                  who.user_id,
                  who.session_id,
                  R"({"via":"rtsp token"})",
                  owned->device.binding_generation});
        }
        return no_store(http::json_response(
            201,
            {{"token", token},
             {"rtsp_url", options_.rtsp_base + "/live/" + owned->device.serial + "?token=" + token},
             {"expires_in_s", ttl_ms / 1000}}));
      }));
}

}  // namespace nj::api
