// The data export (issue #16): the time to build the ZIP of a person with 10 cameras and
// 100,000 events, every event with a picture of 20 kB (about 2 GB in all), sealed as it is
// written (docs/keys.md), in a file database as the server has it. One build per iteration.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "keys/key_store.h"
#include "privacy/export.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

void BM_ExportTenCamerasAndAHundredThousandEvents(benchmark::State& state) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nj-bench-export-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = std::move(store::open_sqlite(dir / "nj.db")).value();
  (void)store::migrate(*db, store::builtin_migrations());
  (void)db->execute(
      "INSERT INTO users (id, email, password_hash, language, status, created_at) "
      "VALUES ('u', 'person@example.org', 'h', 'en', 'active', 0)");
  const int events = static_cast<int>(state.range(0));
  (void)db->transaction([&](store::Database& tx) -> store::StoreResult<void> {
    for (int d = 0; d < 10; ++d) {
      const store::Value dv[] = {"dev-" + std::to_string(d), "CAM-" + std::to_string(d)};
      (void)tx.execute(
          "INSERT INTO devices (id, serial, secret_hash, created_at, owner_id) "
          "VALUES ($1, $2, 'x', 0, 'u')",
          dv);
    }
    for (int i = 0; i < events; ++i) {
      const store::Value ev[] = {"ev-" + std::to_string(i), "dev-" + std::to_string(i % 10),
                                 static_cast<int64_t>(i) * 1000};
      (void)tx.execute(
          "INSERT INTO events (id, device_id, kind, start_ms, end_ms, snapshot_bytes) "
          "VALUES ($1, $2, 'motion', $3, $3 + 5000, 20000)",
          ev);
    }
    return {};
  });
  auto keys = std::move(keys::KeyStore::open(dir / "keys")).value();
  SystemClock clock;
  const std::string picture(20'000, '\x5a');
  privacy::Exports exports(*db, clock, dir / "exports",
                           [&picture](const std::string&, const std::string&)
                               -> Result<std::string, recording::Unreadable> { return picture; });
  exports.set_keys(keys.get());
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    exports.forget_user("u");
    (void)exports.request("u");
    state.ResumeTiming();
    exports.run_next();
    state.PauseTiming();
    for (const auto& e : std::filesystem::directory_iterator(dir / "exports")) {
      bytes += std::filesystem::file_size(e.path());
    }
    state.ResumeTiming();
  }
  state.counters["zip_MB"] =
      static_cast<double>(bytes) / 1e6 / static_cast<double>(state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ExportTenCamerasAndAHundredThousandEvents)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace
