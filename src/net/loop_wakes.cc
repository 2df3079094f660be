#include "net/loop_wakes.h"

#include <algorithm>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <iterator>

namespace nj::net {
namespace {

namespace asio = boost::asio;

// The calling thread's open batch: the wake-ups it holds back, per loop. Kept between
// batches (emptied), so that a batch does not allocate.
struct Gathered {
  LoopWakes* wakes;
  std::vector<std::weak_ptr<Wakeable>> entries;
};
thread_local int batch_depth = 0;
thread_local std::vector<Gathered> gathered;

}  // namespace

LoopWakes& LoopWakes::of(const asio::any_io_executor& loop) {
  auto& wakes = asio::use_service<LoopWakes>(asio::query(loop, asio::execution::context));
  std::lock_guard lock(wakes.mu_);
  if (!wakes.loop_) wakes.loop_ = loop;
  return wakes;
}

void LoopWakes::wake(Wakeable& target, const std::weak_ptr<Wakeable>& handle) {
  if (target.listed_.exchange(true, std::memory_order_acq_rel)) return;
  if (batch_depth == 0) {
    thread_local Entries single;
    single.push_back(handle);
    hand_over(single);
    return;
  }
  // Between batches a Gathered is empty, so one whose loop has gone (and whose address a
  // new loop's service took) is just that new loop's.
  auto g = std::find_if(gathered.begin(), gathered.end(),
                        [this](const Gathered& g) { return g.wakes == this; });
  if (g == gathered.end()) g = gathered.insert(gathered.end(), Gathered{this, {}});
  g->entries.push_back(handle);
}

LoopWakes::Batch::Batch() { ++batch_depth; }

LoopWakes::Batch::~Batch() {
  if (--batch_depth > 0) return;
  for (auto& g : gathered) {
    if (!g.entries.empty()) g.wakes->hand_over(g.entries);
  }
}

void LoopWakes::hand_over(Entries& entries) {
  std::lock_guard lock(mu_);
  std::move(entries.begin(), entries.end(), std::back_inserter(pending_));
  entries.clear();
  if (posted_) return;
  posted_ = true;
  asio::post(loop_, [this] { run(); });
}

void LoopWakes::run() {
  {
    std::lock_guard lock(mu_);
    running_.swap(pending_);
    posted_ = false;
  }
  for (const auto& weak : running_) {
    auto target = weak.lock();
    if (!target) continue;
    // Before it runs, so that a wake-up for what comes during the run lists it again.
    target->listed_.store(false, std::memory_order_release);
    target->on_wake();
  }
  running_.clear();
}

void LoopWakes::shutdown() {
  std::lock_guard lock(mu_);
  pending_.clear();
}

}  // namespace nj::net
