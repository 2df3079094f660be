#include "recording/plans.h"

#include <spdlog/spdlog.h>

#include "common/random.h"

namespace nj::recording {
namespace {

using store::Value;

constexpr const char* kPlanColumns = "id, name, retention_days, mode, pre_roll_s, post_roll_s";

Plan plan_from(const store::Row& r, size_t at = 0) {
  return {r.text(at),
          r.text(at + 1),
          static_cast<int>(r.integer(at + 2)),
          r.text(at + 3),
          static_cast<int>(r.integer(at + 4)),
          static_cast<int>(r.integer(at + 5))};
}

}  // namespace

Result<Plan, std::string> Plans::create(const std::string& name, int retention_days,
                                        const std::string& mode, int pre_roll_s, int post_roll_s) {
  if (name.empty() || name.size() > 64) return Unexpected(std::string("a plan needs a name"));
  if (retention_days < 1 || retention_days > 3650) {
    return Unexpected(std::string("retention is 1 to 3650 days"));
  }
  if (mode != "continuous" && mode != "events") {
    return Unexpected(std::string("the mode is continuous or events"));
  }
  if (pre_roll_s < 0 || pre_roll_s > 60 || post_roll_s < 0 || post_roll_s > 600) {
    return Unexpected(std::string("the pre-roll is 0 to 60 s and the post-roll 0 to 600 s"));
  }
  Plan p{random_hex_id(), name, retention_days, mode, pre_roll_s, post_roll_s};
  const Value v[] = {p.id,
                     p.name,
                     int64_t{p.retention_days},
                     p.mode,
                     int64_t{pre_roll_s},
                     int64_t{post_roll_s},
                     clock_.now_ms()};
  auto r = db_.execute(
      "INSERT INTO plans (id, name, retention_days, mode, pre_roll_s, post_roll_s, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      v);
  if (!r) {
    return Unexpected(r.error().code == store::Errc::kConstraint
                          ? "a plan named " + name + " exists already"
                          : r.error().message);
  }
  return p;
}

std::optional<Plan> Plans::by_name(const std::string& name) {
  const Value v[] = {name};
  auto r = db_.query(std::string("SELECT ") + kPlanColumns + " FROM plans WHERE name = $1", v);
  if (!r || r->empty()) return std::nullopt;
  return plan_from(r->front());
}

std::vector<Plan> Plans::all() {
  std::vector<Plan> out;
  auto r = db_.query(std::string("SELECT ") + kPlanColumns + " FROM plans ORDER BY name");
  if (r) {
    for (const auto& row : *r) out.push_back(plan_from(row));
  }
  return out;
}

Result<PlanGrant, std::string> Plans::grant(const std::string& serial, const std::string& plan_name,
                                            int64_t starts_at, int64_t ends_at) {
  const auto plan = by_name(plan_name);
  if (!plan) return Unexpected("no plan named " + plan_name);
  if (ends_at <= starts_at) return Unexpected(std::string("a grant ends after it starts"));
  const Value s[] = {serial};
  auto device = db_.query("SELECT id FROM devices WHERE serial = $1", s);
  if (!device || device->empty()) return Unexpected("no device " + serial);
  PlanGrant g{random_hex_id(), device->front().text(0), plan->id, starts_at, ends_at};
  const Value v[] = {g.id, g.device_id, g.plan_id, g.starts_at, g.ends_at, clock_.now_ms()};
  auto r = db_.execute(
      "INSERT INTO device_plans (id, device_id, plan_id, starts_at, ends_at, granted_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      v);
  if (!r) return Unexpected(r.error().message);
  spdlog::info("recording.plan.granted serial={} plan={} from={} to={}", serial, plan_name,
               starts_at, ends_at);
  return g;
}

void Plans::revoke(const std::string& serial) {
  const int64_t now = clock_.now_ms();
  const Value v[] = {serial, now};
  (void)db_.execute(
      "UPDATE device_plans SET ends_at = $2 WHERE ends_at > $2 AND device_id IN "
      "(SELECT id FROM devices WHERE serial = $1)",
      v);
}

std::optional<DevicePlan> Plans::in_force(const std::string& device_id) {
  const int64_t now = clock_.now_ms();
  const Value v[] = {device_id, now};
  auto r = db_.query(std::string("SELECT p.id, p.name, p.retention_days, p.mode, p.pre_roll_s, "
                                 "p.post_roll_s, g.id, g.device_id, g.plan_id, g.starts_at, "
                                 "g.ends_at FROM device_plans g JOIN plans p ON p.id = g.plan_id "
                                 "WHERE g.device_id = $1 AND g.starts_at <= $2 AND g.ends_at > $2 "
                                 "ORDER BY g.ends_at DESC LIMIT 1"),
                     v);
  if (!r || r->empty()) return std::nullopt;
  const auto& row = r->front();
  return DevicePlan{plan_from(row),
                    {row.text(6), row.text(7), row.text(8), row.integer(9), row.integer(10)}};
}

std::vector<std::pair<std::string, std::pair<std::string, DevicePlan>>> Plans::all_in_force() {
  std::vector<std::pair<std::string, std::pair<std::string, DevicePlan>>> out;
  const Value v[] = {clock_.now_ms()};
  // One query; where grants overlap, the latest-ending one (the first of its device here).
  auto r = db_.query(
      "SELECT p.id, p.name, p.retention_days, p.mode, p.pre_roll_s, p.post_roll_s, g.id, "
      "g.device_id, g.plan_id, g.starts_at, g.ends_at, d.serial FROM device_plans g "
      "JOIN plans p ON p.id = g.plan_id JOIN devices d ON d.id = g.device_id "
      "WHERE g.starts_at <= $1 AND g.ends_at > $1 AND d.owner_id IS NOT NULL "
      "ORDER BY g.device_id, g.ends_at DESC",
      v);
  if (!r) return out;
  for (const auto& row : *r) {
    if (!out.empty() && out.back().first == row.text(7)) continue;
    out.push_back({row.text(7),
                   {row.text(11), DevicePlan{plan_from(row),
                                             {row.text(6), row.text(7), row.text(8), row.integer(9),
                                              row.integer(10)}}}});
  }
  return out;
}

ReapReport reap(Catalog& catalog, Store& store, Plans& plans, const Clock& clock) {
  ReapReport report;
  const int64_t now = clock.now_ms();
  for (const auto& device : catalog.devices_with_media()) {
    const auto plan = plans.in_force(device);
    std::vector<Segment> doomed;
    std::string why;
    if (!plan) {
      doomed = catalog.of_device(device);
      why = "no plan in force";
    } else {
      doomed = catalog.ended_before(device, now - int64_t{plan->plan.retention_days} * 86'400'000);
      why = "past its plan's retention of " + std::to_string(plan->plan.retention_days) + " days";
    }
    for (const auto& s : doomed) {
      if (s.open && plan) continue;  // being written
      if (!catalog.remove(s.id)) continue;
      store.remove(s.store_key);
      ++report.segments;
      report.bytes += s.bytes;
      spdlog::info(
          "recording.deleted device={} segment={} start_ms={} end_ms={} bytes={} why=\"{}\"",
          device, s.id, s.start_ms, s.end_ms, s.bytes, why);
    }
  }
  return report;
}

}  // namespace nj::recording
