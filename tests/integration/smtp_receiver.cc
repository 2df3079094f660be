#include "integration/smtp_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

namespace nj::testing {

std::string ReceivedMail::subject() const {
  const auto at = data.find("Subject: ");
  if (at == std::string::npos) return {};
  return data.substr(at + 9, data.find("\r\n", at) - at - 9);
}

std::string ReceivedMail::token(const std::string& path) const {
  std::smatch m;
  const std::regex re(path + "\\?token=([A-Za-z0-9_-]+)");
  return std::regex_search(data, m, re) ? std::string(m[1]) : std::string();
}

void SmtpReceiver::session(int fd) {
  auto say = [fd](const std::string& line) {
    const std::string out = line + "\r\n";
    (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  };
  std::string buffer;
  auto read_line = [&](std::string& line) -> bool {
    for (;;) {
      const auto end = buffer.find("\r\n");
      if (end != std::string::npos) {
        line = buffer.substr(0, end);
        buffer.erase(0, end + 2);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return false;
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
    }
  };
  say("220 nightjar-test ESMTP");
  ReceivedMail mail;
  std::string line;
  while (read_line(line)) {
    std::string upper = line.substr(0, 4);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "EHLO" || upper == "HELO") {
      say("250 nightjar-test");
    } else if (upper == "MAIL") {
      mail = ReceivedMail{};
      mail.from = line.substr(10);
      say("250 OK");
    } else if (upper == "RCPT") {
      auto to = line.substr(8);
      if (!to.empty() && to.front() == '<') to = to.substr(1, to.find('>') - 1);
      mail.to.push_back(to);
      say("250 OK");
    } else if (upper == "DATA") {
      say("354 go ahead");
      while (read_line(line) && line != ".") {
        if (line.starts_with("..")) line.erase(0, 1);
        mail.data += line + "\r\n";
      }
      {
        std::lock_guard lock(mu_);
        mails_.push_back(mail);
      }
      cv_.notify_all();
      say("250 queued");
    } else if (upper == "QUIT") {
      say("221 bye");
      return;
    } else {
      say("250 OK");
    }
  }
}

std::optional<ReceivedMail> SmtpReceiver::wait_for(const std::string& to, size_t nth,
                                                   std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<ReceivedMail> found;
  cv_.wait_for(lock, timeout, [&] {
    size_t seen = 0;
    for (const auto& m : mails_) {
      for (const auto& t : m.to) {
        if (t == to && ++seen == nth) {
          found = m;
          return true;
        }
      }
    }
    return false;
  });
  return found;
}

size_t SmtpReceiver::count_to(const std::string& to) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& m : mails_) n += std::count(m.to.begin(), m.to.end(), to);
  return n;
}

}  // namespace nj::testing
