// IoPool's Asio side, for the few translation units that run servers on it.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

#include "net/io_pool.h"

namespace nj::net {

struct IoPool::Impl {
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<Guard> guards;
  std::vector<std::thread> threads;
  std::atomic<size_t> next{0};

  // Round-robin: where the next connection will live.
  boost::asio::io_context& next_context() {
    return *contexts[next.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
  }
};

}  // namespace nj::net
