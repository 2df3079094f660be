#include "media/rtsp/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "media/rtsp/udp_ports.h"
#include "net/io_pool_impl.h"
#include "net/listener.h"
#include "net/loop_wakes.h"

namespace nj::media::rtsp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// One connection: reads feed the session; sends are queued and written one at a time.
class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(tcp::socket socket, size_t queue_limit)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        queue_limit_(queue_limit),
        wakes_(net::LoopWakes::of(socket_.get_executor())) {}

  void send(std::string bytes) override {
    if (closed_) return;
    queued_ += bytes.size();
    queue_.push_back({std::move(bytes), nullptr});
    start_writing();
  }
  void send_shared(const std::shared_ptr<const std::vector<uint8_t>>& bytes) override {
    if (closed_ || !bytes) return;
    queued_ += bytes->size();
    queue_.push_back({std::string(), bytes});
    start_writing();
  }
  void post(std::function<void()> fn) override {
    asio::post(socket_.get_executor(), std::move(fn));
  }
  // The players of one loop that a frame wakes are run by one handler there.
  void wake(net::Wakeable& session, const std::weak_ptr<net::Wakeable>& handle) override {
    wakes_.wake(session, handle);
  }
  bool writable() const override { return queued_ < queue_limit_; }
  void hold() override { ++held_; }
  void release() override {
    if (held_ > 0 && --held_ == 0) write_now();
  }
  void close() override {
    closing_ = true;
    if (held_ == 0) write_now();  // what is queued goes first; then it shuts down
  }

  tcp::socket& socket() { return socket_; }
  bool closing() const { return closing_ || closed_; }
  bool timed_out() const { return timed_out_; }
  void time_out() {
    timed_out_ = true;
    shutdown();
  }
  void set_session(std::weak_ptr<ServerSession> s) { session_ = std::move(s); }
  void shutdown() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    for (auto& [channel, port] : udp_) port.socket->close(ignored);
  }

  // Bytes came in (on the TCP connection or its UDP ports).
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  // No bytes for `idle` ends the connection. One timer per connection, re-armed only when
  // it fires: a read just stamps the time (re-arming a timer per read cost a cancelled
  // handler per packet).
  void watch_idle(std::chrono::milliseconds idle) {
    timer_.expires_at(last_activity_ + idle);
    timer_.async_wait([weak = weak_from_this(), idle](auto ec) {
      if (ec) return;
      auto c = weak.lock();
      if (!c || c->closed_) return;
      if (std::chrono::steady_clock::now() - c->last_activity_ >= idle) {
        c->time_out();
      } else {
        c->watch_idle(idle);
      }
    });
  }

  std::optional<std::pair<int, int>> open_udp(int channel,
                                              std::pair<int, int> client_ports) override {
    if (closed_ || udp_.size() >= 8 || client_ports.first <= 0 || client_ports.first > 65535) {
      return std::nullopt;
    }
    boost::system::error_code ec;
    const auto local = socket_.local_endpoint(ec).address();
    const auto peer = socket_.remote_endpoint(ec).address();
    if (ec) return std::nullopt;
    auto pair = open_udp_port_pair(socket_.get_executor(), local);
    if (!pair) return std::nullopt;
    const auto client_rtp = static_cast<uint16_t>(client_ports.first);
    const auto client_rtcp = static_cast<uint16_t>(
        client_ports.second > 0 && client_ports.second <= 65535 ? client_ports.second
                                                                : client_ports.first + 1);
    udp_[channel] = {pair->rtp, udp::endpoint(peer, client_rtp)};
    udp_[channel + 1] = {pair->rtcp, udp::endpoint(peer, client_rtcp)};
    for (int c : {channel, channel + 1}) {
      asio::co_spawn(socket_.get_executor(), receive_udp(shared_from_this(), c), asio::detached);
    }
    return std::make_pair(static_cast<int>(pair->port), static_cast<int>(pair->port) + 1);
  }

  void send_udp(int channel, std::span<const uint8_t> packet) override {
    const auto it = udp_.find(channel);
    if (it == udp_.end() || closed_) return;
    boost::system::error_code ec;  // a full socket buffer drops the datagram, as UDP does
    it->second.socket->send_to(asio::buffer(packet.data(), packet.size()), it->second.peer, 0, ec);
  }

 private:
  // Datagrams on one of the connection's UDP ports; only the RTSP client's address may send.
  static awaitable<void> receive_udp(std::shared_ptr<TcpConnection> self, int channel) {
    auto socket = self->udp_.at(channel).socket;
    const auto peer = self->udp_.at(channel).peer.address();
    std::vector<uint8_t> buffer(65536);
    while (!self->closed_) {
      udp::endpoint from;
      auto [ec, n] = co_await socket->async_receive_from(asio::buffer(buffer), from, use_tuple);
      if (ec) break;
      if (from.address() != peer) continue;  // not our client: ignored
      self->touch();
      if (auto session = self->session_.lock()) session->on_udp(channel, {buffer.data(), n});
    }
  }

  // Outside hold(), the first send of a burst schedules one write; everything sent until it
  // runs goes in it. Each write's handler starts the next while bytes are queued.
  void start_writing() {
    if (!writing_ && held_ == 0) {
      writing_ = true;
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->write_batch(); });
    }
  }

  // Moves the front of the queue into batch_ and points buffers_ at it: many frames (shared
  // packets and our own bytes alike) for one system call, no copy. Returns its bytes.
  size_t gather() {
    batch_.clear();
    buffers_.clear();
    size_t bytes = 0;
    while (!queue_.empty() && bytes < 256 * 1024 && batch_.size() < 64) {
      batch_.push_back(std::move(queue_.front()));
      queue_.pop_front();
      bytes += batch_.back().shared ? batch_.back().shared->size() : batch_.back().owned.size();
    }
    // Once the batch no longer moves (a short string's bytes move with it).
    for (const auto& item : batch_) {
      buffers_.push_back(item.shared ? asio::buffer(*item.shared) : asio::buffer(item.owned));
    }
    return bytes;
  }

  void write_batch() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      if (closing_) shutdown();
      return;
    }
    write_async(gather());
  }

  void write_async(size_t bytes) {
    asio::async_write(socket_, buffers_,
                      [self = shared_from_this(), bytes](const boost::system::error_code& ec,
                                                         size_t) { self->written(ec, bytes); });
  }

  // Writes what is queued now, unless a write is under way: a non-blocking gather write,
  // which a player's socket takes whole nearly always, so a drain costs one system call and
  // no handler on the loop. What the socket does not take goes on as an asynchronous write.
  void write_now() {
    while (!writing_ && !closed_ && !queue_.empty()) {
      const size_t bytes = gather();
      boost::system::error_code ec;
      size_t n = socket_.write_some(buffers_, ec);  // the socket is non-blocking
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        n = 0;
      }
      if (ec) {
        batch_.clear();
        shutdown();
        return;
      }
      if (n == bytes) {
        queued_ -= std::min(queued_, bytes);
        batch_.clear();
        continue;
      }
      while (n >= buffers_.front().size()) {  // n < bytes: the rest waits for the socket
        n -= buffers_.front().size();
        buffers_.erase(buffers_.begin());
      }
      buffers_.front() += n;
      writing_ = true;
      write_async(bytes);
      return;
    }
    if (!writing_ && closing_) shutdown();
  }

  void written(const boost::system::error_code& ec, size_t bytes) {
    queued_ -= std::min(queued_, bytes);
    if (ec) {
      shutdown();
      writing_ = false;
      return;
    }
    if (auto session = session_.lock(); session && writable()) session->on_writable();
    write_batch();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  size_t queue_limit_;
  net::LoopWakes& wakes_;
  struct Item {
    std::string owned;
    std::shared_ptr<const std::vector<uint8_t>> shared;  // set instead of owned
  };
  std::deque<Item> queue_;
  std::vector<Item> batch_;                  // being written
  std::vector<asio::const_buffer> buffers_;  // their bytes
  size_t queued_ = 0;
  bool writing_ = false;  // a write is scheduled or under way
  int held_ = 0;          // hold() depth
  bool closing_ = false;
  bool closed_ = false;
  bool timed_out_ = false;
  std::weak_ptr<ServerSession> session_;
  struct UdpPort {
    std::shared_ptr<udp::socket> socket;
    udp::endpoint peer;
  };
  std::map<int, UdpPort> udp_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace

struct Server::Impl {
  Impl(net::IoPool& p, hub::Hub& h, Authorizer& a, metrics::Registry& m, ServerLimits l)
      : pool(p),
        hub(h),
        auth(a),
        limits(l),
        connections(m.gauge("nightjar_rtsp_connections", "Open RTSP connections.").with({})),
        errors(m.counter("nightjar_rtsp_protocol_errors_total",
                         "RTSP connections closed for malformed input.", {"error"})),
        closed(m.counter("nightjar_rtsp_connections_closed_total",
                         "RTSP connections closed, by reason.", {"reason"})),
        rtp_counters(RtpCounters::in(m)) {}

  void accept(tcp::socket socket);
  awaitable<void> session(tcp::socket socket);

  net::IoPool& pool;
  hub::Hub& hub;
  Authorizer& auth;
  ServerLimits limits;
  metrics::Gauge& connections;
  metrics::CounterFamily& errors;
  metrics::CounterFamily& closed;
  RtpCounters rtp_counters;
  std::atomic<size_t> open{0};
  std::unique_ptr<net::Listener> listener;
  TalkLines* talk = nullptr;
};

awaitable<void> Server::Impl::session(tcp::socket socket) {
  open.fetch_add(1);
  connections.add(1);
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  socket.non_blocking(true, ignored);  // TcpConnection::write_now never waits
  auto conn = std::make_shared<TcpConnection>(std::move(socket), limits.send_queue_bytes);
  const int timeout_s = static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(limits.idle_timeout).count()));
  auto session = std::make_shared<ServerSession>(hub, auth, *conn, &rtp_counters, timeout_s);
  session->set_talk(talk);
  conn->set_session(session);
  // Starts small (a camera's packets and a player's requests are a few KiB) and grows to
  // the largest message we take (64 KiB) only when one needs it: resident memory per
  // stream is what limits how many a node holds.
  constexpr size_t kMaxMessage = 64 * 1024;
  std::vector<uint8_t> buffer(8 * 1024);
  size_t filled = 0;
  // Idle timeout: a client that sends nothing for this long is gone (players keep the
  // session alive with RTCP or GET_PARAMETER, as RFC 2326 asks).
  conn->watch_idle(limits.idle_timeout);
  const char* reason = "peer_closed";
  while (!conn->closing()) {
    if (filled == buffer.size() && buffer.size() < kMaxMessage) {
      buffer.resize(std::min(buffer.size() * 2, kMaxMessage));
    } else if (filled == buffer.size()) {
      errors.with({"message_too_large"}).inc();
      reason = "protocol_error";
      break;
    }
    auto [ec, n] = co_await conn->socket().async_read_some(
        asio::buffer(buffer.data() + filled, buffer.size() - filled), use_tuple);
    if (ec) break;
    conn->touch();
    filled += n;
    auto used = [&] {
      net::LoopWakes::Batch wakes;  // a pusher's frames of this read wake each loop once
      return session->feed({buffer.data(), filled});
    }();
    if (!used) {
      errors.with({std::string(error_name(used.error()))}).inc();
      conn->send("RTSP/1.0 400 Bad Request\r\nServer: Nightjar\r\n\r\n");
      conn->close();
      reason = "protocol_error";
      break;
    }
    if (*used > 0) {
      std::memmove(buffer.data(), buffer.data() + *used, filled - *used);
      filled -= *used;
    }
  }
  session.reset();  // unpublishes / unsubscribes now, on this loop
  if (conn->timed_out()) reason = "idle_timeout";
  closed.with({reason}).inc();
  if (!conn->closing()) conn->shutdown();
  open.fetch_sub(1);
  connections.add(-1);
}

void Server::Impl::accept(tcp::socket socket) {
  if (open.load() >= limits.max_connections) {
    closed.with({"over_limit"}).inc();  // shed at once: the others keep their share
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  auto executor = socket.get_executor();
  asio::co_spawn(executor, session(std::move(socket)), asio::detached);
}

Server::Server(net::IoPool& pool, hub::Hub& hub, Authorizer& auth, metrics::Registry& metrics,
               ServerLimits limits)
    : impl_(std::make_shared<Impl>(pool, hub, auth, metrics, limits)) {
  install_rtp_packager(hub);  // players share each stream's packets
  // The Impl outlives the listener (it owns it), so the callback may hold a plain pointer.
  impl_->listener = std::make_unique<net::Listener>(
      pool, "rtsp", [impl = impl_.get()](tcp::socket socket) { impl->accept(std::move(socket)); });
}

Server::~Server() { stop(); }

void Server::set_talk(TalkLines* talk) { impl_->talk = talk; }

Result<uint16_t, std::string> Server::listen(const std::string& address, uint16_t port) {
  return impl_->listener->listen(address, port);
}

void Server::stop() { impl_->listener->stop(); }

}  // namespace nj::media::rtsp
