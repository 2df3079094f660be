// The notification channels a person sets up themselves, beyond the app and Web Push:
//   GET    /api/v1/me/webhooks                     their webhooks (with each signing secret)
//                                                  and the deliveries that never got through
//   POST   /api/v1/me/webhooks {"url"}             a new one (at most 5)
//   DELETE /api/v1/me/webhooks/{id}                gone, with its failed deliveries
//   POST   /api/v1/me/webhook-failures/{id}/retry  send a failed delivery again
//   DELETE /api/v1/me/webhook-failures             clear the list
//   GET    /api/v1/me/mqtt                         home automation: on or off, where and what
//   POST   /api/v1/me/mqtt                         turn on, or a new password; shown once
//   DELETE /api/v1/me/mqtt                         turn off: credentials and discovery gone
// Nothing is delivered on these without the person's consent to the channel
// (PUT /api/v1/me/consents/notify.webhook, notify.mqtt): setting one up is not consenting.
#pragma once

#include <string>

#include "api/guard.h"
#include "http/router.h"
#include "notify/home_mqtt.h"
#include "notify/webhooks.h"

namespace nj::api {

struct HomeMqttBroker {
  std::string mqtt_url, mqtts_url;  // where a person's home automation connects
};

struct NotifyChannelsOptions {
  HomeMqttBroker broker;
  bool webhook_allow_private = false;  // [notify] webhook_allow_private
};

class NotifyChannelsApi {
 public:
  NotifyChannelsApi(const Guard& guard, notify::WebhookStore& webhooks,
                    notify::WebhookChannel& webhook_channel, notify::HomeMqtt& home,
                    NotifyChannelsOptions options)
      : guard_(guard),
        webhooks_(webhooks),
        webhook_channel_(webhook_channel),
        home_(home),
        broker_(std::move(options.broker)),
        allow_private_(options.webhook_allow_private) {}
  void install(http::Router& router);

 private:
  nlohmann::json webhook_json(const notify::Webhook& w) const;
  nlohmann::json mqtt_json(const std::string& user_id);
  const Guard& guard_;
  notify::WebhookStore& webhooks_;
  notify::WebhookChannel& webhook_channel_;
  notify::HomeMqtt& home_;
  HomeMqttBroker broker_;
  bool allow_private_;
};

}  // namespace nj::api
