// Changes every node must hear about at once (issue #17): a share revoked, a camera unbound, an
// account cancelled. A node that makes such a change publishes it; every node, itself
// included, hears it and ends what the change ends (device::AccessWatch), so a live view
// served by another node stops as fast as one served here.
//
// On PostgreSQL the feed is LISTEN/NOTIFY on channel "nightjar" over a connection of its own,
// which reconnects by itself; when it has been away, `on_resync` runs, as changes may have
// been missed, and the node checks everything itself. On SQLite (one node) the feed is in
// the process.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/database.h"

namespace nj::store {

class ChangeFeed {
 public:
  // topic: a word ("share.ended"); payload: a short text (PostgreSQL takes up to 8000 bytes).
  using Listener = std::function<void(std::string_view topic, std::string_view payload)>;
  virtual ~ChangeFeed() = default;
  // Tells every node (this one too, through the same path). Returns false if it could not be
  // sent (the database unreachable): the caller's own node has already acted.
  virtual bool publish(std::string_view topic, std::string_view payload) = 0;
  // Set before changes flow; called on the feed's own thread, one change at a time.
  virtual void on_change(Listener listener) = 0;
  // After the feed was away from the database (changes may have been lost).
  virtual void on_resync(std::function<void()> resync) = 0;
};

// One process: a change is heard by its listener on a thread of the feed's own.
std::unique_ptr<ChangeFeed> local_change_feed();

// LISTEN/NOTIFY on the database at `url`. The listening connection is opened at once (an
// error if it cannot be) and reopened whenever it drops.
StoreResult<std::unique_ptr<ChangeFeed>> postgres_change_feed(const std::string& url);

}  // namespace nj::store
