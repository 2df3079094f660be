// Tests: an HTTP receiver (push service, webhook endpoint) whose answers the test scripts.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "notify/push_channel.h"

namespace nj::notify {

class FakePoster : public HttpPoster {
 public:
  std::optional<int> post(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) override {
    std::lock_guard lock(mu);
    requests.push_back({url, headers, body});
    if (answers.empty()) return 201;
    const auto a = answers.front();
    answers.erase(answers.begin());
    return a;
  }
  struct Request {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(const std::string& name) const {
      for (const auto& [k, v] : headers) {
        if (k == name) return v;
      }
      return "";
    }
  };
  std::mutex mu;
  std::vector<Request> requests;
  std::vector<std::optional<int>> answers;
};

}  // namespace nj::notify
