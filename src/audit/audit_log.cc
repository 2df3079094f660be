#include "audit/audit_log.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

namespace nj::audit {
namespace {

using store::Value;

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

bool unhex(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  const auto digit = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

void field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

const std::string kZeroHash(64, '0');

}  // namespace

std::string canonical(int64_t seq, int64_t at_ms, const Record& r) {
  std::string out;
  field(out, std::to_string(seq));
  field(out, std::to_string(at_ms));
  field(out, r.kind);
  field(out, r.device_id);
  field(out, std::to_string(r.generation));
  field(out, r.actor);
  field(out, r.session);
  field(out, r.detail);
  return out;
}

std::string chain_hash(int64_t seq, std::string_view previous_hex, int64_t at_ms, const Record& r) {
  std::array<uint8_t, 32> previous{};
  (void)unhex(previous_hex, previous);  // a malformed stored hash chains as zeros, and fails
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  uint8_t be[8];
  for (int i = 0; i < 8; ++i)
    be[i] = static_cast<uint8_t>(static_cast<uint64_t>(seq) >> (56 - 8 * i));
  crypto_hash_sha256_update(&state, be, sizeof be);
  crypto_hash_sha256_update(&state, previous.data(), previous.size());
  const std::string body = canonical(seq, at_ms, r);
  crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  std::array<uint8_t, 32> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  return hex(digest);
}

Signer::Signer(std::span<const uint8_t> seed) {
  if (sodium_init() < 0 || seed.size() != crypto_sign_SEEDBYTES) {
    throw std::runtime_error("audit signer: libsodium failed or the seed is not 32 bytes");
  }
  crypto_sign_seed_keypair(public_.data(), secret_.data(), seed.data());
}

std::string Signer::sign_hex(std::string_view message) const {
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), secret_.data());
  return hex(signature);
}

std::string Signer::public_hex() const { return hex(public_); }

bool verify_signature(std::string_view public_hex, std::string_view message,
                      std::string_view signature_hex) {
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  if (sodium_init() < 0 || !unhex(public_hex, pk) || !unhex(signature_hex, signature)) {
    return false;
  }
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const uint8_t*>(message.data()),
                                     message.size(), pk.data()) == 0;
}

std::string checkpoint_message(int64_t seq, std::string_view hash, int64_t at_ms) {
  return "nightjar-audit-checkpoint\n" + std::to_string(seq) + "\n" + std::string(hash) + "\n" +
         std::to_string(at_ms) + "\n";
}

AuditLog::AuditLog(store::Database& db, const Clock& clock, const Signer& signer,
                   std::filesystem::path checkpoints, int64_t every)
    : db_(db),
      clock_(clock),
      signer_(signer),
      checkpoints_(std::move(checkpoints)),
      every_(std::max<int64_t>(1, every)) {
  std::error_code ec;
  std::filesystem::create_directories(checkpoints_.parent_path(), ec);
  // The last checkpoint written, so that one is not written again for the same head.
  std::ifstream in(checkpoints_);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    int64_t seq = 0;
    if (words >> seq) last_signed_ = std::max(last_signed_, seq);
  }
}

std::string AuditLog::actor_of(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  if (auto rows = db_.query("SELECT pseudonym FROM audit_pseudonyms WHERE user_id = $1", p);
      rows && !rows->empty()) {
    return "u:" + (*rows)[0].text(0);
  }
  std::array<uint8_t, 16> random{};
  randombytes_buf(random.data(), random.size());
  const std::string pseudonym = hex(random);
  const Value insert[] = {std::string(user_id), pseudonym};
  // Two first uses at once: the second insert is refused and the first one's is read back.
  (void)db_.execute(
      "INSERT INTO audit_pseudonyms (user_id, pseudonym) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      insert);
  if (auto rows = db_.query("SELECT pseudonym FROM audit_pseudonyms WHERE user_id = $1", p);
      rows && !rows->empty()) {
    return "u:" + (*rows)[0].text(0);
  }
  return "u:unknown";
}

std::string AuditLog::session_of(std::string_view session_id) {
  if (session_id.empty()) return {};
  std::array<uint8_t, 32> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const uint8_t*>(session_id.data()),
                     session_id.size());
  return hex(std::span(digest).first(6));
}

// The advisory lock that orders appends to the chain across nodes (an arbitrary constant
// of ours, "njaudit" in ASCII).
constexpr int64_t kChainLock = 0x6e6a6175646974;

bool AuditLog::append(const Record& r) {
  std::lock_guard lock(mu_);
  const int64_t at = clock_.now_ms();
  int64_t seq = 0;
  std::string hash;
  auto done = db_.transaction([&](store::Database& tx) -> store::StoreResult<void> {
    if (tx.dialect() == "postgres") {
      // Several nodes append to one chain: one at a time, each after the head the last one
      // left (the lock is the transaction's, released at its end; under read committed the
      // head below is read after it is taken, so it is the latest). SQLite's transactions
      // are one at a time already.
      if (auto locked =
              tx.query("SELECT pg_advisory_xact_lock(" + std::to_string(kChainLock) + ")");
          !locked) {
        return Unexpected(locked.error());
      }
    }
    auto head = tx.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {});
    if (!head) return Unexpected(head.error());
    seq = head->empty() ? 1 : (*head)[0].integer(0) + 1;
    hash = chain_hash(seq, head->empty() ? kZeroHash : (*head)[0].text(1), at, r);
    const Value p[] = {seq,     at,        r.kind,   r.device_id, r.generation,
                       r.actor, r.session, r.detail, hash};
    auto inserted = tx.execute(
        "INSERT INTO audit_log (seq, at_ms, kind, device_id, generation, actor, session, detail, "
        "hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        p);
    if (!inserted) return Unexpected(inserted.error());
    return {};
  });
  if (!done) {
    spdlog::error("audit.append_failed kind={} error=\"{}\"", r.kind, done.error().message);
    return false;
  }
  if (++since_signed_ >= every_) {
    since_signed_ = 0;
    std::ofstream out(checkpoints_, std::ios::app);
    out << seq << ' ' << at << ' ' << hash << ' '
        << signer_.sign_hex(checkpoint_message(seq, hash, at)) << '\n';
    last_signed_ = seq;
  }
  return true;
}

void AuditLog::checkpoint() {
  std::lock_guard lock(mu_);
  auto head = db_.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", {});
  if (!head || head->empty() || (*head)[0].integer(0) <= last_signed_) return;
  const int64_t seq = (*head)[0].integer(0), at = clock_.now_ms();
  const std::string hash = (*head)[0].text(1);
  std::ofstream out(checkpoints_, std::ios::app);
  out << seq << ' ' << at << ' ' << hash << ' '
      << signer_.sign_hex(checkpoint_message(seq, hash, at)) << '\n';
  last_signed_ = seq;
  since_signed_ = 0;
}

std::vector<Entry> AuditLog::of_device(std::string_view device_id, int64_t generation,
                                       int64_t before_seq, size_t limit) {
  const Value p[] = {std::string(device_id), generation,
                     before_seq > 0 ? before_seq : std::numeric_limits<int64_t>::max(),
                     static_cast<int64_t>(limit)};
  auto rows = db_.query(
      "SELECT a.seq, a.at_ms, a.kind, a.device_id, a.generation, a.actor, a.session, a.detail, "
      "a.hash, u.email FROM audit_log a "
      "LEFT JOIN audit_pseudonyms p ON a.actor = 'u:' || p.pseudonym "
      "LEFT JOIN users u ON u.id = p.user_id "
      "WHERE a.device_id = $1 AND a.generation = $2 AND a.seq < $3 ORDER BY a.seq DESC LIMIT $4",
      p);
  std::vector<Entry> out;
  if (!rows) return out;
  for (const auto& r : *rows) {
    Entry e;
    e.seq = r.integer(0);
    e.at_ms = r.integer(1);
    e.record = {r.text(2), r.text(3), r.integer(4), r.text(5), r.text(6), r.text(7)};
    e.hash = r.text(8);
    e.email = r.optional_text(9);
    out.push_back(std::move(e));
  }
  return out;
}

void AuditLog::forget_user(std::string_view user_id) {
  const Value p[] = {std::string(user_id)};
  (void)db_.execute("DELETE FROM audit_pseudonyms WHERE user_id = $1", p);
}

AccessRecorder::AccessRecorder(AuditLog& log, const Clock& clock, Resolve resolve,
                               int64_t same_access_ms)
    : log_(log), clock_(clock), resolve_(std::move(resolve)), same_access_ms_(same_access_ms) {
  thread_ = std::thread([this] { run(); });
}

AccessRecorder::~AccessRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AccessRecorder::record(const Access& a) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= 10'000) {
      if (++dropped_ % 1000 == 1) spdlog::error("audit.dropped count={}", dropped_);
      return;
    }
    queue_.push_back(a);
  }
  wake_.notify_one();
}

void AccessRecorder::flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return (queue_.empty() && !writing_) || stopping_; });
}

void AccessRecorder::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and all written
    Access a = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    write(a);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

void AccessRecorder::write(const Access& a) {
  std::string device_id;
  int64_t generation = 0;
  if (!a.serial.empty() || !a.device_id.empty()) {
    auto found = resolve_(a);
    if (!found) return;  // no such camera: nothing was opened
    device_id = found->first;
    generation = a.generation.value_or(found->second);
  }
  const std::string session = AuditLog::session_of(a.session_id);
  const std::string key = a.kind + '\n' + device_id + '\n' + std::to_string(generation) + '\n' +
                          a.user_id + '\n' + session + '\n' + a.detail;
  const int64_t now = clock_.now_ms();
  if (auto it = recent_.find(key); it != recent_.end() && now - it->second < same_access_ms_) {
    return;
  }
  if (recent_.size() > 10'000) {  // forget what is past the window
    std::erase_if(recent_, [&](const auto& e) { return now - e.second >= same_access_ms_; });
  }
  recent_[key] = now;
  (void)log_.append({a.kind, device_id, generation,
                     a.user_id.empty() ? "operator" : log_.actor_of(a.user_id), session,
                     a.detail.empty() ? "{}" : a.detail});
}

VerifyReport verify(store::Database& db, std::string_view public_hex,
                    const std::filesystem::path& checkpoints) {
  VerifyReport report;
  // The checkpoints first: each must be signed by our key.
  std::map<int64_t, std::string> signed_heads;  // seq → hash
  {
    std::ifstream in(checkpoints);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      std::istringstream words(line);
      int64_t seq = 0, at = 0;
      std::string hash, signature, extra;
      if (!(words >> seq >> at >> hash >> signature) || (words >> extra) ||
          !verify_signature(public_hex, checkpoint_message(seq, hash, at), signature)) {
        report.problems.push_back("checkpoint line " + std::to_string(line_no) +
                                  ": not a checkpoint signed by this server's key");
        continue;
      }
      ++report.checkpoints;
      signed_heads[seq] = hash;
    }
  }
  // The chain, in pages, in order.
  std::string previous = kZeroHash;
  int64_t expected = 1;
  for (;;) {
    const Value p[] = {expected - 1};
    auto rows = db.query(
        "SELECT seq, at_ms, kind, device_id, generation, actor, session, detail, hash "
        "FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
        p);
    if (!rows) {
      report.problems.push_back("the log cannot be read: " + rows.error().message);
      return report;
    }
    if (rows->empty()) break;
    for (const auto& r : *rows) {
      const int64_t seq = r.integer(0);
      if (seq != expected) {
        report.problems.push_back("rows " + std::to_string(expected) + "–" +
                                  std::to_string(seq - 1) + " are missing");
      }
      const Record rec{r.text(2), r.text(3), r.integer(4), r.text(5), r.text(6), r.text(7)};
      const std::string stored = r.text(8);
      if (chain_hash(seq, previous, r.integer(1), rec) != stored) {
        report.problems.push_back("row " + std::to_string(seq) +
                                  " does not match its hash (changed, or its predecessor was)");
      }
      if (auto it = signed_heads.find(seq); it != signed_heads.end() && it->second != stored) {
        report.problems.push_back("row " + std::to_string(seq) + " is not the row checkpoint " +
                                  std::to_string(seq) + " signed");
      }
      previous = stored;
      expected = seq + 1;
      ++report.rows;
      if (report.problems.size() > 100) return report;
    }
  }
  if (!signed_heads.empty() && signed_heads.rbegin()->first >= expected) {
    report.problems.push_back("the log ends at row " + std::to_string(expected - 1) +
                              " but a checkpoint signed row " +
                              std::to_string(signed_heads.rbegin()->first) + ": rows were cut off");
  }
  return report;
}

}  // namespace nj::audit
