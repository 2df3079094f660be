// Delivers outbox mail over SMTP (libcurl), on its own thread, retrying failures.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "mail/mail.h"

namespace nj::mail {

struct SmtpOptions {
  std::string url;   // smtp://host:port or smtps://host:port; empty = no delivery
  std::string from;  // envelope and header sender
  std::string username, password;
  bool starttls = false;  // require STARTTLS on smtp://
  int poll_ms = 1000;
};

// One message, now. Errors are human-readable.
Result<void, std::string> smtp_send(const SmtpOptions& options, const Mail& mail);

// Builds the RFC 5322 message (headers + body) that smtp_send uploads.
std::string format_message(const SmtpOptions& options, const Mail& mail, int64_t now_ms);

class SmtpSender {
 public:
  SmtpSender(Outbox& outbox, SmtpOptions options);
  ~SmtpSender();
  void wake();  // deliver now instead of at the next poll

 private:
  void run();
  Outbox& outbox_;
  SmtpOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace nj::mail
