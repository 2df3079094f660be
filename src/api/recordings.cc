#include "api/recordings.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "api/account_json.h"
#include "api/devices.h"
#include "api/fields.h"
#include "common/time.h"
#include "http/json.h"
#include "recording/clip.h"

namespace nj::api {
namespace {

using http::Method;
using http::Request;
using http::Responder;
using http::Response;
using nlohmann::json;

constexpr int64_t kMaxRangeMs = 366ll * 86'400'000;
constexpr int64_t kMaxPlaylistMs = 6ll * 3'600'000;
constexpr int64_t kMaxClipMs = 24ll * 3'600'000;

// from and to of the request: RFC 3339 or Unix ms; defaults given.
Result<std::pair<int64_t, int64_t>, Response> time_range(const Request& r, int64_t default_from,
                                                         int64_t default_span, int64_t max_span) {
  const auto parse = [&](const char* name) -> Result<std::optional<int64_t>, Response> {
    const auto text = r.query_param(name);
    if (!text) return std::optional<int64_t>();
    const auto t = parse_time_param(*text);
    if (!t) {
      return Unexpected(invalid_field(name, "a time in RFC 3339 or Unix milliseconds"));
    }
    return std::optional<int64_t>(t->time_since_epoch().count());
  };
  auto from = parse("from");
  if (!from) return Unexpected(std::move(from).error());
  auto to = parse("to");
  if (!to) return Unexpected(std::move(to).error());
  const int64_t f = from->value_or(to->has_value() ? **to - default_span : default_from);
  const int64_t t = to->value_or(f + default_span);
  if (t <= f) return Unexpected(invalid_field("to", "to must be after from"));
  if (t - f > max_span) return Unexpected(invalid_field("to", "the range is too long"));
  return std::make_pair(f, t);
}

json span_json(const recording::Span& s) {
  return {{"start", rfc3339_ms(s.start_ms)}, {"end", rfc3339_ms(s.end_ms)}};
}

std::string seconds(uint64_t ticks) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ticks) / recording::kTicksPerSecond);
  return buf;
}

}  // namespace

std::string playback_playlist(const std::vector<recording::Segment>& segments, int64_t from_ms,
                              int64_t to_ms,
                              const std::function<std::string(const recording::Segment&)>& uri) {
  struct Item {
    const recording::Segment* segment;
    uint64_t offset, start_ticks;
    recording::FragmentEntry entry;
  };
  std::vector<Item> items;
  for (const auto& s : segments) {
    if (s.end_ms <= from_ms || s.start_ms >= to_ms || s.fragments.empty()) continue;
    // Where the range starts within this segment, in ticks from its start.
    const uint64_t from_ticks =
        from_ms > s.start_ms ? static_cast<uint64_t>(from_ms - s.start_ms) * 90 : 0;
    const auto first = items.empty() ? recording::seek(s.fragments, s.init_size, from_ticks)
                                     : std::optional<recording::FragmentPosition>(
                                           recording::FragmentPosition{0, s.init_size, 0});
    if (!first) continue;
    uint64_t offset = first->offset, start = first->start_ticks;
    for (size_t i = first->index; i < s.fragments.size(); ++i) {
      if (s.start_ms + static_cast<int64_t>(start / 90) >= to_ms) break;
      items.push_back({&s, offset, start, s.fragments[i]});
      offset += s.fragments[i].size;
      start += s.fragments[i].duration;
    }
  }
  if (items.empty()) return {};
  uint32_t longest = 0;
  for (const auto& i : items) longest = std::max(longest, i.entry.duration);
  std::string out = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n";
  out += "#EXT-X-TARGETDURATION:" +
         std::to_string(static_cast<int>(std::ceil(static_cast<double>(longest) / 90'000))) + "\n";
  // Begin at the requested instant, not at the keyframe before it.
  const auto& head = items.front();
  const int64_t head_ms = head.segment->start_ms + static_cast<int64_t>(head.start_ticks / 90);
  if (from_ms > head_ms) {
    out += "#EXT-X-START:TIME-OFFSET=" + seconds(static_cast<uint64_t>(from_ms - head_ms) * 90) +
           ",PRECISE=YES\n";
  }
  const recording::Segment* current = nullptr;
  for (const auto& i : items) {
    if (i.segment != current) {
      // Another run: the media timeline restarts its count; say so.
      if (current && current->run_id != i.segment->run_id) out += "#EXT-X-DISCONTINUITY\n";
      out += "#EXT-X-MAP:URI=\"" + uri(*i.segment) + "\",BYTERANGE=\"" +
             std::to_string(i.segment->init_size) + "@0\"\n";
      out += "#EXT-X-PROGRAM-DATE-TIME:" +
             rfc3339_ms(i.segment->start_ms + static_cast<int64_t>(i.start_ticks / 90)) + "\n";
      current = i.segment;
    }
    out += "#EXTINF:" + seconds(i.entry.duration) + ",\n";
    out += "#EXT-X-BYTERANGE:" + std::to_string(i.entry.size) + "@" + std::to_string(i.offset) +
           "\n" + uri(*i.segment) + "\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

std::shared_ptr<http::BodySource> streamed_download(
    uint64_t first, uint64_t length, std::function<bool()> allowed,
    std::function<std::optional<std::vector<uint8_t>>(uint64_t at, uint64_t n)> read) {
  auto body = std::make_shared<http::BodySource>();
  body->size = length;
  body->read = [first, allowed = std::move(allowed), read = std::move(read)](
                   uint64_t offset, size_t max) -> std::optional<std::string> {
    if (!allowed()) return std::nullopt;
    auto bytes = read(first + offset, max);
    if (!bytes || bytes->size() != max) return std::nullopt;
    return std::string(bytes->begin(), bytes->end());
  };
  return body;
}

Result<std::optional<ByteRange>, std::string> parse_range(std::optional<std::string_view> header,
                                                          uint64_t size) {
  if (!header) return std::optional<ByteRange>();
  std::string_view h = *header;
  if (!h.starts_with("bytes=") || h.find(',') != std::string_view::npos) {
    return Unexpected(std::string("one bytes= range is served"));
  }
  h.remove_prefix(6);
  const auto dash = h.find('-');
  if (dash == std::string_view::npos || size == 0) return Unexpected(std::string("bad range"));
  const auto number = [](std::string_view t) -> std::optional<uint64_t> {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size() || t.empty()) return std::nullopt;
    return v;
  };
  const auto a = h.substr(0, dash), b = h.substr(dash + 1);
  ByteRange r;
  if (a.empty()) {  // the last n bytes
    const auto n = number(b);
    if (!n || *n == 0) return Unexpected(std::string("bad range"));
    r.first = size - std::min(*n, size);
    r.last = size - 1;
  } else {
    const auto first = number(a);
    if (!first || *first >= size) return Unexpected(std::string("the range starts past the end"));
    r.first = *first;
    if (b.empty()) {
      r.last = size - 1;
    } else {
      const auto last = number(b);
      if (!last || *last < *first) return Unexpected(std::string("bad range"));
      r.last = std::min(*last, size - 1);
    }
  }
  return std::optional<ByteRange>(r);
}

std::function<bool()> RecordingsApi::still_allowed(const Request& r,
                                                   const std::string& device_id) const {
  auto who = guard_.identify(r);
  if (!who) return [] { return false; };
  return [this, user = who->user_id, device_id] {
    auto owned = devices_.get(user, device_id);
    return owned && owned->role >= device::Role::kFamily;
  };
}

void RecordingsApi::log_access(const Request& r, const device::Device& d, const char* kind) {
  if (!trail_) return;
  auto who = guard_.identify(r);
  if (!who) return;
  trail_({kind, {}, d.id, who->user_id, who->session_id, {}, d.binding_generation});
}

void RecordingsApi::install(http::Router& router) {
  router.add_async(
      Method::kGet, "/api/v1/devices/{id}/recordings",
      [this](Request& r, const Responder& respond) {
        auto owned = device_for(guard_, devices_, r, respond, device::Role::kFamily);
        if (!owned) return;
        const int64_t now = clock_.now_ms();
        auto range = time_range(r, now - 86'400'000, 86'400'000, kMaxRangeMs);
        if (!range) return respond(std::move(range).error());
        const auto [from, to] = *range;
        const auto segments = catalog_.between(owned->device.id, from, to, false);
        const auto spans = recording::spans_of(segments, from, to);
        json out = {{"from", rfc3339_ms(from)}, {"to", rfc3339_ms(to)}};
        out["spans"] = json::array();
        for (const auto& s : spans) out["spans"].push_back(span_json(s));
        out["gaps"] = json::array();
        for (const auto& g : recording::gaps_of(spans, from, to))
          out["gaps"].push_back(span_json(g));
        // When the camera was in privacy mode: a gap on purpose, shown as such.
        out["privacy"] = json::array();
        // Only this binding's: nothing from before the camera was bound to its owner.
        const int64_t since = std::max(from, owned->device.bound_at.value_or(from));
        for (const auto& p : devices_.registry().privacy_periods(owned->device.id, since, to)) {
          const int64_t start = std::max(p.start_ms, since);
          const int64_t end = std::min(p.end_ms.value_or(to), to);
          if (end > start) {
            out["privacy"].push_back({{"start", rfc3339_ms(start)}, {"end", rfc3339_ms(end)}});
          }
        }
        out["stored_bytes"] = catalog_.bytes_of(owned->device.id);  // space accounting
        if (auto plan = plans_.in_force(owned->device.id)) {
          out["plan"] = {{"name", plan->plan.name},
                         {"mode", plan->plan.mode},
                         {"retention_days", plan->plan.retention_days},
                         {"ends_at", rfc3339_ms(plan->grant.ends_at)}};
          if (plan->plan.mode == "events") {
            out["plan"]["pre_roll_s"] = plan->plan.pre_roll_s;
            out["plan"]["post_roll_s"] = plan->plan.post_roll_s;
          }
        } else {
          out["plan"] = nullptr;
        }
        // Whether recording goes on now: a full store pauses it (the person
        // is told, not left to find a gap later).
        out["recorder"] = nullptr;
        if (auto st = recorder_status_ ? recorder_status_(owned->device.id) : std::nullopt) {
          const char* state = st->paused                     ? "paused"
                              : st->live                     ? "recording"
                              : owned->device.privacy_mode() ? "privacy"
                                                             : "waiting";
          out["recorder"] = {{"state", state}};
          // The operator's log has the detail (paths and errors stay there).
          if (st->paused) out["recorder"]["reason"] = "storage";
        }
        Response res = http::json_response(200, out);
        res.headers.set("Cache-Control", "no-store");
        respond(std::move(res));
      });

  router.add_async(
      Method::kGet, "/api/v1/devices/{id}/playback.m3u8",
      [this](Request& r, const Responder& respond) {
        auto owned = device_for(guard_, devices_, r, respond, device::Role::kFamily);
        if (!owned) return;
        log_access(r, owned->device, "playback");
        const int64_t now = clock_.now_ms();
        auto range = time_range(r, now - 3'600'000, 3'600'000, kMaxPlaylistMs);
        if (!range) return respond(std::move(range).error());
        const auto [from, to] = *range;
        const auto segments = catalog_.between(owned->device.id, from, to, true);
        const auto playlist =
            playback_playlist(segments, from, to, [](const recording::Segment& s) {
              return "recordings/" + std::to_string(s.id) + ".mp4";
            });
        if (playlist.empty()) {
          return respond(http::error_response(404, "not_recorded", "nothing is recorded then"));
        }
        Response res = http::text_response(200, playlist, "application/vnd.apple.mpegurl");
        res.headers.set("Cache-Control", "no-store");
        respond(std::move(res));
      });

  router.add_async(
      Method::kGet, "/api/v1/devices/{id}/clip.mp4", [this](Request& r, const Responder& respond) {
        auto owned = device_for(guard_, devices_, r, respond, device::Role::kFamily);
        if (!owned) return;
        log_access(r, owned->device, "export");
        if (!r.query_param("from") || !r.query_param("to")) {
          return respond(invalid_field("from", "a clip needs from and to"));
        }
        auto range = time_range(r, 0, 0, kMaxClipMs);
        if (!range) return respond(std::move(range).error());
        const auto [from, to] = *range;
        const auto segments = catalog_.between(owned->device.id, from, to, true);
        auto plan = recording::plan_clip(store_, keys_, segments, from, to);
        if (!plan) return respond(http::error_response(404, "not_recorded", plan.error()));
        auto bytes_range = parse_range(r.headers.get("Range"), plan->size);
        if (!bytes_range) {
          Response res = http::error_response(416, "range_not_satisfiable", bytes_range.error());
          res.headers.set("Content-Range", "bytes */" + std::to_string(plan->size));
          return respond(std::move(res));
        }
        const uint64_t first = *bytes_range ? (*bytes_range)->first : 0;
        const uint64_t last = *bytes_range ? (*bytes_range)->last : plan->size - 1;
        // Read now, so that a clip that cannot be read is an error, not a cut download.
        if (!recording::read_clip(*plan, first, std::min<uint64_t>(last - first + 1, 1))) {
          return respond(http::error_response(500, "internal", "the recording cannot be read"));
        }
        auto shared_plan = std::make_shared<const recording::ClipPlan>(std::move(*plan));
        Response res{*bytes_range ? 206 : 200, {}, {}};
        res.stream = streamed_download(
            first, last - first + 1, still_allowed(r, owned->device.id),
            [this, shared_plan](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
              auto bytes = recording::read_clip(*shared_plan, at, n);
              if (!bytes) return std::nullopt;
              return std::move(*bytes);
            });
        res.headers.set("Content-Type", "video/mp4");
        res.headers.set("Accept-Ranges", "bytes");
        res.headers.set("Cache-Control", "no-store");
        res.headers.set("Content-Disposition", "attachment; filename=\"" + owned->device.serial +
                                                   "-" + std::to_string(shared_plan->start_ms) +
                                                   ".mp4\"");
        res.headers.set("X-Clip-Start", rfc3339_ms(shared_plan->start_ms));
        res.headers.set("X-Clip-End", rfc3339_ms(shared_plan->end_ms));
        if (*bytes_range) {
          res.headers.set("Content-Range", "bytes " + std::to_string(first) + "-" +
                                               std::to_string(last) + "/" +
                                               std::to_string(shared_plan->size));
        }
        respond(std::move(res));
      });

  router.add_async(
      Method::kGet, "/api/v1/devices/{id}/recordings/{file}",
      [this](Request& r, const Responder& respond) {
        auto owned = device_for(guard_, devices_, r, respond, device::Role::kFamily);
        if (!owned) return;
        log_access(r, owned->device, "playback");
        const std::string file = r.params.at("file");
        std::optional<recording::Segment> segment;
        if (file.size() > 4 && file.ends_with(".mp4")) {
          int64_t id = 0;
          const char* digits_end = file.data() + file.size() - 4;
          auto [end, ec] = std::from_chars(file.data(), digits_end, id);
          if (ec == std::errc() && end == digits_end) segment = catalog_.by_id(id);
        }
        // Another device's segment is as unknown as one that does not exist.
        if (!segment || segment->device_id != owned->device.id) {
          return respond(http::error_response(404, "not_found", "no such recording"));
        }
        const uint64_t size = segment->bytes;
        auto range = parse_range(r.headers.get("Range"), size);
        if (!range) {
          Response res = http::error_response(416, "range_not_satisfiable", range.error());
          res.headers.set("Content-Range", "bytes */" + std::to_string(size));
          return respond(std::move(res));
        }
        const uint64_t first = *range ? (*range)->first : 0;
        const uint64_t last = *range ? (*range)->last : size - 1;
        const auto on_disk = store_.size(segment->store_key);
        if (!on_disk && !on_disk.error().starts_with(recording::kNoFile)) {
          return respond(storage_unavailable());
        }
        if (!on_disk || *on_disk < recording::stored_size(*segment)) {
          return respond(http::error_response(500, "internal", "the recording cannot be read"));
        }
        auto reader = recording::open_segment(store_, *segment, keys_);
        if (!reader->read(first, 1)) {
          // The store did not answer (a bucket away: try again), or a sealed recording whose
          // key is gone (its binding ended), which exists for no one.
          const auto probe = store_.read(segment->store_key, 0, 1);
          if (!probe && !probe.error().starts_with(recording::kNoFile)) {
            return respond(storage_unavailable());
          }
          return respond(http::error_response(404, "not_found", "no such recording"));
        }
        Response res{*range ? 206 : 200, {}, {}};
        res.stream = streamed_download(
            first, last - first + 1, still_allowed(r, owned->device.id),
            [reader](uint64_t at, uint64_t n) -> std::optional<std::vector<uint8_t>> {
              auto bytes = reader->read(at, n);
              if (!bytes) return std::nullopt;
              return std::move(*bytes);
            });
        res.headers.set("Content-Type", "video/mp4");
        res.headers.set("Accept-Ranges", "bytes");
        res.headers.set("Cache-Control", "no-store");  // nobody's home video in a cache
        if (*range) {
          res.headers.set("Content-Range", "bytes " + std::to_string(first) + "-" +
                                               std::to_string(last) + "/" + std::to_string(size));
        }
        respond(std::move(res));
      });
}

}  // namespace nj::api
