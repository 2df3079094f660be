// Streamed response bodies (downloads of recordings): the HTTP server in this process, spoken
// to over a real socket, with a body source that makes its bytes as they are asked for.
#include <gtest/gtest.h>

#include <atomic>

#include "http/server.h"
#include "integration/fixture.h"
#include "metrics/registry.h"
#include "net/io_pool.h"

namespace nj::testing {
namespace {

using namespace std::chrono_literals;

// Byte i of every test body.
char pattern(uint64_t i) { return static_cast<char>((i * 131 + i / 977) & 0xff); }

class HttpStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(http::Method::kGet, "/body", [this](const http::Request& r) {
      http::Response res;
      res.headers.set("Content-Type", "application/octet-stream");
      res.stream = std::make_shared<http::BodySource>();
      res.stream->size = kSize;
      const uint64_t fail_at =
          r.query_param("fail_at") ? std::stoull(*r.query_param("fail_at")) : UINT64_MAX;
      res.stream->read = [this, fail_at](uint64_t at, size_t max) -> std::optional<std::string> {
        ++reads_;
        if (at >= fail_at) return std::nullopt;  // the file went away mid-download, say
        std::string piece(max, '\0');
        for (size_t i = 0; i < max; ++i) piece[i] = pattern(at + i);
        return piece;
      };
      return res;
    });
    pool_.start();
    auto port = server_.listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
  }
  void TearDown() override {
    server_.stop();
    pool_.shutdown();
  }
  // The response to one request on its own connection, as it arrived until the close.
  std::string fetch(const std::string& method, const std::string& target) {
    RawConnection c(port_);
    EXPECT_TRUE(
        c.send(method + " " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    return c.read_all(10s);
  }
  static std::string body_of(const std::string& response) {
    const auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
  }

  static constexpr uint64_t kSize = (5u << 20) + 12'345;  // several pieces, the last short
  http::Router router_;
  metrics::Registry metrics_;
  net::IoPool pool_{2};
  http::Server server_{pool_, router_, metrics_, {}};
  uint16_t port_ = 0;
  std::atomic<int> reads_{0};
};

TEST_F(HttpStreamTest, ALargeBodyArrivesWholeWithItsLength) {
  const auto response = fetch("GET", "/body");
  EXPECT_NE(response.find("Content-Length: " + std::to_string(kSize) + "\r\n"), std::string::npos)
      << response.substr(0, response.find("\r\n\r\n"));
  const auto body = body_of(response);
  ASSERT_EQ(body.size(), kSize);
  for (uint64_t i = 0; i < kSize; ++i) {
    if (body[i] != pattern(i)) FAIL() << "byte " << i << " differs";
  }
  EXPECT_GE(reads_.load(), 6) << "made a piece at a time, not at once";
}

TEST_F(HttpStreamTest, HeadSaysTheLengthAndReadsNothing) {
  const auto response = fetch("HEAD", "/body");
  EXPECT_NE(response.find("Content-Length: " + std::to_string(kSize) + "\r\n"), std::string::npos);
  EXPECT_TRUE(body_of(response).empty());
  EXPECT_EQ(reads_.load(), 0);
}

TEST_F(HttpStreamTest, ASourceThatFailsCutsTheConnectionShort) {
  // The length was promised: a client must see a cut download, never a short "complete" one.
  const auto response = fetch("GET", "/body?fail_at=2097152");
  EXPECT_EQ(body_of(response).size(), 2u << 20);
  EXPECT_NE(metrics_.render().find("nightjar_http_rejected_total{reason=\"stream_failed\"} 1"),
            std::string::npos);
  // And the server goes on serving.
  EXPECT_EQ(body_of(fetch("GET", "/body")).size(), kSize);
}

}  // namespace
}  // namespace nj::testing
