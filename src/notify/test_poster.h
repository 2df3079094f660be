// Tests: an HTTP receiver (push service, webhook endpoint) whose answers the test scripts.
#pragma once

#include <map>
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
    // Answers for one URL first (senders run side by side: their order is not fixed).
    if (auto it = answers_for.find(url); it != answers_for.end() && !it->second.empty()) {
      const auto a = it->second.front();
      it->second.erase(it->second.begin());
      return a;
    }
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
  std::map<std::string, std::vector<std::optional<int>>> answers_for;  // by URL
};

}  // namespace nj::notify
