// Recording (issue #6): the figures of docs/BENCHMARKS.md that do not need a running server.
//   - the index over 30 days of one camera: the spans and gaps of the whole 30 days, and the
//     playlist of an hour from any instant (what GET recordings and playback.m3u8 do);
//   - clip export from warm files (plan and read of a 5-minute clip);
//   - the recorder's own work per camera: fragmenting and writing a 2 Mbit/s stream;
//   - each of those sealed (arg 1) and plain (arg 0), for the cost of encryption at rest
//     (docs/keys.md), and reading a segment back as a download does (1 MiB pieces).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "api/recordings.h"
#include "keys/records.h"
#include "recording/catalog.h"
#include "recording/clip.h"
#include "recording/recorder.h"
#include "recording/sealed.h"
#include "recording/test_stream.h"
#include "store/migrations.h"
#include "store/sqlite_database.h"

namespace {

using namespace nj;
constexpr int64_t kT0 = 1'795'000'000'000;
constexpr int64_t kMinute = 60'000;

// One binding key, for the sealed variants.
recording::KeyLookup bench_keys() {
  static const recording::BindingKey key{1, [] {
                                           keys::Key k;
                                           std::mt19937 random(5);
                                           for (auto& b : k) b = static_cast<uint8_t>(random());
                                           return k;
                                         }()};
  return [](const std::string&, bool) -> std::optional<recording::BindingKey> { return key; };
}

std::filesystem::path temp_dir(const char* name) {
  auto d = std::filesystem::temp_directory_path() /
           (std::string("nj-bench-") + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// 30 days of one camera (and 9 others beside it): 10-minute segments of 2 s fragments.
struct Month {
  std::filesystem::path dir = temp_dir("month");
  std::unique_ptr<store::Database> db = std::move(store::open_sqlite(dir / "nj.db")).value();
  Month() {
    (void)store::migrate(*db, store::builtin_migrations());
    std::vector<recording::FragmentEntry> fragments(300, {180'000, 500'000, true});
    const store::Blob table = recording::encode_fragments(fragments);
    (void)db->transaction([&](store::Database& tx) -> store::StoreResult<void> {
      for (int d = 0; d < 10; ++d) {
        const std::string device = "dev-" + std::to_string(d);
        const store::Value dv[] = {device, "CAM-" + std::to_string(d)};
        (void)tx.execute(
            "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ($1, $2, 'x', 0)",
            dv);
        for (int i = 0; i < 30 * 144; ++i) {
          const int64_t start = kT0 + i * 10 * kMinute;
          const store::Value v[] = {device,
                                    "default/" + std::to_string(d) + "/" + std::to_string(i),
                                    start,
                                    start + 10 * kMinute,
                                    static_cast<int64_t>(i) * 300 * 180'000,
                                    table};
          (void)tx.execute(
              "INSERT INTO recording_segments (device_id, region, store_key, run_id, start_ms, "
              "end_ms, start_ticks, init_size, bytes, media_bytes, state, fragments) VALUES "
              "($1, 'default', $2, 'run', $3, $4, $5, 700, 150000700, 150000000, 'closed', $6)",
              v);
        }
      }
      return {};
    });
  }
  ~Month() { std::filesystem::remove_all(dir); }
};

void BM_RecordingsOver30Days(benchmark::State& state) {
  static Month month;
  recording::Catalog catalog(*month.db);
  const int64_t from = kT0 - kMinute, to = kT0 + 30 * 1440 * kMinute;
  size_t spans = 0;
  for (auto _ : state) {
    const auto segments = catalog.between("dev-3", from, to, false);
    const auto s = recording::spans_of(segments, from, to);
    benchmark::DoNotOptimize(recording::gaps_of(s, from, to));
    spans = s.size();
  }
  state.counters["spans"] = static_cast<double>(spans);
}
BENCHMARK(BM_RecordingsOver30Days)->Unit(benchmark::kMillisecond);

void BM_PlaybackPlaylistAtAnyInstant(benchmark::State& state) {
  static Month month;
  recording::Catalog catalog(*month.db);
  std::mt19937_64 random(7);
  for (auto _ : state) {
    const int64_t at = kT0 + static_cast<int64_t>(random() % (30ull * 1440 * kMinute));
    const auto segments = catalog.between("dev-3", at, at + 60 * kMinute, true);
    benchmark::DoNotOptimize(api::playback_playlist(
        segments, at, at + 60 * kMinute,
        [](const recording::Segment& s) { return "recordings/" + std::to_string(s.id) + ".mp4"; }));
  }
}
BENCHMARK(BM_PlaybackPlaylistAtAnyInstant)->Unit(benchmark::kMillisecond);

// Five minutes of a 2 Mbit/s stream recorded into real files once (sealed or plain); then
// clips of all of it.
struct Recorded {
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db = std::move(store::open_sqlite(":memory:")).value();
  recording::LocalStore store;
  recording::Catalog catalog{*db};
  recording::KeyLookup keys;
  explicit Recorded(bool sealed)
      : dir(temp_dir(sealed ? "clip-sealed" : "clip")),
        store(dir),
        keys(sealed ? bench_keys() : recording::KeyLookup{}) {
    (void)store::migrate(*db, store::builtin_migrations());
    (void)db->execute(
        "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ('dev', 'CAM', 'x', 0)");
    recording::RecorderOptions o;
    o.sync = false;
    o.reserve_bytes = 0;
    o.segment_length = std::chrono::seconds(120);
    o.keys = keys;
    recording::StreamRecorder r(store, catalog, o, "dev", "CAM");
    recording::testing::Stream s(50, kT0 * 1000, 60'000, 9'000);
    r.begin(recording::testing::stream_info());
    for (int i = 0; i < 5 * 60 * 25; ++i) {
      for (const auto& f : s.next()) r.push(f);
    }
  }
  ~Recorded() { std::filesystem::remove_all(dir); }
  static Recorded& get(bool sealed) {
    static Recorded plain(false), with_keys(true);
    return sealed ? with_keys : plain;
  }
};

void BM_ClipExportWarm(benchmark::State& state) {
  auto& recorded = Recorded::get(state.range(0) != 0);
  const auto segments = recorded.catalog.between("dev", kT0, kT0 + 10 * kMinute, true);
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto plan =
        recording::plan_clip(recorded.store, recorded.keys, segments, kT0 + 1'000, kT0 + 299'000);
    auto data = recording::read_clip(*plan, 0, plan->size);
    bytes += data->size();
    benchmark::DoNotOptimize(data);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ClipExportWarm)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Playback: a whole 2-minute segment read as the server streams a download, 1 MiB at a time.
void BM_PlaybackReadWarm(benchmark::State& state) {
  auto& recorded = Recorded::get(state.range(0) != 0);
  const auto segment = recorded.catalog.between("dev", kT0, kT0 + 10 * kMinute, true).front();
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto reader = recording::open_segment(recorded.store, segment, recorded.keys);
    for (uint64_t at = 0; at < reader->size(); at += 1 << 20) {
      auto piece = reader->read(at, 1 << 20);
      bytes += piece->size();
      benchmark::DoNotOptimize(piece);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PlaybackReadWarm)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The recorder's own work for one camera-second of 2 Mbit/s: fragmenting and writing
// (without fdatasync: the disk's own time is not CPU), index saves included.
void BM_RecordOneCameraSecond(benchmark::State& state) {
  const auto dir = temp_dir("rec");
  auto db = std::move(store::open_sqlite(":memory:")).value();
  (void)store::migrate(*db, store::builtin_migrations());
  (void)db->execute(
      "INSERT INTO devices (id, serial, secret_hash, created_at) VALUES ('dev', 'CAM', 'x', 0)");
  recording::LocalStore store(dir);
  recording::Catalog catalog(*db);
  recording::RecorderOptions o;
  o.sync = false;
  o.reserve_bytes = 0;
  if (state.range(0) != 0) o.keys = bench_keys();
  recording::StreamRecorder r(store, catalog, o, "dev", "CAM");
  recording::testing::Stream s(50, kT0 * 1000, 60'000, 9'000);
  r.begin(recording::testing::stream_info());
  // The frames are made outside the timed part.
  std::vector<std::vector<media::hub::FramePtr>> second;
  for (auto _ : state) {
    state.PauseTiming();
    second.clear();
    for (int i = 0; i < 25; ++i) second.push_back(s.next());
    state.ResumeTiming();
    for (const auto& frames : second) {
      for (const auto& f : frames) r.push(f);
    }
  }
  r.finish();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RecordOneCameraSecond)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// Sealing alone: one 2 s fragment of a 2 Mbit/s stream (500 kB), what the recorder adds per
// fragment when recordings are sealed (docs/keys.md). Arg 1 opens it again, as playback does.
void BM_SealTwoSecondFragment(benchmark::State& state) {
  const auto lookup = bench_keys();
  const auto key = lookup("dev", false)->key;
  std::vector<uint8_t> fragment(500'000, 0x42), sealed, opened;
  sealed.reserve(fragment.size() + keys::kRecordOverhead);
  for (auto _ : state) {
    sealed.clear();
    keys::seal_record(key, "nightjar-recording\ndev\n1\n7", fragment, sealed);
    if (state.range(0) != 0) {
      benchmark::DoNotOptimize(
          keys::open_record(key, "nightjar-recording\ndev\n1\n7", sealed, opened));
    }
    benchmark::DoNotOptimize(sealed.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 500'000);
}
BENCHMARK(BM_SealTwoSecondFragment)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
