#include "notify/email_channel.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/time.h"
#include "notify/text.h"

namespace nj::notify {

EmailChannel::EmailChannel(mail::Outbox& outbox, std::function<void()> wake, AddressOf address_of,
                           std::string public_url, const Clock& clock, int per_hour)
    : outbox_(outbox),
      wake_(std::move(wake)),
      address_of_(std::move(address_of)),
      public_url_(std::move(public_url)),
      limits_(clock, mail::MailLimits{{{"notify:", per_hour, 3'600'000}}}) {}

mail::Mail EmailChannel::compose(const Notification& n, const std::string& to,
                                 const std::string& public_url) {
  const bool zh = n.language == "zh-CN";
  const std::string at = format_rfc3339(SystemTime(std::chrono::milliseconds(n.at_ms)));
  const std::string more = body_of(n);
  mail::Mail m;
  m.to = to;
  m.subject = title_of(n) + (more.empty() ? "" : (zh ? "（" + more + "）" : " (" + more + ")"));
  const std::string link = public_url + "/events?device=" + n.device_id;
  const std::string settings = public_url + "/account/notifications";
  if (zh) {
    m.body = title_of(n) + "\n时间：" + at + (more.empty() ? "" : "\n" + more) + "\n\n查看：" +
             link + "\n\n你收到这封邮件，是因为你开启了邮件通知。关闭或更改：" + settings + "\n";
  } else {
    m.body = title_of(n) + "\nAt: " + at + (more.empty() ? "" : "\n" + more) +
             "\n\nSee it: " + link +
             "\n\nYou get this because you turned on e-mail notifications. Turn them off or "
             "change them: " +
             settings + "\n";
  }
  return m;
}

void EmailChannel::deliver(const Notification& n) {
  const std::string to = address_of_(n.user_id);
  if (to.empty()) {
    std::lock_guard lock(mu_);
    ++stats_.no_address;
    return;
  }
  if (limits_.take({"notify:" + n.user_id}) != 0) {
    std::lock_guard lock(mu_);
    ++stats_.limited;
    spdlog::info("notify.email_limited user={}", n.user_id);
    return;
  }
  if (!outbox_.enqueue(compose(n, to, public_url_))) {
    spdlog::warn("notify.email_not_queued user={}", n.user_id);
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++stats_.queued;
  }
  if (wake_) wake_();
}

EmailChannel::Stats EmailChannel::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace nj::notify
