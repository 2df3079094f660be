#include "events/snapshot_files.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

namespace nj::events {
namespace {

bool safe_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
  });
}

}  // namespace

std::optional<std::filesystem::path> SnapshotFiles::path(std::string_view device_id,
                                                         std::string_view event_id) const {
  if (!safe_id(device_id) || !safe_id(event_id)) return std::nullopt;
  return dir_of(device_id) / std::string(device_id) / (std::string(event_id) + ".jpg");
}

static std::string key_of(std::string_view device_id, std::string_view event_id) {
  return std::string(device_id) + "/" + std::string(event_id) + ".jpg";
}

std::string SnapshotFiles::context(std::string_view device_id, std::string_view event_id) {
  return "nightjar-event-picture\n" + std::string(device_id) + "\n" + std::string(event_id);
}

bool SnapshotFiles::write(std::string_view device_id, std::string_view event_id,
                          std::string_view jpeg) {
  auto p = path(device_id, event_id);
  if (!p) return false;
  std::string sealed;
  if (key_for_) {
    auto key = key_for_(device_id, true);
    if (!key) return false;  // no binding, no key: nothing is written in the clear
    sealed = keys::seal(*key, context(device_id, event_id), jpeg);
    jpeg = sealed;
  }
  if (auto* store = store_of(device_id)) {
    const auto key = key_of(device_id, event_id);
    store->remove(key);  // a picture written again replaces the old one, never adds to it
    const auto* data = reinterpret_cast<const uint8_t*>(jpeg.data());
    const bool put =
        store->append(key, std::span<const uint8_t>(data, jpeg.size()), false).has_value();
    store->close(key);
    return put;
  }
  std::error_code ec;
  std::filesystem::create_directories(p->parent_path(), ec);
  if (ec) return false;
  const auto tmp = p->string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(jpeg.data(), static_cast<std::streamsize>(jpeg.size()));
    if (!out.flush()) {
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, *p, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return !ec;
}

Result<std::string, recording::Unreadable> SnapshotFiles::read(std::string_view device_id,
                                                               std::string_view event_id) const {
  const auto missing = Unexpected(recording::Unreadable::kMissing);
  auto p = path(device_id, event_id);
  if (!p) return missing;
  std::string bytes;
  bool found = false;
  if (auto* store = store_of(device_id)) {
    auto got = store->get(key_of(device_id, event_id));
    if (!got && !got.error().starts_with(recording::kNoFile)) {
      return Unexpected(recording::Unreadable::kUnavailable);
    }
    if (got) {
      bytes.assign(got->begin(), got->end());
      found = true;
    }
  }
  if (!found) {  // in files (also a picture taken before its region's media moved to a bucket)
    std::ifstream in(*p, std::ios::binary);
    if (!in) return missing;
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  }
  if (!keys::is_sealed(bytes)) return bytes;  // written before pictures were sealed
  if (!key_for_) return missing;
  auto key = key_for_(device_id, false);
  if (!key) return missing;  // the binding's key is gone: so is the picture
  auto opened = keys::open_sealed(*key, context(device_id, event_id), bytes);
  if (!opened) return missing;
  return std::move(*opened);
}

void SnapshotFiles::remove(std::string_view device_id, std::string_view event_id) {
  if (auto p = path(device_id, event_id)) {
    if (auto* store = store_of(device_id)) store->remove(key_of(device_id, event_id));
    std::error_code ec;
    std::filesystem::remove(*p, ec);  // and any copy from before the bucket
  }
}

void SnapshotFiles::remove_device(std::string_view device_id) {
  if (!safe_id(device_id)) return;
  if (auto* store = store_of(device_id)) {
    for (const auto& key : store->list(std::string(device_id) + "/")) store->remove(key);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_of(device_id) / std::string(device_id), ec);
}

}  // namespace nj::events
