#include "integration/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace nj::testing {

void HttpReceiver::answer_next(std::vector<int> statuses) {
  std::lock_guard lock(mu_);
  statuses_.insert(statuses_.end(), statuses.begin(), statuses.end());
}

std::optional<ReceivedRequest> HttpReceiver::wait_for(size_t nth,
                                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return requests_.size() >= nth; })) return std::nullopt;
  return requests_[nth - 1];
}

size_t HttpReceiver::count() {
  std::lock_guard lock(mu_);
  return requests_.size();
}

void HttpReceiver::session(int fd) {
  std::string in;
  char buf[4096];
  size_t head_end = std::string::npos;
  size_t length = 0;
  ReceivedRequest r;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      const std::string head = in.substr(0, head_end);
      size_t at = head.find("\r\n");
      const std::string line = head.substr(0, at);
      r.method = line.substr(0, line.find(' '));
      r.target = line.substr(r.method.size() + 1, line.rfind(' ') - r.method.size() - 1);
      while (at != std::string::npos && at < head.size()) {
        const size_t next = head.find("\r\n", at + 2);
        const std::string h =
            head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
        const size_t colon = h.find(':');
        if (colon != std::string::npos) {
          std::string name = h.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          std::string value = h.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(value.begin());
          r.headers[name] = value;
        }
        at = next;
      }
      length = static_cast<size_t>(
          std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length")));
    }
    if (in.size() >= head_end + 4 + length) break;
  }
  r.body = in.substr(head_end + 4, length);
  int status = 200;
  {
    std::lock_guard lock(mu_);
    if (!statuses_.empty()) {
      status = statuses_.front();
      statuses_.pop_front();
    }
    requests_.push_back(std::move(r));
  }
  cv_.notify_all();
  const std::string reply =
      "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
}

}  // namespace nj::testing
