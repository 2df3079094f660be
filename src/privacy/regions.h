// Data regions (policy item 36, docs/privacy.md#regions): the operator declares regions, each
// with its own storage root; every account has one, chosen at sign-up; a camera's recordings
// and pictures, and a person's exports, are stored only under the root of its owner's region.
// A move to another region happens only when the person asks for it and consents in the app:
// the move's row is that consent's record, and a background job (RegionMover) carries the
// data over, then deletes it where it was.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"

namespace nj::privacy {

struct Region {
  std::string id, name;
  std::filesystem::path root;  // media/, events/ and exports/ are under it
};

struct RegionMove {
  std::string id, from, to, state;
  int64_t consented_at = 0;
  std::optional<int64_t> done_at;
};

class Regions {
 public:
  // `all` holds the default region (first) and the others; their roots must differ.
  static Result<std::unique_ptr<Regions>, std::string> make(store::Database& db, const Clock& clock,
                                                            std::vector<Region> all);

  const std::vector<Region>& all() const { return all_; }
  const Region& default_region() const { return all_.front(); }
  const Region* find(std::string_view id) const;
  // The root of a region, or the default region's for an unknown id (a region removed from
  // the configuration is refused at start, so this is for ids that never were one).
  const std::filesystem::path& root(std::string_view id) const;

  // The account's region (the default for one that never chose, or unknown).
  std::string of_user(std::string_view user_id);
  // The region a camera's data belongs to: its owner's; the default when it has none.
  std::string of_device(std::string_view device_id);

  // The person asks to move their data to `to`, and says yes to it: recorded now, and from
  // now on new data goes to `to`; what is stored already is moved by the job. nullopt if
  // `to` is not a region, or is theirs already.
  std::optional<RegionMove> move(std::string_view user_id, std::string_view to);
  std::vector<RegionMove> moves_of(std::string_view user_id);
  // Moves still being carried out: (move, user id).
  std::vector<std::pair<RegionMove, std::string>> pending();
  void finish(const std::string& move_id);

 private:
  Regions(store::Database& db, const Clock& clock, std::vector<Region> all)
      : db_(db), clock_(clock), all_(std::move(all)) {}
  store::Database& db_;
  const Clock& clock_;
  std::vector<Region> all_;
};

}  // namespace nj::privacy
