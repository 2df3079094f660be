// The cost of trust (#12): re-checking a stream token's rights on every use (a database read
// of the device's binding and the person's role) beside the HMAC check alone, which is all
// a token cost before; and reading device messages through the validating layer.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "device/stream_access.h"
#include "device_protocol/messages.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

// 1,000 cameras with an owner each and a viewer's share on every one, in a SQLite file.
struct Fleet {
  Fleet()
      : dir(std::filesystem::temp_directory_path() /
            ("nj-access-bench-" + std::to_string(::getpid()))),
        db((std::filesystem::create_directories(dir),
            std::move(store::open_sqlite(dir / "nightjar.db")).value())),
        clock(1'795'947'665'000),
        secrets(std::vector<uint8_t>(32, 7)),
        registry(*db, secrets, clock),
        service(*db, registry, clock),
        tokens(std::vector<uint8_t>(32, 9), clock),
        access(tokens, registry, service) {
    (void)store::migrate(*db, store::builtin_migrations());
    for (int i = 0; i < 1000; ++i) {
      const std::string n = std::to_string(i);
      for (const std::string& who : {"owner" + n, "viewer" + n}) {
        const store::Value p[] = {who, who + "@example.com"};
        (void)db->execute(
            "INSERT INTO users (id, email, password_hash, language, status, created_at) "
            "VALUES ($1, $2, 'x', 'en', 'active', 0)",
            p);
      }
      (void)registry.add({"CAM-" + n, "", "", "", "", "", ""});
      auto t = service.create_bind_token("owner" + n);
      auto d = service.claim("CAM-" + n, t->token);
      auto s =
          service.share("owner" + n, d->id, "viewer" + n + "@example.com", device::Role::kViewer);
      (void)service.accept("viewer" + n, s->id);
    }
    device = *registry.by_serial("CAM-500");
  }
  ~Fleet() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  ManualClock clock;
  device::SecretDeriver secrets;
  device::DeviceRegistry registry;
  device::DeviceService service;
  device::StreamTokens tokens;
  device::StreamAccess access;
  device::Device device;
};

Fleet& fleet() {
  static Fleet f;
  return f;
}

// Before #12: a token was checked by its HMAC and expiry only.
void BM_TokenHmacOnly(benchmark::State& state) {
  auto& f = fleet();
  const auto token =
      f.tokens.issue("CAM-500", device::StreamPurpose::kPlay, "viewer500", 1, 600'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.tokens.verify(token, "CAM-500", device::StreamPurpose::kPlay));
  }
}
BENCHMARK(BM_TokenHmacOnly);

// Now: the HMAC, then the device's binding and the person's role read from the database.
void BM_TokenRecheckedPerson(benchmark::State& state) {
  auto& f = fleet();
  const auto token =
      f.access.for_person(f.device, "viewer500", device::StreamPurpose::kPlay, 600'000);
  for (auto _ : state) {
    auto holder = f.access.check(token, "CAM-500", device::StreamPurpose::kPlay);
    if (!holder) state.SkipWithError("refused");
    benchmark::DoNotOptimize(holder);
  }
}
BENCHMARK(BM_TokenRecheckedPerson);

void BM_TokenRecheckedOwner(benchmark::State& state) {
  auto& f = fleet();
  const auto token =
      f.access.for_person(f.device, "owner500", device::StreamPurpose::kPlay, 600'000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.access.check(token, "CAM-500", device::StreamPurpose::kPlay));
  }
}
BENCHMARK(BM_TokenRecheckedOwner);

void BM_ParseTelemetry(benchmark::State& state) {
  const std::string payload =
      R"({"bytes_sent": 123456, "sd": {"capacity_bytes": 32000000000, "used_bytes": 1000, "health": "ok"}})";
  for (auto _ : state) benchmark::DoNotOptimize(device_protocol::parse_telemetry(payload));
}
BENCHMARK(BM_ParseTelemetry);

void BM_ParseSdListOf1000(benchmark::State& state) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) {
    list.push_back({{"name", std::to_string(i) + "-" + std::to_string(i + 60) + ".mp4"},
                    {"start_ms", i},
                    {"end_ms", i + 60},
                    {"bytes", 1000000}});
  }
  const std::string payload =
      nlohmann::json{{"id", "1"}, {"result", {{"recordings", list}}}}.dump();
  for (auto _ : state) {
    auto r = device_protocol::parse_rpc_response(payload);
    benchmark::DoNotOptimize(device_protocol::read_rpc_result("sd.list", r->result));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_ParseSdListOf1000);

}  // namespace
