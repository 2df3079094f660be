// The data export (access and portability): every personal record of one person — account,
// policy acceptances, consents, cameras and shares, events of their cameras, notification
// settings, webhooks, talk calls, the access log of their cameras and their own entries in
// others', privacy requests — as JSON files, with their cameras' event pictures, in one ZIP.
// Built by a background job with its progress kept, ready for a day, then deleted. Nothing
// of anyone else is in it beyond what the person already sees in the app (the addresses
// they invited, who called or opened their own cameras).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/zip_writer.h"
#include "keys/key_store.h"
#include "recording/store.h"
#include "store/database.h"

namespace nj::privacy {

inline constexpr int64_t kExportLifetimeMs = 24 * 3600 * 1000;

struct ExportState {
  std::string id, state;  // queued | building | ready | failed | expired
  int64_t done = 0, total = 0, created_at = 0;
  bool with_recordings = false;
  std::optional<int64_t> ready_at, expires_at;
};

class Exports {
 public:
  // An event picture of a camera, in the clear; kMissing if gone (or its key destroyed),
  // kUnavailable if its bucket cannot be reached now (the export then fails, rather than
  // leave pictures out).
  using Picture = std::function<Result<std::string, recording::Unreadable>(
      const std::string& device_id, const std::string& event_id)>;
  // Told when an export is ready (to mail the person).
  using Ready = std::function<void(const std::string& user_id)>;
  Exports(store::Database& db, const Clock& clock, std::filesystem::path dir, Picture picture,
          Ready ready = {})
      : db_(db),
        clock_(clock),
        dir_(std::move(dir)),
        picture_(std::move(picture)),
        ready_(std::move(ready)) {}

  // Queues an export (with their cameras' recordings too, if asked); nullopt if one of theirs
  // is queued or building already.
  std::optional<ExportState> request(std::string_view user_id, bool with_recordings = false);

  // A camera's recordings, each as a file of the export: its name in the ZIP, its plain
  // size and how to read it (through the recording's seal).
  struct RecordingFile {
    std::string name;
    uint64_t size = 0;
    ZipWriter::Read read;
  };
  using Recordings = std::function<std::vector<RecordingFile>(const std::string& device_id)>;
  void set_recordings(Recordings recordings) { recordings_ = std::move(recordings); }
  // Their newest export, if any.
  std::optional<ExportState> latest(std::string_view user_id);
  // Each export sealed with a key of its own under the person's account key (docs/keys.md),
  // destroyed when the export expires or the account is cancelled. Without: plain files.
  void set_keys(keys::KeyStore* keys) { keys_ = keys; }
  // Where a person's exports are: under their region's root (privacy::Regions). Unset: dir.
  using DirFor = std::function<std::filesystem::path(std::string_view user_id)>;
  void set_dir_for(DirFor dir_for) { dir_for_ = std::move(dir_for); }
  std::filesystem::path dir_of(std::string_view user_id) const {
    return dir_for_ ? dir_for_(user_id) : dir_;
  }
  // Several nodes (issue #17): a person whose region keeps its data in a bucket gets their
  // exports kept there too ("{user id}/{export id}.zip", as sealed), so any node serves the
  // download. Built in the node's directory first, then uploaded and the file removed.
  using StoreFor = std::function<recording::Store*(std::string_view user_id)>;
  void set_store_for(StoreFor store_for) { store_for_ = std::move(store_for); }

  // Their export `id`, while it is ready and unexpired: its plain size and a reader of it;
  // kMissing if there is none, kUnavailable if its bucket cannot be reached now.
  struct Download {
    uint64_t size = 0;
    std::function<std::optional<std::vector<uint8_t>>(uint64_t at, uint64_t n)> read;
  };
  Result<Download, recording::Unreadable> open(std::string_view user_id, std::string_view id);
  // Whether their export `id` is still ready and unexpired.
  bool lasts(std::string_view user_id, std::string_view id);
  // Builds the oldest queued export (the worker's step); true if there was one.
  bool run_next();
  // Deletes the files of exports past their day.
  void expire();
  // The account is cancelled: its exports and their files go.
  void forget_user(std::string_view user_id);

 private:
  bool build(const ExportState& e, const std::string& user_id);
  recording::Store* store_of(std::string_view user_id) const {
    return store_for_ ? store_for_(user_id) : nullptr;
  }
  // The export's file, and its copy in the bucket, go.
  void remove_files(std::string_view user_id, const std::string& id);
  void set_progress(const std::string& id, int64_t done, int64_t total);
  store::Database& db_;
  const Clock& clock_;
  std::filesystem::path dir_;
  Picture picture_;
  Ready ready_;
  keys::KeyStore* keys_ = nullptr;
  DirFor dir_for_;
  StoreFor store_for_;
  Recordings recordings_;
};

}  // namespace nj::privacy
