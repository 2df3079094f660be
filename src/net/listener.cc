#include "net/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <thread>

#include "net/acceptor.h"
#include "net/io_pool_impl.h"

namespace nj::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Listener::State {
  State(IoPool& p, std::string n, OnAccept a)
      : pool(p), name(std::move(n)), on_accept(std::move(a)) {}

  IoPool& pool;
  std::string name;
  OnAccept on_accept;
  std::mutex mu;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::atomic<int> accepting{0};  // accept loops still running

  asio::awaitable<void> accept_loop(std::shared_ptr<State> self,
                                    std::shared_ptr<tcp::acceptor> acceptor) {
    accepting.fetch_add(1);
    struct Done {
      std::atomic<int>& n;
      ~Done() { n.fetch_sub(1); }
    } done{accepting};
    for (;;) {
      auto& loop = pool.impl().next_context();
      auto [ec, socket] =
          co_await acceptor->async_accept(loop, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        spdlog::warn("{}.accept_failed error={}", name, ec.message());
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // small messages go out at once
      // Hand over on the socket's loop, where its session will live.
      auto executor = socket.get_executor();
      asio::post(executor, [self, s = std::make_shared<tcp::socket>(std::move(socket))]() mutable {
        self->on_accept(std::move(*s));
      });
    }
  }
};

Listener::Listener(IoPool& pool, std::string name, OnAccept on_accept)
    : state_(std::make_shared<State>(pool, std::move(name), std::move(on_accept))) {}

Listener::~Listener() { stop(); }

Result<uint16_t, std::string> Listener::listen(const std::string& address, uint16_t port) {
  auto& loop = state_->pool.impl().next_context();
  auto opened = open_acceptor(loop, address, port);
  if (!opened) return Unexpected(std::move(opened).error());
  auto acceptor = std::move(opened).value();
  const uint16_t bound = acceptor->local_endpoint().port();
  {
    std::lock_guard lock(state_->mu);
    state_->acceptors.push_back(acceptor);
  }
  asio::co_spawn(loop, state_->accept_loop(state_, acceptor), asio::detached);
  return bound;
}

void Listener::stop() {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(state_->mu);
    acceptors.swap(state_->acceptors);
  }
  if (acceptors.empty()) return;
  for (auto& acceptor : acceptors) {
    asio::post(acceptor->get_executor(), [acceptor] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
  }
  for (int i = 0; i < 2000 && state_->accepting.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace nj::net
