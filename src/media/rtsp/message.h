// RTSP 1.0 messages (RFC 2326) and RTP interleaved over the same TCP connection ("$",
// channel, length): a push-style parser that takes whatever bytes arrived and returns one
// item at a time or "need more", with limits; and the Transport header.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace nj::media::rtsp {

struct Message {
  bool is_request = true;
  std::string method;  // requests
  std::string uri;
  int status = 0;  // responses
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const;
  void set_header(std::string name, std::string value);
  std::optional<int> cseq() const;
};

enum class Error {
  kBadStartLine,
  kBadVersion,
  kBadHeader,
  kHeaderTooLarge,
  kBadContentLength,
  kBodyTooLarge,
};
std::string_view error_name(Error e);

struct Limits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
};

// One parsed item. frame_payload points into the input given to parse().
struct Item {
  enum class Kind { kMessage, kFrame } kind = Kind::kMessage;
  Message message;
  uint8_t channel = 0;
  std::span<const uint8_t> frame_payload;
};

// Parses the item at the front of input. Returns the bytes it used (0: need more data).
// On error the connection should answer 400 (if it can) and close.
Result<size_t, Error> parse(std::span<const uint8_t> input, Item& out, const Limits& limits = {});

// Writes a message with CRLF line ends and Content-Length when there is a body.
std::string serialize(const Message& m);

struct Transport {
  bool tcp = false;  // RTP/AVP/TCP
  bool multicast = false;
  std::optional<std::pair<int, int>> interleaved;
  std::optional<std::pair<int, int>> client_port;
  std::optional<std::pair<int, int>> server_port;
  std::string mode;  // "record" or "play" (lower-case)
  std::optional<uint32_t> ssrc;
};
// The first transport of a Transport header that we can use; nullopt if none is valid.
std::optional<Transport> parse_transport(std::string_view header);
std::string format_transport(const Transport& t);

}  // namespace nj::media::rtsp
