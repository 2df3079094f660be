#include "app/region_mover.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

namespace nj::app {

size_t RegionMover::step() {
  size_t finished = 0;
  for (const auto& [move, user_id] : regions_.pending()) {
    bool done = true;
    const store::Value me[] = {user_id};
    auto devices = db_.query("SELECT id FROM devices WHERE owner_id = $1", me);
    if (!devices) continue;
    for (const auto& d : *devices) {
      const std::string device = d.text(0);
      for (const auto& s : catalog_.of_device(device)) {
        if (s.region == move.to) continue;
        if (s.open) {
          done = false;  // its recorder closes it on moving to the new region
          continue;
        }
        if (auto full = catalog_.by_id(s.id); !full || !move_segment(*full, move.to)) {
          done = false;
        }
      }
      // The pictures of the camera, from wherever the person's data was before.
      done = move_pictures(device, move.to) && done;
    }
    // Their exports (ready for a day at most).
    const store::Value p[] = {user_id};
    if (auto exports = db_.query("SELECT id FROM exports WHERE user_id = $1", p)) {
      for (const auto& e : *exports) done = move_export(user_id, e.text(0), move.to) && done;
    }
    if (done) {
      regions_.finish(move.id);
      ++finished;
      spdlog::info("region.moved move={} from={} to={}", move.id, move.from, move.to);
    }
  }
  return finished;
}

bool RegionMover::move_segment(const recording::Segment& s, const std::string& to) {
  const auto slash = s.store_key.find('/');
  if (slash == std::string::npos) return false;
  const std::string key = to + s.store_key.substr(slash);
  const auto size = store_.size(s.store_key);
  if (!size) return false;
  // Copied whole and synced before the index points at it; only then is the old file deleted.
  (void)store_.remove(key);  // what an interrupted round left
  constexpr uint64_t kPiece = 4 << 20;
  for (uint64_t at = 0; at < *size; at += kPiece) {
    auto bytes = store_.read(s.store_key, at, std::min(kPiece, *size - at));
    if (!bytes) return false;
    if (!store_.append(key, *bytes, at + bytes->size() >= *size)) {
      store_.close(key);
      (void)store_.remove(key);
      return false;
    }
  }
  store_.close(key);
  const auto copied = store_.size(key);
  if (!copied || *copied != *size) {
    (void)store_.remove(key);
    return false;
  }
  if (!catalog_.relocate(s.id, to, key)) {
    (void)store_.remove(key);
    return false;
  }
  (void)store_.remove(s.store_key);
  return true;
}

bool RegionMover::move_pictures(const std::string& device, const std::string& to) {
  recording::Store* into = store_in(picture_stores_, to);
  const auto to_dir = regions_.root(to) / "events" / to / device;
  const auto dest = [&](const std::string& name) {
    return into ? Place{into, device + "/" + name, {}} : Place{nullptr, {}, to_dir / name};
  };
  bool all = true;
  for (const auto& r : regions_.all()) {
    if (r.id == to) continue;
    if (auto* from = store_in(picture_stores_, r.id)) {
      for (const auto& key : from->list(device + "/")) {
        all = move_one({from, key, {}}, dest(key.substr(device.size() + 1))) && all;
      }
    }
    const auto from_dir = r.root / "events" / r.id / device;
    std::error_code ec;
    if (!std::filesystem::exists(from_dir, ec)) continue;
    bool whole_dir = true;
    for (const auto& e : std::filesystem::directory_iterator(from_dir, ec)) {
      whole_dir =
          move_one({nullptr, {}, e.path()}, dest(e.path().filename().string())) && whole_dir;
    }
    if (whole_dir) std::filesystem::remove(from_dir, ec);
    all = whole_dir && all;
  }
  return all;
}

bool RegionMover::move_export(const std::string& user_id, const std::string& id,
                              const std::string& to) {
  recording::Store* into = store_in(export_stores_, to);
  const std::string key = user_id + "/" + id + ".zip";
  const Place dest = into ? Place{into, key, {}}
                          : Place{nullptr, {}, regions_.root(to) / "exports" / (id + ".zip")};
  bool all = true;
  for (const auto& r : regions_.all()) {
    if (r.id == to) continue;
    if (auto* from = store_in(export_stores_, r.id)) all = move_one({from, key, {}}, dest) && all;
    all = move_one({nullptr, {}, r.root / "exports" / (id + ".zip")}, dest) && all;
  }
  return all;
}

recording::Store* RegionMover::store_in(const std::map<std::string, recording::Store*>& stores,
                                        const std::string& region) {
  const auto it = stores.find(region);
  return it == stores.end() ? nullptr : it->second;
}

bool RegionMover::move_one(const Place& from, const Place& to) {
  std::error_code ec;
  if (!from.store && !to.store && std::filesystem::equivalent(from.file, to.file, ec)) {
    return true;  // two regions under one root: it is already where it goes
  }
  uint64_t size = 0;
  if (from.store) {
    auto n = from.store->size(from.key);
    if (!n) return n.error().starts_with(recording::kNoFile);  // nothing there
    size = *n;
  } else {
    if (!std::filesystem::exists(from.file, ec)) return true;
    size = std::filesystem::file_size(from.file, ec);
    if (ec) return false;
  }
  // Piece by piece, so that an export of gigabytes is never in memory whole; nothing is left
  // at `to` if anything fails, and the original goes only once the copy is whole.
  constexpr uint64_t kPiece = 8 << 20;
  std::ifstream in;
  std::ofstream out;
  if (!from.store) {
    in.open(from.file, std::ios::binary);
    if (!in) return false;
  }
  if (to.store) {
    (void)to.store->remove(to.key);  // what an interrupted round left
  } else {
    std::filesystem::create_directories(to.file.parent_path(), ec);
    out.open(to.file, std::ios::binary | std::ios::trunc);
    if (!out) return false;
  }
  bool ok = true;
  std::vector<uint8_t> piece;
  for (uint64_t at = 0; ok && at < size; at += kPiece) {
    const uint64_t n = std::min(kPiece, size - at);
    if (from.store) {
      auto got = from.store->read(from.key, at, n);
      ok = got && got->size() == n;
      if (ok) piece = std::move(*got);
    } else {
      piece.resize(n);
      in.read(reinterpret_cast<char*>(piece.data()), static_cast<std::streamsize>(n));
      ok = in.gcount() == static_cast<std::streamsize>(n);
    }
    if (!ok) break;
    if (to.store) {
      ok = to.store->append(to.key, piece, false).has_value();
    } else {
      out.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(n));
      ok = static_cast<bool>(out);
    }
  }
  if (to.store) {
    to.store->close(to.key);
    if (!ok) (void)to.store->remove(to.key);
  } else {
    ok = ok && static_cast<bool>(out.flush());
    out.close();
    if (!ok) std::filesystem::remove(to.file, ec);
  }
  if (!ok) return false;
  if (from.store) return from.store->remove(from.key);
  return std::filesystem::remove(from.file, ec) && !ec;
}

}  // namespace nj::app
