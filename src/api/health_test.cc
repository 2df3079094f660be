#include "api/health.h"

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "store/test_postgres.h"

namespace nj::api {
namespace {

TEST(HealthApi, ReportsOkWithSchemaVersionAndInstance) {
  auto db = store::testing::open_test_database();
  ASSERT_TRUE(store::migrate(*db, store::builtin_migrations()));
  metrics::Registry metrics;
  HealthApi api(*db, metrics, {"1.2.3", "abc"});
  http::Router router;
  api.install(router);
  http::Request r;
  r.set_target("/healthz");
  auto match = router.match(r, false);
  ASSERT_EQ(match.outcome, http::Router::Outcome::kMatched);
  http::Response response;
  match.route->handler(r, http::Responder([&](http::Response x) { response = std::move(x); }));
  EXPECT_EQ(response.status, 200);
  auto doc = nlohmann::json::parse(response.body);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["version"], "1.2.3");
  EXPECT_EQ(doc["instance"], "abc");
  EXPECT_EQ(doc["database"]["schema_version"], store::builtin_migrations().back().version);
}

TEST(HealthApi, DegradedWhenTheDatabaseFails) {
  auto db = store::testing::open_test_database();  // no schema_version table
  metrics::Registry metrics;
  HealthApi api(*db, metrics, {"1", "x"});
  auto [doc, ok] = api.snapshot();
  EXPECT_FALSE(ok);
  EXPECT_EQ(doc["status"], "degraded");
  EXPECT_EQ(doc["database"]["ok"], false);
}

}  // namespace
}  // namespace nj::api
