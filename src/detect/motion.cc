#include "detect/motion.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace nj::detect {

using device_protocol::InputError;
using device_protocol::ObjectReader;
using device_protocol::Reason;
using nlohmann::json;

namespace {

Unexpected<InputError> refuse(Reason reason, std::string field, std::string message) {
  return Unexpected(InputError{reason, std::move(field), std::move(message)});
}

}  // namespace

device_protocol::Parsed<DetectionSettings> read_detection(const json& j) {
  if (!j.is_object()) return refuse(Reason::kWrongType, "", "an object");
  for (const auto& [key, value] : j.items()) {
    if (key != "enabled" && key != "zones" && key != "min_area" && key != "threshold" &&
        key != "person") {
      return refuse(Reason::kUnknown, key, key + " is not a detection setting");
    }
  }
  ObjectReader r(j);
  DetectionSettings s;
  s.enabled = r.boolean("enabled").value_or(false);
  s.min_area = r.number("min_area", 0.001, 0.5).value_or(s.min_area);
  s.threshold = static_cast<int>(r.integer("threshold", 5, 100).value_or(s.threshold));
  s.person = r.boolean("person").value_or(true);
  if (!r.ok()) return Unexpected(*r.error());
  if (j.contains("zones")) {
    const auto& zones = j["zones"];
    if (!zones.is_array() || zones.size() > kMaxZones) {
      return refuse(Reason::kOutOfRange, "zones", "at most 8 zones");
    }
    for (size_t i = 0; i < zones.size(); ++i) {
      const std::string field = "zones." + std::to_string(i);
      if (!zones[i].is_object()) return refuse(Reason::kWrongType, field, "a zone is an object");
      ObjectReader z(zones[i]);
      Zone zone;
      zone.name = z.string("name", 64, false, true).value_or("");
      const json* points = z.field("points", true);
      if (!z.ok())
        return Unexpected(
            InputError{z.error()->reason, field + "." + z.error()->field, z.error()->message});
      if (!points->is_array() || points->size() < 3 || points->size() > 16) {
        return refuse(Reason::kOutOfRange, field + ".points", "3 to 16 points");
      }
      for (const auto& p : *points) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
          return refuse(Reason::kWrongType, field + ".points", "each point is [x, y]");
        }
        const double x = p[0].get<double>(), y = p[1].get<double>();
        if (!std::isfinite(x) || !std::isfinite(y) || x < 0 || x > 1 || y < 0 || y > 1) {
          return refuse(Reason::kOutOfRange, field + ".points", "x and y are 0 to 1");
        }
        zone.points.push_back({x, y});
      }
      s.zones.push_back(std::move(zone));
    }
  }
  return s;
}

json to_json(const DetectionSettings& s) {
  json zones = json::array();
  for (const auto& z : s.zones) {
    json points = json::array();
    for (const auto& p : z.points) points.push_back({p.x, p.y});
    zones.push_back({{"name", z.name}, {"points", points}});
  }
  return {{"enabled", s.enabled},
          {"zones", zones},
          {"min_area", s.min_area},
          {"threshold", s.threshold},
          {"person", s.person}};
}

std::string zone_label(const std::vector<Zone>& zones, size_t i) {
  if (i < zones.size() && !zones[i].name.empty()) return zones[i].name;
  return "zone " + std::to_string(i + 1);
}

bool inside(const std::vector<Point>& polygon, double x, double y) {
  bool in = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const auto& a = polygon[i];
    const auto& b = polygon[j];
    if ((a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) in = !in;
  }
  return in;
}

void MotionDetector::reset(const GrayPicture& picture) {
  width_ = picture.width;
  height_ = picture.height;
  cols_ = width_ / kCell;
  rows_ = height_ / kCell;
  background_ = picture.pixels;
  in_zone_.assign(static_cast<size_t>(cols_) * rows_, 0);
  zone_cells_ = 0;
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      const double x = (c + 0.5) * kCell / width_;
      const double y = (r + 0.5) * kCell / height_;
      uint8_t in = settings_.zones.empty() ? 1 : 0;
      for (size_t i = 0; i < settings_.zones.size() && i < kMaxZones; ++i) {
        if (inside(settings_.zones[i].points, x, y)) in |= static_cast<uint8_t>(1u << i);
      }
      in_zone_[static_cast<size_t>(r) * cols_ + c] = in;
      zone_cells_ += in ? 1 : 0;
    }
  }
}

MotionVerdict MotionDetector::feed(const GrayPicture& picture) {
  MotionVerdict v;
  if (picture.width < kCell || picture.height < kCell ||
      picture.pixels.size() != static_cast<size_t>(picture.width) * picture.height) {
    return v;
  }
  if (picture.width != width_ || picture.height != height_) {
    reset(picture);
    return v;
  }
  // Per cell: how many of its pixels moved.
  constexpr int kPixels = kCell * kCell;
  int moved_cells = 0, zone_moved = 0;
  int x0 = cols_, y0 = rows_, x1 = -1, y1 = -1;
  uint8_t zones_moved = 0;
  std::vector<uint8_t> moved(static_cast<size_t>(cols_) * rows_, 0);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      int changed = 0;
      for (int y = r * kCell; y < (r + 1) * kCell; ++y) {
        const uint8_t* now = &picture.pixels[static_cast<size_t>(y) * width_ + c * kCell];
        const uint8_t* was = &background_[static_cast<size_t>(y) * width_ + c * kCell];
        for (int x = 0; x < kCell; ++x) {
          changed += std::abs(int{now[x]} - int{was[x]}) > settings_.threshold ? 1 : 0;
        }
      }
      if (changed * 4 < kPixels) continue;  // a quarter of the cell, or it is noise
      moved[static_cast<size_t>(r) * cols_ + c] = 1;
      ++moved_cells;
      const uint8_t in = in_zone_[static_cast<size_t>(r) * cols_ + c];
      if (!in) continue;
      ++zone_moved;
      zones_moved |= in;
      x0 = std::min(x0, c);
      y0 = std::min(y0, r);
      x1 = std::max(x1, c);
      y1 = std::max(y1, r);
    }
  }
  const int cells = cols_ * rows_;
  if (moved_cells * 10 >= cells * 8) {  // nearly everything changed: a new scene
    background_ = picture.pixels;
    v.new_scene = true;
    return v;
  }
  v.area = zone_cells_ == 0 ? 0 : static_cast<double>(zone_moved) / zone_cells_;
  v.moving = zone_moved > 0 && v.area >= settings_.min_area;
  if (v.moving) {
    v.box = {x0 * kCell, y0 * kCell, (x1 - x0 + 1) * kCell, (y1 - y0 + 1) * kCell};
    for (size_t i = 0; i < settings_.zones.size() && i < kMaxZones; ++i) {
      if (zones_moved & (1u << i)) v.zones.push_back(zone_label(settings_.zones, i));
    }
  }
  // The background follows the scene where nothing moved (a quarter of the way each
  // picture), and very slowly where something did (what stops moving joins the scene).
  for (int r = 0; r < rows_; ++r) {
    for (int y = r * kCell; y < (r + 1) * kCell; ++y) {
      for (int x = 0; x < cols_ * kCell; ++x) {
        const size_t i = static_cast<size_t>(y) * width_ + x;
        const int step = moved[static_cast<size_t>(r) * cols_ + x / kCell] ? 16 : 4;
        const int diff = int{picture.pixels[i]} - int{background_[i]};
        background_[i] = static_cast<uint8_t>(
            background_[i] + diff / step +
            (diff != 0 && diff / step == 0 && step == 4 ? (diff > 0 ? 1 : -1) : 0));
      }
    }
  }
  return v;
}

}  // namespace nj::detect
