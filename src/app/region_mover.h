// Carries a person's data to the region they moved to (privacy::Regions::move, made only with
// their consent): each closed recording of their cameras is copied to the new region's store,
// its index row pointed there, and the old file deleted; then their cameras' event pictures
// and their exports. A segment still being written is left for the next round (its recorder
// moves to the new region at its next step and closes it). The move is done when nothing of
// the person is left under the old region's root.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "privacy/regions.h"
#include "recording/catalog.h"
#include "recording/store.h"
#include "store/database.h"

namespace nj::app {

class RegionMover {
 public:
  RegionMover(store::Database& db, privacy::Regions& regions, recording::Catalog& catalog,
              recording::Store& store)
      : db_(db), regions_(regions), catalog_(catalog), store_(store) {}
  // Regions whose event pictures are in a bucket (SnapshotFiles::set_store_for): the pictures
  // of a moving person's cameras are carried out of and into those too.
  void set_picture_stores(std::map<std::string, recording::Store*> stores) {
    picture_stores_ = std::move(stores);
  }
  // Regions whose data exports are in a bucket (privacy::Exports::set_store_for).
  void set_export_stores(std::map<std::string, recording::Store*> stores) {
    export_stores_ = std::move(stores);
  }
  // One round over the pending moves; returns how many finished.
  size_t step();

 private:
  // The camera's pictures from every other region (files or bucket) to region `to`.
  bool move_pictures(const std::string& device, const std::string& to);
  // A person's export from every other region (files or bucket) to region `to`.
  bool move_export(const std::string& user_id, const std::string& id, const std::string& to);
  // False if something is left to move (or failed): the move stays pending.
  bool move_segment(const recording::Segment& s, const std::string& to);
  // Where one picture or export is kept: an object of a store (store set), or a file.
  struct Place {
    recording::Store* store = nullptr;
    std::string key;
    std::filesystem::path file;
  };
  // Moves it (sealed: its bytes do not depend on where they are kept): copied whole, then
  // the original removed. True if there was nothing to move; false if anything failed, and
  // then nothing of it is left at `to`.
  static bool move_one(const Place& from, const Place& to);
  static recording::Store* store_in(const std::map<std::string, recording::Store*>& stores,
                                    const std::string& region);
  store::Database& db_;
  privacy::Regions& regions_;
  recording::Catalog& catalog_;
  recording::Store& store_;
  std::map<std::string, recording::Store*> picture_stores_, export_stores_;
};

}  // namespace nj::app
