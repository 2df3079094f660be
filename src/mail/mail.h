// Outgoing e-mail: messages are written to the outbox table first (so nothing is lost and
// the operator can always read them), then delivered by SMTP when it is configured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"

namespace nj::mail {

struct Mail {
  std::string to;
  std::string subject;
  std::string body;  // plain text, UTF-8
};

struct OutboxEntry {
  std::string id;
  Mail mail;
  int64_t created_at = 0;
  std::string status;  // queued | sent | failed | kept
  int attempts = 0;
  std::string last_error;
};

class Outbox {
 public:
  // deliver: true when an SMTP sender will deliver queued mail; otherwise mail is "kept".
  Outbox(store::Database& db, const Clock& clock, bool deliver)
      : db_(db), clock_(clock), deliver_(deliver) {}

  store::StoreResult<std::string> enqueue(const Mail& mail);
  store::StoreResult<std::vector<OutboxEntry>> list(size_t limit = 1000);
  store::StoreResult<std::vector<OutboxEntry>> due(size_t limit);
  store::StoreResult<void> mark(const std::string& id, bool sent, const std::string& error);
  // Removes every message to an address (account anonymisation).
  store::StoreResult<int64_t> forget_address(const std::string& to);

 private:
  store::Database& db_;
  const Clock& clock_;
  bool deliver_;
};

}  // namespace nj::mail
