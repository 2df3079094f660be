// mqtt::Client on libmosquitto, with our own connection loop on one thread per client so
// that reconnection can back off with jitter (libmosquitto's own loop retries in lockstep).
#include <mosquitto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include "mqtt/client.h"

namespace nj::mqtt {
namespace {

std::once_flag library_initialised;

class MosquittoClient final : public Client {
 public:
  MosquittoClient(ClientOptions options, MessageHandler on_message, StateHandler on_state)
      : options_(std::move(options)),
        on_message_(std::move(on_message)),
        on_state_(std::move(on_state)) {
    std::call_once(library_initialised, [] { mosquitto_lib_init(); });
    handle_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(), true,
                            this);
    if (!handle_) throw std::runtime_error("mosquitto_new failed");
    mosquitto_threaded_set(handle_, true);
    mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    // Small messages (an RPC, a state) go out at once: with Nagle's algorithm and delayed
    // ACKs an RPC round trip took 50-80 ms on loopback.
    mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);
    if (!options_.username.empty()) {
      mosquitto_username_pw_set(handle_, options_.username.c_str(),
                                options_.password.empty() ? nullptr : options_.password.c_str());
    }
    if (!options_.tls_ca_file.empty()) {
      // The broker must present a certificate that chains to this file's (pinned): nothing
      // else, and no public CA, is trusted; the name in it is not what is checked.
      if (mosquitto_tls_set(handle_, options_.tls_ca_file.c_str(), nullptr, nullptr, nullptr,
                            nullptr) != MOSQ_ERR_SUCCESS ||
          mosquitto_tls_insecure_set(handle_, true) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(handle_);
        throw std::runtime_error("mosquitto_tls_set failed for " + options_.tls_ca_file);
      }
    }
    if (options_.will) {
      mosquitto_will_set(handle_, options_.will->topic.c_str(),
                         static_cast<int>(options_.will->payload.size()),
                         options_.will->payload.data(), 1, options_.will->retained);
    }
    mosquitto_connect_callback_set(handle_, [](mosquitto*, void* self, int rc) {
      static_cast<MosquittoClient*>(self)->on_connect(rc);
    });
    mosquitto_message_callback_set(handle_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<MosquittoClient*>(self)->on_message(m);
    });
    thread_ = std::thread([this] { run(); });
  }

  ~MosquittoClient() override {
    stop_ = true;
    thread_.join();
    mosquitto_destroy(handle_);
  }

  void publish(const std::string& topic, const std::string& payload, int qos,
               bool retain) override {
    const int rc =
        mosquitto_publish(handle_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), std::clamp(qos, 0, 1), retain);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      spdlog::warn("mqtt.publish_failed topic={} error=\"{}\"", topic, mosquitto_strerror(rc));
    }
  }

  void subscribe(const std::string& pattern, int qos) override {
    std::lock_guard lock(mu_);
    // Again for a pattern it has: the broker replaces the subscription and sends its
    // retained messages again (MQTT 3.1.1 §3.8.4); kept once, for reconnections.
    const std::pair<std::string, int> wanted(pattern, std::clamp(qos, 0, 1));
    if (std::find(subscriptions_.begin(), subscriptions_.end(), wanted) == subscriptions_.end()) {
      subscriptions_.push_back(wanted);
    }
    if (connected_) mosquitto_subscribe(handle_, nullptr, pattern.c_str(), std::clamp(qos, 0, 1));
  }

  bool connected() const override { return connected_; }

 private:
  void on_connect(int rc) {
    if (rc != 0) {
      refused_ = mosquitto_connack_string(rc);
      return;
    }
    {
      std::lock_guard lock(mu_);
      connected_ = true;
      for (const auto& [pattern, qos] : subscriptions_) {
        mosquitto_subscribe(handle_, nullptr, pattern.c_str(), qos);
      }
    }
    if (on_state_) on_state_(true, "");
  }

  void on_message(const mosquitto_message* m) {
    if (!on_message_ || !m->topic) return;
    Message message;
    message.topic = m->topic;
    if (m->payload && m->payloadlen > 0) {
      message.payload.assign(static_cast<const char*>(m->payload),
                             static_cast<size_t>(m->payloadlen));
    }
    message.retained = m->retain;
    // A handler that throws would unwind into libmosquitto's C thread and abort the process;
    // whatever a message did, the client (and the server around it) carries on.
    try {
      on_message_(message);
    } catch (const std::exception& e) {
      spdlog::error("mqtt.handler_failed topic={} what=\"{}\"", message.topic, e.what());
    } catch (...) {
      spdlog::error("mqtt.handler_failed topic={}", message.topic);
    }
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
    std::uniform_real_distribution<double> spread(0.8, 1.2);
    return std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(d.count()) * spread(rng_)));
  }

  void run() {
    auto delay = options_.reconnect_min;
    bool ever_connected = false;
    while (!stop_) {
      refused_.clear();
      int rc = ever_connected ? mosquitto_reconnect(handle_)
                              : mosquitto_connect(handle_, options_.host.c_str(), options_.port,
                                                  options_.keepalive_seconds);
      std::string why;
      if (rc == MOSQ_ERR_SUCCESS) {
        ever_connected = true;
        while (!stop_ && refused_.empty()) {
          rc = mosquitto_loop(handle_, 100, 1);
          if (rc != MOSQ_ERR_SUCCESS) break;
        }
        const bool was_connected = connected_.exchange(false);
        if (stop_) {
          if (was_connected) {
            mosquitto_disconnect(handle_);
            mosquitto_loop(handle_, 100, 1);
          }
          break;
        }
        why = !refused_.empty() ? refused_ : mosquitto_strerror(rc);
        if (was_connected) delay = options_.reconnect_min;  // it worked: start over
      } else {
        why = rc == MOSQ_ERR_ERRNO ? std::error_code(errno, std::generic_category()).message()
                                   : mosquitto_strerror(rc);
      }
      if (on_state_) on_state_(false, why);
      // Wait, in slices so that destruction is not held up.
      const auto until = std::chrono::steady_clock::now() + jittered(delay);
      while (!stop_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      delay = std::min(options_.reconnect_max, delay * 2);
    }
  }

  ClientOptions options_;
  MessageHandler on_message_;
  StateHandler on_state_;
  mosquitto* handle_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::string refused_;  // set by the CONNACK callback on the loop thread
  std::mutex mu_;        // guards subscriptions_
  std::vector<std::pair<std::string, int>> subscriptions_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<Client> connect(ClientOptions options, Client::MessageHandler on_message,
                                Client::StateHandler on_state) {
  return std::make_unique<MosquittoClient>(std::move(options), std::move(on_message),
                                           std::move(on_state));
}

}  // namespace nj::mqtt
