// Motion by frame differencing, for cameras that cannot detect it themselves. Pure: grey
// pictures in, a verdict out; no I/O, no clock. The picture is looked at in cells of 8×8
// pixels: a cell moved when enough of its pixels differ from the background by more than
// the threshold, and motion is when the moved cells inside the zones cover at least the
// minimum area. The background follows the scene slowly where nothing moves; a change of
// nearly the whole picture (lights, night mode, the camera turned) is taken as a new scene,
// not as motion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device_protocol/json_input.h"
#include "media/snapshot/jpeg.h"

namespace nj::detect {

using media::snapshot::GrayPicture;

// A zone drawn on the picture: a polygon, its points as fractions (0–1) of width and height.
struct Point {
  double x = 0, y = 0;
};
struct Zone {
  std::string name;
  std::vector<Point> points;  // 3–16
};
// What a zone is called in events: its name, or "zone N" (from 1) when it has none.
std::string zone_label(const std::vector<Zone>& zones, size_t i);

struct DetectionSettings {
  bool enabled = false;
  std::vector<Zone> zones;  // none: the whole picture
  double min_area = 0.01;   // of the zones' area (or the picture's), 0.001–0.5
  int threshold = 25;       // grey levels a pixel must change by, 5–100
  bool person = true;       // look for people in what moves
};
inline constexpr size_t kMaxZones = 8;

// {"enabled", "zones": [{"name", "points": [[x, y], …]}], "min_area", "threshold", "person"};
// anything else is refused, naming the field.
device_protocol::Parsed<DetectionSettings> read_detection(const nlohmann::json& j);
nlohmann::json to_json(const DetectionSettings& s);

// Whether a point is inside a polygon (even-odd rule).
bool inside(const std::vector<Point>& polygon, double x, double y);

struct Box {
  int x = 0, y = 0, width = 0, height = 0;  // pixels of the picture
};

struct MotionVerdict {
  bool moving = false;
  double area = 0;  // the moved share of the zones, 0–1
  Box box;          // around the moved cells (when moving)
  // The zones something moved in (when moving), by name; a zone without a name is
  // "zone N". None when there are no zones (the whole picture is watched).
  std::vector<std::string> zones;
  bool new_scene = false;
};

class MotionDetector {
 public:
  static constexpr int kCell = 8;
  explicit MotionDetector(const DetectionSettings& settings) : settings_(settings) {}
  // The next picture; the first one (and one of another size) only sets the background.
  MotionVerdict feed(const GrayPicture& picture);

 private:
  void reset(const GrayPicture& picture);
  DetectionSettings settings_;
  int width_ = 0, height_ = 0, cols_ = 0, rows_ = 0;
  std::vector<uint8_t> background_;
  std::vector<uint8_t> in_zone_;  // per cell: bit i for zone i (bit 0 alone without zones)
  int zone_cells_ = 0;
};

}  // namespace nj::detect
