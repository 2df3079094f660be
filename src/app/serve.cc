#include "app/serve.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "api/client_errors.h"
#include "api/health.h"
#include "app/data_dir.h"
#include "common/time.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_files.h"
#include "metrics/registry.h"
#include "net/io_pool.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace nj::app {
namespace {

// This installation's id, created with the database.
store::StoreResult<std::string> instance_id(store::Database& db) {
  const store::Value params[] = {std::string("instance_id"), random_hex_id()};
  if (auto r = db.execute("INSERT INTO server_meta (key, value) VALUES ($1, $2) "
                          "ON CONFLICT (key) DO NOTHING",
                          params);
      !r) {
    return Unexpected(std::move(r).error());
  }
  auto rows = db.query("SELECT value FROM server_meta WHERE key = 'instance_id'");
  if (!rows) return Unexpected(std::move(rows).error());
  return rows->at(0).text(0);
}

void add_process_metrics(metrics::Registry& registry, const std::string& version) {
  registry.gauge("nightjar_build_info", "Build of the running server.", {"version"})
      .with({version})
      .set(1);
  const double start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  registry.gauge("process_start_time_seconds", "Start time of the process since the epoch.")
      .with({})
      .set(start);
}

std::string url_host(const std::string& listen) {
  if (listen == "0.0.0.0") return "127.0.0.1";
  if (listen == "::") return "[::1]";
  if (listen.find(':') != std::string::npos) return "[" + listen + "]";
  return listen;
}

}  // namespace

int serve(const Config& config) {
  if (!log::init(config.log)) {
    std::fprintf(stderr, "nightjar: unknown log level '%s'\n", config.log.level.c_str());
    return 2;
  }
  // Signals are taken by sigwait below: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto data = DataDir::open(config.data_dir);
  if (!data) {
    spdlog::critical("startup.failed reason=\"{}\"", data.error());
    return 1;
  }
  data->remove_ports();  // stale from an earlier run: never let a reader trust it

  auto db = store::open_sqlite(data->database());
  if (!db) {
    spdlog::critical("startup.failed reason=\"{}\"", db.error().message);
    return 1;
  }
  auto version = store::migrate(**db, store::builtin_migrations());
  if (!version) {
    spdlog::critical("startup.failed reason=\"{}\"", version.error().message);
    return 1;
  }
  auto instance = instance_id(**db);
  if (!instance) {
    spdlog::critical("startup.failed reason=\"{}\"", instance.error().message);
    return 1;
  }
  spdlog::info("store.ready path={} schema_version={}", data->database().string(), *version);

  metrics::Registry metrics;
  add_process_metrics(metrics, NJ_VERSION);

  http::Router router;
  api::HealthApi health(**db, metrics, {NJ_VERSION, *instance});
  health.install(router);
  api::ClientErrorsApi client_errors(metrics, {});
  client_errors.install(router);

  std::error_code ec;
  http::StaticFiles web(config.web_root);
  if (std::filesystem::is_regular_file(web.root() / "index.html", ec)) {
    router.set_fallback([&web](const http::Request& r) { return web.serve(r); });
  } else {
    spdlog::warn("web.missing root={} hint=\"run make build to build the web app\"",
                 web.root().string());
  }

  net::IoPool pool(config.threads);
  http::Server server(pool, router, metrics, config.http);
  auto port = server.listen(config.listen, config.http_port);
  if (!port) {
    spdlog::critical("startup.failed reason=\"{}\"", port.error());
    return 1;
  }
  pool.start();
  // RTSP and MQTT listeners join ports.json when their parts exist.
  if (auto w = data->write_ports({{"http", *port}}); !w) {
    spdlog::critical("startup.failed reason=\"{}\"", w.error());
    return 1;
  }
  const std::string url = "http://" + url_host(config.listen) + ":" + std::to_string(*port) + "/";
  spdlog::info("http.listening address={} port={} threads={} demo={}", config.listen, *port,
               config.threads, config.demo);
  std::printf("Nightjar is running at %s\n", url.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("shutdown.begin signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop();
  pool.shutdown();
  data->remove_ports();
  spdlog::info("shutdown.done");
  return 0;
}

}  // namespace nj::app
