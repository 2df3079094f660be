#include "privacy/regions.h"

#include <set>

#include "common/random.h"

namespace nj::privacy {

using store::Value;

Result<std::unique_ptr<Regions>, std::string> Regions::make(store::Database& db, const Clock& clock,
                                                            std::vector<Region> all) {
  if (all.empty()) return Unexpected(std::string("no region"));
  std::set<std::string> ids;
  std::set<std::filesystem::path> roots;
  for (auto& r : all) {
    if (!ids.insert(r.id).second) return Unexpected("region " + r.id + " is declared twice");
    if (r.root.empty()) return Unexpected("region " + r.id + " has no root");
    r.root = std::filesystem::absolute(r.root).lexically_normal();
    // Two regions in one place would be one region in fact.
    if (!roots.insert(r.root).second) {
      return Unexpected("regions must have roots of their own: " + r.root.string());
    }
  }
  // Accounts of a region that is no longer configured: their data would have nowhere to go.
  if (auto rows = db.query("SELECT DISTINCT region FROM users WHERE region IS NOT NULL")) {
    for (const auto& row : *rows) {
      if (!ids.contains(row.text(0))) {
        return Unexpected("accounts are in region '" + row.text(0) +
                          "', which is no longer configured");
      }
    }
  }
  return std::unique_ptr<Regions>(new Regions(db, clock, std::move(all)));
}

const Region* Regions::find(std::string_view id) const {
  for (const auto& r : all_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const std::filesystem::path& Regions::root(std::string_view id) const {
  const auto* r = find(id);
  return r ? r->root : default_region().root;
}

std::string Regions::of_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  auto rows = db_.query("SELECT region FROM users WHERE id = $1", p);
  if (rows && !rows->empty() && !(*rows)[0].is_null(0) && find((*rows)[0].text(0))) {
    return (*rows)[0].text(0);
  }
  return default_region().id;
}

std::string Regions::of_device(std::string_view device_id) {
  const Value p[] = {std::string(device_id)};
  auto rows = db_.query(
      "SELECT u.region FROM devices d JOIN users u ON u.id = d.owner_id WHERE d.id = $1", p);
  if (rows && !rows->empty() && !(*rows)[0].is_null(0) && find((*rows)[0].text(0))) {
    return (*rows)[0].text(0);
  }
  return default_region().id;
}

std::optional<RegionMove> Regions::move(std::string_view user_id, std::string_view to) {
  if (!find(to)) return std::nullopt;
  const std::string from = of_user(user_id);
  if (from == to) return std::nullopt;
  RegionMove m{random_hex_id(), from, std::string(to), "moving", clock_.now_ms(), std::nullopt};
  auto done = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    const Value row[] = {m.id, std::string(user_id), m.from, m.to, m.consented_at};
    if (auto r = tx.execute(
            "INSERT INTO region_moves (id, user_id, from_region, to_region, consented_at) "
            "VALUES ($1, $2, $3, $4, $5)",
            row);
        !r) {
      return Unexpected(r.error());
    }
    const Value u[] = {std::string(user_id), m.to};
    if (auto r = tx.execute("UPDATE users SET region = $2 WHERE id = $1", u); !r) {
      return Unexpected(r.error());
    }
    return {};
  });
  if (!done) return std::nullopt;
  return m;
}

std::vector<RegionMove> Regions::moves_of(std::string_view user_id) {
  std::vector<RegionMove> out;
  const Value p[] = {std::string(user_id)};
  if (auto rows = db_.query(
          "SELECT id, from_region, to_region, state, consented_at, done_at FROM region_moves "
          "WHERE user_id = $1 ORDER BY consented_at, id",
          p)) {
    for (const auto& r : *rows) {
      out.push_back({r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4),
                     r.is_null(5) ? std::nullopt : std::optional<int64_t>(r.integer(5))});
    }
  }
  return out;
}

std::vector<std::pair<RegionMove, std::string>> Regions::pending() {
  std::vector<std::pair<RegionMove, std::string>> out;
  if (auto rows = db_.query(
          "SELECT id, from_region, to_region, state, consented_at, user_id FROM region_moves "
          "WHERE state = 'moving' ORDER BY consented_at")) {
    for (const auto& r : *rows) {
      out.push_back(
          {{r.text(0), r.text(1), r.text(2), r.text(3), r.integer(4), std::nullopt}, r.text(5)});
    }
  }
  return out;
}

void Regions::finish(const std::string& move_id) {
  const Value p[] = {move_id, clock_.now_ms()};
  (void)db_.execute("UPDATE region_moves SET state = 'done', done_at = $2 WHERE id = $1", p);
}

}  // namespace nj::privacy
