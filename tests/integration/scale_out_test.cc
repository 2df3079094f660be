// Scale-out (issue #17): an embedded install moved onto PostgreSQL with its people, cameras and
// sessions, checked table by table; two nodes on one database, where access ended through
// one ends what the other serves.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "integration/fixture.h"
#include "store/test_postgres.h"

namespace nj::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Whether the node holds the lease `name` now, by its metrics.
bool held(const ServerProcess& node, const std::string& name) {
  return node.get("/metrics").body.find("nightjar_leases_held{name=\"" + name + "\"} 1") !=
         std::string::npos;
}

// Whether the node sees n nodes alive, by its metrics.
bool nodes_seen(const ServerProcess& node, int n) {
  return node.get("/metrics").body.find("nightjar_cluster_nodes " + std::to_string(n) + "\n") !=
         std::string::npos;
}

// `nightjar admin migrate-to-postgres --from DIR --to URL`: what the SQLite install held is
// there on PostgreSQL (the account signs in with its password, its session still works, its
// camera is still its own), and the report counts and checks every table. A second run into
// the same database is refused and changes nothing.
TEST(MigrateToPostgres, AnEmbeddedInstallMovesOverAndWorksThere) {
  if (store::testing::on_postgres()) GTEST_SKIP() << "a move from SQLite";
  ServerProcess server;
  ASSERT_TRUE(server.start()) << server.log();
  const std::string bearer = sign_up(server, "mover@example.org");
  ASSERT_FALSE(bearer.empty());
  ASSERT_FALSE(add_device(server, "MOVE-1").empty());
  const std::string device = bind_by_label(server, "MOVE-1", bearer);
  ASSERT_FALSE(device.empty());
  ASSERT_EQ(server.stop(), 0) << server.log();

  std::string error;
  const std::string url = store::testing::fresh_database_url(&error);
  ASSERT_FALSE(url.empty()) << error;
  int status = -1;
  const std::string report =
      server.admin("migrate-to-postgres --from " + sh_quote(server.data_dir().string()) + " --to " +
                       url + " 2>&1",
                   &status);
  ASSERT_EQ(status, 0) << report;
  const auto summary = json::parse(report, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << report;
  EXPECT_EQ(summary["verified"], true);
  std::map<std::string, int64_t> rows;
  for (const auto& t : summary["tables"]) {
    rows[t["table"]] = t["rows"];
    EXPECT_EQ(t["checksum"].get<std::string>().size(), 16u) << t;
  }
  EXPECT_EQ(rows["users"], 1);
  EXPECT_EQ(rows["devices"], 1);
  EXPECT_GE(rows["sessions"], 1);

  server.use_postgres(url);
  ASSERT_TRUE(server.start()) << server.log();
  const auto me = call_as(server, bearer, "GET", "/api/v1/me");
  ASSERT_EQ(me.status, 200) << "the session came along: " << me.body;
  EXPECT_EQ(me.json()["email"], "mover@example.org");
  const auto login = server.request(
      "POST", "/api/v1/auth/login", {{"Content-Type", "application/json"}},
      json{{"email", "mover@example.org"}, {"password", "a long passphrase for mover@example.org"}}
          .dump());
  EXPECT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(call_as(server, bearer, "GET", "/api/v1/devices/" + device).status, 200);
  EXPECT_EQ(server.sql("SELECT COUNT(*) FROM users"), "1\n") << "it runs on PostgreSQL now";
  ASSERT_EQ(server.stop(), 0) << server.log();

  const std::string again =
      server.admin("migrate-to-postgres --from " + sh_quote(server.data_dir().string()) + " --to " +
                       url + " 2>&1",
                   &status);
  EXPECT_EQ(status, 1) << again;
  EXPECT_NE(again.find("not empty"), std::string::npos) << again;
}

// Two nodes on one PostgreSQL database: the camera streams to node B, a family member watches
// it live there, and the owner revokes the share through node A. Node B hears of it through
// the database (LISTEN/NOTIFY) and ends the view at once; B checks no share on its own.
TEST(TwoNodes, AShareRevokedThroughOneNodeEndsAViewServedByTheOther) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  const std::string config = "[devices]\nidle_stream_grace_ms = 30000\n";
  ServerProcess a{config}, b{config};
  b.share_database_of(a);
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  const auto owner = sign_up(a, "owner@example.org");
  const auto family = sign_up(a, "family@example.org");
  ASSERT_FALSE(owner.empty());
  ASSERT_FALSE(family.empty());

  // The camera is B's: registered there, its broker and RTSP are B's.
  const auto secret = add_device(b, "NODE-1");
  ASSERT_FALSE(secret.empty());
  std::ofstream(b.data_dir() / "NODE-1.secret") << secret << "\n";
  const std::string id = bind_by_label(a, "NODE-1", owner);
  ASSERT_FALSE(id.empty());
  const auto ports =
      json::parse(run_command("cat " + sh_quote((b.data_dir() / "ports.json").string())));
  BackgroundCommand camera("exec " + sh_quote(camera_binary()) + " --serial NODE-1 --secret-file " +
                           sh_quote((b.data_dir() / "NODE-1.secret").string()) +
                           " --simulate --size 320x240 --fps 10 --gop-seconds 1 --mqtt "
                           "mqtt://127.0.0.1:" +
                           std::to_string(ports["mqtt"].get<int>()) + " >> " +
                           sh_quote((b.data_dir() / "cam.log").string()) + " 2>&1");
  auto shared = call_as(a, owner, "POST", "/api/v1/devices/" + id + "/shares",
                        {{"email", "family@example.org"}, {"role", "viewer"}});
  ASSERT_EQ(shared.status, 201) << shared.body;
  const std::string share_id = shared.json().value("id", "");
  ASSERT_EQ(call_as(a, family, "POST", "/api/v1/shares/" + share_id + "/accept").status, 200);

  ASSERT_TRUE(wait_for(
      [&] { return call_as(b, family, "POST", "/api/v1/devices/" + id + "/stream").status == 200; },
      20s))
      << b.log();
  WsClient live;
  ASSERT_EQ(live.connect(b.http_port(), "/api/v1/devices/" + id + "/live",
                         {{"Authorization", "Bearer " + family}}),
            101);
  ASSERT_TRUE(live.receive(5s)) << "the family member watches on node B";

  ASSERT_EQ(call_as(a, owner, "DELETE", "/api/v1/devices/" + id + "/shares/" + share_id).status,
            204);
  const auto until = std::chrono::steady_clock::now() + 3s;
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() < until) {
    auto m = live.receive(500ms);
    ended = !m || m->find("\"ended\"") != std::string::npos;
  }
  EXPECT_TRUE(ended) << "node B kept serving a revoked share\n" << b.log();
  WsClient again;
  EXPECT_NE(again.connect(b.http_port(), "/api/v1/devices/" + id + "/live",
                          {{"Authorization", "Bearer " + family}}),
            101);
}

// The work one node at a time does (anonymisation, exports, region moves, the reapers) is
// held by exactly one of two nodes, by lease on the database's clock; when that node is
// killed, the other takes every lease within the lease's term and sees one node left; the
// killed node, back, joins again without taking anything from the one that now holds it.
TEST(TwoNodes, OneNodeHoldsEachSingletonAndTheOtherTakesOverWhenItDies) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  ServerProcess a{"[cluster]\nnode = \"node-a\"\n"}, b{"[cluster]\nnode = \"node-b\"\n"};
  b.share_database_of(a);
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  const std::vector<std::string> names = {"anonymise", "exports", "region-moves"};
  ASSERT_TRUE(wait_for([&] { return nodes_seen(a, 2) && nodes_seen(b, 2); }, 5s));
  ASSERT_TRUE(wait_for(
      [&] {
        for (const auto& n : names) {
          if (!held(a, n) && !held(b, n)) return false;
        }
        return true;
      },
      5s));
  for (const auto& n : names) EXPECT_NE(held(a, n), held(b, n)) << n << ": one node, not two";

  // Kill whichever holds the anonymisation lease.
  ServerProcess& holder = held(a, "anonymise") ? a : b;
  ServerProcess& other = &holder == &a ? b : a;
  ASSERT_EQ(holder.stop(SIGKILL), -SIGKILL);
  EXPECT_TRUE(wait_for([&] { return nodes_seen(other, 1); }, 8s)) << "the dead node is seen gone";
  EXPECT_TRUE(wait_for(
      [&] {
        for (const auto& n : names) {
          if (!held(other, n)) return false;
        }
        return true;
      },
      15s))
      << "the survivor took every lease over\n"
      << other.get("/metrics").body;

  ASSERT_TRUE(holder.start()) << holder.log();
  EXPECT_TRUE(wait_for([&] { return nodes_seen(holder, 2) && nodes_seen(other, 2); }, 5s));
  std::this_thread::sleep_for(3s);
  for (const auto& n : names) {
    EXPECT_TRUE(held(other, n)) << n << " stays where it is";
    EXPECT_FALSE(held(holder, n)) << n;
  }
}

// PostgreSQL restarted under load (a cluster of the test's own): while it is away, requests
// fail with a clear 503 and nothing else breaks; when it is back, the same server answers
// again, from a pool whose broken connections were replaced.
TEST(PostgresOutage, RequestsFailClearlyWhileTheDatabaseRestartsAndRecoverAfter) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "a PostgreSQL restart";
  store::testing::TempPostgres own;
  ASSERT_FALSE(own.url().empty()) << own.error();
  ServerProcess server;
  server.use_postgres(own.database("outage"));
  ASSERT_TRUE(server.start()) << server.log();
  const auto bearer = sign_up(server, "steady@example.org");
  ASSERT_FALSE(bearer.empty());
  ASSERT_EQ(call_as(server, bearer, "GET", "/api/v1/me").status, 200);

  std::atomic<bool> done{false};
  std::map<int, int> statuses;
  std::mutex mu;
  std::thread load([&] {
    while (!done) {
      const int status = call_as(server, bearer, "GET", "/api/v1/me").status;
      std::lock_guard lock(mu);
      ++statuses[status];
    }
  });
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(own.restart());
  const bool recovered = wait_for(
      [&] {
        return call_as(server, bearer, "GET", "/api/v1/me").status == 200 &&
               call_as(server, bearer, "GET", "/api/v1/me").status == 200;
      },
      15s);
  std::this_thread::sleep_for(500ms);
  done = true;
  load.join();
  EXPECT_TRUE(recovered) << server.log();
  EXPECT_TRUE(server.running());
  std::string seen;
  for (const auto& [status, n] : statuses) {
    seen += std::to_string(status) + "×" + std::to_string(n) + " ";
    EXPECT_TRUE(status == 200 || status == 503) << "status " << status << ": " << seen;
  }
  EXPECT_GT(statuses[200], 0) << seen;
  EXPECT_EQ(call_as(server, bearer, "GET", "/api/v1/me").status, 200) << seen;
  EXPECT_EQ(server.get("/healthz").status, 200);
}

// Clocks seconds apart (node B's runs 7 s ahead, by libfaketime): the nodes still agree on
// who is alive and who holds each lease, as every such time is the database's, and a lease
// still moves when its holder dies.
TEST(TwoNodes, ClocksSecondsApartStillAgreeOnWhoIsAliveAndWhoHoldsWhat) {
  if (!store::testing::on_postgres()) GTEST_SKIP() << "several nodes need PostgreSQL";
  const std::string faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  ASSERT_TRUE(std::filesystem::exists(faketime)) << "Debian's faketime (scripts/bootstrap)";
  ServerProcess a{"[cluster]\nnode = \"node-a\"\n"}, b{"[cluster]\nnode = \"node-b\"\n"};
  b.share_database_of(a);
  b.add_environment({"LD_PRELOAD=" + faketime, "FAKETIME=+7s", "FAKETIME_DONT_FAKE_MONOTONIC=1",
                     "FAKETIME_NO_CACHE=1"});
  ASSERT_TRUE(a.start()) << a.log();
  ASSERT_TRUE(b.start()) << b.log();
  // The skew is real: B's own clock says so in its health report.
  const auto time_of = [](const ServerProcess& node) {
    return parse_rfc3339_ms(node.get("/healthz").json()["time"]);
  };
  const int64_t skew = time_of(b) - time_of(a);
  ASSERT_GE(skew, 6'000) << "node B's clock is not ahead";
  ASSERT_LE(skew, 8'000);

  ASSERT_TRUE(wait_for([&] { return nodes_seen(a, 2) && nodes_seen(b, 2); }, 5s));
  ASSERT_TRUE(wait_for([&] { return held(a, "exports") || held(b, "exports"); }, 5s));
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(held(a, "exports"), held(b, "exports")) << "one holder, whatever the clocks";
    EXPECT_TRUE(nodes_seen(a, 2) && nodes_seen(b, 2)) << "neither thinks the other dead";
    std::this_thread::sleep_for(1s);
  }
  ServerProcess& holder = held(a, "exports") ? a : b;
  ServerProcess& other = &holder == &a ? b : a;
  ASSERT_EQ(holder.stop(SIGKILL), -SIGKILL);
  EXPECT_TRUE(wait_for([&] { return held(other, "exports"); }, 15s));
  EXPECT_TRUE(wait_for([&] { return nodes_seen(other, 1); }, 8s));
}

}  // namespace
}  // namespace nj::testing
