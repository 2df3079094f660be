// Accounts: the cost of a password hash (per core), and of resolving a session token on
// every authenticated request.
#include <benchmark/benchmark.h>

#include "account/password.h"
#include "account/service.h"
#include "account/totp.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;

void BM_Argon2idHash(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(account::hash_password("owl at dusk 77"));
}
BENCHMARK(BM_Argon2idHash)->Unit(benchmark::kMillisecond)->MinTime(1);

void BM_Argon2idVerify(benchmark::State& state) {
  const auto hash = *account::hash_password("owl at dusk 77");
  for (auto _ : state) benchmark::DoNotOptimize(account::verify_password(hash, "owl at dusk 77"));
}
BENCHMARK(BM_Argon2idVerify)->Unit(benchmark::kMillisecond)->MinTime(1);

void BM_AuthenticateSessionToken(benchmark::State& state) {
  auto db = std::move(store::open_sqlite(":memory:")).value();
  (void)store::migrate(*db, store::builtin_migrations());
  SystemClock clock;
  mail::Outbox outbox(*db, clock, false);
  account::AccountOptions o;
  o.policy_version = "v";
  o.hash_cost = {1, 8192};
  account::AccountService accounts(*db, outbox, clock, o);
  (void)accounts.create_verified_account("bench@example.org", "owl at dusk 77", "en");
  const auto session = accounts.login("bench@example.org", "owl at dusk 77", "", "bench", "ip");
  for (auto _ : state) benchmark::DoNotOptimize(accounts.authenticate(session->token));
}
BENCHMARK(BM_AuthenticateSessionToken);

void BM_TotpCheck(benchmark::State& state) {
  const std::vector<uint8_t> key(20, 7);
  for (auto _ : state) benchmark::DoNotOptimize(account::totp_match(key, "123456", 1795947665));
}
BENCHMARK(BM_TotpCheck);

}  // namespace
