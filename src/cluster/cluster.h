// Several Nodes on one database (issue #17): who is alive, who does the work that one node at
// a time must do, and which node a camera's stream lives on.
//
// Every time here is the database's clock (store::now_ms_sql), never a node's: nodes whose
// clocks disagree by seconds still agree on who is alive and who holds a lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"

namespace nj::cluster {

struct Node {
  std::string id, http_url, rtsp_url;
  int64_t started_ms = 0, heartbeat_ms = 0;
  // The database's clock when the list this node came in was read, in µs (the same in every
  // entry).
  int64_t seen_us = 0;
};

class Nodes {
 public:
  // `self` is this node; a node not heard from for `dead_after` is not alive.
  Nodes(store::Database& db, Node self, std::chrono::milliseconds dead_after);
  // Says this node is alive (every second); false if the database could not be reached.
  bool beat();
  // The nodes alive now, by id (this one among them once it has beaten).
  std::vector<Node> alive();
  // Takes this node out at once (a clean stop), so its cameras move without waiting.
  void leave();

 private:
  store::Database& db_;
  Node self_;
  std::chrono::milliseconds dead_after_;
};

// The nodes heard from within `dead_after`, by id; empty if the database could not be read.
std::vector<Node> alive_nodes(store::Database& db, std::chrono::milliseconds dead_after);

// Work one node at a time does. hold() takes the lease, or keeps it, for `ttl`; it is true
// while this node holds it. A node that stops renewing loses it when it expires, and the next
// node to ask gets it.
class Leases {
 public:
  Leases(store::Database& db, std::string holder, std::chrono::milliseconds ttl);
  bool hold(const std::string& name);
  void release(const std::string& name);

 private:
  store::Database& db_;
  std::string holder_;
  std::chrono::milliseconds ttl_;
};

// The node a camera's stream lives on: of the live nodes, the one whose hash with the serial
// is highest (rendezvous hashing). Every node computes the same answer from the same list; a
// node that leaves moves only its own cameras, and one that comes back takes back the same.
// Empty if there is no node.
std::string owner_of(std::string_view serial, const std::vector<std::string>& node_ids);

// Where each camera's stream lives, as this node sees the cluster now: owner_of over the nodes
// alive at its last heartbeat. Alone, or before the first heartbeat, every camera is here.
class Placement {
 public:
  explicit Placement(std::string self) : self_(std::move(self)) {}
  // The nodes alive now (Nodes::alive); true if which nodes they are changed. An empty list
  // (the database could not be read) changes nothing: cameras stay where they were.
  bool update(const std::vector<Node>& alive);
  // The node that holds the camera's stream when it is another; nullopt when it is this one.
  std::optional<Node> elsewhere(std::string_view serial) const;
  bool here(std::string_view serial) const { return !elsewhere(serial).has_value(); }
  // When this view was last confirmed, on the database's clock in µs (0 before the first): a
  // fencing epoch. A node that joined is in every list read after it did, so a node still
  // placing cameras by an older list carries a smaller epoch than the node that took them,
  // and a camera can tell whose ask is stale (docs/architecture.md "Hand-overs").
  int64_t epoch() const;

 private:
  std::string self_;
  mutable std::mutex mu_;
  std::vector<Node> nodes_;
  std::vector<std::string> ids_;
  int64_t epoch_ = 0;
};

}  // namespace nj::cluster
