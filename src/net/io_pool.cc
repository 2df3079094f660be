#include "net/io_pool.h"

#include "net/io_pool_impl.h"

namespace nj::net {

IoPool::IoPool(size_t threads) : impl_(std::make_unique<Impl>()) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) {
    impl_->contexts.push_back(std::make_unique<boost::asio::io_context>(1));
    impl_->guards.emplace_back(impl_->contexts.back()->get_executor());
  }
}

IoPool::~IoPool() { shutdown(); }

void IoPool::start() {
  for (auto& ctx : impl_->contexts) {
    impl_->threads.emplace_back([c = ctx.get()] { c->run(); });
  }
}

void IoPool::shutdown() {
  impl_->guards.clear();
  for (auto& ctx : impl_->contexts) ctx->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  // Destroying the contexts destroys every pending coroutine frame (open connections).
  impl_->contexts.clear();
}

size_t IoPool::size() const { return impl_->contexts.size(); }

}  // namespace nj::net

#include "net/acceptor.h"

namespace nj::net {

Result<std::shared_ptr<boost::asio::ip::tcp::acceptor>, std::string> open_acceptor(
    boost::asio::io_context& loop, const std::string& address, uint16_t port) {
  using boost::asio::ip::tcp;
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec) return Unexpected("invalid listen address '" + address + "'");
  auto acceptor = std::make_shared<tcp::acceptor>(loop);
  const tcp::endpoint endpoint(ip, port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unexpected("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                      ec.message());
  }
  return acceptor;
}

}  // namespace nj::net
