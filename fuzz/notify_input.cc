// Fuzz target: what a browser or a camera gives the alarm and notification APIs besides
// JSON: an event list's cursor, a push subscription's endpoint and its base64url keys, a
// webhook's URL, a snooze token, a camera's uploaded picture and its HTTP Basic header.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/device_uploads.h"
#include "common/clock.h"
#include "detect/motion.h"
#include "device_protocol/json_input.h"
#include "events/camera_snapshots.h"
#include "events/event_store.h"
#include "notify/action_tokens.h"
#include "notify/push_channel.h"
#include "notify/web_push.h"
#include "notify/webhooks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto c = nj::events::Cursor::parse(text)) {
    auto again = nj::events::Cursor::parse(c->text());
    if (!again || again->start_ms != c->start_ms || again->id != c->id) __builtin_trap();
  }
  nj::notify::PushTargets targets;
  targets.hosts.push_back("127.0.0.1");
  if (auto origin = nj::notify::push_origin(text, targets)) {
    if (!text.starts_with(*origin)) __builtin_trap();  // the origin is the URL's own start
  }
  if (auto bytes = nj::notify::webpush::from_base64url(text)) {
    auto again = nj::notify::webpush::from_base64url(nj::notify::webpush::base64url(*bytes));
    if (!again || *again != *bytes) __builtin_trap();
    if (bytes->size() == 65) (void)nj::notify::webpush::encrypt("x", *bytes, std::string(16, 'a'));
  }
  if (!nj::notify::webhook_url_error(text)) {
    // A URL it takes has a scheme and a host, and no user info.
    if (!text.starts_with("http://") && !text.starts_with("https://")) __builtin_trap();
    (void)nj::notify::names_private_host(text);
  }
  static const nj::ManualClock clock(1'800'000'000'000);
  static const nj::notify::ActionTokens tokens(std::vector<uint8_t>(32, 1), clock);
  if (auto claim = tokens.check_snooze(text)) {
    // Only what the key signed passes: the same claim minted again is the same token.
    if (tokens.snooze(claim->user_id, claim->device_id).empty()) __builtin_trap();
  }
  (void)nj::events::looks_like_jpeg(text);
  // Detection settings as the owner's browser sends them: what is read writes itself back.
  if (auto j = nj::device_protocol::parse_json(text, {16 * 1024, 6})) {
    if (auto s = nj::detect::read_detection(*j)) {
      auto again = nj::detect::read_detection(nj::detect::to_json(*s));
      if (!again || nj::detect::to_json(*again) != nj::detect::to_json(*s)) __builtin_trap();
    }
  }
  if (auto credentials = nj::api::basic_credentials(text)) {
    if (credentials->first.find(':') != std::string::npos) __builtin_trap();
  }
  return 0;
}
