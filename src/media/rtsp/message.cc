#include "media/rtsp/message.h"

#include <algorithm>
#include <charconv>

namespace nj::media::rtsp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Int>
bool to_int(std::string_view s, Int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool valid_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != ':';
  });
}

std::optional<std::pair<int, int>> port_pair(std::string_view v) {
  const auto dash = v.find('-');
  int a = 0, b = 0;
  if (!to_int(v.substr(0, dash), a) || a < 0 || a > 65535) return std::nullopt;
  if (dash == std::string_view::npos) return std::make_pair(a, a + 1);
  if (!to_int(v.substr(dash + 1), b) || b < 0 || b > 65535) return std::nullopt;
  return std::make_pair(a, b);
}

}  // namespace

std::string_view error_name(Error e) {
  switch (e) {
    case Error::kBadStartLine:
      return "bad_start_line";
    case Error::kBadVersion:
      return "bad_version";
    case Error::kBadHeader:
      return "bad_header";
    case Error::kHeaderTooLarge:
      return "header_too_large";
    case Error::kBadContentLength:
      return "bad_content_length";
    case Error::kBodyTooLarge:
      return "body_too_large";
  }
  return "unknown";
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Message::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<int> Message::cseq() const {
  int v = 0;
  const auto h = header("CSeq");
  if (!h || !to_int(trim(*h), v) || v < 0) return std::nullopt;
  return v;
}

Result<size_t, Error> parse(std::span<const uint8_t> input, Item& out, const Limits& limits) {
  if (input.empty()) return size_t{0};
  if (input[0] == '$') {
    if (input.size() < 4) return size_t{0};
    const size_t length = (size_t{input[2]} << 8) | input[3];
    if (input.size() < 4 + length) return size_t{0};
    out.kind = Item::Kind::kFrame;
    out.channel = input[1];
    out.frame_payload = input.subspan(4, length);
    return 4 + length;
  }
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  const auto header_end = text.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (text.size() > limits.max_header_bytes) return Unexpected(Error::kHeaderTooLarge);
    return size_t{0};
  }
  if (header_end + 4 > limits.max_header_bytes) return Unexpected(Error::kHeaderTooLarge);

  Message m;
  std::string_view head = text.substr(0, header_end);
  const auto first_end = head.find("\r\n");
  const auto start = head.substr(0, first_end);
  head = first_end == std::string_view::npos ? std::string_view() : head.substr(first_end + 2);

  const auto sp1 = start.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
    return Unexpected(Error::kBadStartLine);
  }
  const auto a = start.substr(0, sp1), b = start.substr(sp1 + 1, sp2 - sp1 - 1),
             c = start.substr(sp2 + 1);
  if (a.starts_with("RTSP/")) {
    if (a != "RTSP/1.0" && a != "RTSP/2.0") return Unexpected(Error::kBadVersion);
    m.is_request = false;
    if (b.size() != 3 || !to_int(b, m.status) || m.status < 100) {
      return Unexpected(Error::kBadStartLine);
    }
    m.reason = std::string(c);
  } else {
    if (c != "RTSP/1.0")
      return Unexpected(c.starts_with("RTSP/") ? Error::kBadVersion : Error::kBadStartLine);
    if (!valid_token(a) || b.empty() || b.find_first_of(" \t") != std::string_view::npos) {
      return Unexpected(Error::kBadStartLine);
    }
    m.method = std::string(a);
    m.uri = std::string(b);
  }
  while (!head.empty()) {
    const auto end = head.find("\r\n");
    const auto line = head.substr(0, end);
    head = end == std::string_view::npos ? std::string_view() : head.substr(end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !valid_token(line.substr(0, colon))) {
      return Unexpected(Error::kBadHeader);
    }
    const auto value = trim(line.substr(colon + 1));
    if (value.find_first_of("\r\n") != std::string_view::npos) return Unexpected(Error::kBadHeader);
    m.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    if (m.headers.size() > 100) return Unexpected(Error::kHeaderTooLarge);
  }
  size_t body_length = 0;
  if (const auto cl = m.header("Content-Length")) {
    if (!to_int(trim(*cl), body_length)) return Unexpected(Error::kBadContentLength);
    if (body_length > limits.max_body_bytes) return Unexpected(Error::kBodyTooLarge);
  }
  const size_t total = header_end + 4 + body_length;
  if (input.size() < total) return size_t{0};
  m.body = std::string(text.substr(header_end + 4, body_length));
  out.kind = Item::Kind::kMessage;
  out.message = std::move(m);
  return total;
}

std::string serialize(const Message& m) {
  std::string out = m.is_request ? m.method + " " + m.uri + " RTSP/1.0\r\n"
                                 : "RTSP/1.0 " + std::to_string(m.status) + " " + m.reason + "\r\n";
  for (const auto& [k, v] : m.headers) {
    if (iequals(k, "Content-Length")) continue;
    out.append(k).append(": ").append(v).append("\r\n");
  }
  if (!m.body.empty()) out += "Content-Length: " + std::to_string(m.body.size()) + "\r\n";
  out += "\r\n";
  out += m.body;
  return out;
}

std::optional<Transport> parse_transport(std::string_view header) {
  // Several transports may be offered, separated by commas: take the first valid one.
  while (!header.empty()) {
    const auto comma = header.find(',');
    const auto spec = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    Transport t;
    bool ok = true;
    size_t i = 0;
    std::string_view rest = spec;
    while (ok && !rest.empty()) {
      const auto semi = rest.find(';');
      const auto part = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      if (i++ == 0) {
        if (iequals(part, "RTP/AVP/TCP")) {
          t.tcp = true;
        } else if (!iequals(part, "RTP/AVP") && !iequals(part, "RTP/AVP/UDP")) {
          ok = false;
        }
        continue;
      }
      const auto eq = part.find('=');
      const auto key = part.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      if (iequals(key, "multicast")) {
        t.multicast = true;
      } else if (iequals(key, "interleaved")) {
        t.interleaved = port_pair(value);
        ok = t.interleaved && t.interleaved->first <= 255 && t.interleaved->second <= 255;
      } else if (iequals(key, "client_port")) {
        t.client_port = port_pair(value);
        ok = t.client_port.has_value();
      } else if (iequals(key, "server_port")) {
        t.server_port = port_pair(value);
        ok = t.server_port.has_value();
      } else if (iequals(key, "mode")) {
        std::string mode(trim(value));
        if (!mode.empty() && mode.front() == '"') mode = mode.substr(1, mode.size() - 2);
        for (auto& ch : mode) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        t.mode = mode;
      } else if (iequals(key, "ssrc")) {
        uint32_t ssrc = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ssrc, 16);
        if (ec == std::errc() && end == value.data() + value.size()) t.ssrc = ssrc;
      }
    }
    if (ok && i > 0 && !t.multicast && (t.tcp || t.client_port || t.server_port)) return t;
  }
  return std::nullopt;
}

std::string format_transport(const Transport& t) {
  std::string out = t.tcp ? "RTP/AVP/TCP;unicast" : "RTP/AVP;unicast";
  auto pair = [](const std::pair<int, int>& p) {
    return std::to_string(p.first) + "-" + std::to_string(p.second);
  };
  if (t.interleaved) out += ";interleaved=" + pair(*t.interleaved);
  if (t.client_port) out += ";client_port=" + pair(*t.client_port);
  if (t.server_port) out += ";server_port=" + pair(*t.server_port);
  if (!t.mode.empty()) out += ";mode=" + t.mode;
  return out;
}

}  // namespace nj::media::rtsp
