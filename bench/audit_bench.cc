// The access transparency log (#16): the rate of appends as the server makes them (one
// transaction each, into a SQLite file), and `verify-audit` over a chain of 10 million rows
// (built in bulk with the same hashes), with a checkpoint every 1,000 rows as the server
// writes them.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

struct Fixture {
  explicit Fixture(const std::string& name)
      : dir(std::filesystem::temp_directory_path() /
            ("nj-audit-bench-" + name + "-" + std::to_string(::getpid()))),
        db((std::filesystem::remove_all(dir), std::filesystem::create_directories(dir),
            std::move(store::open_sqlite(dir / "nightjar.db")).value())),
        clock(1'800'000'000'000),
        signer(std::vector<uint8_t>(32, 7)) {
    (void)store::migrate(*db, store::builtin_migrations());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  ManualClock clock;
  audit::Signer signer;
};

audit::Record viewer_record(int64_t i) {
  return {i % 5 ? "live" : "snapshot",
          "0123456789abcdef0123456789abcdef",
          3,
          "u:fedcba9876543210fedcba9876543210",
          audit::AuditLog::session_of(std::to_string(i % 97)),
          "{}"};
}

// Appends as the server does: the head read, the hash, one row, one transaction.
void BM_AuditAppend(benchmark::State& state) {
  Fixture f("append");
  audit::AuditLog log(*f.db, f.clock, f.signer, f.dir / "checkpoints");
  int64_t i = 0;
  for (auto _ : state) {
    f.clock.advance_ms(1);
    if (!log.append(viewer_record(i++))) state.SkipWithError("append failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuditAppend)->Unit(benchmark::kMicrosecond)->MinTime(5.0);

// verify() over N rows and N/1,000 checkpoints, built once in bulk.
void BM_AuditVerify(benchmark::State& state) {
  const int64_t rows = state.range(0);
  Fixture f("verify");
  std::ofstream checkpoints(f.dir / "checkpoints");
  std::string previous(64, '0');
  const int64_t batch = 100'000;
  for (int64_t from = 1; from <= rows; from += batch) {
    (void)f.db->transaction([&](store::Database& tx) -> store::StoreResult<void> {
      for (int64_t seq = from; seq < from + batch && seq <= rows; ++seq) {
        const auto r = viewer_record(seq);
        const int64_t at = 1'800'000'000'000 + seq;
        const std::string hash = audit::chain_hash(seq, previous, at, r);
        const store::Value p[] = {seq,     at,        r.kind,   r.device_id, r.generation,
                                  r.actor, r.session, r.detail, hash};
        auto done = tx.execute(
            "INSERT INTO audit_log (seq, at_ms, kind, device_id, generation, actor, session, "
            "detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            p);
        if (!done) return Unexpected(done.error());
        if (seq % 1000 == 0) {
          checkpoints << seq << ' ' << at << ' ' << hash << ' '
                      << f.signer.sign_hex(audit::checkpoint_message(seq, hash, at)) << '\n';
        }
        previous = hash;
      }
      return {};
    });
  }
  checkpoints.close();
  for (auto _ : state) {
    const auto report = audit::verify(*f.db, f.signer.public_hex(), f.dir / "checkpoints");
    if (!report.problems.empty() || report.rows != rows) {
      state.SkipWithError(
          ("verify: " + (report.problems.empty() ? std::string("rows") : report.problems.front()))
              .c_str());
    }
    state.counters["checkpoints"] = static_cast<double>(report.checkpoints);
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["db_MB"] =
      static_cast<double>(std::filesystem::file_size(f.dir / "nightjar.db")) / 1e6;
}
BENCHMARK(BM_AuditVerify)
    ->Arg(100'000)
    ->Arg(10'000'000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
