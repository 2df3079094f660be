#include "store/change_feed.h"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace nj::store {
namespace {

constexpr const char* kChannel = "nightjar";

// "topic\npayload", as one notification carries both.
std::string encode(std::string_view topic, std::string_view payload) {
  std::string out(topic);
  out += '\n';
  out += payload;
  return out;
}

void decode(std::string_view message, const ChangeFeed::Listener& listener) {
  const auto nl = message.find('\n');
  if (nl == std::string_view::npos || !listener) return;
  listener(message.substr(0, nl), message.substr(nl + 1));
}

class LocalFeed final : public ChangeFeed {
 public:
  LocalFeed() : thread_([this] { run(); }) {}
  ~LocalFeed() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  bool publish(std::string_view topic, std::string_view payload) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(encode(topic, payload));
    }
    cv_.notify_one();
    return true;
  }
  void on_change(Listener listener) override {
    std::lock_guard lock(mu_);
    listener_ = std::move(listener);
  }
  void on_resync(std::function<void()>) override {}  // never away

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      const std::string message = std::move(queue_.front());
      queue_.pop_front();
      const Listener listener = listener_;
      lock.unlock();
      decode(message, listener);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  Listener listener_;
  bool stop_ = false;
  std::thread thread_;
};

struct Conn {
  PGconn* c = nullptr;
  ~Conn() { reset(); }
  void reset() {
    if (c) PQfinish(c);
    c = nullptr;
  }
  bool open(const std::string& url) {
    reset();
    c = PQconnectdb(url.c_str());
    if (PQstatus(c) == CONNECTION_OK) {
      PQsetNoticeProcessor(
          c, [](void*, const char*) {}, nullptr);
      return true;
    }
    reset();
    return false;
  }
  bool command(const char* sql, const char* param = nullptr) {
    if (!c) return false;
    PGresult* r =
        param ? PQexecParams(c, sql, 1, nullptr, &param, nullptr, nullptr, 0) : PQexec(c, sql);
    const auto status = PQresultStatus(r);
    PQclear(r);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  }
};

class PostgresFeed final : public ChangeFeed {
 public:
  explicit PostgresFeed(std::string url) : url_(std::move(url)) {}
  ~PostgresFeed() override {
    stop_ = true;
    if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
    if (thread_.joinable()) thread_.join();
    for (int fd : wake_) {
      if (fd >= 0) ::close(fd);
    }
  }

  StoreResult<void> start() {
    if (::pipe(wake_) != 0) return Unexpected(StoreError{Errc::kOpen, "pipe failed"});
    if (!listen()) {
      return Unexpected(StoreError{Errc::kOpen, "postgres: the change feed could not listen"});
    }
    thread_ = std::thread([this] { run(); });
    return {};
  }

  bool publish(std::string_view topic, std::string_view payload) override {
    const std::string message = encode(topic, payload);
    std::lock_guard lock(send_mu_);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!send_.c && !send_.open(url_)) continue;
      if (send_.command("SELECT pg_notify('nightjar', $1)", message.c_str())) return true;
      send_.reset();  // a lost connection: once more on a new one
    }
    return false;
  }
  void on_change(Listener listener) override {
    std::lock_guard lock(mu_);
    listener_ = std::move(listener);
  }
  void on_resync(std::function<void()> resync) override {
    std::lock_guard lock(mu_);
    resync_ = std::move(resync);
  }

 private:
  bool listen() {
    return listen_.open(url_) && listen_.command((std::string("LISTEN ") + kChannel).c_str());
  }

  void run() {
    auto backoff = std::chrono::milliseconds(100);
    while (!stop_) {
      if (!listen_.c) {
        if (!listen()) {
          wait(backoff);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
          continue;
        }
        backoff = std::chrono::milliseconds(100);
        std::function<void()> resync;
        {
          std::lock_guard lock(mu_);
          resync = resync_;
        }
        if (resync) resync();
      }
      pollfd fds[2] = {{PQsocket(listen_.c), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      // A dead peer may not close the socket: a keepalive query every 10 s finds it.
      const int ready = ::poll(fds, 2, 10'000);
      if (stop_) return;
      if (ready == 0) {
        if (!listen_.command("SELECT 1")) listen_.reset();
        continue;
      }
      if (PQconsumeInput(listen_.c) == 0) {
        listen_.reset();
        continue;
      }
      while (PGnotify* n = PQnotifies(listen_.c)) {
        Listener listener;
        {
          std::lock_guard lock(mu_);
          listener = listener_;
        }
        decode(n->extra ? std::string_view(n->extra) : std::string_view(), listener);
        PQfreemem(n);
      }
    }
  }

  void wait(std::chrono::milliseconds d) {
    pollfd fd{wake_[0], POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(d.count()));
  }

  std::string url_;
  Conn listen_;  // the run thread's only
  std::mutex send_mu_;
  Conn send_;
  std::mutex mu_;
  Listener listener_;
  std::function<void()> resync_;
  std::atomic<bool> stop_{false};
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<ChangeFeed> local_change_feed() { return std::make_unique<LocalFeed>(); }

StoreResult<std::unique_ptr<ChangeFeed>> postgres_change_feed(const std::string& url) {
  auto feed = std::make_unique<PostgresFeed>(url);
  if (auto started = feed->start(); !started) return Unexpected(started.error());
  return std::unique_ptr<ChangeFeed>(std::move(feed));
}

}  // namespace nj::store
