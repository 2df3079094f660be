// Event pictures as files: DIR/{device id}/{event id}.jpg, written whole (a temporary file
// renamed into place) so a reader never sees half a picture. Ids are the server's own (hex
// and dashes); anything else is refused before a path is made.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace nj::events {

class SnapshotFiles {
 public:
  explicit SnapshotFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}

  bool write(std::string_view device_id, std::string_view event_id, std::string_view jpeg);
  std::optional<std::string> read(std::string_view device_id, std::string_view event_id) const;
  void remove(std::string_view device_id, std::string_view event_id);
  void remove_device(std::string_view device_id);

 private:
  std::optional<std::filesystem::path> path(std::string_view device_id,
                                            std::string_view event_id) const;
  std::filesystem::path dir_;
};

}  // namespace nj::events
