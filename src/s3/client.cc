#include "s3/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>

namespace nj::s3 {

struct Client::Response {
  long status = 0;
  std::string body;
};

namespace {

constexpr size_t kMaxIdle = 16;

size_t collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct Upload {
  std::span<const uint8_t> bytes;
  size_t at = 0;
};

size_t feed(char* buffer, size_t size, size_t count, void* in) {
  auto* u = static_cast<Upload*>(in);
  const size_t n = std::min(size * count, u->bytes.size() - u->at);
  std::memcpy(buffer, u->bytes.data() + u->at, n);
  u->at += n;
  return n;
}

// The text of the first <tag>…</tag> at or after `from`; npos in `next` when there is none.
std::string element(const std::string& xml, const std::string& tag, size_t from, size_t* next) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  const auto a = xml.find(open, from);
  if (a == std::string::npos) {
    if (next) *next = std::string::npos;
    return "";
  }
  const auto b = xml.find(close, a + open.size());
  if (b == std::string::npos) {
    if (next) *next = std::string::npos;
    return "";
  }
  if (next) *next = b + close.size();
  return xml.substr(a + open.size(), b - a - open.size());
}

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, char> kEntities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&amp;", '&'}};
  for (const auto& [entity, c] : kEntities) {
    const std::string e(entity);
    for (size_t at = s.find(e); at != std::string::npos; at = s.find(e, at + 1)) {
      s.replace(at, e.size(), 1, c);
    }
  }
  return s;
}

std::string why(const std::string& what, long status, const std::string& body) {
  const std::string code = element(body, "Code", 0, nullptr);
  return what + ": HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code);
}

}  // namespace

Result<Credentials, std::string> credentials_from(const std::string& file) {
  if (file.empty()) {
    const char* access = std::getenv("NJ_S3_ACCESS_KEY");
    const char* secret = std::getenv("NJ_S3_SECRET_KEY");
    if (!access || !secret || !*access || !*secret) {
      return Unexpected(
          std::string("no S3 keys: set key_file, or NJ_S3_ACCESS_KEY and NJ_S3_SECRET_KEY"));
    }
    return Credentials{access, secret};
  }
  std::ifstream in(file);
  Credentials c;
  if (!std::getline(in, c.access_key) || !std::getline(in, c.secret_key) || c.access_key.empty() ||
      c.secret_key.empty()) {
    return Unexpected("no S3 keys in " + file + " (two lines: access key, secret key)");
  }
  return c;
}

Client::Client(Config config) : config_(std::move(config)) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialised;
  host_ = config_.endpoint.substr(config_.endpoint.find("://") + 3);
  if (const auto slash = host_.find('/'); slash != std::string::npos) host_.resize(slash);
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
}

Client::~Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* Client::take_handle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      curl_easy_reset(static_cast<CURL*>(h));  // connections stay
      return h;
    }
  }
  return curl_easy_init();
}

void Client::give_back(void* h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) {
    idle_.push_back(h);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<Client::Response, std::string> Client::send(
    const std::string& method, const std::string& key,
    std::vector<std::pair<std::string, std::string>> query, std::span<const uint8_t> body,
    std::vector<std::pair<std::string, std::string>> headers) {
  SigningInput in;
  in.method = method;
  in.host = host_;
  in.path = key.empty() ? "/" + uri_encode(config_.bucket, true) : encode_path(config_.bucket, key);
  in.query = query;
  in.headers = headers;
  // The body's hash is signed for uploads (S3 checks it: nothing altered in flight is
  // stored); a request without a body signs the empty one.
  in.payload_hash = sha256_hex(body);
  in.amz_date = amz_date(std::time(nullptr));
  const Signature signature = sign_v4(in, config_.credentials, config_.region);

  std::string url = config_.endpoint + in.path;
  if (const auto q = canonical_query(query); !q.empty()) url += "?" + q;
  curl_slist* list = nullptr;
  const auto add = [&](const std::string& h) { list = curl_slist_append(list, h.c_str()); };
  add("Authorization: " + signature.authorization);
  add("x-amz-content-sha256: " + in.payload_hash);
  add("x-amz-date: " + in.amz_date);
  for (const auto& [name, value] : headers) add(name + ": " + value);
  add("Expect:");  // no 100-continue round trip
  CURL* c = static_cast<CURL*>(take_handle());
  Response response;
  Upload upload{body};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, config_.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(config_.timeout_ms, 3000));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  if (method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(list);
  give_back(c);
  if (rc != CURLE_OK) {
    return Unexpected("s3 " + method + " " + key + ": " + curl_easy_strerror(rc));
  }
  return response;
}

Requests Client::requests() const {
  return {gets_.load(), puts_.load(), deletes_.load(), lists_.load()};
}

Result<void, std::string> Client::put(const std::string& key, std::span<const uint8_t> bytes) {
  puts_.fetch_add(1, std::memory_order_relaxed);
  auto r = send("PUT", key, {}, bytes, {});
  if (!r) return Unexpected(r.error());
  if (r->status != 200) return Unexpected(why("s3 PUT " + key, r->status, r->body));
  return {};
}

Result<std::vector<uint8_t>, std::string> Client::get(const std::string& key, uint64_t offset,
                                                      std::optional<uint64_t> length) {
  if (length && *length == 0) return std::vector<uint8_t>{};
  gets_.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::pair<std::string, std::string>> headers;
  if (offset > 0 || length) {
    headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-" +
                                      (length ? std::to_string(offset + *length - 1) : ""));
  }
  auto r = send("GET", key, {}, {}, headers);
  if (!r) return Unexpected(r.error());
  if (r->status != 200 && r->status != 206) {
    return Unexpected(why("s3 GET " + key, r->status, r->body));
  }
  if (length && r->body.size() != *length) {
    return Unexpected("s3 GET " + key + ": " + std::to_string(r->body.size()) + " bytes of " +
                      std::to_string(*length));
  }
  return std::vector<uint8_t>(r->body.begin(), r->body.end());
}

Result<void, std::string> Client::remove(const std::string& key) {
  deletes_.fetch_add(1, std::memory_order_relaxed);
  auto r = send("DELETE", key, {}, {}, {});
  if (!r) return Unexpected(r.error());
  if (r->status != 204 && r->status != 200 && r->status != 404) {
    return Unexpected(why("s3 DELETE " + key, r->status, r->body));
  }
  return {};
}

Result<std::vector<Object>, std::string> Client::list(const std::string& prefix) {
  std::vector<Object> out;
  std::string token;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"},
                                                              {"prefix", prefix}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    lists_.fetch_add(1, std::memory_order_relaxed);
    auto r = send("GET", "", query, {}, {});
    if (!r) return Unexpected(r.error());
    if (r->status != 200) return Unexpected(why("s3 LIST " + prefix, r->status, r->body));
    size_t at = 0;
    for (;;) {
      size_t next = 0;
      const std::string contents = element(r->body, "Contents", at, &next);
      if (next == std::string::npos) break;
      at = next;
      out.push_back({xml_unescape(element(contents, "Key", 0, nullptr)),
                     std::strtoull(element(contents, "Size", 0, nullptr).c_str(), nullptr, 10)});
    }
    if (element(r->body, "IsTruncated", 0, nullptr) != "true") break;
    token = xml_unescape(element(r->body, "NextContinuationToken", 0, nullptr));
    if (token.empty()) return Unexpected("s3 LIST " + prefix + ": truncated without a token");
  }
  return out;
}

}  // namespace nj::s3
