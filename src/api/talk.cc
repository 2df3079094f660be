#include "api/talk.h"

#include <nlohmann/json.hpp>

#include "api/fields.h"
#include "common/time.h"
#include "http/json.h"

namespace nj::api {

using nlohmann::json;

// One person talking: their call, held for as long as the socket is open.
class TalkApi::Speaker final : public http::WebSocketHandler,
                               public std::enable_shared_from_this<TalkApi::Speaker> {
 public:
  Speaker(std::shared_ptr<http::WebSocketPeer> peer, talk::TalkService& talk, talk::Caller caller,
          bool take, bool may_know_holder, metrics::Gauge& speakers, metrics::CounterFamily& frames)
      : peer_(std::move(peer)),
        talk_(talk),
        caller_(std::move(caller)),
        take_(take),
        may_know_holder_(may_know_holder),
        speakers_(speakers),
        frames_(frames) {}

  void hold(std::unique_ptr<device::AccessWatch::Hold> hold) { hold_ = std::move(hold); }

  void on_open() override {
    std::weak_ptr<Speaker> weak = weak_from_this();
    auto peer = peer_;
    talk::TalkService::Handlers handlers{
        [weak, peer](std::string_view why) {
          peer->post([weak, why = std::string(why)] {
            if (auto self = weak.lock()) self->end(why);
          });
        },
        // Posted: a camera already listening is told of at once, but after "ready".
        [peer] { peer->post([peer] {
                   peer->send(json{{"type", "listening"}}.dump(), false);
                 }); }};
    auto call = talk_.open(caller_, take_, std::move(handlers));
    if (!call) {
      const auto& busy = call.error();
      peer_->send(json{{"type", "busy"},
                       {"holder", may_know_holder_ ? json(busy.holder) : json(nullptr)},
                       {"holder_is_owner", busy.holder_is_owner}}
                      .dump(),
                  false);
      peer_->close(4409, "the line is busy");
      return;
    }
    call_ = std::move(*call);
    speakers_.add(1);
    peer_->send(json{{"type", "ready"},
                     {"codec", "PCMU"},
                     {"rate", talk::TalkService::kRate},
                     {"frame_ms", 20},
                     {"max_frame_bytes", talk::TalkService::kMaxFrameBytes}}
                    .dump(),
                false);
  }

  void on_message(std::string_view data, bool binary) override {
    if (!call_) return;
    if (!binary) {
      // The one text a browser may send; read without trusting it (no throwing accessor).
      const auto j = json::parse(data, nullptr, false);
      const auto type =
          j.is_object()
              ? string_field(j, "type", 16, false)
              : Result<std::optional<std::string>, http::Response>(std::optional<std::string>());
      if (type && *type == "hangup") {
        hang_up();
        peer_->close(1000, "hung up");
        return;
      }
      peer_->close(1003, "only hangup may be said in text");
      hang_up();
      return;
    }
    if (data.size() < 2 || static_cast<uint8_t>(data[0]) != 0x01 ||
        data.size() - 1 > talk::TalkService::kMaxFrameBytes) {
      frames_.with({"refused"}).inc();
      peer_->close(1003, "a frame is 0x01 and 1 to 1600 bytes of G.711 mu-law");
      hang_up();
      return;
    }
    const std::span<const uint8_t> samples(reinterpret_cast<const uint8_t*>(data.data()) + 1,
                                           data.size() - 1);
    frames_.with({call_->audio(samples) ? "passed" : "dropped"}).inc();
  }

  void on_close() override { hang_up(); }

  // From any thread (the access watch): the person may no longer talk to this camera.
  void revoke() {
    peer_->post([self = shared_from_this()] { self->end("access_revoked"); });
  }

 private:
  void end(const std::string& why) {
    if (!call_) return;
    hang_up();
    peer_->send(json{{"type", "ended"}, {"reason", why}}.dump(), false);
    peer_->close(why == "access_revoked" ? 1008 : 1000, "the call ended");
  }
  void hang_up() {
    if (!call_) return;
    call_.reset();
    hold_.reset();
    speakers_.add(-1);
  }

  std::shared_ptr<http::WebSocketPeer> peer_;
  talk::TalkService& talk_;
  talk::Caller caller_;
  bool take_;
  bool may_know_holder_;
  metrics::Gauge& speakers_;
  metrics::CounterFamily& frames_;
  std::unique_ptr<talk::TalkService::Call> call_;
  std::unique_ptr<device::AccessWatch::Hold> hold_;
};

TalkApi::TalkApi(talk::TalkService& talk, talk::CallLog& calls, const MediaAccess& access,
                 device::AccessWatch& watch, LabelOf label_of, Refuse refuse,
                 metrics::Registry& metrics)
    : talk_(talk),
      calls_(calls),
      access_(access),
      watch_(watch),
      label_of_(std::move(label_of)),
      refuse_(std::move(refuse)),
      speakers_(
          metrics.gauge("nightjar_talk_calls", "People talking through a camera now.").with({})),
      frames_(metrics.counter("nightjar_talk_frames_total",
                              "Talk audio frames from browsers, by what became of them.",
                              {"outcome"})) {}

void TalkApi::install(http::Router& router) {
  router.add_websocket(
      "/api/v1/devices/{id}/talk",
      [this](const http::Request& request,
             const std::shared_ptr<http::WebSocketPeer>& peer) -> http::WebSocketAccept {
        auto grant = access_.check(request);
        if (!grant) return {nullptr, std::move(grant).error()};
        // Talking is for people, signed in, who are family or more; never by token.
        if (grant->user_id.empty() || !grant->token.empty() ||
            grant->role < device::Role::kFamily) {
          return {nullptr, http::error_response(403, "forbidden",
                                                "only family, admins and the owner may talk")};
        }
        if (auto no = refuse_ ? refuse_(grant->serial) : std::nullopt) return {nullptr, *no};
        const bool owner = grant->role == device::Role::kOwner;
        const bool take = request.query_param("take").value_or("") == "1";
        if (take && !owner) {
          return {nullptr,
                  http::error_response(403, "forbidden", "only the owner may take the line")};
        }
        const auto id = request.params.find("id");  // the route's own {id}, always there
        if (id == request.params.end()) {
          return {nullptr, http::error_response(404, "not_found", "no such camera")};
        }
        talk::Caller caller{grant->serial, id->second, grant->user_id,
                            label_of_ ? label_of_(grant->user_id) : std::string(), owner};
        auto speaker =
            std::make_shared<Speaker>(peer, talk_, std::move(caller), take,
                                      grant->role >= device::Role::kAdmin, speakers_, frames_);
        std::weak_ptr<Speaker> weak = speaker;
        speaker->hold(watch_.hold(grant->serial, grant->subject, grant->generation, [weak] {
          if (auto s = weak.lock()) s->revoke();
        }));
        if (trail_) trail_(access_of(*grant, "talk", take ? R"({"take":true})" : ""));
        return {speaker, {}};
      });
  router.add_async(
      http::Method::kGet, "/api/v1/devices/{id}/calls",
      [this](http::Request& request, http::Responder respond) {
        auto grant = access_.check(request);
        if (!grant) return respond(std::move(grant).error());
        if (grant->user_id.empty() || grant->role != device::Role::kOwner) {
          return respond(http::error_response(403, "forbidden", "only the owner sees the calls"));
        }
        json list = json::array();
        const auto id = request.params.find("id");  // the route's own {id}, always there
        if (id == request.params.end()) {
          return respond(http::error_response(404, "not_found", "no such camera"));
        }
        for (const auto& c : calls_.of_device(id->second)) {
          list.push_back(
              {{"user", c.email},
               {"start", format_rfc3339(SystemTime(std::chrono::milliseconds(c.start_ms)))},
               {"duration_ms", c.duration_ms}});
        }
        auto r = http::json_response(200, {{"calls", list}});
        r.headers.set("Cache-Control", "no-store");
        respond(std::move(r));
      });
}

}  // namespace nj::api
