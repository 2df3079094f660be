// Recorded media in S3-compatible object storage (issue #17, docs/architecture.md): a file of
// the Store is a run of objects, one an append, named by the byte offset it starts at
// ("{prefix}{key}/{offset:016}"). Each fragment the recorder writes (a sealed record) is an
// object of its own as soon as it is written, so a node that dies loses at most the fragment
// in flight, and there is never an upload left half done (a PUT is whole or absent; orphans
// of a crash are found by the recorder's start-up scan through list()). Reads are ranged GETs
// of the objects a range covers; a read of a piece of a part (a sealed record's header, a
// moof) fetches the whole part once and keeps it for the small reads that follow (a clip's
// planning makes a dozen per fragment, and each small GET costs a gateway's round trip).
// The bucket is never public: playback and export read through the node, which checks the
// viewer and opens the records.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/lru_cache.h"
#include "recording/store.h"
#include "s3/client.h"

namespace nj::recording {

class S3Store final : public Store {
 public:
  // prefix: where in the bucket ("" or "media/"), so a bucket can hold more than media.
  // part_cache_bytes: how much of the parts read in pieces is kept in memory (0: none, every
  // read a ranged GET of what it asks, as for pictures and exports, read once each).
  S3Store(std::shared_ptr<s3::Client> client, std::string prefix,
          size_t part_cache_bytes = size_t{32} << 20);
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
  using Bytes = std::shared_ptr<const std::vector<uint8_t>>;
  static uint64_t end_of(const Parts& parts);
  std::string object(const std::string& key, uint64_t offset) const;
  // The file's parts, from the cache or listed; an error if the listing failed.
  Result<Parts, std::string> parts(const std::string& key);
  void remember(const std::string& key, Parts parts);
  void forget(const std::string& key);
  bool kept(const std::string& key, const Part& part);  // in memory whole
  // Part `first` of a file, and the few after it, fetched at once and kept.
  void read_ahead(const std::string& key, const Parts& parts, size_t first);
  // The whole part, from memory or fetched and kept.
  Result<Bytes, std::string> whole(const std::string& key, const Part& part);

  std::shared_ptr<s3::Client> client_;
  std::string prefix_;
  const bool caching_;
  std::mutex mu_;
  LruCache<std::string, Parts> known_;   // files written or read lately
  LruCache<std::string, Bytes> pieces_;  // parts read in pieces lately, by object name
};

}  // namespace nj::recording
