// Event pictures as files: DIR/{device id}/{event id}.jpg, written whole (a temporary file
// renamed into place) so a reader never sees half a picture. Ids are the server's own (hex
// and dashes); anything else is refused before a path is made.
//
// With a key source (the server's), every picture is sealed with its camera's binding key
// (keys/key_store.h: XChaCha20-Poly1305, the device and event ids as associated data): the
// file on disk is unreadable without the key, and once the binding's key is destroyed
// (unbind, cancellation) it is unreadable everywhere, copies included. No key: not written.
//
// Several nodes (issue #17): a region whose media are in an S3 bucket keeps its pictures there
// too (set_store_for: "{device id}/{event id}.jpg" in a store of its own prefix), so a picture
// taken on one node is shown by any. A PUT is whole or absent, as the rename is.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "keys/key_store.h"
#include "recording/store.h"

namespace nj::events {

class SnapshotFiles {
 public:
  // The key of the device's current binding (made if `create`), or nullopt.
  using KeyFor = std::function<std::optional<keys::Key>(std::string_view device_id, bool create)>;
  explicit SnapshotFiles(std::filesystem::path dir, KeyFor key_for = {})
      : dir_(std::move(dir)), key_for_(std::move(key_for)) {}

  // Where a camera's pictures are: under its owner's region (privacy::Regions). Unset: dir.
  using DirFor = std::function<std::filesystem::path(std::string_view device_id)>;
  void set_dir_for(DirFor dir_for) { dir_for_ = std::move(dir_for); }
  std::filesystem::path dir_of(std::string_view device_id) const {
    return dir_for_ ? dir_for_(device_id) : dir_;
  }

  // Where a camera's pictures are when not in files: its region's object store, or null.
  using StoreFor = std::function<recording::Store*(std::string_view device_id)>;
  void set_store_for(StoreFor store_for) { store_for_ = std::move(store_for); }

  bool write(std::string_view device_id, std::string_view event_id, std::string_view jpeg);
  // The picture in the clear; kMissing if there is none (or its key is gone), kUnavailable if
  // its bucket cannot be reached now.
  Result<std::string, recording::Unreadable> read(std::string_view device_id,
                                                  std::string_view event_id) const;
  void remove(std::string_view device_id, std::string_view event_id);
  void remove_device(std::string_view device_id);

 private:
  std::optional<std::filesystem::path> path(std::string_view device_id,
                                            std::string_view event_id) const;
  static std::string context(std::string_view device_id, std::string_view event_id);
  recording::Store* store_of(std::string_view device_id) const {
    return store_for_ ? store_for_(device_id) : nullptr;
  }
  std::filesystem::path dir_;
  KeyFor key_for_;
  DirFor dir_for_;
  StoreFor store_for_;
};

}  // namespace nj::events
