// Fuzz target: what a browser gives the alarm and push APIs besides JSON: an event list's
// cursor, a push subscription's endpoint and its base64url keys.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/event_store.h"
#include "notify/push_channel.h"
#include "notify/web_push.h"

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
  return 0;
}
