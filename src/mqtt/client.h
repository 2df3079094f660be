// The broker client seam: publish, subscribe and receive over MQTT, reconnecting on its own.
// The server's privileged client and each device agent use it; the implementation is
// libmosquitto (mosquitto_client.h), and tests may put a fake behind the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace nj::mqtt {

struct Message {
  std::string topic;
  std::string payload;
  bool retained = false;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  std::string client_id;  // empty: the broker assigns one
  std::string username, password;
  std::optional<Message> will;  // published by the broker if we vanish (retained if asked)
  // TLS: trust exactly the certificate(s) in this PEM file (a pinned, self-signed broker
  // certificate); the host name is not checked, the chain is. Empty: plain TCP.
  std::string tls_ca_file;
  int keepalive_seconds = 30;
  // Reconnection after a failure or a lost connection: doubling from min to max, each wait
  // spread by ±20 % so a fleet that lost the broker together does not return together.
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30'000};
};

class Client {
 public:
  // Both run on the client's own thread: post into a loop before touching shared state.
  using MessageHandler = std::function<void(const Message&)>;
  // connected: the session is up (subscriptions renewed); else why it is not.
  using StateHandler = std::function<void(bool connected, const std::string& why)>;

  virtual ~Client() = default;
  // Thread-safe. QoS 0 or 1. While disconnected, QoS 1 messages wait for the reconnection.
  virtual void publish(const std::string& topic, const std::string& payload, int qos = 1,
                       bool retain = false) = 0;
  // Thread-safe; kept and renewed after every reconnection.
  virtual void subscribe(const std::string& pattern, int qos = 1) = 0;
  virtual bool connected() const = 0;
};

// Connects in the background and keeps connecting until destroyed.
std::unique_ptr<Client> connect(ClientOptions options, Client::MessageHandler on_message,
                                Client::StateHandler on_state = {});

}  // namespace nj::mqtt
