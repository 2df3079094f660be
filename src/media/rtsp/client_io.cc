#include "media/rtsp/client_io.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <random>

#include "media/rtsp/udp_ports.h"
#include "net/io_pool_impl.h"
#include "net/loop_wakes.h"

namespace nj::media::rtsp {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

class TcpClientLink final : public ClientLink, public std::enable_shared_from_this<TcpClientLink> {
  struct UdpSlot;

 public:
  TcpClientLink(asio::io_context& io, ClientUrl url, ClientSession::Mode mode, LinkHooks hooks,
                std::string announce_sdp, LinkOptions options)
      : socket_(io),
        timer_(io),
        keepalive_(io),
        url_(url),
        hooks_(std::move(hooks)),
        options_(options),
        session_(std::move(url), mode, session_handlers(mode), std::move(announce_sdp)),
        play_(mode == ClientSession::Mode::kPlay) {
    if (options_.udp) session_.use_udp(udp_handlers());
    if (!options_.require.empty()) session_.require(options_.require);
    session_.play_range(options_.play_range);
  }

  void start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->begin(); });
  }

  void post(std::function<void()> fn) override {
    asio::post(socket_.get_executor(), std::move(fn));
  }
  void send_media(int track, bool rtcp, std::span<const uint8_t> packet) override {
    session_.send_media(track, rtcp, packet);
  }
  bool writable() const override { return queued_ < options_.send_queue_bytes; }
  bool udp() const override { return session_.udp(); }
  void close() override {
    post([self = shared_from_this()] {
      if (self->finished_) return;
      self->session_.teardown();
      self->finish("closed");
    });
  }

 private:
  // A camera that stops sending without closing is as gone as one that closed.
  void watch_media() {
    timer_.expires_after(options_.media_timeout);
    timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      if (!self->media_seen_) {
        self->finish("no media for " + std::to_string(self->options_.media_timeout.count()) +
                     " ms");
        return;
      }
      self->media_seen_ = false;
      self->watch_media();
    });
  }

  ClientSession::Handlers session_handlers(ClientSession::Mode mode) {
    ClientSession::Handlers h;
    h.send = [this](std::string bytes) { enqueue(std::move(bytes)); };
    h.described = [this](const sdp::Session& s) {
      return hooks_.described ? hooks_.described(s) : std::vector<int>{};
    };
    h.ready = [this, mode] {
      timer_.cancel();  // the response timeout no longer applies
      if (mode == ClientSession::Mode::kPlay) watch_media();
      schedule_keepalive();
      if (hooks_.ready) hooks_.ready();
    };
    h.media = [this](int track, bool rtcp, std::span<const uint8_t> p) {
      media_seen_ = true;
      if (hooks_.media) hooks_.media(track, rtcp, p);
    };
    h.failed = [this](const std::string& why) { finish(why); };
    return h;
  }

  ClientSession::UdpHandlers udp_handlers() {
    ClientSession::UdpHandlers h;
    h.open_udp = [this](int slot) -> std::optional<std::pair<int, int>> {
      boost::system::error_code ec;
      const auto local = socket_.local_endpoint(ec).address();
      if (ec || slot < 0 || slot > 7) return std::nullopt;
      auto pair = open_udp_port_pair(socket_.get_executor(), local);
      if (!pair) return std::nullopt;
      if (udp_.size() <= static_cast<size_t>(slot)) udp_.resize(slot + 1);
      udp_[slot] = std::make_unique<UdpSlot>();
      udp_[slot]->ports = *pair;
      return std::make_pair(static_cast<int>(pair->port), static_cast<int>(pair->port) + 1);
    };
    h.udp_peer = [this](int slot, int track, std::pair<int, int> server_ports) {
      if (static_cast<size_t>(slot) >= udp_.size() || !udp_[slot]) return;
      boost::system::error_code ec;
      server_address_ = socket_.remote_endpoint(ec).address();
      auto& u = *udp_[slot];
      u.track = track;
      u.peer_rtp = udp::endpoint(server_address_, static_cast<uint16_t>(server_ports.first));
      u.peer_rtcp = udp::endpoint(server_address_, static_cast<uint16_t>(server_ports.second));
      receive(slot, false);
      receive(slot, true);
      if (play_) send_receiver_report(u);  // opens the way back through a NAT
    };
    h.send_datagram = [this](int slot, bool rtcp, std::span<const uint8_t> packet) {
      if (static_cast<size_t>(slot) >= udp_.size() || !udp_[slot] || closed_) return;
      auto& u = *udp_[slot];
      boost::system::error_code ec;  // a full socket buffer drops the datagram, as UDP does
      (rtcp ? u.ports.rtcp : u.ports.rtp)
          ->send_to(asio::buffer(packet.data(), packet.size()), rtcp ? u.peer_rtcp : u.peer_rtp, 0,
                    ec);
    };
    return h;
  }

  // Datagrams on a slot's port; only the RTSP server's address may send media to us.
  void receive(int slot, bool rtcp) {
    auto& u = *udp_[slot];
    auto& buffer = rtcp ? u.rtcp_buffer : u.rtp_buffer;
    buffer.resize(rtcp ? 8 * 1024 : 64 * 1024);
    (rtcp ? u.ports.rtcp : u.ports.rtp)
        ->async_receive_from(
            asio::buffer(buffer), rtcp ? u.from_rtcp : u.from_rtp,
            [self = shared_from_this(), slot, rtcp](boost::system::error_code ec, size_t n) {
              if (ec || self->closed_) return;
              auto& u = *self->udp_[slot];
              const auto& from = rtcp ? u.from_rtcp : u.from_rtp;
              if (from.address() == self->server_address_) {
                self->media_seen_ = true;
                if (self->hooks_.media) {
                  self->hooks_.media(u.track, rtcp,
                                     {(rtcp ? u.rtcp_buffer : u.rtp_buffer).data(), n});
                }
              }
              self->receive(slot, rtcp);
            });
  }

  void send_receiver_report(UdpSlot& u) {
    std::vector<uint8_t> report;
    rtp::write_receiver_report(report, ssrc_);
    boost::system::error_code ec;
    u.ports.rtcp->send_to(asio::buffer(report), u.peer_rtcp, 0, ec);
  }

  void enqueue(std::string bytes) {
    if (closed_) return;
    queued_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (!writing_ && connected_) {
      writing_ = true;
      write_next();
    }
  }

  // Writes what is queued, gathered into one write (many small RTP frames, one syscall),
  // until the queue is empty. Plain completion handlers, no coroutines.
  void write_next() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      if (finishing_) shutdown();
      return;
    }
    batch_.clear();
    while (!queue_.empty() && batch_.size() < 256 * 1024) {
      batch_ += queue_.front();
      queue_.pop_front();
    }
    was_writable_ = writable();
    asio::async_write(socket_, asio::buffer(batch_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->queued_ -= std::min(self->queued_, self->batch_.size());
                        if (ec) {
                          self->writing_ = false;
                          self->finish("write failed: " + ec.message());
                          self->shutdown();
                          return;
                        }
                        if (!self->was_writable_ && self->writable() && self->hooks_.writable) {
                          self->hooks_.writable();
                        }
                        self->write_next();
                      });
  }

  void schedule_keepalive() {
    keepalive_.expires_after(std::chrono::seconds(std::max(2, session_.timeout_seconds() / 2)));
    keepalive_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      self->session_.keepalive();
      if (self->play_) {
        for (auto& u : self->udp_) {
          if (u && u->track >= 0) self->send_receiver_report(*u);
        }
      }
      self->schedule_keepalive();
    });
  }

  // Ends the link once: closes after queued bytes (a TEARDOWN) are written.
  void finish(const std::string& why) {
    if (finished_) return;
    finished_ = true;
    finishing_ = true;
    keepalive_.cancel();
    timer_.cancel();
    if (!writing_) shutdown();
    if (hooks_.closed) {
      auto closed = std::move(hooks_.closed);
      closed(why);
    }
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    for (auto& u : udp_) {
      if (!u) continue;
      u->ports.rtp->close(ignored);
      u->ports.rtcp->close(ignored);
    }
    timer_.cancel();
    keepalive_.cancel();
  }

  void arm_timeout(std::chrono::milliseconds after, const std::string& why) {
    timer_.expires_after(after);
    timer_.async_wait([weak = weak_from_this(), why](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->finish(why);
    });
  }

  void begin() {
    arm_timeout(options_.connect_timeout, "connect timed out");
    // The addresses to try: the host itself when it is one, else what the resolver says.
    boost::system::error_code parse_ec;
    const auto address = asio::ip::make_address(url_.host, parse_ec);
    if (!parse_ec) {
      targets_.emplace_back(address, url_.port);
      connect_next(0);
      return;
    }
    resolver_.emplace(socket_.get_executor());
    resolver_->async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](boost::system::error_code ec,
                                    const tcp::resolver::results_type& results) {
          if (self->finished_) return;
          if (ec) {
            self->finish("cannot resolve " + self->url_.host + ": " + ec.message());
            return;
          }
          for (const auto& entry : results) self->targets_.push_back(entry.endpoint());
          self->connect_next(0);
        });
  }

  void connect_next(size_t index) {
    if (finished_) return;
    if (index >= targets_.size()) {
      finish("cannot connect to " + url_.host + ":" + std::to_string(url_.port) + ": " +
             (last_connect_error_ ? last_connect_error_.message() : "no address"));
      return;
    }
    boost::system::error_code ignored;
    if (socket_.is_open()) socket_.close(ignored);
    socket_.async_connect(targets_[index],
                          [self = shared_from_this(), index](boost::system::error_code ec) {
                            if (self->finished_) return;
                            if (ec) {
                              self->last_connect_error_ = ec;
                              self->connect_next(index + 1);
                              return;
                            }
                            self->on_connected();
                          });
  }

  void on_connected() {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    arm_timeout(options_.response_timeout, "the server did not answer in time");
    buffer_.resize(options_.receive_buffer_bytes);
    session_.start();
    read_next();
  }

  void read_next() {
    if (finished_) return;
    if (filled_ == buffer_.size()) {
      finish("message too large");
      return;
    }
    socket_.async_read_some(
        asio::buffer(buffer_.data() + filled_, buffer_.size() - filled_),
        [self = shared_from_this()](boost::system::error_code ec, size_t n) {
          if (self->finished_) return;
          if (ec) {
            self->finish(ec == asio::error::eof ? "the server closed the connection"
                                                : "read failed: " + ec.message());
            return;
          }
          self->filled_ += n;
          auto used = self->session_.feed({self->buffer_.data(), self->filled_});
          if (!used) {
            self->finish("malformed RTSP from the server: " +
                         std::string(error_name(used.error())));
            return;
          }
          if (*used > 0) {
            std::memmove(self->buffer_.data(), self->buffer_.data() + *used, self->filled_ - *used);
            self->filled_ -= *used;
          }
          self->read_next();
        });
  }

  tcp::socket socket_;
  asio::steady_timer timer_, keepalive_;
  ClientUrl url_;
  LinkHooks hooks_;
  LinkOptions options_;
  ClientSession session_;
  std::deque<std::string> queue_;
  size_t queued_ = 0;
  std::string batch_;  // being written
  bool was_writable_ = true;
  std::optional<tcp::resolver> resolver_;
  std::vector<tcp::endpoint> targets_;
  boost::system::error_code last_connect_error_;
  std::vector<uint8_t> buffer_;
  size_t filled_ = 0;
  struct UdpSlot {
    UdpPortPair ports;
    int track = -1;
    udp::endpoint peer_rtp, peer_rtcp, from_rtp, from_rtcp;
    std::vector<uint8_t> rtp_buffer, rtcp_buffer;
  };
  std::vector<std::unique_ptr<UdpSlot>> udp_;  // per SETUP slot, when media goes over UDP
  asio::ip::address server_address_;
  uint32_t ssrc_ = std::random_device{}();
  bool play_;
  bool media_seen_ = false;
  bool connected_ = false, writing_ = false, finishing_ = false, finished_ = false, closed_ = false;
};

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> spread(0.8, 1.2);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(d.count()) * spread(rng)));
}

}  // namespace

std::shared_ptr<ClientLink> open_link(asio::io_context& io, ClientUrl url, ClientSession::Mode mode,
                                      LinkHooks hooks, std::string announce_sdp,
                                      LinkOptions options) {
  auto link = std::make_shared<TcpClientLink>(io, std::move(url), mode, std::move(hooks),
                                              std::move(announce_sdp), options);
  link->start();
  return link;
}

std::shared_ptr<ClientLink> ClientLink::open(net::IoPool& pool, ClientUrl url,
                                             ClientSession::Mode mode, LinkHooks hooks,
                                             std::string announce_sdp, LinkOptions options) {
  return open_link(pool.impl().next_context(), std::move(url), mode, std::move(hooks),
                   std::move(announce_sdp), options);
}

// Both relays reconnect the same way, with their link on their own loop: one attempt at a
// time, a timer between, and no state shared across threads but the status.
struct Reconnecting {
  Reconnecting(asio::io_context& loop, Backoff b)
      : io(loop), timer(loop), backoff(b), delay(b.initial) {}
  asio::io_context& io;
  asio::steady_timer timer;
  Backoff backoff;
  std::chrono::milliseconds delay;
  mutable std::mutex mu;  // guards the status fields read from other threads
  bool streaming = false;
  bool udp = false;
  uint64_t attempts = 0, frames = 0, bytes = 0;
  std::string last_error;
  bool stopped = false;
  std::shared_ptr<ClientLink> link;

  template <typename Fn>
  void retry_later(Fn again) {
    if (stopped) return;
    timer.expires_after(jittered(delay));
    delay = std::min(backoff.max, delay * 2);
    timer.async_wait([again](boost::system::error_code ec) {
      if (!ec) again();
    });
  }
};

struct Puller::Impl : std::enable_shared_from_this<Puller::Impl>, Reconnecting {
  Impl(net::IoPool& p, hub::Hub& h, PullOptions o, const RtpCounters* c)
      : Reconnecting(p.impl().next_context(), o.backoff),
        hub(h),
        options(std::move(o)),
        counters(c) {}

  void connect() {
    if (stopped) return;
    auto url = parse_client_url(options.url);
    {
      std::lock_guard lock(mu);
      ++attempts;
      if (!url) last_error = url.error();
    }
    if (!url) return;  // a bad URL will not get better
    std::weak_ptr<Impl> weak = weak_from_this();
    LinkHooks hooks;
    hooks.described = [weak](const sdp::Session& s) -> std::vector<int> {
      auto self = weak.lock();
      if (!self) return {};
      auto ingest = Ingest::from_sdp(s);
      if (!ingest) {
        std::lock_guard lock(self->mu);
        self->last_error = ingest.error();
        return {};
      }
      self->ingest = std::move(*ingest);
      std::vector<int> tracks{self->ingest->video_track()};
      if (self->ingest->audio_track() >= 0) tracks.push_back(self->ingest->audio_track());
      return tracks;
    };
    hooks.ready = [weak] {
      auto self = weak.lock();
      if (!self || !self->ingest) return;
      auto publisher = self->hub.publish(self->options.path, self->ingest->info());
      if (!publisher) {
        self->link->close();  // someone else publishes this path
        return;
      }
      self->publisher = std::move(*publisher);
      if (self->link->udp()) self->ingest->enable_reordering();
      self->ingest->start(
          [weak](const hub::FramePtr& frame) {
            if (auto s = weak.lock()) {
              s->publisher->publish(frame);
              std::lock_guard lock(s->mu);
              ++s->frames;
            }
          },
          [weak](const hub::StreamInfo& info) {
            if (auto s = weak.lock()) s->publisher->update_info(info);
          },
          self->counters);
      std::lock_guard lock(self->mu);
      self->streaming = true;
      self->udp = self->link->udp();
      self->delay = self->backoff.initial;
      // Logged without credentials or query (which may hold a token).
      auto logged = parse_client_url(self->options.url)->request_url();
      logged = logged.substr(0, logged.find('?'));
      spdlog::info("rtsp.pull.streaming path={} url={}", self->options.path, logged);
    };
    hooks.media = [weak](int track, bool rtcp, std::span<const uint8_t> packet) {
      auto self = weak.lock();
      if (!self || !self->ingest) return;
      if (rtcp) {
        self->ingest->push_rtcp(track, packet);
      } else {
        self->ingest->push(track, packet);
      }
    };
    hooks.closed = [weak](const std::string& why) {
      auto self = weak.lock();
      if (!self) return;
      // Runs on the link's loop; move the restart onto ours.
      asio::post(self->timer.get_executor(), [self, why] {
        if (self->ingest && self->publisher) self->ingest->flush();
        self->publisher.reset();
        self->ingest.reset();
        {
          std::lock_guard lock(self->mu);
          self->streaming = false;
          self->udp = false;
          self->last_error = why;
        }
        if (self->stopped) return;
        spdlog::warn("rtsp.pull.retry path={} reason=\"{}\" in_ms={}", self->options.path, why,
                     self->delay.count());
        self->retry_later([self] { self->connect(); });
      });
    };
    link = open_link(io, std::move(*url), ClientSession::Mode::kPlay, std::move(hooks), {},
                     options.link);
  }

  hub::Hub& hub;
  PullOptions options;
  const RtpCounters* counters;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<hub::Publisher> publisher;
};

Puller::Puller(net::IoPool& pool, hub::Hub& hub, PullOptions options, const RtpCounters* counters)
    : impl_(std::make_shared<Impl>(pool, hub, std::move(options), counters)) {
  asio::post(impl_->timer.get_executor(), [impl = impl_] { impl->connect(); });
}

Puller::~Puller() {
  // Stop on the loop the relay lives on, and wait, so no callback outlives the hub.
  std::promise<void> done;
  asio::post(impl_->timer.get_executor(), [impl = impl_, &done] {
    impl->stopped = true;
    impl->timer.cancel();
    if (impl->link) impl->link->close();
    impl->link.reset();
    done.set_value();
  });
  done.get_future().wait();
  // The link's closed hook posts the unpublish onto our loop: run it before returning.
  std::promise<void> unpublished;
  asio::post(impl_->timer.get_executor(), [impl = impl_, &unpublished] {
    asio::post(impl->timer.get_executor(), [impl, &unpublished] {
      impl->publisher.reset();
      impl->ingest.reset();
      unpublished.set_value();
    });
  });
  unpublished.get_future().wait();
}

Puller::Status Puller::status() const {
  std::lock_guard lock(impl_->mu);
  return {impl_->streaming, impl_->udp, impl_->attempts, impl_->frames, impl_->last_error};
}

// The push URL's backlog twin: /push/{serial} becomes /backlog/{serial}; empty if it has none.
static std::string backlog_url(const std::string& push_url) {
  const auto at = push_url.find("/push/");
  if (at == std::string::npos) return {};
  return push_url.substr(0, at) + "/backlog/" + push_url.substr(at + 6);
}

static bool is_keyframe(const hub::FramePtr& f) {
  return f->track == hub::TrackKind::kVideo && f->keyframe;
}

// Frames taken from the hub and not yet sent, with their bytes counted as they come and go
// (while disconnected the backlog's bound is checked at every frame).
class HeldFrames {
 public:
  using Frames = std::deque<hub::FramePtr>;
  using iterator = Frames::iterator;
  void append(std::vector<hub::FramePtr>& frames) {
    for (auto& f : frames) {
      bytes_ += f->data.size();
      frames_.push_back(std::move(f));
    }
    frames.clear();
  }
  void prepend(std::vector<hub::FramePtr>& frames) {
    for (const auto& f : frames) bytes_ += f->data.size();
    frames_.insert(frames_.begin(), std::make_move_iterator(frames.begin()),
                   std::make_move_iterator(frames.end()));
    frames.clear();
  }
  // Takes out the frames before `until`.
  Frames take_front(iterator until) {
    Frames out(std::make_move_iterator(frames_.begin()), std::make_move_iterator(until));
    frames_.erase(frames_.begin(), until);
    for (const auto& f : out) bytes_ -= f->data.size();
    return out;
  }
  void clear() {
    frames_.clear();
    bytes_ = 0;
  }
  size_t bytes() const { return bytes_; }
  size_t size() const { return frames_.size(); }
  bool empty() const { return frames_.empty(); }
  iterator begin() { return frames_.begin(); }
  iterator end() { return frames_.end(); }
  Frames::reverse_iterator rbegin() { return frames_.rbegin(); }
  Frames::reverse_iterator rend() { return frames_.rend(); }
  const hub::FramePtr& front() const { return frames_.front(); }
  const hub::FramePtr& back() const { return frames_.back(); }

 private:
  Frames frames_;
  size_t bytes_ = 0;
};

struct Pusher::Impl : std::enable_shared_from_this<Pusher::Impl>, Reconnecting, net::Wakeable {
  Impl(net::IoPool& p, hub::Hub& h, PushOptions o)
      : Reconnecting(p.impl().next_context(), o.backoff),
        hub(h),
        options(std::move(o)),
        wakes(net::LoopWakes::of(io.get_executor())) {}

  bool keeps_backlog() const { return options.backlog.max_age.count() > 0; }

  // A push connection to `url` with an egress of its own (its RTP numbering starts afresh).
  // Its hooks act only while `generation` is the live link's or the one being made beside it.
  std::pair<std::shared_ptr<ClientLink>, std::unique_ptr<Egress>> open_push(ClientUrl url,
                                                                            uint64_t generation) {
    std::weak_ptr<Impl> weak = weak_from_this();
    auto target = std::make_shared<std::weak_ptr<ClientLink>>();
    auto out = std::make_unique<Egress>(
        subscription->info(), [target](int track, bool rtcp, std::span<const uint8_t> packet) {
          if (auto l = target->lock()) l->send_media(track, rtcp, packet);
        });
    LinkHooks hooks;
    hooks.ready = [weak, generation] {
      auto self = weak.lock();
      if (!self) return;
      if (generation == self->next_generation) {
        // The next server is ready: the move happens at the next keyframe (drain).
        self->next_ready = true;
        self->drain();
        return;
      }
      if (generation != self->link_generation) return;
      {
        std::lock_guard lock(self->mu);
        self->streaming = true;
        self->udp = self->link->udp();
        self->delay = self->backoff.initial;
      }
      // This server is up: what waited for it is split between the backlog and live.
      self->take();
      self->split_backlog();
      self->drain();
    };
    hooks.writable = [weak, generation] {
      if (auto self = weak.lock(); self && generation == self->link_generation) self->drain();
    };
    hooks.closed = [weak, generation](const std::string& why) {
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->timer.get_executor(), [self, why, generation] {
        if (generation == self->link_generation) {
          self->on_closed(why);
        } else if (generation == self->next_generation) {
          self->on_next_failed(why);
        }
      });
    };
    auto l = open_link(io, std::move(url), ClientSession::Mode::kPush, std::move(hooks),
                       out->sdp("Nightjar " + options.path), options.link);
    *target = l;
    return {std::move(l), std::move(out)};
  }

  void connect() {
    // One connection at a time (a retarget and a retry that was already due both come here).
    if (stopped || link) return;
    auto url = parse_client_url(options.url);
    if (!subscription) {
      // The hub wakes us on its publisher's thread, under the stream's lock: nothing there
      // may hold the last reference to this (our subscription's end takes that lock). While
      // the subscription lives, so do we.
      auto sub = hub.subscribe(options.path,
                               [this, handle = std::weak_ptr<net::Wakeable>(shared_from_this())] {
                                 wakes.wake(*this, handle);
                               });
      if (sub) subscription = std::move(*sub);
    }
    {
      std::lock_guard lock(mu);
      ++attempts;
      if (!url) last_error = url.error();
      if (!subscription) last_error = "no stream " + options.path + " to push";
    }
    if (!url) return;
    if (!subscription) {
      retry_later([self = shared_from_this()] { self->connect(); });
      return;
    }
    link_generation = ++generations;
    link_server = server_of(options.url);
    std::tie(link, egress) = open_push(std::move(*url), link_generation);
  }

  void on_closed(const std::string& why) {
    link.reset();
    egress.reset();
    if (next_link) {
      // Broken while the next server was being reached: go there at once, the usual way.
      drop_next();
      moving = true;
    }
    {
      std::lock_guard lock(mu);
      streaming = false;
      udp = false;
      last_error = why;
    }
    if (keeps_backlog() && subscription && !subscription->queue().ended()) {
      // The server may not have kept the GOP in flight: it goes again, and so does all that
      // comes until the next connection.
      take();
      held.prepend(gop);
      bound_held();
    } else {
      subscription.reset();
      held.clear();
      gop.clear();
    }
    if (stopped) return;
    if (std::exchange(moving, false)) {
      delay = backoff.initial;
      connect();
      return;
    }
    spdlog::warn("rtsp.push.retry path={} reason=\"{}\" in_ms={}", options.path, why,
                 delay.count());
    retry_later([self = shared_from_this()] { self->connect(); });
  }

  // The server being moved to could not be reached: the connection in hand ends, and the
  // usual reconnection (with its backlog) goes there.
  void on_next_failed(const std::string& why) {
    spdlog::warn("rtsp.push.move_failed path={} reason=\"{}\"", options.path, why);
    drop_next();
    if (link) {
      moving = true;
      link->close();
    }
  }

  void drop_next() {
    if (next_link) next_link->close();
    next_link.reset();
    next_egress.reset();
    next_ready = false;
    next_generation = 0;
  }

  static std::string server_of(const std::string& url) { return url.substr(0, url.find('?')); }

  void retarget(std::string url) {
    // The same server and path asking again (a fresh token): the connection in hand stays;
    // the new URL is for the next one.
    const auto server = server_of(url);
    options.url = std::move(url);
    if (link && server == link_server) {
      drop_next();  // back where it is before it moved: it stays
      return;
    }
    if (next_link && server == next_server) return;
    if (link) {
      bool live = false;
      {
        std::lock_guard lock(mu);
        live = streaming;
      }
      if (!live) {
        moving = true;
        link->close();  // not up yet: on_closed connects to the new URL
        return;
      }
      // Make before break: the new server is reached while the old one still gets the
      // stream, and the stream moves at the next keyframe, so each node records up to the
      // same frame and neither records the GOP in flight twice.
      drop_next();
      auto parsed = parse_client_url(options.url);
      if (!parsed) {
        moving = true;
        link->close();
        return;
      }
      next_generation = ++generations;
      next_server = server;
      std::tie(next_link, next_egress) = open_push(std::move(*parsed), next_generation);
      return;
    }
    timer.cancel();
    delay = backoff.initial;
    connect();
  }

  // At a keyframe with the next server ready: it takes the stream from this frame on, and the
  // old connection ends once what is queued on it is sent.
  void move_to_next() {
    link->close();
    link = std::move(next_link);
    egress = std::move(next_egress);
    link_generation = std::exchange(next_generation, 0);
    link_server = std::exchange(next_server, {});
    next_ready = false;
    gop.clear();
    {
      std::lock_guard lock(mu);
      udp = link->udp();
      ++moves;
    }
    spdlog::info("rtsp.push.moved path={}", options.path);
  }

  // Moves what the hub queued into held.
  void take() {
    if (!subscription) return;
    drained.clear();
    subscription->queue().drain(drained);
    held.append(drained);
  }

  // Without a connection, held grows: whole GOPs go from its front past the bounds.
  void bound_held() {
    auto too_much = [&] {
      if (held.empty()) return false;
      const int64_t age_us = held.back()->received_at_us - held.front()->received_at_us;
      return age_us > std::chrono::microseconds(options.backlog.max_age).count() ||
             held.bytes() > options.backlog.max_bytes;
    };
    while (too_much()) {
      auto next = std::find_if(held.begin() + 1, held.end(), is_keyframe);
      const auto n = static_cast<uint64_t>(next - held.begin());
      (void)held.take_front(next);
      std::lock_guard lock(mu);
      backlog_dropped += n;
    }
  }

  // A new connection starts at held's latest keyframe; what came before it is the backlog.
  void split_backlog() {
    if (!keeps_backlog() || held.empty()) return;
    auto last_key = std::find_if(held.rbegin(), held.rend(), is_keyframe);
    if (last_key == held.rend()) return;
    const auto cut = std::prev(last_key.base());
    if (cut == held.begin()) return;
    if (backlog_link) {
      // One backlog at a time: a second break before the first was sent loses the older.
      std::lock_guard lock(mu);
      backlog_lost += backlog.size();
      backlog.clear();
      backlog_link->close();
      backlog_link.reset();
      backlog_egress.reset();
    }
    backlog = held.take_front(cut);
    send_backlog_later();
  }

  void send_backlog_later() {
    auto url = parse_client_url(backlog_url(options.url));
    if (!url) {
      std::lock_guard lock(mu);
      backlog_lost += backlog.size();
      backlog.clear();
      return;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    backlog_egress = std::make_unique<Egress>(
        subscription->info(), [weak](int track, bool rtcp, std::span<const uint8_t> packet) {
          if (auto self = weak.lock(); self && self->backlog_link) {
            self->backlog_link->send_media(track, rtcp, packet);
          }
        });
    LinkHooks hooks;
    const uint64_t generation = ++backlog_generation;  // a closed older link changes nothing
    hooks.ready = [weak, generation] {
      if (auto self = weak.lock(); self && generation == self->backlog_generation) {
        self->backlog_ready = true;
        self->send_backlog();
      }
    };
    hooks.writable = [weak] {
      if (auto self = weak.lock()) self->send_backlog();
    };
    hooks.closed = [weak, generation](const std::string& why) {
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->timer.get_executor(), [self, why, generation] {
        if (generation != self->backlog_generation) return;
        if (!self->backlog.empty()) {
          spdlog::warn("rtsp.push.backlog_lost path={} frames={} reason=\"{}\"", self->options.path,
                       self->backlog.size(), why);
          std::lock_guard lock(self->mu);
          self->backlog_lost += self->backlog.size();
        }
        self->backlog.clear();
        self->backlog_link.reset();
        self->backlog_egress.reset();
        self->backlog_ready = false;
      });
    };
    backlog_ready = false;
    backlog_link = open_link(io, std::move(*url), ClientSession::Mode::kPush, std::move(hooks),
                             backlog_egress->sdp("Nightjar backlog " + options.path), options.link);
  }

  void send_backlog() {
    if (!backlog_link || !backlog_egress || !backlog_ready) return;
    uint64_t sent = 0;
    while (!backlog.empty() && backlog_link->writable()) {
      backlog_egress->send(*backlog.front());
      backlog.pop_front();
      ++sent;
    }
    const bool done = backlog.empty();
    if (done) {
      backlog_ready = false;  // nothing more goes on this link
      backlog_link->close();  // after what is queued: the server records it all, then ends
      spdlog::info("rtsp.push.backlog_sent path={}", options.path);
    }
    std::lock_guard lock(mu);
    backlog_frames += sent;
    if (done) ++backlogs_sent;
  }

  void on_wake() override { drain(); }  // the hub queued frames

  void drain() {
    if (!subscription) return;
    if (subscription->queue().ended()) {  // the source stopped: start over
      held.clear();
      gop.clear();
      drop_next();
      if (link) {
        link->close();
      } else {
        subscription.reset();
      }
      return;
    }
    bool live = false;
    {
      std::lock_guard lock(mu);
      live = streaming;
    }
    if (!live || !egress || !link || !link->writable()) {
      // Without a backlog, the hub's queue holds (and bounds) what waits for the connection.
      if (!keeps_backlog()) return;
      take();
      if (!live || !link) {
        bound_held();
      } else if (held.size() > hub::QueueLimits{}.max_frames) {
        // A slow connection skips to the latest keyframe as the hub's queue would: live stays
        // live.
        auto last = std::find_if(held.rbegin(), held.rend(), is_keyframe);
        if (last != held.rend()) (void)held.take_front(std::prev(last.base()));
      }
      return;
    }
    take();
    uint64_t sent = 0;
    for (const auto& frame : held) {
      if (next_ready && is_keyframe(frame)) move_to_next();
      egress->send(*frame);
      sent += frame->data.size();
      if (keeps_backlog()) {
        if (is_keyframe(frame)) gop.clear();
        gop.push_back(frame);
      }
    }
    {
      std::lock_guard lock(mu);
      frames += held.size();
      bytes += sent;
    }
    held.clear();
  }

  hub::Hub& hub;
  PushOptions options;
  net::LoopWakes& wakes;  // our loop's (the hub's wake-ups of the loop's viewers run together)
  std::unique_ptr<hub::Subscription> subscription;
  std::unique_ptr<Egress> egress;
  std::vector<hub::FramePtr> drained;
  HeldFrames held;                 // taken from the hub, not yet sent
  std::vector<hub::FramePtr> gop;  // sent since the last keyframe (keeping a backlog)
  bool moving = false;             // retarget: reconnect at once
  std::string link_server;         // the live link's URL without its query
  uint64_t generations = 0, link_generation = 0;
  // Moving to another server (make before break): its link, ready once it answered RECORD.
  std::shared_ptr<ClientLink> next_link;
  std::unique_ptr<Egress> next_egress;
  std::string next_server;
  uint64_t next_generation = 0;
  bool next_ready = false;
  std::shared_ptr<ClientLink> backlog_link;
  std::unique_ptr<Egress> backlog_egress;
  std::deque<hub::FramePtr> backlog;
  bool backlog_ready = false;
  uint64_t backlog_generation = 0;
  uint64_t backlogs_sent = 0, backlog_frames = 0, backlog_dropped = 0, backlog_lost = 0;
  uint64_t moves = 0;
};

Pusher::Pusher(net::IoPool& pool, hub::Hub& hub, PushOptions options)
    : impl_(std::make_shared<Impl>(pool, hub, std::move(options))) {
  asio::post(impl_->timer.get_executor(), [impl = impl_] { impl->connect(); });
}

Pusher::~Pusher() {
  std::promise<void> done;
  asio::post(impl_->timer.get_executor(), [impl = impl_, &done] {
    impl->stopped = true;
    impl->timer.cancel();
    if (impl->link) impl->link->close();
    impl->drop_next();
    if (impl->backlog_link) impl->backlog_link->close();
    done.set_value();
  });
  done.get_future().wait();
}

void Pusher::retarget(std::string url) {
  asio::post(impl_->timer.get_executor(),
             [impl = impl_, url = std::move(url)]() mutable { impl->retarget(std::move(url)); });
}

Pusher::Status Pusher::status() const {
  std::lock_guard lock(impl_->mu);
  Status s;
  s.streaming = impl_->streaming;
  s.udp = impl_->udp;
  s.attempts = impl_->attempts;
  s.frames = impl_->frames;
  s.bytes = impl_->bytes;
  s.last_error = impl_->last_error;
  s.backlogs_sent = impl_->backlogs_sent;
  s.backlog_frames = impl_->backlog_frames;
  s.backlog_dropped = impl_->backlog_dropped;
  s.backlog_lost = impl_->backlog_lost;
  s.moves = impl_->moves;
  return s;
}

}  // namespace nj::media::rtsp
