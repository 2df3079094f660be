// The record of talk calls: who, which camera, when, how long (never what was said).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "talk/talk_service.h"

namespace nj::talk {

struct CallEntry {
  std::string id, device_id, user_id, email;
  int64_t start_ms = 0, duration_ms = 0;
};

class CallLog {
 public:
  explicit CallLog(store::Database& db) : db_(db) {}
  void add(const CallRecord& r);
  // A camera's calls, newest first, with the caller's e-mail.
  std::vector<CallEntry> of_device(std::string_view device_id, size_t limit = 100);
  // The binding ended: its calls go with it.
  void forget_device(std::string_view device_id);
  // The account was cancelled: the calls they made go.
  void forget_user(std::string_view user_id);

 private:
  store::Database& db_;
};

}  // namespace nj::talk
