#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "net/io_pool_impl.h"
#include "net/listener.h"
#include "net/loop_wakes.h"

namespace nj::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

// A rate policy that limits nothing and counts what a WebSocket connection receives, so a
// message that trickles in (a frame a byte at a time) can be timed out: Beast's own idle
// timeout sees every byte as activity.
class ReceiveCounter {
 public:
  uint64_t received() const { return received_; }

 private:
  friend class beast::rate_policy_access;
  std::size_t available_read_bytes() const noexcept {
    return std::numeric_limits<std::size_t>::max();
  }
  std::size_t available_write_bytes() const noexcept {
    return std::numeric_limits<std::size_t>::max();
  }
  void transfer_read_bytes(std::size_t n) noexcept { received_ += n; }
  void transfer_write_bytes(std::size_t) noexcept {}
  void on_timer() noexcept {}
  uint64_t received_ = 0;
};
using WsStream = beast::basic_stream<tcp, asio::any_io_executor, ReceiveCounter>;

}  // namespace

struct Server::Impl {
  Impl(net::IoPool& p, const Router& r, metrics::Registry& m, ServerLimits l)
      : pool(p),
        router(r),
        limits(l),
        requests(m.counter("nightjar_http_requests_total", "HTTP requests answered.",
                           {"route", "method", "status"})),
        latency(m.histogram("nightjar_http_request_duration_seconds",
                            "Time from a complete request to its response being written.",
                            {"route"})),
        rejected(m.counter("nightjar_http_rejected_total",
                           "Requests or connections refused or cut off by a limit.", {"reason"})),
        connections(m.gauge("nightjar_http_connections", "Open HTTP connections.").with({})),
        websockets(
            m.gauge("nightjar_websocket_connections", "Open WebSocket connections.").with({})) {}

  net::IoPool& pool;
  const Router& router;
  ServerLimits limits;
  metrics::CounterFamily& requests;
  metrics::HistogramFamily& latency;
  metrics::CounterFamily& rejected;
  metrics::Gauge& connections;
  metrics::Gauge& websockets;
  std::atomic<size_t> open{0};
  std::unique_ptr<net::Listener> listener;

  void accept(tcp::socket socket);
  awaitable<void> session(tcp::socket socket, std::string remote);
  awaitable<void> websocket_session(tcp::socket socket, BeastRequest upgrade, Request request,
                                    const Route& route);
  // Per-address counts of open connections and anonymous WebSockets; false if over a limit.
  bool admit(const std::string& address);
  void release(const std::string& address);
  bool admit_anonymous(const std::string& address);
  void release_anonymous(const std::string& address);
  std::mutex address_mu;
  std::unordered_map<std::string, size_t> per_address, anonymous_per_address;
  size_t anonymous = 0;
  awaitable<Response> dispatch(Request& request, const Router::Match& match);
  awaitable<bool> write_streamed(beast::tcp_stream& stream, BodySource& body,
                                 const std::string& path);
  void count(const std::string& route, Method method, int status, double seconds) {
    const auto status_text = std::to_string(status);
    requests.with({route, method_name(method), status_text}).inc();
    latency.with({route}).observe(seconds);
  }
};

namespace {

// Counts a connection for as long as it lives (admitted for its address by accept()).
struct ConnectionCount {
  Server::Impl& s;
  std::string address;
  ConnectionCount(Server::Impl& server, std::string from) : s(server), address(std::move(from)) {
    s.open.fetch_add(1);
    s.connections.add(1);
  }
  ~ConnectionCount() {
    s.release(address);
    s.open.fetch_sub(1);
    s.connections.add(-1);
  }
};

BeastResponse to_beast(Response&& r, unsigned version, bool keep_alive, bool head) {
  BeastResponse out{static_cast<bhttp::status>(r.status), version};
  out.reason(status_reason(r.status));
  for (const auto& [name, value] : r.headers) out.insert(name, value);
  // Security headers on every response, unless the handler chose its own value.
  Headers security;
  add_security_headers(security);
  for (const auto& [name, value] : security) {
    if (out.find(name) == out.end()) out.insert(name, value);
  }
  out.set(bhttp::field::server, "nightjar");
  out.keep_alive(keep_alive);
  const auto size = r.stream ? r.stream->size : r.body.size();
  if (r.status == 304 || r.status == 204) {
    // No body, and no Content-Length that would promise one.
  } else if (head || r.stream) {
    out.content_length(size);  // a stream's bytes follow the header (write_streamed)
  } else {
    out.body() = std::move(r.body);
    out.prepare_payload();
  }
  return out;
}

Request from_beast(const bhttp::request_header<>& h, const std::string& remote) {
  Request r;
  r.method = parse_method(std::string_view(h.method_string().data(), h.method_string().size()));
  r.set_target(std::string(h.target()));
  for (const auto& f : h) {
    r.headers.add(std::string_view(f.name_string().data(), f.name_string().size()),
                  std::string(f.value()));
  }
  r.remote_address = remote;
  return r;
}

// The WebSocket side of one connection. Lives on one loop; send() and close() may be called
// from any thread: on the loop they queue at once (a live viewer sends from there), else
// they are posted to it. Messages are written one at a time from the queue, each write's
// handler starting the next (no coroutine per message).
class BeastPeer final : public WebSocketPeer, public std::enable_shared_from_this<BeastPeer> {
 public:
  BeastPeer(tcp::socket socket, size_t queue_limit)
      : ws_(WsStream(std::move(socket))),
        queue_limit_(queue_limit),
        wakes_(net::LoopWakes::of(ws_.get_executor())) {}

  websocket::stream<WsStream>& ws() { return ws_; }

  bool send(std::string data, bool binary) override {
    if (closed_.load()) return false;
    const size_t size = data.size();
    if (queued_.load() + size > queue_limit_) return false;
    queued_.fetch_add(size);
    asio::dispatch(ws_.get_executor(),
                   [self = shared_from_this(), data = std::move(data), binary]() mutable {
                     self->queue_.push_back(Item{std::move(data), binary, false, 0, {}});
                     self->pump();
                   });
    return true;
  }

  bool send_parts(std::vector<SharedBytes> parts, bool binary) override {
    if (closed_.load()) return false;
    size_t size = 0;
    for (const auto& p : parts) size += p.bytes.size();
    if (queued_.load() + size > queue_limit_) return false;
    queued_.fetch_add(size);
    asio::dispatch(ws_.get_executor(),
                   [self = shared_from_this(), parts = std::move(parts), binary, size]() mutable {
                     Item item{{}, binary, false, 0, {}};
                     item.parts = std::move(parts);
                     item.parts_size = size;
                     self->queue_.push_back(std::move(item));
                     self->pump();
                   });
    return true;
  }

  void close(uint16_t code, std::string reason) override {
    if (closed_.exchange(true)) return;
    asio::dispatch(ws_.get_executor(),
                   [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
                     self->queue_.push_back(Item{{}, false, true, code, std::move(reason)});
                     self->pump();
                   });
  }

  size_t queued_bytes() const override { return queued_.load(); }

  void post(std::function<void()> fn) override { asio::post(ws_.get_executor(), std::move(fn)); }
  void wake(net::Wakeable& target, const std::weak_ptr<net::Wakeable>& handle) override {
    wakes_.wake(target, handle);
  }

  void mark_closed() { closed_.store(true); }

  // The handshake is done: messages queued before it may go (a viewer's first frames can
  // be queued while its handshake is under way).
  void opened() {
    open_ = true;
    pump();
  }

 private:
  struct Item {
    std::string data;
    bool binary;
    bool is_close;
    uint16_t code;
    std::string reason;
    std::vector<SharedBytes> parts = {};  // instead of data, when not empty
    size_t parts_size = 0;
  };

  void pump() {
    if (!open_ || writing_ || queue_.empty()) return;
    writing_ = true;
    write_front();
  }

  // Writes the message at the front of the queue; it stays there (a deque keeps its place)
  // until its write completes.
  void write_front() {
    if (queue_.empty()) {
      writing_ = false;
      return;
    }
    Item& item = queue_.front();
    if (item.is_close) {
      websocket::close_reason reason(item.code);
      reason.reason = item.reason;
      ws_.async_close(reason, [self = shared_from_this()](const boost::system::error_code&) {
        self->queue_.clear();
        self->writing_ = false;
      });
      return;
    }
    queued_.fetch_sub(item.data.size() + item.parts_size);
    ws_.binary(item.binary);
    auto written = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
      self->written(ec);
    };
    if (item.parts.empty()) {
      ws_.async_write(asio::buffer(item.data), std::move(written));
      return;
    }
    buffers_.clear();
    for (const auto& p : item.parts) buffers_.emplace_back(p.bytes.data(), p.bytes.size());
    ws_.async_write(buffers_, std::move(written));
  }

  void written(const boost::system::error_code& ec) {
    if (!queue_.empty()) queue_.pop_front();
    if (ec) {
      closed_.store(true);
      queue_.clear();
      writing_ = false;
      return;
    }
    write_front();
  }

  websocket::stream<WsStream> ws_;
  size_t queue_limit_;
  net::LoopWakes& wakes_;
  std::atomic<size_t> queued_{0};
  std::atomic<bool> closed_{false};
  std::deque<Item> queue_;                   // loop thread only
  bool open_ = false;                        // loop thread only: the handshake is done
  bool writing_ = false;                     // loop thread only
  std::vector<asio::const_buffer> buffers_;  // the message being written (loop thread only)
};

// The WebSocket message deadline's state, shared with its timer's handler (which may run
// after the session that armed it has ended).
struct MessageClock {
  explicit MessageClock(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  uint64_t settled = 0;  // bytes received when the last whole message (or control frame) ended
  bool stopped = false;
};

// Checks every second: while bytes have arrived beyond the last whole message, the message
// under way (since `since`) must be whole within `timeout`, or the connection is closed.
void watch_messages(const std::shared_ptr<MessageClock>& clock,
                    const std::weak_ptr<BeastPeer>& weak, std::chrono::milliseconds timeout,
                    metrics::Counter& timeouts, uint64_t seen,
                    std::chrono::steady_clock::time_point since) {
  clock->timer.expires_after(std::chrono::seconds(1));
  clock->timer.async_wait(
      [clock, weak, timeout, &timeouts, seen, since](const boost::system::error_code& ec) {
        if (ec || clock->stopped) return;
        const auto peer = weak.lock();
        if (!peer) return;
        auto& stream = beast::get_lowest_layer(peer->ws());
        const auto now = std::chrono::steady_clock::now();
        if (stream.rate_policy().received() == clock->settled) {
          return watch_messages(clock, weak, timeout, timeouts, clock->settled, now);  // idle: fine
        }
        // Under way since `since` if no message ended since the last look, else since now.
        const auto began = seen == clock->settled ? since : now;
        if (now - began >= timeout) {
          timeouts.inc();
          stream.close();
          return;
        }
        watch_messages(clock, weak, timeout, timeouts, clock->settled, began);
      });
}

}  // namespace

awaitable<Response> Server::Impl::dispatch(Request& request, const Router::Match& match) {
  switch (match.outcome) {
    case Router::Outcome::kBadPath:
      co_return error_response(400, "bad_path", "the request path is not valid");
    case Router::Outcome::kNotFound:
      co_return error_response(404, "not_found", "no such route: " + request.path);
    case Router::Outcome::kNotWebSocket:
      co_return error_response(400, "not_websocket", "this route does not take WebSocket");
    case Router::Outcome::kUpgradeRequired: {
      auto r = error_response(426, "upgrade_required", "this route takes WebSocket only");
      r.headers.set("Upgrade", "websocket");
      co_return r;
    }
    case Router::Outcome::kMethodNotAllowed: {
      auto r = error_response(405, "method_not_allowed",
                              std::string(method_name(request.method)) + " is not allowed here");
      r.headers.set("Allow", match.allow);
      co_return r;
    }
    case Router::Outcome::kFallback: {
      try {
        co_return router.fallback()(request);
      } catch (const std::exception& e) {
        spdlog::error("http.fallback_exception path={} what={}", request.path, e.what());
        co_return error_response(500, "internal", "internal error");
      }
    }
    case Router::Outcome::kMatched:
      break;
  }
  // The handler may answer from any thread; the answer is posted back to this loop.
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Response)>(
      [&](auto completion) {
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        Responder respond([shared, executor](Response r) {
          asio::post(executor, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
        });
        try {
          match.route->handler(request, respond);
        } catch (const std::exception& e) {
          spdlog::error("http.handler_exception path={} what={}", request.path, e.what());
          respond(error_response(500, "internal", "internal error"));
        }
      },
      asio::use_awaitable);
}

// A streamed body, a piece at a time: each piece must go out within the request timeout
// (a slow reader of a long download is fine, a stalled one is not). false if the body
// could not be sent whole; the connection is then closed, as its length was promised.
awaitable<bool> Server::Impl::write_streamed(beast::tcp_stream& stream, BodySource& body,
                                             const std::string& path) {
  constexpr size_t kPiece = 1 << 20;
  for (uint64_t at = 0; at < body.size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, body.size - at));
    auto piece = body.read ? body.read(at, want) : std::nullopt;
    if (!piece || piece->empty() || piece->size() > want) {
      spdlog::warn("http.stream_failed path={} at={} size={}", path, at, body.size);
      rejected.with({"stream_failed"}).inc();
      co_return false;
    }
    stream.expires_after(limits.request_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(*piece), use_tuple);
    if (ec) co_return false;
    at += piece->size();
  }
  co_return true;
}

awaitable<void> Server::Impl::session(tcp::socket socket, std::string remote) {
  beast::error_code ignored;
  ConnectionCount counted(*this, remote);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;

  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(limits.header_limit));
    parser.body_limit(limits.body_limit);

    // The whole header must arrive within the idle timeout: a client that trickles bytes
    // (slowloris) is cut off like an idle one.
    stream.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
    if (ec) {
      Response r;
      const char* reason = nullptr;
      if (ec == bhttp::error::header_limit) {
        r = error_response(431, "header_too_large", "the request header is too large");
        reason = "header_too_large";
      } else if (ec == bhttp::error::body_limit) {
        // The announced Content-Length is over the limit: refused before reading the body.
        r = error_response(
            413, "body_too_large",
            "the request body is larger than " + std::to_string(limits.body_limit) + " bytes");
        reason = "body_too_large";
      } else if (ec == beast::error::timeout) {
        if (buffer.size() > 0 || parser.got_some()) rejected.with({"timeout"}).inc();
        co_return;
      } else if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                 ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
        co_return;
      } else {
        r = error_response(400, "bad_request", "the request is not valid HTTP/1.1");
        reason = "bad_request";
      }
      rejected.with({reason}).inc();
      stream.expires_after(limits.request_timeout);
      auto out = to_beast(std::move(r), 11, false, false);
      co_await bhttp::async_write(stream, out, use_tuple);
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }

    const auto start = std::chrono::steady_clock::now();
    auto& header = parser.get();
    Request request = from_beast(header, remote);
    const bool upgrade = websocket::is_upgrade(header);
    const auto match = router.match(request, upgrade);

    if (upgrade && match.outcome == Router::Outcome::kMatched) {
      BeastRequest upgrade_request = parser.release();
      co_await websocket_session(stream.release_socket(), std::move(upgrade_request),
                                 std::move(request), *match.route);
      co_return;
    }

    const bool keep_alive = header.keep_alive();
    const unsigned version = header.version();
    const bool head = request.method == Method::kHead;
    stream.expires_after(limits.request_timeout);

    if (!parser.is_done()) {
      if (const auto expect = header[bhttp::field::expect];
          beast::iequals(expect, "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        co_await bhttp::async_write(stream, cont, use_tuple);
      }
      auto [body_ec, body_n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (body_ec) {
        if (body_ec == bhttp::error::body_limit) {
          rejected.with({"body_too_large"}).inc();
          auto out =
              to_beast(error_response(413, "body_too_large", "the request body is too large"),
                       version, false, head);
          co_await bhttp::async_write(stream, out, use_tuple);
          stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        } else {
          rejected.with({body_ec == beast::error::timeout ? "timeout" : "bad_body"}).inc();
        }
        co_return;
      }
    }
    request.body = std::move(parser.get().body());

    Response response = co_await dispatch(request, match);
    const std::string& route_label =
        match.outcome == Router::Outcome::kMatched    ? match.route->pattern
        : match.outcome == Router::Outcome::kFallback ? std::string("static")
                                                      : std::string("unmatched");
    const int status = response.status;
    const auto body_stream = head || status == 204 || status == 304 ? nullptr : response.stream;
    auto out = to_beast(std::move(response), version, keep_alive, head);
    bool written = false;
    if (body_stream) {
      bhttp::response_serializer<bhttp::string_body> header(out);
      auto [header_ec, n] = co_await bhttp::async_write_header(stream, header, use_tuple);
      written = !header_ec && co_await write_streamed(stream, *body_stream, request.path);
    } else {
      auto [write_ec, n] = co_await bhttp::async_write(stream, out, use_tuple);
      written = !write_ec;
    }
    count(route_label, request.method, status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!written || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> Server::Impl::websocket_session(tcp::socket socket, BeastRequest upgrade,
                                                Request request, const Route& route) {
  const auto start = std::chrono::steady_clock::now();
  auto peer = std::make_shared<BeastPeer>(std::move(socket), limits.websocket_send_queue_limit);
  auto accept = route.websocket(request, peer);
  // Anonymous WebSockets (no sign-in, no token) are few per address and few in all, so a
  // stranger opening thousands cannot crowd everyone else out.
  struct AnonymousCount {
    Server::Impl* s = nullptr;
    std::string address;
    ~AnonymousCount() {
      if (s) s->release_anonymous(address);
    }
  } anonymous_count;
  if (accept.handler && accept.anonymous) {
    if (!admit_anonymous(request.remote_address)) {
      rejected.with({"too_many_anonymous_websockets"}).inc();
      accept.handler.reset();
      accept.rejection = error_response(
          429, "rate_limited", "too many open connections without signing in; try again later");
      accept.rejection.headers.set("Retry-After", "10");
    } else {
      anonymous_count.s = this;  // (not by assigning a temporary, whose end would release)
      anonymous_count.address = request.remote_address;
    }
  }
  if (!accept.handler) {
    // Refused (for example not authorised): answer as plain HTTP.
    const int status = accept.rejection.status;
    auto out = to_beast(std::move(accept.rejection), upgrade.version(), false, false);
    co_await bhttp::async_write(beast::get_lowest_layer(peer->ws()), out, use_tuple);
    count(route.pattern, Method::kGet, status, 0);
    co_return;
  }
  auto& ws = peer->ws();
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = limits.request_timeout;
  timeouts.idle_timeout = limits.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(bhttp::field::server, "nightjar"); }));
  ws.read_message_max(limits.websocket_message_limit);
  // A message goes out as one frame: its header and payload in one gathered write. Beast
  // would otherwise cut it into frames of its write buffer's size (4 KiB), a system call
  // each: a live keyframe was some fifteen writes per viewer.
  ws.auto_fragment(false);
  auto [ec] = co_await ws.async_accept(upgrade, use_tuple);
  count(route.pattern, Method::kGet, ec ? 400 : 101,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (ec) {
    peer->mark_closed();  // nothing queued for it will be written
    co_return;
  }

  websockets.add(1);
  peer->opened();
  accept.handler->on_open();
  // The message deadline: bytes received since the last whole message (or control frame)
  // mean one is under way; it must be whole within the timeout, or the connection ends.
  auto clock = std::make_shared<MessageClock>(ws.get_executor());
  auto& counter = beast::get_lowest_layer(ws).rate_policy();
  clock->settled = counter.received();
  ws.control_callback([clock, &counter](websocket::frame_type, beast::string_view) {
    clock->settled = counter.received();  // pings, pongs and closes are whole by themselves
  });
  watch_messages(clock, peer, limits.websocket_message_timeout,
                 rejected.with({"ws_message_timeout"}), clock->settled,
                 std::chrono::steady_clock::now());
  beast::flat_buffer buffer;
  for (;;) {
    auto [read_ec, n] = co_await ws.async_read(buffer, use_tuple);
    clock->settled = counter.received();
    if (read_ec) {
      if (read_ec == websocket::error::message_too_big)
        rejected.with({"ws_message_too_large"}).inc();
      break;
    }
    const auto data = buffer.cdata();
    accept.handler->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()),
                               ws.got_binary());
    buffer.consume(buffer.size());
  }
  clock->stopped = true;
  clock->timer.cancel();
  ws.control_callback();
  peer->mark_closed();
  accept.handler->on_close();
  websockets.add(-1);
}

bool Server::Impl::admit(const std::string& address) {
  if (limits.max_connections_per_address == 0) return true;
  std::lock_guard lock(address_mu);
  auto& n = per_address[address];
  if (n >= limits.max_connections_per_address) {
    if (n == 0) per_address.erase(address);
    return false;
  }
  ++n;
  return true;
}

void Server::Impl::release(const std::string& address) {
  if (limits.max_connections_per_address == 0) return;
  std::lock_guard lock(address_mu);
  const auto it = per_address.find(address);
  if (it != per_address.end() && --it->second == 0) per_address.erase(it);
}

bool Server::Impl::admit_anonymous(const std::string& address) {
  std::lock_guard lock(address_mu);
  auto& n = anonymous_per_address[address];
  if (anonymous >= limits.max_anonymous_websockets ||
      n >= limits.max_anonymous_websockets_per_address) {
    if (n == 0) anonymous_per_address.erase(address);
    return false;
  }
  ++n;
  ++anonymous;
  return true;
}

void Server::Impl::release_anonymous(const std::string& address) {
  std::lock_guard lock(address_mu);
  --anonymous;
  const auto it = anonymous_per_address.find(address);
  if (it != anonymous_per_address.end() && --it->second == 0) anonymous_per_address.erase(it);
}

void Server::Impl::accept(tcp::socket socket) {
  beast::error_code ignored;
  if (open.load() >= limits.max_connections) {
    rejected.with({"too_many_connections"}).inc();
    socket.close(ignored);
    return;
  }
  // One address may not take everyone's share: shed at once past its own limit.
  const auto endpoint = socket.remote_endpoint(ignored);
  std::string remote = endpoint.address().to_string();
  if (ignored || !admit(remote)) {
    if (!ignored) rejected.with({"too_many_connections_from_address"}).inc();
    socket.close(ignored);
    return;
  }
  auto executor = socket.get_executor();
  asio::co_spawn(executor, session(std::move(socket), std::move(remote)),
                 [](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     spdlog::error("http.session_exception what={}", ex.what());
                   }
                 });
}

Server::Server(net::IoPool& pool, const Router& router, metrics::Registry& metrics,
               ServerLimits limits)
    : impl_(std::make_shared<Impl>(pool, router, metrics, limits)) {
  // The Impl outlives the listener (it owns it), so the callback may hold a plain pointer.
  impl_->listener = std::make_unique<net::Listener>(
      pool, "http", [impl = impl_.get()](tcp::socket socket) { impl->accept(std::move(socket)); });
}

Server::~Server() { stop(); }

Result<uint16_t, std::string> Server::listen(const std::string& address, uint16_t port) {
  return impl_->listener->listen(address, port);
}

void Server::stop() { impl_->listener->stop(); }

size_t Server::open_connections() const { return impl_->open.load(); }

}  // namespace nj::http
