// Hot paths of every request: routing, JSON bodies, metrics, static files, a store query.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/json.h"
#include "http/router.h"
#include "http/static_files.h"
#include "metrics/registry.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

http::Router make_router() {
  http::Router router;
  auto ok = [](const http::Request&) { return http::Response{}; };
  // Roughly the API's shape when complete: ~40 routes, most with a device id.
  for (const char* resource : {"", "/snapshot.jpg", "/live.m3u8", "/recordings", "/playback.m3u8",
                               "/clip.mp4", "/sdcard", "/shares", "/events", "/settings"}) {
    router.add(http::Method::kGet, std::string("/api/v1/devices/{id}") + resource, ok);
    router.add(http::Method::kPost, std::string("/api/v1/devices/{id}") + resource, ok);
  }
  for (const char* p : {"/api/v1/me", "/api/v1/policy", "/api/v1/devices", "/api/v1/events",
                        "/api/v1/auth/login", "/api/v1/auth/register", "/healthz", "/metrics"}) {
    router.add(http::Method::kGet, p, ok);
  }
  return router;
}

void BM_RouterMatchDeviceRoute(benchmark::State& state) {
  const auto router = make_router();
  http::Request request;
  request.set_target("/api/v1/devices/NJ-000123/recordings?from=1700000000000&to=1700003600000");
  for (auto _ : state) {
    auto m = router.match(request, false);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_RouterMatchDeviceRoute);

void BM_QueryParam(benchmark::State& state) {
  http::Request request;
  request.set_target("/x?from=2026-11-29T10%3A00%3A00Z&to=1700003600000&speed=2");
  for (auto _ : state) benchmark::DoNotOptimize(request.query_param("to"));
}
BENCHMARK(BM_QueryParam);

void BM_ParseJsonBody(benchmark::State& state) {
  http::Request request;
  request.headers.set("Content-Type", "application/json");
  request.body =
      R"({"email":"someone@example.org","password":"correct horse battery staple","language":"zh-CN","policy_version":"2026-11-01"})";
  for (auto _ : state) benchmark::DoNotOptimize(http::parse_json_body(request));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(request.body.size()));
}
BENCHMARK(BM_ParseJsonBody);

void BM_MetricsCountRequest(benchmark::State& state) {
  metrics::Registry registry;
  auto& requests = registry.counter("r", "r", {"route", "method", "status"});
  auto& latency = registry.histogram("l", "l", {"route"});
  for (auto _ : state) {
    requests.with({"/api/v1/devices/{id}", "GET", "200"}).inc();
    latency.with({"/api/v1/devices/{id}"}).observe(0.0004);
  }
}
BENCHMARK(BM_MetricsCountRequest)->Threads(1)->Threads(2);

void BM_MetricsRender(benchmark::State& state) {
  metrics::Registry registry;
  auto& requests = registry.counter("r", "r", {"route", "method", "status"});
  auto& latency = registry.histogram("l", "l", {"route"});
  for (int i = 0; i < 40; ++i) {
    const auto route = "/api/v1/route" + std::to_string(i);
    requests.with({route, "GET", "200"}).inc();
    latency.with({route}).observe(0.001);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    auto text = registry.render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = double(bytes);
}
BENCHMARK(BM_MetricsRender);

void BM_StaticFileServe(benchmark::State& state) {
  const auto root =
      std::filesystem::temp_directory_path() / ("nj-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "assets");
  std::ofstream(root / "assets" / "index-abc.js") << std::string(22000, 'x');
  http::StaticFiles files(root);
  http::Request request;
  request.set_target("/assets/index-abc.js");
  for (auto _ : state) benchmark::DoNotOptimize(files.serve(request));
  std::filesystem::remove_all(root);
}
BENCHMARK(BM_StaticFileServe);

void BM_StoreQuery(benchmark::State& state) {
  auto db = std::move(store::open_sqlite(":memory:")).value();
  (void)store::migrate(*db, store::builtin_migrations());
  const store::Value params[] = {std::string("instance_id"), std::string("x")};
  (void)db->execute("INSERT INTO server_meta (key, value) VALUES ($1, $2)", params);
  const store::Value key[] = {std::string("instance_id")};
  for (auto _ : state) {
    benchmark::DoNotOptimize(db->query("SELECT value FROM server_meta WHERE key = $1", key));
  }
}
BENCHMARK(BM_StoreQuery);

}  // namespace
