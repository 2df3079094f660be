// A pool of event loops: one io_context per thread, so that a connection lives on one
// loop and its handlers never race. Asio stays behind Impl (see io_pool_impl.h).
#pragma once

#include <cstddef>
#include <memory>

namespace nj::net {

class IoPool {
 public:
  explicit IoPool(size_t threads);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  // Stops every loop, joins the threads and destroys pending work (open connections).
  // Servers must have been stopped first. Idempotent.
  void shutdown();
  size_t size() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nj::net
