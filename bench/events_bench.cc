// The event store and pipeline (#14) at scale: a page of the alarm list over a million events,
// the unread count, a day of a busy camera's timeline markers (10,000 events), and the cost of
// a camera's report (a new event, or one grouped into a running event, as in a flood).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/clock.h"
#include "events/event_service.h"
#include "events/event_store.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

constexpr int kDevices = 20;
constexpr int kEvents = 1'000'000;
constexpr int64_t kStart = 1'790'000'000'000;

std::string device_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%032x", i + 1);
  return buf;
}

// A million events over 20 cameras and about 100 days in a SQLite file; camera 0 is the busy
// one: 10,000 events on its last day.
struct Million {
  Million()
      : dir(std::filesystem::temp_directory_path() /
            ("nj-events-bench-" + std::to_string(::getpid()))),
        db((std::filesystem::create_directories(dir),
            std::move(store::open_sqlite(dir / "nightjar.db")).value())),
        store(*db) {
    (void)store::migrate(*db, store::builtin_migrations());
    for (int d = 0; d < kDevices; ++d) {
      const store::Value p[] = {device_id(d), "CAM-" + std::to_string(d)};
      (void)db->execute(
          "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ($1, $2, 'x', 0)", p);
    }
    const int busy = 10'000;
    (void)db->transaction([&](store::Database& tx) -> store::StoreResult<void> {
      for (int i = 0; i < kEvents; ++i) {
        const bool busy_day = i < busy;
        const int device = busy_day ? 0 : i % kDevices;
        // The busy day is the last one; the rest spread over 100 days before it.
        const int64_t start =
            busy_day ? kStart + 99 * 86'400'000ll + i * 8'640ll
                     : kStart + (static_cast<int64_t>(i) * 8'640ll) % (99 * 86'400'000ll);
        char id[40];
        std::snprintf(id, sizeof id, "%032x", i);
        const store::Value p[] = {std::string(id), device_id(device),
                                  std::string(i % 7 ? "motion" : "person"), start, start + 4000};
        (void)tx.execute(
            "INSERT INTO events (id, device_id, kind, start_ms, end_ms) VALUES ($1, $2, $3, $4, "
            "$5)",
            p);
      }
      return {};
    });
    (void)db->execute("ANALYZE");
    for (int d = 0; d < 5; ++d) devices.push_back(device_id(d));
    store.mark_all_read("reader", kStart + 98 * 86'400'000ll);
  }
  ~Million() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  events::EventStore store;
  std::vector<std::string> devices;  // a person's five cameras
};

Million& million() {
  static Million m;
  return m;
}

void BM_ListFirstPage(benchmark::State& state) {
  auto& m = million();
  events::EventQuery q;
  q.user_id = "reader";
  q.device_ids = m.devices;
  q.limit = 50;
  for (auto _ : state) benchmark::DoNotOptimize(m.store.list(q));
}
BENCHMARK(BM_ListFirstPage)->Unit(benchmark::kMillisecond);

// The 200th page: the cursor costs the same as the first.
void BM_ListDeepPage(benchmark::State& state) {
  auto& m = million();
  events::EventQuery q;
  q.user_id = "reader";
  q.device_ids = m.devices;
  q.limit = 50;
  for (int i = 0; i < 200; ++i) q.before = m.store.list(q).next;
  for (auto _ : state) benchmark::DoNotOptimize(m.store.list(q));
}
BENCHMARK(BM_ListDeepPage)->Unit(benchmark::kMillisecond);

// One camera, one kind, one day.
void BM_ListFilteredDay(benchmark::State& state) {
  auto& m = million();
  events::EventQuery q;
  q.user_id = "reader";
  q.device_ids = {device_id(3)};
  q.kinds = {events::Kind::kPerson};
  q.from_ms = kStart + 50 * 86'400'000ll;
  q.to_ms = q.from_ms.value() + 86'400'000;
  q.limit = 50;
  for (auto _ : state) benchmark::DoNotOptimize(m.store.list(q));
}
BENCHMARK(BM_ListFilteredDay)->Unit(benchmark::kMillisecond);

void BM_UnreadCount(benchmark::State& state) {
  auto& m = million();
  for (auto _ : state) benchmark::DoNotOptimize(m.store.unread("reader", m.devices));
}
BENCHMARK(BM_UnreadCount)->Unit(benchmark::kMillisecond);

// A day of the busy camera: 10,000 markers.
void BM_TimelineMarkersBusyDay(benchmark::State& state) {
  auto& m = million();
  size_t n = 0;
  for (auto _ : state) {
    auto markers = m.store.markers(device_id(0), kStart + 99 * 86'400'000ll,
                                   kStart + 100 * 86'400'000ll, 10'000);
    n = markers.size();
    benchmark::DoNotOptimize(markers);
  }
  state.counters["markers"] = static_cast<double>(n);
}
BENCHMARK(BM_TimelineMarkersBusyDay)->Unit(benchmark::kMillisecond);

// A camera's report through the service: a new event each time (start and end), and a flood
// whose reports join the running event.
struct Pipeline {
  Pipeline()
      : files(std::filesystem::temp_directory_path() / "nj-events-bench-files"),
        clock(kStart),
        service(million().store, files, clock,
                [](const std::string&) -> std::optional<std::string> { return device_id(7); }) {}
  events::SnapshotFiles files;
  ManualClock clock;
  events::EventService service;
};

void BM_ReportNewEvent(benchmark::State& state) {
  Pipeline p;
  for (auto _ : state) {
    p.clock.advance_ms(60'000);  // past the grouping time and within the allowance
    p.service.report("CAM-7", "motion", true, 0.5);
    p.service.report("CAM-7", "motion", false, 0);
  }
}
BENCHMARK(BM_ReportNewEvent)->Unit(benchmark::kMicrosecond);

void BM_ReportFloodGrouped(benchmark::State& state) {
  Pipeline p;
  p.service.report("CAM-7", "sound", true, 0.5);
  for (auto _ : state) {
    p.clock.advance_ms(1);
    benchmark::DoNotOptimize(p.service.report("CAM-7", "sound", true, 0.5));
  }
}
BENCHMARK(BM_ReportFloodGrouped)->Unit(benchmark::kMicrosecond);

}  // namespace
