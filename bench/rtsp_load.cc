// The media load tool: many RTSP pushers, RTSP players and WebSocket-fMP4 viewers from one
// process, on our own RTSP client, so that 200 cameras or 1,000 viewers cost the machine
// far less than the server they load (one ffmpeg pusher costs ~0.9% of a core here).
//
//   rtsp_load record --url rtsp://…/live/X?token=T --seconds 12 --out clip.njclip
//       plays a stream and keeps its RTP packets, from a keyframe to just before the last
//       keyframe, so the clip loops seamlessly;
//   rtsp_load run --clip clip.njclip --seconds 20 [--push-urls F] [--play-urls F]
//       [--ws-urls F] [--threads N] [--stagger-ms M]
//       replays the clip to every push URL (one per line, in real time, looping with
//       continuous sequence numbers and timestamps), plays every RTSP URL and opens every
//       WebSocket URL (M ms apart), then reports what arrived and how soon the first frame
//       did.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "media/rtp/h264.h"
#include "media/rtp/packet.h"
#include "media/rtsp/client_io.h"
#include "media/sdp/sdp.h"
#include "net/io_pool.h"
#include "net/io_pool_impl.h"

namespace {

namespace asio = boost::asio;
namespace ws = boost::beast::websocket;
using nj::media::rtsp::ClientLink;
using nj::media::rtsp::ClientSession;
using nj::media::rtsp::LinkHooks;
using Clock = std::chrono::steady_clock;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

struct ClipPacket {
  int track = 0;
  int64_t offset_us = 0;  // from the clip's start
  std::vector<uint8_t> bytes;
};

struct Clip {
  std::string sdp;
  std::vector<ClipPacket> packets;
  int64_t period_us = 0;                 // one loop, wall time
  std::map<int, uint32_t> loop_ticks;    // per track: RTP ticks one loop advances
  std::map<int, uint16_t> loop_packets;  // per track: sequence numbers one loop uses
  int video_track = -1;
};

constexpr char kMagic[] = "NJCLIP1\n";

bool save(const Clip& clip, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  out.write(kMagic, 8);
  u32(static_cast<uint32_t>(clip.sdp.size()));
  out.write(clip.sdp.data(), static_cast<std::streamsize>(clip.sdp.size()));
  u32(static_cast<uint32_t>(clip.period_us));
  for (const auto& p : clip.packets) {
    out.put(static_cast<char>(p.track));
    u32(static_cast<uint32_t>(p.offset_us));
    u32(static_cast<uint32_t>(p.bytes.size()));
    out.write(reinterpret_cast<const char*>(p.bytes.data()),
              static_cast<std::streamsize>(p.bytes.size()));
  }
  return static_cast<bool>(out);
}

// Loop lengths per track from the packets: the span of their timestamps plus one step.
void derive_loop(Clip& clip) {
  std::map<int, std::vector<const ClipPacket*>> by_track;
  for (const auto& p : clip.packets) by_track[p.track].push_back(&p);
  for (auto& [track, packets] : by_track) {
    auto first = nj::media::rtp::parse(packets.front()->bytes);
    auto last = nj::media::rtp::parse(packets.back()->bytes);
    if (!first || !last) continue;
    uint32_t step = 0;  // the last distinct timestamp step
    uint32_t previous = first->timestamp;
    for (const auto* p : packets) {
      auto parsed = nj::media::rtp::parse(p->bytes);
      if (parsed && parsed->timestamp != previous) {
        step = parsed->timestamp - previous;
        previous = parsed->timestamp;
      }
    }
    clip.loop_ticks[track] = last->timestamp - first->timestamp + step;
    clip.loop_packets[track] = static_cast<uint16_t>(packets.size());
  }
}

std::optional<Clip> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return std::nullopt;
  auto u32 = [&]() {
    uint32_t v = 0;
    in.read(reinterpret_cast<char*>(&v), 4);
    return v;
  };
  Clip clip;
  clip.sdp.resize(u32());
  in.read(clip.sdp.data(), static_cast<std::streamsize>(clip.sdp.size()));
  clip.period_us = u32();
  while (true) {
    const int track = in.get();
    if (track == EOF) break;
    ClipPacket p;
    p.track = track;
    p.offset_us = u32();
    p.bytes.resize(u32());
    if (p.bytes.size() > 65535 || !in.read(reinterpret_cast<char*>(p.bytes.data()),
                                           static_cast<std::streamsize>(p.bytes.size()))) {
      return std::nullopt;
    }
    clip.packets.push_back(std::move(p));
  }
  auto session = nj::media::sdp::parse(clip.sdp);
  if (!session || clip.packets.empty()) return std::nullopt;
  for (size_t i = 0; i < session->media.size(); ++i) {
    if (session->media[i].type == "video" && clip.video_track < 0) {
      clip.video_track = static_cast<int>(i);
    }
  }
  derive_loop(clip);
  return clip;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  if (path.empty()) return lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// ---- record ---------------------------------------------------------------------------

int record(const std::string& url, int seconds, const std::string& out_path) {
  auto parsed = nj::media::rtsp::parse_client_url(url);
  if (!parsed) {
    std::cerr << "bad URL: " << parsed.error() << "\n";
    return 2;
  }
  nj::net::IoPool pool(1);
  pool.start();
  std::mutex mu;
  Clip clip;
  int64_t start = 0;
  std::string error;
  std::atomic<bool> done{false};
  LinkHooks hooks;
  hooks.described = [&](const nj::media::sdp::Session& s) {
    std::lock_guard lock(mu);
    clip.sdp = nj::media::sdp::write(s);
    std::vector<int> all;
    for (size_t i = 0; i < s.media.size(); ++i) {
      all.push_back(static_cast<int>(i));
      if (s.media[i].type == "video" && clip.video_track < 0)
        clip.video_track = static_cast<int>(i);
    }
    return all;
  };
  hooks.media = [&](int track, bool rtcp, std::span<const uint8_t> packet) {
    if (rtcp) return;
    std::lock_guard lock(mu);
    if (start == 0) start = now_us();
    clip.packets.push_back({track, now_us() - start, {packet.begin(), packet.end()}});
  };
  hooks.closed = [&](const std::string& why) {
    std::lock_guard lock(mu);
    error = why;
    done = true;
  };
  auto link = ClientLink::open(pool, *parsed, ClientSession::Mode::kPlay, std::move(hooks));
  for (int i = 0; i < seconds * 10 && !done; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  link->close();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pool.shutdown();
  if (clip.packets.empty()) {
    std::cerr << "nothing received: " << error << "\n";
    return 1;
  }
  // Keyframe starts on the video track, by depacketizing what came.
  std::vector<uint32_t> keyframe_timestamps;
  nj::media::rtp::H264Depacketizer depacketizer([&](nj::media::rtp::H264AccessUnit&& au) {
    if (au.keyframe) keyframe_timestamps.push_back(static_cast<uint32_t>(au.timestamp));
  });
  for (const auto& p : clip.packets) {
    if (p.track != clip.video_track) continue;
    if (auto parsed_packet = nj::media::rtp::parse(p.bytes)) depacketizer.push(*parsed_packet);
  }
  depacketizer.flush();
  // The first GOP came from the server's cache, faster than real time: start at the second
  // keyframe, where arrival times are the camera's pace.
  if (keyframe_timestamps.size() < 3) {
    std::cerr << "need three keyframes in the recording; record longer\n";
    return 1;
  }
  auto first_packet_of = [&](uint32_t ts) {
    for (size_t i = 0; i < clip.packets.size(); ++i) {
      const auto& p = clip.packets[i];
      if (p.track != clip.video_track) continue;
      auto parsed_packet = nj::media::rtp::parse(p.bytes);
      if (parsed_packet && parsed_packet->timestamp == ts) return i;
    }
    return clip.packets.size();
  };
  const size_t begin = first_packet_of(keyframe_timestamps[1]);
  const size_t end = first_packet_of(keyframe_timestamps.back());
  std::vector<ClipPacket> kept(clip.packets.begin() + static_cast<ptrdiff_t>(begin),
                               clip.packets.begin() + static_cast<ptrdiff_t>(end));
  const int64_t base = kept.front().offset_us;
  for (auto& p : kept) p.offset_us -= base;
  // One loop lasts exactly what the video's timestamps say (arrival times jitter).
  clip.period_us =
      static_cast<int64_t>(keyframe_timestamps.back() - keyframe_timestamps[1]) * 1000 / 90;
  clip.packets = std::move(kept);
  if (!save(clip, out_path)) {
    std::cerr << "cannot write " << out_path << "\n";
    return 1;
  }
  std::cout << "recorded " << clip.packets.size() << " packets, " << clip.period_us / 1000
            << " ms per loop, " << keyframe_timestamps.size() - 2 << " GOPs\n";
  return 0;
}

// ---- run ------------------------------------------------------------------------------

struct Stats {
  std::mutex mu;
  std::vector<double> first_frame_ms;       // ready/open → first complete keyframe
  std::vector<double> connect_to_frame_ms;  // connect start → first complete keyframe
  uint64_t frames = 0, bytes = 0;
  size_t streaming = 0, failed = 0;
  std::map<std::string, int> errors;
  void error(const std::string& why) {
    std::lock_guard lock(mu);
    ++failed;
    if (errors.size() < 8 || errors.count(why)) ++errors[why];
  }
};

struct Pusher {
  const Clip* clip = nullptr;
  std::shared_ptr<ClientLink> link;
  std::atomic<bool> ready{false};
  std::atomic<bool> posted{false};
  std::atomic<int64_t> next_due_us{INT64_MAX};
  // On the link's loop only:
  int64_t start_us = 0;
  size_t index = 0;
  uint32_t loop = 0;
  uint32_t ssrc_salt = 0;
  std::vector<uint8_t> scratch;

  void send_due() {
    posted = false;
    const int64_t now = now_us();
    while (link->writable()) {
      const auto& p = clip->packets[index];
      const int64_t due = start_us + static_cast<int64_t>(loop) * clip->period_us + p.offset_us;
      if (due > now) {
        next_due_us = due;
        return;
      }
      // Same packet, later: shift its sequence number and timestamp by whole loops.
      scratch = p.bytes;
      const uint16_t seq = static_cast<uint16_t>(((scratch[2] << 8) | scratch[3]) +
                                                 loop * clip->loop_packets.at(p.track));
      scratch[2] = static_cast<uint8_t>(seq >> 8);
      scratch[3] = static_cast<uint8_t>(seq);
      uint32_t ts = (uint32_t{scratch[4]} << 24) | (uint32_t{scratch[5]} << 16) |
                    (uint32_t{scratch[6]} << 8) | scratch[7];
      ts += loop * clip->loop_ticks.at(p.track);
      for (int i = 0; i < 4; ++i) scratch[4 + i] = static_cast<uint8_t>(ts >> (24 - 8 * i));
      scratch[11] ^= static_cast<uint8_t>(ssrc_salt);
      link->send_media(p.track, false, scratch);
      if (++index == clip->packets.size()) {
        index = 0;
        ++loop;
      }
    }
    next_due_us = now + 1000;  // the send queue is full: look again soon
  }
};

void percentiles(const char* label, std::vector<double> v) {
  if (v.empty()) {
    std::printf("%s: none\n", label);
    return;
  }
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  std::printf("%s: n=%zu p50=%.2f ms p95=%.2f ms p99=%.2f ms max=%.2f ms\n", label, v.size(),
              at(0.5), at(0.95), at(0.99), v.back());
}

asio::awaitable<void> ws_viewer(std::string url, Stats& stats, std::atomic<bool>& stop) {
  // ws://127.0.0.1:PORT/path
  const auto rest = url.substr(5);
  const auto slash = rest.find('/');
  const auto hostport = rest.substr(0, slash);
  const auto colon = hostport.rfind(':');
  const auto host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  const auto target = rest.substr(slash);
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  ws::stream<asio::ip::tcp::socket> socket(executor);
  constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
  const int64_t t0 = now_us();
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, tuple);
  if (rec) co_return stats.error("resolve: " + rec.message());
  auto [cec, ep] = co_await asio::async_connect(socket.next_layer(), endpoints, tuple);
  if (cec) co_return stats.error("connect: " + cec.message());
  auto [hec] = co_await socket.async_handshake(host, target, tuple);
  if (hec) co_return stats.error("handshake: " + hec.message());
  const int64_t opened = now_us();
  {
    std::lock_guard lock(stats.mu);
    ++stats.streaming;
  }
  boost::beast::flat_buffer buffer;
  int binary = 0;
  uint64_t frames = 0, bytes = 0;
  while (!stop) {
    auto [ec, n] = co_await socket.async_read(buffer, tuple);
    if (ec) {
      if (!stop) stats.error("read: " + ec.message());
      break;
    }
    if (socket.got_binary()) {
      ++binary;
      bytes += n;
      if (binary >= 2) ++frames;
      if (binary == 2) {  // the init segment, then the keyframe's fragment
        std::lock_guard lock(stats.mu);
        stats.first_frame_ms.push_back((now_us() - opened) / 1000.0);
        stats.connect_to_frame_ms.push_back((now_us() - t0) / 1000.0);
      }
    }
    buffer.consume(buffer.size());
  }
  std::lock_guard lock(stats.mu);
  stats.frames += frames;
  stats.bytes += bytes;
}

int run(const Clip& clip, int seconds, const std::vector<std::string>& push_urls,
        const std::vector<std::string>& play_urls, const std::vector<std::string>& ws_urls,
        size_t threads, int stagger_ms) {
  auto stagger = [stagger_ms] {
    if (stagger_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(stagger_ms));
  };
  nj::net::IoPool pool(threads);
  pool.start();
  Stats push_stats, play_stats, ws_stats;
  std::atomic<bool> stop{false};

  // Pushers, started a little apart so that their keyframes do not all coincide.
  std::vector<std::unique_ptr<Pusher>> pushers;
  for (size_t i = 0; i < push_urls.size(); ++i) {
    auto url = nj::media::rtsp::parse_client_url(push_urls[i]);
    if (!url) {
      push_stats.error(url.error());
      continue;
    }
    auto pusher = std::make_unique<Pusher>();
    pusher->clip = &clip;
    pusher->ssrc_salt = static_cast<uint32_t>(i);
    Pusher* raw = pusher.get();
    LinkHooks hooks;
    hooks.ready = [raw, &push_stats, i, n = push_urls.size(), &clip] {
      raw->start_us =
          now_us() + static_cast<int64_t>(i) * clip.period_us / 2 / std::max<size_t>(n, 1);
      raw->next_due_us = raw->start_us;
      raw->ready = true;
      std::lock_guard lock(push_stats.mu);
      ++push_stats.streaming;
    };
    hooks.writable = [raw] { raw->send_due(); };
    hooks.closed = [raw, &push_stats, &stop](const std::string& why) {
      raw->ready = false;
      if (!stop) push_stats.error(why);
    };
    pusher->link =
        ClientLink::open(pool, *url, ClientSession::Mode::kPush, std::move(hooks), clip.sdp);
    pushers.push_back(std::move(pusher));
  }
  // One pacing thread: posts a send to each pusher whose next packet is due.
  std::thread pacer([&] {
    while (!stop) {
      const int64_t now = now_us();
      for (auto& p : pushers) {
        if (p->ready && !p->posted && p->next_due_us <= now) {
          p->posted = true;
          p->link->post([raw = p.get()] {
            if (raw->ready) raw->send_due();
          });
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  // RTSP players.
  std::vector<std::shared_ptr<ClientLink>> players;
  struct PlayerState {
    int64_t t0 = 0, ready_at = 0;
    bool first = false;
    uint64_t frames = 0, bytes = 0;
    int video = -1;
  };
  std::vector<std::unique_ptr<PlayerState>> player_states;
  for (const auto& u : play_urls) {
    auto url = nj::media::rtsp::parse_client_url(u);
    if (!url) {
      play_stats.error(url.error());
      continue;
    }
    auto state = std::make_unique<PlayerState>();
    PlayerState* s = state.get();
    s->t0 = now_us();
    LinkHooks hooks;
    hooks.described = [s](const nj::media::sdp::Session& sdp) {
      std::vector<int> all;
      for (size_t i = 0; i < sdp.media.size(); ++i) {
        all.push_back(static_cast<int>(i));
        if (sdp.media[i].type == "video" && s->video < 0) s->video = static_cast<int>(i);
      }
      return all;
    };
    hooks.ready = [s, &play_stats] {
      s->ready_at = now_us();
      std::lock_guard lock(play_stats.mu);
      ++play_stats.streaming;
    };
    hooks.media = [s, &play_stats](int track, bool rtcp, std::span<const uint8_t> packet) {
      if (rtcp) return;
      s->bytes += packet.size();
      if (track == s->video && packet.size() > 1 && (packet[1] & 0x80)) {
        ++s->frames;
        if (!s->first) {
          s->first = true;
          std::lock_guard lock(play_stats.mu);
          play_stats.first_frame_ms.push_back((now_us() - s->ready_at) / 1000.0);
          play_stats.connect_to_frame_ms.push_back((now_us() - s->t0) / 1000.0);
        }
      }
    };
    hooks.closed = [&play_stats, &stop](const std::string& why) {
      if (!stop) play_stats.error(why);
    };
    players.push_back(ClientLink::open(pool, *url, ClientSession::Mode::kPlay, std::move(hooks)));
    player_states.push_back(std::move(state));
    stagger();
  }

  // WebSocket viewers.
  for (const auto& u : ws_urls) {
    asio::co_spawn(pool.impl().next_context(), ws_viewer(u, ws_stats, stop), asio::detached);
    stagger();
  }

  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  stop = true;
  pacer.join();
  for (auto& p : pushers) p->link->close();
  for (auto& l : players) l->close();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pool.shutdown();

  auto cpu_s = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  for (const auto& s : player_states) {
    play_stats.frames += s->frames;
    play_stats.bytes += s->bytes;
  }
  auto report = [](const char* label, size_t wanted, Stats& s) {
    if (wanted == 0) return;
    std::printf("%s: %zu of %zu streaming, %zu failures, %llu frames, %.1f MB\n", label,
                s.streaming, wanted, s.failed, static_cast<unsigned long long>(s.frames),
                s.bytes / 1e6);
    for (const auto& [why, n] : s.errors) std::printf("  %dx %s\n", n, why.c_str());
  };
  report("pushers", push_urls.size(), push_stats);
  report("rtsp players", play_urls.size(), play_stats);
  report("ws viewers", ws_urls.size(), ws_stats);
  if (!play_urls.empty()) {
    percentiles("rtsp first keyframe after PLAY answered", play_stats.first_frame_ms);
    percentiles("rtsp first keyframe after connect", play_stats.connect_to_frame_ms);
  }
  if (!ws_urls.empty()) {
    percentiles("ws first keyframe after open", ws_stats.first_frame_ms);
    percentiles("ws first keyframe after connect", ws_stats.connect_to_frame_ms);
  }
  std::printf("load tool CPU: %.2f%% of one core\n",
              (cpu_s(after) - cpu_s(before)) / seconds * 100.0);
  return push_stats.failed + play_stats.failed + ws_stats.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  if (argc < 2) {
    std::cerr << "usage: rtsp_load record|run [--key value]…\n";
    return 2;
  }
  const std::string mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  auto arg = [&](const std::string& k, const std::string& d = "") {
    auto it = args.find(k);
    return it == args.end() ? d : it->second;
  };
  if (mode == "record") {
    return record(arg("--url"), std::stoi(arg("--seconds", "12")), arg("--out", "clip.njclip"));
  }
  if (mode == "run") {
    auto clip = load(arg("--clip"));
    if (!clip && !arg("--push-urls").empty()) {
      std::cerr << "cannot read the clip " << arg("--clip") << "\n";
      return 2;
    }
    static Clip empty;
    return run(clip ? *clip : empty, std::stoi(arg("--seconds", "20")),
               read_lines(arg("--push-urls")), read_lines(arg("--play-urls")),
               read_lines(arg("--ws-urls")), std::stoul(arg("--threads", "1")),
               std::stoi(arg("--stagger-ms", "0")));
  }
  std::cerr << "unknown mode " << mode << "\n";
  return 2;
}
