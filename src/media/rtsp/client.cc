#include "media/rtsp/client.h"

#include <charconv>

namespace nj::media::rtsp {
namespace {

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int value = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

}  // namespace

std::string ClientUrl::request_url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "rtsp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

Result<ClientUrl, std::string> parse_client_url(std::string_view url) {
  if (!url.starts_with("rtsp://")) return Unexpected(std::string("not an rtsp:// URL"));
  if (url.size() > 2048) return Unexpected(std::string("URL too long"));
  url.remove_prefix(7);
  ClientUrl out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view()
                                                                   : userinfo.substr(colon + 1));
    if (!user || !password) return Unexpected(std::string("bad percent-encoding in the URL"));
    out.user = std::move(*user);
    out.password = std::move(*password);
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Unexpected(std::string("bad IPv6 address"));
    out.host = std::string(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Unexpected(std::string("bad host"));
      port = rest.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Unexpected(std::string("no host in the URL"));
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return Unexpected(std::string("bad port"));
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

ClientSession::ClientSession(ClientUrl url, Mode mode, Handlers handlers, std::string announce_sdp)
    : url_(std::move(url)),
      mode_(mode),
      handlers_(std::move(handlers)),
      announce_sdp_(std::move(announce_sdp)),
      credentials_(url_.user, url_.password) {
  base_url_ = url_.request_url();
}

void ClientSession::start() {
  state_ = State::kStarting;
  send_request(Pending::make("OPTIONS", url_.request_url()));
}

void ClientSession::send_request(Pending request) {
  Message m;
  m.method = request.method;
  m.uri = request.uri;
  m.set_header("CSeq", std::to_string(++cseq_));
  m.set_header("User-Agent", "Nightjar");
  if (credentials_.has_challenge()) {
    m.set_header("Authorization", credentials_.authorization(request.method, request.uri));
  }
  if (!session_.empty()) m.set_header("Session", session_);
  if (!require_.empty()) m.set_header("Require", require_);
  for (const auto& [k, v] : request.headers) m.set_header(k, v);
  m.body = request.body;
  in_flight_ = std::move(request);
  handlers_.send(serialize(m));
}

Result<size_t, Error> ClientSession::feed(std::span<const uint8_t> data) {
  size_t used = 0;
  while (used < data.size() && state_ != State::kFailed && state_ != State::kClosed) {
    Item item;
    auto n = parse(data.subspan(used), item);
    if (!n) return Unexpected(n.error());
    if (*n == 0) break;
    used += *n;
    if (item.kind == Item::Kind::kFrame) {
      if (mode_ != Mode::kPlay || state_ != State::kStreaming || !handlers_.media) continue;
      const size_t channel = item.channel;
      if (channel / 2 < channel_tracks_.size() && channel_tracks_[channel / 2] >= 0) {
        handlers_.media(channel_tracks_[channel / 2], channel % 2 == 1, item.frame_payload);
      }
    } else if (item.message.is_request) {
      // Servers may send requests too. We answer keep-alive probes (GET_PARAMETER,
      // OPTIONS) with 200; anything else (ANNOUNCE of a change, SET_PARAMETER, REDIRECT) we
      // do not act on, and RFC 2326 §11.1 has us say so with 501 rather than stay silent.
      Message r;
      r.is_request = false;
      r.status =
          item.message.method == "GET_PARAMETER" || item.message.method == "OPTIONS" ? 200 : 501;
      r.reason = r.status == 200 ? "OK" : "Not Implemented";
      r.set_header("CSeq", std::to_string(item.message.cseq().value_or(0)));
      handlers_.send(serialize(r));
    } else {
      on_response(item.message);
    }
  }
  return used;
}

void ClientSession::fail(std::string why) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  state_ = State::kFailed;
  last_error_ = std::move(why);
  if (handlers_.failed) handlers_.failed(last_error_);
}

std::string ClientSession::control_url(const std::string& control) const {
  if (control.empty() || control == "*") return base_url_;
  if (control.starts_with("rtsp://") || control.starts_with("rtsps://")) return control;
  std::string base = base_url_;
  if (!base.ends_with('/')) base += '/';
  return base + control;
}

void ClientSession::on_response(const Message& response) {
  if (!in_flight_) return;  // nothing asked: ignore
  Pending request = std::move(*in_flight_);
  in_flight_.reset();
  if (response.status == 401) {
    auto challenge = pick_challenge(response);
    if (request.authorized || !challenge || credentials_.empty()) {
      fail(request.method + " refused: 401 Unauthorized" +
           (credentials_.empty() ? " (the URL has no credentials)" : ""));
      return;
    }
    credentials_.set_challenge(std::move(*challenge));
    request.authorized = true;
    send_request(std::move(request));
    return;
  }
  if (request.method == "GET_PARAMETER" || request.method == "OPTIONS") {
    if (auto pub = response.header("Public")) {
      has_get_parameter_ = pub->find("GET_PARAMETER") != std::string_view::npos;
    }
    if (state_ == State::kStreaming) return;  // a keep-alive answered
    if (request.method == "OPTIONS" && state_ == State::kStarting) {
      // Some cameras answer OPTIONS with an error but serve the rest: carry on either way.
      if (mode_ == Mode::kPlay) {
        send_request(
            Pending::make("DESCRIBE", url_.request_url(), {{"Accept", "application/sdp"}}));
      } else {
        send_request(Pending::make("ANNOUNCE", url_.request_url(),
                                   {{"Content-Type", "application/sdp"}}, announce_sdp_));
      }
    }
    return;
  }
  if (request.method == "SETUP" && response.status == 461 && udp_ && setup_index_ == 0) {
    udp_ = false;  // the server does not do UDP: ask again for TCP interleaved
    setup_next();
    return;
  }
  if (response.status < 200 || response.status >= 300) {
    fail(request.method + " refused: " + std::to_string(response.status) + " " + response.reason);
    return;
  }
  if (request.method == "DESCRIBE" || request.method == "ANNOUNCE") {
    const std::string& text = request.method == "DESCRIBE" ? response.body : announce_sdp_;
    auto session = sdp::parse(text);
    if (!session) {
      fail("bad SDP: " + std::string(sdp::error_name(session.error())));
      return;
    }
    if (request.method == "DESCRIBE") {
      if (auto base = response.header("Content-Base")) {
        base_url_ = std::string(*base);
      } else if (auto location = response.header("Content-Location")) {
        base_url_ = std::string(*location);
      }
    }
    for (const auto& media : session->media) controls_.push_back(media.control);
    if (mode_ == Mode::kPlay) {
      to_setup_ = handlers_.described ? handlers_.described(*session) : std::vector<int>{};
    } else {
      for (size_t i = 0; i < session->media.size(); ++i) to_setup_.push_back(static_cast<int>(i));
    }
    if (to_setup_.empty()) {
      fail("the stream has no track we can use");
      return;
    }
    setup_index_ = 0;
    setup_next();
    return;
  }
  if (request.method == "SETUP") {
    if (auto session = response.header("Session")) {
      std::string_view v = *session;
      const size_t semi = v.find(';');
      session_ = std::string(v.substr(0, semi));
      if (semi != std::string_view::npos) {
        const auto params = v.substr(semi + 1);
        if (const size_t t = params.find("timeout="); t != std::string_view::npos) {
          int timeout = 0;
          auto digits = params.substr(t + 8);
          auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), timeout);
          if (ec == std::errc() && timeout >= 5 && timeout <= 3600) timeout_seconds_ = timeout;
        }
      }
    }
    auto transport = parse_transport(response.header("Transport").value_or(""));
    if (udp_) {
      if (!transport || transport->tcp || !transport->server_port) {
        fail("the SETUP answer has no server ports for UDP");
        return;
      }
      const int slot = static_cast<int>(setup_index_);
      if (channel_tracks_.size() <= static_cast<size_t>(slot)) channel_tracks_.resize(slot + 1, -1);
      channel_tracks_[slot] = to_setup_[setup_index_];
      if (udp_handlers_.udp_peer)
        udp_handlers_.udp_peer(slot, to_setup_[setup_index_], *transport->server_port);
      ++setup_index_;
      setup_next();
      return;
    }
    const int asked = static_cast<int>(setup_index_) * 2;
    const int channel = transport && transport->interleaved ? transport->interleaved->first : asked;
    if (channel < 0 || channel > 254) {
      fail("bad interleaved channel in SETUP answer");
      return;
    }
    if (channel_tracks_.size() <= static_cast<size_t>(channel / 2)) {
      channel_tracks_.resize(channel / 2 + 1, -1);
    }
    channel_tracks_[channel / 2] = to_setup_[setup_index_];
    ++setup_index_;
    setup_next();
    return;
  }
  if (request.method == "PLAY" || request.method == "RECORD") {
    state_ = State::kStreaming;
    if (handlers_.ready) handlers_.ready();
    return;
  }
  if (request.method == "TEARDOWN") state_ = State::kClosed;
}

void ClientSession::setup_next() {
  if (setup_index_ < to_setup_.size()) {
    const int track = to_setup_[setup_index_];
    const std::string control =
        static_cast<size_t>(track) < controls_.size() ? controls_[track] : std::string();
    Transport t;
    std::optional<std::pair<int, int>> ports;
    if (udp_ && udp_handlers_.open_udp)
      ports = udp_handlers_.open_udp(static_cast<int>(setup_index_));
    if (udp_ && !ports) {
      if (setup_index_ > 0) {
        fail("cannot open UDP ports");
        return;
      }
      udp_ = false;
    }
    if (udp_) {
      t.tcp = false;
      t.client_port = ports;
    } else {
      t.tcp = true;
      t.interleaved = std::make_pair(static_cast<int>(setup_index_) * 2,
                                     static_cast<int>(setup_index_) * 2 + 1);
    }
    t.mode = mode_ == Mode::kPush ? "record" : "";
    send_request(
        Pending::make("SETUP", control_url(control), {{"Transport", format_transport(t)}}));
    return;
  }
  if (mode_ == Mode::kPlay) {
    Headers headers;
    if (!play_range_.empty()) headers.emplace_back("Range", play_range_);
    send_request(Pending::make("PLAY", base_url_, std::move(headers)));
  } else {
    send_request(Pending::make("RECORD", base_url_, {{"Range", "npt=0.000-"}}));
  }
}

void ClientSession::send_media(int track, bool rtcp, std::span<const uint8_t> packet) {
  if (state_ != State::kStreaming || packet.size() > 65535) return;
  int channel = -1;
  for (size_t i = 0; i < channel_tracks_.size(); ++i) {
    if (channel_tracks_[i] == track) channel = static_cast<int>(i) * 2 + (rtcp ? 1 : 0);
  }
  if (channel < 0) return;
  if (udp_) {
    if (udp_handlers_.send_datagram) udp_handlers_.send_datagram(channel / 2, rtcp, packet);
    return;
  }
  std::string out;
  out.reserve(4 + packet.size());
  out += '$';
  out += static_cast<char>(channel);
  out += static_cast<char>(packet.size() >> 8);
  out += static_cast<char>(packet.size() & 0xff);
  out.append(reinterpret_cast<const char*>(packet.data()), packet.size());
  handlers_.send(std::move(out));
}

void ClientSession::keepalive() {
  if (state_ != State::kStreaming || in_flight_) return;
  send_request(Pending::make(has_get_parameter_ ? "GET_PARAMETER" : "OPTIONS", base_url_));
}

void ClientSession::teardown() {
  if (state_ == State::kStreaming || state_ == State::kStarting) {
    in_flight_.reset();
    send_request(Pending::make("TEARDOWN", base_url_));
  }
  state_ = State::kClosed;
}

}  // namespace nj::media::rtsp
