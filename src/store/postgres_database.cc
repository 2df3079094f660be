#include "store/postgres_database.h"

#include <libpq-fe.h>

#include <charconv>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <vector>

namespace nj::store {
namespace {

// Type OIDs of the columns decoded as numbers or bytes (pg_type.dat).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

Errc classify(const char* sqlstate) {
  const std::string_view s = sqlstate ? sqlstate : "";
  if (s.starts_with("23")) return Errc::kConstraint;
  if (s == "40001" || s == "40P01" || s == "55P03") return Errc::kBusy;  // retry these
  // The server is shutting down or starting (57P01–57P03), or a connection failed (08, but
  // 08P01, a malformed call such as a wrong number of parameters, is the caller's error):
  // unavailable for now. Out of resources or failing: an I/O error.
  if (s.starts_with("57P0") || (s.starts_with("08") && s != "08P01")) return Errc::kUnavailable;
  if (s.starts_with("53") || s.starts_with("57") || s.starts_with("58")) return Errc::kIo;
  return Errc::kSql;
}

StoreError error_of(PGconn* conn, const PGresult* r) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = r ? PQresultErrorMessage(r) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (PQstatus(conn) != CONNECTION_OK) return {Errc::kUnavailable, message};
  return {classify(state), message};
}

Value decode(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  const char* text = PQgetvalue(r, row, col);
  const int length = PQgetlength(r, row, col);
  const std::string_view v(text, static_cast<size_t>(length));
  switch (PQftype(r, col)) {
    case kInt2:
    case kInt4:
    case kInt8: {
      int64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      return n;
    }
    case kBool:
      return int64_t{v == "t" ? 1 : 0};
    case kNumeric:
      if (v.find_first_of(".eE") == std::string_view::npos) {
        int64_t n = 0;
        if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc()) return n;
      }
      [[fallthrough]];
    case kFloat4:
    case kFloat8:
      return std::strtod(std::string(v).c_str(), nullptr);
    case kBytea: {
      size_t n = 0;
      unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
      Blob b(raw, raw + n);
      PQfreemem(raw);
      return b;
    }
    default:
      return std::string(v);
  }
}

// One connection and the statements prepared on it.
struct Connection {
  PGconn* conn = nullptr;
  std::map<std::string, std::string, std::less<>> prepared;  // SQL → statement name
  ~Connection() {
    if (conn) PQfinish(conn);
  }
};

// Runs statements on one connection (a transaction's, or one borrowed for a call).
class OnConnection final : public Database {
 public:
  explicit OnConnection(Connection& c) : c_(c) {}

  StoreResult<int64_t> execute(std::string_view sql, std::span<const Value> params) override {
    auto r = run(sql, params);
    if (!r) return Unexpected(r.error());
    const char* n = PQcmdTuples(r->get());
    int64_t changed = 0;
    if (n && *n) std::from_chars(n, n + std::strlen(n), changed);
    return changed;
  }

  StoreResult<Rows> query(std::string_view sql, std::span<const Value> params) override {
    auto r = run(sql, params);
    if (!r) return Unexpected(r.error());
    const PGresult* res = r->get();
    Rows rows(static_cast<size_t>(PQntuples(res)));
    const int cols = PQnfields(res);
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      auto& values = rows[static_cast<size_t>(i)].values;
      values.reserve(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) values.push_back(decode(res, i, c));
    }
    return rows;
  }

  StoreResult<void> execute_script(std::string_view sql) override {
    const std::string translated = postgres_dialect(sql);
    Result res(PQexec(c_.conn, translated.c_str()));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK &&
        PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
      return Unexpected(error_of(c_.conn, res.get()));
    }
    return {};
  }

  StoreResult<void> transaction(const std::function<StoreResult<void>(Database&)>& body) override {
    // Already inside one: a savepoint, so that the inner body rolls back alone.
    if (auto r = execute("SAVEPOINT nj_inner", {}); !r) return Unexpected(r.error());
    auto done = body(*this);
    (void)execute(done ? "RELEASE SAVEPOINT nj_inner" : "ROLLBACK TO SAVEPOINT nj_inner", {});
    return done;
  }

  std::string_view dialect() const override { return "postgres"; }

  struct ResultFree {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  using Result = std::unique_ptr<PGresult, ResultFree>;

  nj::Result<Result, StoreError> run(std::string_view sql, std::span<const Value> params) {
    auto it = c_.prepared.find(sql);
    if (it == c_.prepared.end()) {
      const std::string name = "nj" + std::to_string(c_.prepared.size() + 1);
      Result prepared(PQprepare(c_.conn, name.c_str(), std::string(sql).c_str(), 0, nullptr));
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        return Unexpected(error_of(c_.conn, prepared.get()));
      }
      it = c_.prepared.emplace(std::string(sql), name).first;
    }
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0), formats(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if (std::holds_alternative<std::nullptr_t>(p)) continue;
      if (const auto* n = std::get_if<int64_t>(&p)) {
        texts[i] = std::to_string(*n);
      } else if (const auto* d = std::get_if<double>(&p)) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
        texts[i] = ec == std::errc() ? std::string(buf, end) : "0";
      } else if (const auto* s = std::get_if<std::string>(&p)) {
        texts[i] = *s;
      } else if (const auto* b = std::get_if<Blob>(&p)) {
        // An empty blob is empty bytes, not NULL (libpq reads a null pointer as NULL).
        values[i] = b->empty() ? "" : reinterpret_cast<const char*>(b->data());
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;  // bytes as they are
        continue;
      }
      values[i] = texts[i].c_str();
      lengths[i] = static_cast<int>(texts[i].size());
    }
    Result res(PQexecPrepared(c_.conn, it->second.c_str(), static_cast<int>(params.size()),
                              values.data(), lengths.data(), formats.data(), 0));
    const auto status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      auto e = error_of(c_.conn, res.get());
      // A statement that no longer fits the schema (a migration ran) is prepared again.
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      if (state && std::string_view(state) == "0A000") {
        c_.prepared.erase(it);
      }
      return Unexpected(e);
    }
    return res;
  }

 private:
  Connection& c_;
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(std::vector<std::unique_ptr<Connection>> pool) : all_(std::move(pool)) {
    for (auto& c : all_) idle_.push_back(c.get());
  }

  StoreResult<int64_t> execute(std::string_view sql, std::span<const Value> params) override {
    Lease lease(*this);
    OnConnection on(*lease.c);
    auto r = on.execute(sql, params);
    lease.check();
    return r;
  }
  StoreResult<Rows> query(std::string_view sql, std::span<const Value> params) override {
    Lease lease(*this);
    OnConnection on(*lease.c);
    auto r = on.query(sql, params);
    lease.check();
    return r;
  }
  StoreResult<void> execute_script(std::string_view sql) override {
    Lease lease(*this);
    OnConnection on(*lease.c);
    auto r = on.execute_script(sql);
    lease.check();
    return r;
  }
  // One connection for the whole body. A serialization failure or a deadlock (another
  // transaction won) runs the body again, up to three times.
  StoreResult<void> transaction(const std::function<StoreResult<void>(Database&)>& body) override {
    for (int attempt = 0;; ++attempt) {
      Lease lease(*this);
      OnConnection on(*lease.c);
      StoreResult<void> done;
      if (auto b = on.execute("BEGIN", {}); !b) {
        done = Unexpected(b.error());
      } else {
        done = body(on);
        if (done) {
          if (auto c = on.execute("COMMIT", {}); !c) done = Unexpected(c.error());
        } else {
          (void)on.execute("ROLLBACK", {});
        }
      }
      lease.check();
      if (done || done.error().code != Errc::kBusy || attempt == 2) return done;
    }
  }
  std::string_view dialect() const override { return "postgres"; }

 private:
  // A connection borrowed from the pool for one call; one that broke is reset on return.
  struct Lease {
    PostgresDatabase& db;
    Connection* c;
    explicit Lease(PostgresDatabase& d) : db(d) {
      std::unique_lock lock(db.mu_);
      db.cv_.wait(lock, [&] { return !db.idle_.empty(); });
      c = db.idle_.back();
      db.idle_.pop_back();
    }
    void check() {
      if (PQstatus(c->conn) != CONNECTION_OK) {
        PQreset(c->conn);  // the server restarted or the link dropped: next time, anew
        c->prepared.clear();
      }
    }
    ~Lease() {
      {
        std::lock_guard lock(db.mu_);
        db.idle_.push_back(c);
      }
      db.cv_.notify_one();
    }
  };
  std::vector<std::unique_ptr<Connection>> all_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection*> idle_;
};

}  // namespace

std::string postgres_dialect(std::string_view sql) {
  static const std::regex rowid(R"(\bINTEGER\s+PRIMARY\s+KEY\b)", std::regex::icase);
  static const std::regex blob(R"(\bBLOB\b)", std::regex::icase);
  static const std::regex integer(R"(\bINTEGER\b)", std::regex::icase);
  static const std::regex real(R"(\bREAL\b)", std::regex::icase);
  std::string out = std::regex_replace(std::string(sql), rowid,
                                       "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
  // SQLite's INTEGER is 64 bits (times in ms are kept in such columns); PostgreSQL's is 32.
  out = std::regex_replace(out, integer, "BIGINT");
  out = std::regex_replace(out, blob, "BYTEA");
  return std::regex_replace(out, real, "DOUBLE PRECISION");
}

StoreResult<std::unique_ptr<Database>> open_postgres(const std::string& url,
                                                     const PostgresOptions& options) {
  std::vector<std::unique_ptr<Connection>> pool;
  for (size_t i = 0; i < std::max<size_t>(1, options.pool_size); ++i) {
    auto c = std::make_unique<Connection>();
    c->conn = PQconnectdb(url.c_str());
    if (PQstatus(c->conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(c->conn);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Unexpected(StoreError{Errc::kOpen, "postgres: " + message});
    }
    // Notices (e.g. "relation exists, skipping") are not errors: not printed.
    PQsetNoticeProcessor(
        c->conn, [](void*, const char*) {}, nullptr);
    pool.push_back(std::move(c));
  }
  return std::unique_ptr<Database>(new PostgresDatabase(std::move(pool)));
}

}  // namespace nj::store
