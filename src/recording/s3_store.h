// Recorded media in S3-compatible object storage (issue #17, docs/architecture.md): a file of
// the Store is a run of objects, one an append, named by the byte offset it starts at
// ("{prefix}{key}/{offset:016}"). Each fragment the recorder writes (a sealed record) is an
// object of its own as soon as it is written, so a node that dies loses at most the fragment
// in flight, and there is never an upload left half done (a PUT is whole or absent; orphans
// of a crash are found by the recorder's start-up scan through list()). Reads are ranged GETs
// of the objects a range covers. The bucket is never public: playback and export read
// through the node, which checks the viewer and opens the records.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "recording/store.h"
#include "s3/client.h"

namespace nj::recording {

class S3Store final : public Store {
 public:
  // prefix: where in the bucket ("" or "media/"), so a bucket can hold more than media.
  S3Store(std::shared_ptr<s3::Client> client, std::string prefix);
  Result<void, std::string> append(const std::string& key, std::span<const uint8_t> bytes,
                                   bool sync) override;
  void close(const std::string& key) override;
  Result<void, std::string> truncate(const std::string& key, uint64_t size) override;
  Result<std::vector<uint8_t>, std::string> read(const std::string& key, uint64_t offset,
                                                 uint64_t length) override;
  Result<uint64_t, std::string> size(const std::string& key) override;
  Result<std::vector<uint8_t>, std::string> get(const std::string& key) override;  // listed anew
  bool remove(const std::string& key) override;
  std::vector<std::string> list(const std::string& prefix) override;
  uint64_t free_bytes() override;  // object storage has no fixed end: as much as asked

 private:
  struct Part {
    uint64_t offset = 0, size = 0;
  };
  using Parts = std::vector<Part>;
  std::string object(const std::string& key, uint64_t offset) const;
  // The file's parts, from the cache or listed; an error if the listing failed.
  Result<Parts, std::string> parts(const std::string& key);
  void remember(const std::string& key, Parts parts);

  std::shared_ptr<s3::Client> client_;
  std::string prefix_;
  std::mutex mu_;
  std::map<std::string, Parts> known_;  // written or read lately (bounded)
  std::map<std::string, uint64_t> touched_;
  uint64_t clock_ = 0;
};

}  // namespace nj::recording
