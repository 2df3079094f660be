#include "mail/smtp.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace nj::mail {
namespace {

struct Upload {
  std::string data;
  size_t offset = 0;
};

size_t read_callback(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, up->data.size() - up->offset);
  up->data.copy(buffer, n, up->offset);  // a byte range of the message, not a C string
  up->offset += n;
  return n;
}

// RFC 2047 encoded-word for non-ASCII subjects (base64, UTF-8).
std::string encode_header(const std::string& text) {
  bool ascii = true;
  for (unsigned char c : text) ascii = ascii && c < 0x80 && c != '\r' && c != '\n';
  if (ascii) return text;
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(text[i])) << 16) | (uint32_t(uint8_t(text[i + 1])) << 8) |
                       uint8_t(text[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < text.size()) {
    uint32_t v = uint32_t(uint8_t(text[i])) << 16;
    if (i + 1 < text.size()) v |= uint32_t(uint8_t(text[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < text.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return "=?UTF-8?B?" + out + "?=";
}

bool header_safe(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

}  // namespace

std::string format_message(const SmtpOptions& options, const Mail& mail, int64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string body;
  // Normalise line ends to CRLF and dot-stuff is done by libcurl.
  for (size_t i = 0; i < mail.body.size(); ++i) {
    if (mail.body[i] == '\n' && (i == 0 || mail.body[i - 1] != '\r')) body += '\r';
    body += mail.body[i];
  }
  return "Date: " + std::string(date) + "\r\nFrom: " + options.from + "\r\nTo: " + mail.to +
         "\r\nSubject: " + encode_header(mail.subject) +
         "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n\r\n" +
         body + "\r\n";
}

Result<void, std::string> smtp_send(const SmtpOptions& options, const Mail& mail) {
  if (!header_safe(mail.to) || !header_safe(options.from) || !header_safe(mail.subject)) {
    return Unexpected(std::string("header fields must not contain line breaks"));
  }
  CURL* curl = curl_easy_init();
  if (!curl) return Unexpected(std::string("curl_easy_init failed"));
  Upload upload{format_message(options, mail,
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()),
                0};
  curl_slist* recipients = curl_slist_append(nullptr, ("<" + mail.to + ">").c_str());
  const std::string from = "<" + options.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_callback);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (options.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, long(CURLUSESSL_ALL));
  if (!options.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Unexpected(std::string(curl_easy_strerror(rc)));
  return {};
}

SmtpSender::SmtpSender(Outbox& outbox, SmtpOptions options)
    : outbox_(outbox), options_(std::move(options)), thread_([this] { run(); }) {}

SmtpSender::~SmtpSender() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SmtpSender::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SmtpSender::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                   [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
    auto due = outbox_.due(20);
    if (!due) {
      spdlog::error("mail.outbox_failed error=\"{}\"", due.error().message);
      continue;
    }
    for (const auto& entry : *due) {
      auto sent = smtp_send(options_, entry.mail);
      if (!sent) spdlog::warn("mail.send_failed id={} error=\"{}\"", entry.id, sent.error());
      (void)outbox_.mark(entry.id, sent.has_value(), sent ? std::string() : sent.error());
    }
  }
}

}  // namespace nj::mail
