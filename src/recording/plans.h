// Cloud recording plans (issue #6, policy item 36: the "cloud video recording package"):
// a plan says how many days media are kept and what is recorded (continuous, or events
// only); the operator or an integration grants one to a device for a period (payment is
// outside Nightjar). The reaper deletes what a plan no longer covers. Transport-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "recording/catalog.h"
#include "recording/store.h"
#include "store/database.h"

namespace nj::recording {

struct Plan {
  std::string id, name;
  int retention_days = 0;
  std::string mode;  // continuous | events
  int pre_roll_s = 5, post_roll_s = 10;
};

struct PlanGrant {
  std::string id, device_id, plan_id;
  int64_t starts_at = 0, ends_at = 0;
};

struct DevicePlan {
  Plan plan;
  PlanGrant grant;
};

class Plans {
 public:
  Plans(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // pre_roll_s and post_roll_s: what an events-only plan keeps around each event.
  Result<Plan, std::string> create(const std::string& name, int retention_days,
                                   const std::string& mode, int pre_roll_s = 5,
                                   int post_roll_s = 10);
  std::optional<Plan> by_name(const std::string& name);
  std::vector<Plan> all();
  // Grants a plan to a device (by serial) from starts_at to ends_at (ms since the epoch).
  Result<PlanGrant, std::string> grant(const std::string& serial, const std::string& plan_name,
                                       int64_t starts_at, int64_t ends_at);
  // Ends every grant of a device now (the subscription was cancelled).
  void revoke(const std::string& serial);
  // The plan in force for a device now (the latest-ending grant if several overlap).
  std::optional<DevicePlan> in_force(const std::string& device_id);
  // Every device with a plan in force now, with its serial: device id → (serial, plan).
  std::vector<std::pair<std::string, std::pair<std::string, DevicePlan>>> all_in_force();

 private:
  store::Database& db_;
  const Clock& clock_;
};

struct ReapReport {
  size_t segments = 0;
  uint64_t bytes = 0;
};

// Deletes what no plan covers any more: a device's segments that ended more than its
// plan's retention ago, and every segment of a device with no plan in force ("when you no
// longer use cloud video recording, related video files will not be stored"). The row goes
// first, then the file; each deletion is logged.
ReapReport reap(Catalog& catalog, Store& store, Plans& plans, const Clock& clock);

}  // namespace nj::recording
