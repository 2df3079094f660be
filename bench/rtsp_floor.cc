// The floor under any RTSP server's fan-out on this machine: what it costs only to write
// each burst of a stream to each player, with nothing else done.
//
//   rtsp_floor record URL FILE SECONDS
//     plays URL (RTP over TCP, interleaved) as a player does and keeps what it gets: the SDP,
//     then each read's whole interleaved packets with the time they came.
//   rtsp_floor serve FILE
//     listens on 127.0.0.1 (prints "PORT n"), answers players' OPTIONS, DESCRIBE, SETUP and
//     PLAY with that SDP, and writes the recorded reads at their times to every playing
//     player: one send a read a player, of bytes made once; no parsing, no queue, no copy.
//     A player starts at the first read that begins a keyframe. It ends with the recording.
//
// Plain blocking sockets and a thread per player, so that its cost is the writes and little
// else. The sending thread is the only one busy while the stream runs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/rtsp/message.h"

namespace {

namespace rtsp = nj::media::rtsp;
using Clock = std::chrono::steady_clock;

struct Read {
  int64_t at_us;  // since the first read
  std::vector<uint8_t> bytes;
  bool keyframe;
};

// Does this run of interleaved packets hold the start of an H.264 keyframe (an SPS, an IDR
// slice, or the first fragment of one) on channel 0?
bool starts_keyframe(const std::vector<uint8_t>& b) {
  for (size_t at = 0; at + 4 <= b.size();) {
    const size_t len = (b[at + 2] << 8) | b[at + 3];
    const uint8_t* rtp = b.data() + at + 4;
    if (b[at + 1] == 0 && len > 13) {
      const size_t header = 12 + 4 * (rtp[0] & 0x0f);
      if (header + 1 < len) {
        const uint8_t nal = rtp[header] & 0x1f;
        const uint8_t inner = rtp[header + 1];
        if (nal == 5 || nal == 7) return true;
        if (nal == 24 && header + 3 < len && ((rtp[header + 3] & 0x1f) == 7)) return true;
        if (nal == 28 && (inner & 0x80) && (inner & 0x1f) == 5) return true;
      }
    }
    at += 4 + len;
  }
  return false;
}

bool send_all(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

// Reads one RTSP response or request; skips interleaved packets before it. `pending` keeps
// what was read past it.
std::optional<rtsp::Message> read_message(int fd, std::vector<uint8_t>& pending) {
  for (;;) {
    rtsp::Item item;
    const auto used = rtsp::parse(pending, item);
    if (!used) return std::nullopt;
    if (*used > 0) {
      pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(*used));
      if (item.kind == rtsp::Item::Kind::kMessage) return std::move(item.message);
      continue;
    }
    uint8_t buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    pending.insert(pending.end(), buf, buf + n);
  }
}

std::string header(const rtsp::Message& message, std::string_view name) {
  return std::string(message.header(name).value_or(""));
}

int record(const std::string& url, const std::string& file, int seconds) {
  // rtsp://127.0.0.1:PORT/…
  const auto port_at = url.find(':', 7);
  const int port = std::stoi(url.substr(port_at + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    return 1;
  }
  std::vector<uint8_t> pending;
  const std::string base = url.substr(0, url.find('?'));
  const std::string query = url.find('?') == std::string::npos ? "" : url.substr(url.find('?'));
  send_all(fd, "DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n");
  auto described = read_message(fd, pending);
  if (!described || described->status != 200) {
    std::fprintf(stderr, "DESCRIBE failed\n");
    return 1;
  }
  const std::string sdp = described->body;
  const bool audio = sdp.find("trackID=1") != std::string::npos;
  send_all(fd,
           "SETUP " + base + "/trackID=0" + query +
               " RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
  std::string session = header(read_message(fd, pending).value_or(rtsp::Message{}), "Session");
  session = session.substr(0, session.find(';'));
  if (audio) {
    send_all(fd, "SETUP " + base + "/trackID=1" + query + " RTSP/1.0\r\nCSeq: 3\r\nSession: " +
                     session + "\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n");
    read_message(fd, pending);
  }
  send_all(fd, "PLAY " + url + " RTSP/1.0\r\nCSeq: 4\r\nSession: " + session + "\r\n\r\n");
  auto played = read_message(fd, pending);
  if (!played || played->status != 200) {
    std::fprintf(stderr, "PLAY failed\n");
    return 1;
  }
  std::ofstream out(file, std::ios::binary);
  const uint32_t sdp_size = static_cast<uint32_t>(sdp.size());
  out.write(reinterpret_cast<const char*>(&sdp_size), 4);
  out.write(sdp.data(), sdp.size());
  std::vector<uint8_t> carry(pending.begin(), pending.end());
  const auto start = Clock::now();
  std::vector<uint8_t> buf(1 << 20);
  size_t reads = 0;
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    const int64_t at_us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    carry.insert(carry.end(), buf.begin(), buf.begin() + n);
    size_t whole = 0;  // keep whole packets; the rest waits for the next read
    while (whole + 4 <= carry.size() && carry[whole] == '$') {
      const size_t len = (carry[whole + 2] << 8) | carry[whole + 3];
      if (whole + 4 + len > carry.size()) break;
      whole += 4 + len;
    }
    if (whole == 0) continue;
    const uint32_t size = static_cast<uint32_t>(whole);
    out.write(reinterpret_cast<const char*>(&at_us), 8);
    out.write(reinterpret_cast<const char*>(&size), 4);
    out.write(reinterpret_cast<const char*>(carry.data()), whole);
    carry.erase(carry.begin(), carry.begin() + static_cast<ptrdiff_t>(whole));
    ++reads;
  }
  std::printf("recorded %zu reads\n", reads);
  ::close(fd);
  return 0;
}

struct Player {
  int fd;
  bool playing = false;
  bool started = false;  // has had its keyframe
};

std::mutex players_mu;
std::vector<Player*> players;

void serve_player(int fd, const std::string& sdp) {
  auto* player = new Player{fd};
  {
    std::lock_guard lock(players_mu);
    players.push_back(player);
  }
  std::vector<uint8_t> pending;
  for (;;) {
    auto request = read_message(fd, pending);
    if (!request || !request->is_request) break;
    const std::string& method = request->method;
    const std::string& uri = request->uri;
    std::string reply = "RTSP/1.0 200 OK\r\nCSeq: " + header(*request, "CSeq") + "\r\n";
    if (method == "OPTIONS") {
      reply += "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER\r\n\r\n";
    } else if (method == "DESCRIBE") {
      reply += "Content-Base: " + uri.substr(0, uri.find('?')) +
               "/\r\nContent-Type: application/sdp\r\n" +
               "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
    } else if (method == "SETUP") {
      const std::string transport = header(*request, "Transport");
      const auto il = transport.find("interleaved=");
      reply += "Transport: RTP/AVP/TCP;unicast;" +
               (il == std::string::npos ? std::string("interleaved=0-1")
                                        : transport.substr(il, transport.find(';', il) - il)) +
               "\r\nSession: 1\r\n\r\n";
    } else if (method == "PLAY") {
      reply += "Session: 1\r\nRange: npt=0.000-\r\n\r\n";
    } else {
      reply += "Session: 1\r\n\r\n";
    }
    std::lock_guard lock(players_mu);  // a reply never lands inside a burst
    send_all(fd, reply);
    if (method == "PLAY") player->playing = true;
    if (method == "TEARDOWN") break;
  }
  std::lock_guard lock(players_mu);
  players.erase(std::find(players.begin(), players.end(), player));
  ::close(fd);
  delete player;
}

int serve(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  uint32_t sdp_size = 0;
  in.read(reinterpret_cast<char*>(&sdp_size), 4);
  std::string sdp(sdp_size, '\0');
  in.read(sdp.data(), sdp_size);
  std::vector<Read> reads;
  for (;;) {
    Read r{};
    uint32_t size = 0;
    if (!in.read(reinterpret_cast<char*>(&r.at_us), 8) ||
        !in.read(reinterpret_cast<char*>(&size), 4))
      break;
    r.bytes.resize(size);
    if (!in.read(reinterpret_cast<char*>(r.bytes.data()), size)) break;
    r.keyframe = starts_keyframe(r.bytes);
    reads.push_back(std::move(r));
  }
  // The first reads are the player's start (the server's cached GOP at once): begin after it.
  size_t first = 0;
  while (first < reads.size() && (reads[first].at_us < 1'000'000 || !reads[first].keyframe))
    ++first;
  if (first == reads.size()) {
    std::fprintf(stderr, "no keyframe after 1 s in %s\n", file.c_str());
    return 1;
  }

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 128) != 0) {
    std::perror("listen");
    return 1;
  }
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("PORT %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);
  std::thread([listener, &sdp] {
    for (;;) {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      const int nodelay = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
      std::thread(serve_player, fd, sdp).detach();
    }
  }).detach();

  size_t dropped = 0;
  const auto start = Clock::now() - std::chrono::microseconds(reads[first].at_us);
  for (size_t i = first; i < reads.size(); ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(reads[i].at_us));
    std::lock_guard lock(players_mu);
    for (Player* p : players) {
      if (!p->playing || p->fd < 0) continue;
      if (!p->started && !reads[i].keyframe) continue;
      p->started = true;
      const ssize_t n =
          ::send(p->fd, reads[i].bytes.data(), reads[i].bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n != static_cast<ssize_t>(reads[i].bytes.size())) {  // behind: its stream is cut
        ::shutdown(p->fd, SHUT_RDWR);
        p->playing = false;
        ++dropped;
      }
    }
  }
  std::fprintf(stderr, "recording played out; %zu players cut for falling behind\n", dropped);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "record" && argc == 5) return record(argv[2], argv[3], std::stoi(argv[4]));
  if (mode == "serve" && argc == 3) return serve(argv[2]);
  std::fprintf(stderr, "usage: rtsp_floor record URL FILE SECONDS | rtsp_floor serve FILE\n");
  return 2;
}
