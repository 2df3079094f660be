// Routes requests by method and path pattern ("/api/v1/devices/{id}/live") to handlers.
// Handlers answer through a Responder, from any thread, so a handler may wait on a device
// or a database without holding an event loop; a Responder dropped unanswered answers 500.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "net/wakeable.h"

namespace nj::http {

// Answers one request exactly once. Copyable; later calls are ignored.
class Responder {
 public:
  using Sink = std::function<void(Response)>;
  explicit Responder(Sink sink);
  void operator()(Response response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// The request is valid only during the call: a handler that answers later copies what it needs.
using Handler = std::function<void(Request& request, Responder respond)>;
using SyncHandler = std::function<Response(const Request& request)>;

// Bytes shared by many messages (the same live fragment to every viewer), kept alive by owner.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::span<const uint8_t> bytes;
};

// The server side of an open WebSocket. Thread-safe: send() may be called from any thread.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  // Queues a message; false if the peer is closed or its send queue is over its limit
  // (the caller decides what to drop: a live stream skips to its next keyframe).
  virtual bool send(std::string data, bool binary) = 0;
  // One message made of the parts in order, written without copying them.
  virtual bool send_parts(std::vector<SharedBytes> parts, bool binary) = 0;
  virtual void close(uint16_t code, std::string reason) = 0;
  virtual size_t queued_bytes() const = 0;
  // Runs fn on the connection's event loop, where the handler's callbacks run.
  virtual void post(std::function<void()> fn) = 0;
  // Has target.on_wake() run on the connection's loop soon, unless `handle` (the same
  // object's) has expired by then; from any thread. The wake-ups of one loop that come
  // together run in one handler there (net/loop_wakes.h): one frame wakes every viewer of a
  // stream at once.
  virtual void wake(net::Wakeable& target, const std::weak_ptr<net::Wakeable>& handle) = 0;
};

// What a WebSocket route does with one connection. Called on the connection's event loop.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void on_open() {}
  virtual void on_message(std::string_view data, bool binary) = 0;
  virtual void on_close() {}
};

// A factory accepts (returns a handler) or refuses the upgrade (returns the rejection).
struct WebSocketAccept {
  std::shared_ptr<WebSocketHandler> handler;
  Response rejection;
  // Accepted without a sign-in or a token: counted against the anonymous limits.
  bool anonymous = false;
};
using WebSocketFactory =
    std::function<WebSocketAccept(const Request& request, std::shared_ptr<WebSocketPeer> peer)>;

struct Route {
  Method method;
  std::string pattern;  // also the metrics label
  std::vector<std::string> segments;
  Handler handler;
  WebSocketFactory websocket;  // set for WebSocket routes
};

class Router {
 public:
  void add(Method method, std::string pattern, SyncHandler handler);
  void add_async(Method method, std::string pattern, Handler handler);
  void add_websocket(std::string pattern, WebSocketFactory factory);
  // Answers GET/HEAD requests that match no route (static files, the web app).
  void set_fallback(SyncHandler handler);

  enum class Outcome {
    kMatched,
    kFallback,  // no route: the fallback answers (GET/HEAD only)
    kNotFound,
    kMethodNotAllowed,
    kBadPath,
    kNotWebSocket,     // an upgrade asked of a plain route
    kUpgradeRequired,  // a plain request to a WebSocket route
  };
  struct Match {
    Outcome outcome;
    const Route* route = nullptr;  // kMatched only
    std::string allow;             // kMethodNotAllowed: the Allow header
  };
  // Finds the route for request.method and request.path and fills request.params.
  // A WebSocket upgrade matches only WebSocket routes and plain requests only plain ones.
  Match match(Request& request, bool websocket_upgrade) const;

  const SyncHandler& fallback() const { return fallback_; }

 private:
  void add_route(Route route);
  std::vector<Route> routes_;
  SyncHandler fallback_;
};

// Wraps a SyncHandler so exceptions become a 500 instead of escaping into the server.
Handler make_async(SyncHandler handler);

}  // namespace nj::http
