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
  const auto in = [this](const std::string& region) -> recording::Store* {
    const auto it = picture_stores_.find(region);
    return it == picture_stores_.end() ? nullptr : it->second;
  };
  recording::Store* into = in(to);
  const auto to_dir = regions_.root(to) / "events" / to / device;
  // One picture (sealed: its bytes do not depend on where they are kept) to region `to`.
  const auto put = [&](const std::string& name, std::span<const uint8_t> bytes) {
    if (into) {
      const std::string key = device + "/" + name;
      (void)into->remove(key);
      const bool ok = into->append(key, bytes, false).has_value();
      into->close(key);
      return ok;
    }
    std::error_code ec;
    std::filesystem::create_directories(to_dir, ec);
    std::ofstream out(to_dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out.flush());
  };
  bool all = true;
  for (const auto& r : regions_.all()) {
    if (r.id == to) continue;
    if (auto* from = in(r.id)) {
      for (const auto& key : from->list(device + "/")) {
        auto bytes = from->get(key);
        if (!bytes || !put(key.substr(device.size() + 1), *bytes) || !from->remove(key)) {
          all = false;
        }
      }
    }
    const auto from_dir = r.root / "events" / r.id / device;
    if (!into) {
      all = move_dir(from_dir, to_dir) && all;
      continue;
    }
    std::error_code ec;
    if (!std::filesystem::exists(from_dir, ec)) continue;
    for (const auto& e : std::filesystem::directory_iterator(from_dir, ec)) {
      std::ifstream file(e.path(), std::ios::binary);
      const std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(file), {});
      std::error_code one;
      if (!file || !put(e.path().filename().string(), bytes)) {
        all = false;
        continue;
      }
      std::filesystem::remove(e.path(), one);
    }
    if (all) std::filesystem::remove(from_dir, ec);
  }
  return all;
}

bool RegionMover::move_export(const std::string& user_id, const std::string& id,
                              const std::string& to) {
  const auto in = [this](const std::string& region) -> recording::Store* {
    const auto it = export_stores_.find(region);
    return it == export_stores_.end() ? nullptr : it->second;
  };
  recording::Store* into = in(to);
  const std::string key = user_id + "/" + id + ".zip";
  const auto to_file = regions_.root(to) / "exports" / (id + ".zip");
  constexpr uint64_t kPiece = 8 << 20;
  // Piece by piece from `read` (size bytes) into region `to`; false if anything failed, and
  // then nothing of it is left there.
  const auto copy = [&](uint64_t size, const auto& read) {
    std::error_code ec;
    std::ofstream out;
    if (into) {
      (void)into->remove(key);
    } else {
      std::filesystem::create_directories(to_file.parent_path(), ec);
      out.open(to_file, std::ios::binary | std::ios::trunc);
    }
    bool ok = into || static_cast<bool>(out);
    for (uint64_t at = 0; ok && at < size; at += kPiece) {
      auto bytes = read(at, std::min(kPiece, size - at));
      ok = bytes.has_value();
      if (ok && into) ok = into->append(key, *bytes, false).has_value();
      if (ok && !into) {
        out.write(reinterpret_cast<const char*>(bytes->data()),
                  static_cast<std::streamsize>(bytes->size()));
        ok = static_cast<bool>(out);
      }
    }
    if (into) {
      into->close(key);
      if (!ok) (void)into->remove(key);
    } else {
      ok = ok && static_cast<bool>(out.flush());
      out.close();
      if (!ok) std::filesystem::remove(to_file, ec);
    }
    return ok;
  };
  bool all = true;
  for (const auto& r : regions_.all()) {
    if (r.id == to) continue;
    if (auto* from = in(r.id)) {
      if (const auto size = from->size(key)) {
        const bool ok =
            copy(*size, [&](uint64_t at, uint64_t n) { return from->read(key, at, n); });
        all = ok && from->remove(key) && all;
      }
    }
    const auto from_file = r.root / "exports" / (id + ".zip");
    std::error_code ec;
    if (!std::filesystem::exists(from_file, ec)) continue;
    if (!into) {
      std::filesystem::create_directories(to_file.parent_path(), ec);
      std::filesystem::copy_file(from_file, to_file,
                                 std::filesystem::copy_options::overwrite_existing, ec);
    } else {
      const auto size = std::filesystem::file_size(from_file, ec);
      std::ifstream file(from_file, std::ios::binary);
      if (!ec && file) {
        const bool ok =
            copy(size, [&](uint64_t at, uint64_t n) -> Result<std::vector<uint8_t>, std::string> {
              std::vector<uint8_t> bytes(n);
              file.seekg(static_cast<std::streamoff>(at));
              file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(n));
              if (file.gcount() != static_cast<std::streamsize>(n))
                return Unexpected(std::string("short"));
              return bytes;
            });
        if (!ok) ec = std::make_error_code(std::errc::io_error);
      } else {
        ec = std::make_error_code(std::errc::io_error);
      }
    }
    if (ec) {
      all = false;
      continue;
    }
    std::filesystem::remove(from_file, ec);
  }
  return all;
}

bool RegionMover::move_dir(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  if (!std::filesystem::exists(from, ec)) return true;
  std::filesystem::create_directories(to, ec);
  bool all = true;
  for (const auto& e : std::filesystem::directory_iterator(from, ec)) {
    std::error_code one;
    std::filesystem::copy_file(e.path(), to / e.path().filename(),
                               std::filesystem::copy_options::overwrite_existing, one);
    if (one) {
      all = false;
      continue;
    }
    std::filesystem::remove(e.path(), one);
  }
  if (all) std::filesystem::remove(from, ec);
  return all;
}

}  // namespace nj::app
