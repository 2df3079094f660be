// For tests: the database a test runs on (issue #17: every test that uses the database runs on
// SQLite and on PostgreSQL).
//
// open_test_database() gives SQLite in memory, or on PostgreSQL (on_postgres()) a fresh database in
// the run's throwaway PostgreSQL cluster: the one ctest's `postgres` fixture started
// (NJ_TEST_POSTGRES_DIR holds its port), else one this process starts for itself. Clusters
// are made by scripts/test-postgres (NJ_TEST_POSTGRES_SCRIPT), the one place that knows how.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/random.h"
#include "store/postgres_database.h"
#include "store/sqlite_database.h"

#ifndef NJ_TEST_POSTGRES_SCRIPT
#error "NJ_TEST_POSTGRES_SCRIPT: link nj_store_testing"
#endif

namespace nj::store::testing {

// A cluster of this object's own, stopped and deleted with it. url() is empty, and error()
// says why, if it could not start.
class TempPostgres {
 public:
  TempPostgres() {
    char pattern[] = "/tmp/nj-pg-XXXXXX";
    if (!::mkdtemp(pattern)) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    const std::string out = dir_ + ".out";
    if (std::system(
            (std::string(NJ_TEST_POSTGRES_SCRIPT) + " start " + dir_ + " > " + out + " 2>&1")
                .c_str()) != 0) {
      error_ = "the cluster did not start: " + read(out);
      std::filesystem::remove(out);
      return;
    }
    std::filesystem::remove(out);
    port_ = std::atoi(read(dir_ + "/port").c_str());
    url_ = "postgresql://nj@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  ~TempPostgres() {
    if (!dir_.empty()) {
      (void)std::system(
          (std::string(NJ_TEST_POSTGRES_SCRIPT) + " stop " + dir_ + " > /dev/null 2>&1").c_str());
    }
  }
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  const std::string& url() const { return url_; }
  int port() const { return port_; }
  // Stopped at once, as a crash would, and started again on the same port.
  bool restart() const {
    return std::system(
               (std::string(NJ_TEST_POSTGRES_SCRIPT) + " restart " + dir_ + " > /dev/null 2>&1")
                   .c_str()) == 0;
  }
  const std::string& error() const { return error_; }
  // A fresh database in the cluster, for a test of its own: its URL.
  std::string database(const std::string& name) const {
    if (auto admin = open_postgres(url_, {.pool_size = 1})) {
      (void)(*admin)->execute("DROP DATABASE IF EXISTS " + name);
      (void)(*admin)->execute("CREATE DATABASE " + name);
    }
    return "postgresql://nj@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_, url_, error_;
  int port_ = 0;
};

// NJ_TEST_POSTGRES=1, or the run's cluster in NJ_TEST_POSTGRES_DIR: the tests of this process
// run on PostgreSQL.
inline bool on_postgres() {
  const char* wanted = std::getenv("NJ_TEST_POSTGRES");
  const char* dir = std::getenv("NJ_TEST_POSTGRES_DIR");
  return (wanted && std::string_view(wanted) == "1") || (dir && *dir);
}

// The port of the cluster this process uses (the run's, or its own, started on first use);
// 0 if none could start (error says why).
inline int cluster_port(std::string* error = nullptr) {
  static std::once_flag once;
  static int port = 0;
  static std::string why;
  static std::unique_ptr<TempPostgres> own;
  std::call_once(once, [] {
    if (const char* dir = std::getenv("NJ_TEST_POSTGRES_DIR"); dir && *dir) {
      port = std::atoi(TempPostgres::read(std::string(dir) + "/port").c_str());
      if (port > 0) return;
    }
    own = std::make_unique<TempPostgres>();
    port = own->port();
    why = own->error();  // stopped when the process ends, with the static
  });
  if (error) *error = why;
  return port;
}

// Makes the database a URL names, in its cluster; false and error on failure.
inline bool create_database(const std::string& url, std::string* error = nullptr) {
  const auto slash = url.rfind('/');
  auto admin = open_postgres(url.substr(0, slash + 1) + "postgres", {.pool_size = 1});
  if (!admin) {
    if (error) *error = admin.error().message;
    return false;
  }
  if (auto made = (*admin)->execute("CREATE DATABASE " + url.substr(slash + 1)); !made) {
    if (error) *error = made.error().message;
    return false;
  }
  return true;
}

// A database of a name no other test of the run uses, in the cluster: its URL ("" and error
// on failure).
inline std::string fresh_database_url(std::string* error = nullptr) {
  const int port = cluster_port(error);
  if (port == 0) return "";
  const std::string url = "postgresql://nj@127.0.0.1:" + std::to_string(port) + "/t" +
                          std::to_string(::getpid()) + "_" + random_hex_id().substr(0, 12);
  return create_database(url, error) ? url : "";
}

// Drops a database fresh_database_url made (connections to it are ended first).
inline void drop_database(const std::string& url) {
  const auto slash = url.rfind('/');
  if (auto admin = open_postgres(url.substr(0, slash + 1) + "postgres", {.pool_size = 1})) {
    (void)(*admin)->execute("DROP DATABASE IF EXISTS " + url.substr(slash + 1) + " WITH (FORCE)");
  }
}

// A test without its database cannot say anything: it stops the process, saying why.
inline std::unique_ptr<Database> open_pool(const std::string& url) {
  auto db = open_postgres(url, {.pool_size = 4});
  if (!db) {
    std::fprintf(stderr, "no PostgreSQL for the test: %s\n", db.error().message.c_str());
    std::abort();
  }
  return std::move(db).value();
}

// The database a unit test runs on: SQLite in memory, or a fresh PostgreSQL database.
inline std::unique_ptr<Database> open_test_database() {
  if (!on_postgres()) return std::move(open_sqlite(":memory:")).value();
  std::string error;
  const std::string url = fresh_database_url(&error);
  if (url.empty()) {
    std::fprintf(stderr, "no PostgreSQL for the test: %s\n", error.c_str());
    std::abort();
  }
  return open_pool(url);
}

// The same for a test that closes its database and opens it again (a restart, crash
// recovery): SQLite's file at `path`, or the PostgreSQL database this process made for that
// path the first time it was asked.
struct PathDatabases {
  std::mutex mutex;
  std::map<std::filesystem::path, std::string> urls;
  static PathDatabases& get() {
    static PathDatabases all;
    return all;
  }
};

inline std::unique_ptr<Database> open_test_database_at(const std::filesystem::path& path) {
  if (!on_postgres()) return std::move(open_sqlite(path)).value();
  auto& [mutex, urls] = PathDatabases::get();
  std::string url;
  {
    std::lock_guard lock(mutex);
    auto& known = urls[path];
    if (known.empty()) {
      std::string error;
      known = fresh_database_url(&error);
      if (known.empty()) {
        std::fprintf(stderr, "no PostgreSQL for the test: %s\n", error.c_str());
        std::abort();
      }
    }
    url = known;
  }
  return open_pool(url);
}

// The database at `from` as it is this moment (what was committed), copied to `to`, as a crash
// leaves it: on SQLite the caller copies the files (the database's with them); on PostgreSQL
// a dump of it is loaded into a fresh database, which open_test_database_at(to) then opens.
inline bool copy_test_database(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (!on_postgres()) return true;
  auto& [mutex, urls] = PathDatabases::get();
  std::string source;
  {
    std::lock_guard lock(mutex);
    source = urls[from];
  }
  std::string error;
  const std::string target = fresh_database_url(&error);
  if (source.empty() || target.empty()) return false;
  const std::string command = "pg_dump --no-owner '" + source + "' | psql -X -q -o /dev/null '" +
                              target + "' > /dev/null 2>&1";
  if (std::system(command.c_str()) != 0) return false;
  std::lock_guard lock(mutex);
  urls[to] = target;
  return true;
}

}  // namespace nj::store::testing
