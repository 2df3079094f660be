// The access transparency log: who watched, played back, exported, pictured, talked to or
// read the card of which camera, when, from which session; and every share and operator
// action. Rows are appended to a hash chain (SHA-256 over the sequence number, the previous
// hash and a canonical form of the row; appends one at a time), and every so often the chain's
// head is signed with Ed25519 into a checkpoint file outside the database. `verify` finds a
// changed, removed, inserted or cut-off row, and a checkpoint that was changed or forged.
//
// People are named by pseudonym only ("u:" and 32 random hex digits). The pseudonym's link
// to the person is one row of audit_pseudonyms; cancelling the account deletes it, and the
// chain stays whole: nothing in a logged row changes.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/trail.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"

namespace nj::audit {

struct Record {
  std::string kind;       // live, playback, export, snapshot, talk, sd_playback, share.*, …
  std::string device_id;  // "" for an action on no camera
  int64_t generation = 0;
  std::string actor;    // actor_of(…), "operator" or "device"
  std::string session;  // session_of(…), or ""
  std::string detail;   // a small JSON object with no personal data, or ""
};

struct Entry {
  int64_t seq = 0, at_ms = 0;
  Record record;
  std::string hash;                  // hex
  std::optional<std::string> email;  // the actor, while their pseudonym still maps to them
};

// The canonical bytes a row's hash covers (each field as its length, ':', the bytes, ';').
std::string canonical(int64_t seq, int64_t at_ms, const Record& r);
// hex(SHA-256(seq as 8 bytes big-endian ‖ previous hash (32 bytes) ‖ canonical)).
std::string chain_hash(int64_t seq, std::string_view previous_hex, int64_t at_ms, const Record& r);

// An Ed25519 key for checkpoints, from a 32-byte seed (kept in the server's key directory).
class Signer {
 public:
  explicit Signer(std::span<const uint8_t> seed);
  std::string sign_hex(std::string_view message) const;
  std::string public_hex() const;

 private:
  std::array<uint8_t, 32> public_{};
  std::array<uint8_t, 64> secret_{};
};
bool verify_signature(std::string_view public_hex, std::string_view message,
                      std::string_view signature_hex);

// What a checkpoint signs.
std::string checkpoint_message(int64_t seq, std::string_view hash, int64_t at_ms);

class AuditLog {
 public:
  // checkpoints: the file signed checkpoints are appended to (one line each: seq, at_ms,
  // hash, signature); every: appends between checkpoints.
  AuditLog(store::Database& db, const Clock& clock, const Signer& signer,
           std::filesystem::path checkpoints, int64_t every = 1000);

  // The person's pseudonym ("u:…"), made on first use.
  std::string actor_of(std::string_view user_id);
  // A session's or token's pseudonym: 12 hex digits of SHA-256 over its id. Tells sessions
  // apart in the log without naming them.
  static std::string session_of(std::string_view session_id);

  // Appends (serialised); false if the database refused (logged).
  bool append(const Record& r);
  // Signs the head of the chain now (at shutdown, and on the server's timer) if it moved.
  void checkpoint();

  // A camera's log under one binding, newest first, with the actors' e-mails where known.
  std::vector<Entry> of_device(std::string_view device_id, int64_t generation,
                               int64_t before_seq = 0, size_t limit = 100);
  // The account is cancelled: its pseudonym no longer leads to it.
  void forget_user(std::string_view user_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  const Signer& signer_;
  std::filesystem::path checkpoints_;
  int64_t every_;
  std::mutex mu_;
  int64_t last_signed_ = 0, since_signed_ = 0;
};

// Turns what the server's parts report (trail.h) into log rows: the camera's id and binding
// looked up, the person's pseudonym, the session's. The same access (kind, camera, person,
// session) repeated within `same_access_ms` is one row: a player's playlist reloads and a
// viewer's reconnects are not each an access.
class AccessRecorder {
 public:
  // The camera's id and binding generation for a serial or id; nullopt if unknown.
  using Resolve = std::function<std::optional<std::pair<std::string, int64_t>>(const Access&)>;
  AccessRecorder(AuditLog& log, const Clock& clock, Resolve resolve,
                 int64_t same_access_ms = 10 * 60 * 1000);
  // Writes what is still queued, then stops.
  ~AccessRecorder();
  // Queues the access (from any thread, an event loop's too: it never waits for the
  // database); a writer thread appends it. At most 10,000 wait; past that they are counted
  // as dropped and logged.
  void record(const Access& access);
  Trail trail() {
    return [this](const Access& a) { record(a); };
  }
  // Waits until everything queued before the call is in the log (tests, shutdown).
  void flush();

 private:
  void write(const Access& a);
  void run();
  AuditLog& log_;
  const Clock& clock_;
  Resolve resolve_;
  int64_t same_access_ms_;
  std::map<std::string, int64_t> recent_;  // key → when last logged (writer thread only)
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Access> queue_;
  bool stopping_ = false, writing_ = false;
  uint64_t dropped_ = 0;
  std::thread thread_;
};

struct VerifyReport {
  int64_t rows = 0, checkpoints = 0;
  std::vector<std::string> problems;  // empty: the chain and every checkpoint hold
};
// Reads the whole chain in order (in pages) and every checkpoint line.
VerifyReport verify(store::Database& db, std::string_view public_hex,
                    const std::filesystem::path& checkpoints);

}  // namespace nj::audit
