#include "cluster/cluster.h"

#include <algorithm>

namespace nj::cluster {
namespace {

// FNV-1a, 64 bits, then a final mix: spread well enough that nodes share cameras evenly.
uint64_t score(std::string_view node, std::string_view serial) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  };
  mix(node);
  mix(std::string_view("\0", 1));
  mix(serial);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

}  // namespace

Nodes::Nodes(store::Database& db, Node self, std::chrono::milliseconds dead_after)
    : db_(db), self_(std::move(self)), dead_after_(dead_after) {}

bool Nodes::beat() {
  const std::string now(store::now_ms_sql(db_.dialect()));
  const store::Value p[] = {self_.id, self_.http_url, self_.rtsp_url};
  auto r = db_.execute(
      "INSERT INTO nodes (id, http_url, rtsp_url, started_ms, heartbeat_ms) VALUES ($1, $2, $3, " +
          now + ", " + now +
          ") ON CONFLICT (id) DO UPDATE SET http_url = excluded.http_url, rtsp_url = "
          "excluded.rtsp_url, heartbeat_ms = excluded.heartbeat_ms",
      p);
  return r.has_value();
}

std::vector<Node> Nodes::alive() { return alive_nodes(db_, dead_after_); }

std::vector<Node> alive_nodes(store::Database& db, std::chrono::milliseconds dead_after) {
  const store::Value p[] = {static_cast<int64_t>(dead_after.count())};
  const std::string now(store::now_ms_sql(db.dialect()));
  // When the statement began, which is no later than the snapshot it reads: a node missing
  // from this list joined after `seen`, so its own first list is seen later (Placement::epoch).
  const std::string seen =
      db.dialect() == "postgres"
          ? "CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000 AS BIGINT)"
          : "(" + now + ") * 1000";
  auto rows = db.query("SELECT id, http_url, rtsp_url, started_ms, heartbeat_ms, " + seen +
                           " FROM nodes WHERE heartbeat_ms > " + now + " - $1 ORDER BY id",
                       p);
  std::vector<Node> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    out.push_back({r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4), r.integer(5)});
  }
  return out;
}

void Nodes::leave() {
  const store::Value p[] = {self_.id};
  (void)db_.execute("DELETE FROM nodes WHERE id = $1", p);
}

Leases::Leases(store::Database& db, std::string holder, std::chrono::milliseconds ttl)
    : db_(db), holder_(std::move(holder)), ttl_(ttl) {}

bool Leases::hold(const std::string& name) {
  const std::string now(store::now_ms_sql(db_.dialect()));
  const store::Value p[] = {name, holder_, static_cast<int64_t>(ttl_.count())};
  // Taken if free or expired, renewed if ours; someone else's lease in force is left alone.
  auto taken = db_.execute(
      "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, " + now +
          " + $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = "
          "excluded.expires_ms WHERE leases.holder = excluded.holder OR leases.expires_ms < " +
          now,
      p);
  if (!taken) return false;
  const store::Value q[] = {name};
  auto rows = db_.query("SELECT holder FROM leases WHERE name = $1", q);
  return rows && !rows->empty() && rows->front().text(0) == holder_;
}

void Leases::release(const std::string& name) {
  const store::Value p[] = {name, holder_};
  (void)db_.execute("DELETE FROM leases WHERE name = $1 AND holder = $2", p);
}

std::string owner_of(std::string_view serial, const std::vector<std::string>& node_ids) {
  std::string best;
  uint64_t best_score = 0;
  for (const auto& id : node_ids) {
    const uint64_t s = score(id, serial);
    if (best.empty() || s > best_score || (s == best_score && id < best)) {
      best = id;
      best_score = s;
    }
  }
  return best;
}

bool Placement::update(const std::vector<Node>& alive) {
  if (alive.empty()) return false;
  std::vector<std::string> ids;
  for (const auto& n : alive) ids.push_back(n.id);
  std::sort(ids.begin(), ids.end());
  std::lock_guard lock(mu_);
  // A node whose address changed (restarted on other ports) counts as a change too.
  const bool same = ids == ids_ && std::equal(alive.begin(), alive.end(), nodes_.begin(),
                                              nodes_.end(), [](const Node& a, const Node& b) {
                                                return a.id == b.id && a.rtsp_url == b.rtsp_url;
                                              });
  nodes_ = alive;
  ids_ = std::move(ids);
  for (const auto& n : alive) epoch_ = std::max(epoch_, n.seen_us);
  return !same;
}

int64_t Placement::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

std::optional<Node> Placement::elsewhere(std::string_view serial) const {
  std::lock_guard lock(mu_);
  if (ids_.empty()) return std::nullopt;
  const auto owner = owner_of(serial, ids_);
  if (owner == self_) return std::nullopt;
  for (const auto& n : nodes_) {
    if (n.id == owner) return n;
  }
  return std::nullopt;
}

}  // namespace nj::cluster
