// The e-mail channel: a short mail per notification (what, which camera, when, a link into
// the app; never the picture), through the outbox and the server's SMTP path like every
// other mail. Bounded per person (10 an hour unless configured): past that, nothing more
// goes until the hour has room, and the skip is counted. The cooldown's grouping already
// turns a busy scene into one mail and one summary.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "mail/mail.h"
#include "mail/rate_limit.h"
#include "notify/engine.h"

namespace nj::notify {

class EmailChannel final : public Channel {
 public:
  struct Stats {
    uint64_t queued = 0, limited = 0, no_address = 0;
  };
  // The person's verified address, or "" when there is none to write to.
  using AddressOf = std::function<std::string(const std::string& user_id)>;

  EmailChannel(mail::Outbox& outbox, std::function<void()> wake, AddressOf address_of,
               std::string public_url, const Clock& clock, int per_hour);

  std::string_view purpose() const override { return privacy::kNotifyEmail; }
  void deliver(const Notification& n) override;
  Stats stats() const;

  static mail::Mail compose(const Notification& n, const std::string& to,
                            const std::string& public_url);

 private:
  mail::Outbox& outbox_;
  std::function<void()> wake_;
  AddressOf address_of_;
  std::string public_url_;
  mail::MailRateLimiter limits_;
  mutable std::mutex mu_;
  Stats stats_;
};

}  // namespace nj::notify
