// JSON from a device, read without trusting it: a payload is parsed only within a size and
// nesting bound, and fields are read through ObjectReader, whose accessors check type and
// range and record the first problem instead of throwing. Nothing here throws (a throwing
// nlohmann accessor on device input once aborted the whole server).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace nj::device_protocol {

// Why input was refused; `reason_name` gives the label counted in /metrics.
enum class Reason { kTooLarge, kNotJson, kTooDeep, kWrongType, kMissing, kOutOfRange, kUnknown };
std::string_view reason_name(Reason r);

struct InputError {
  Reason reason = Reason::kWrongType;
  std::string field;  // the offending field's name, "" for the payload as a whole
  std::string message;
};

template <class T>
using Parsed = Result<T, InputError>;

struct JsonLimits {
  size_t max_bytes = 16 * 1024;
  int max_depth = 8;  // arrays and objects within each other
};

// The payload as JSON, or why not: over max_bytes, nested deeper than max_depth (checked
// before parsing, so nothing deep is ever built), or not JSON at all.
Parsed<nlohmann::json> parse_json(std::string_view payload, const JsonLimits& limits);

// Reads the fields of one JSON object. Each accessor returns the value, or nullopt when the
// field is absent (and not required) or wrong; the first wrong or missing required field is
// kept as error(). Strings are valid UTF-8 (the parser sees to it) and, unless `free_text`,
// free of control characters.
class ObjectReader {
 public:
  explicit ObjectReader(const nlohmann::json& j);

  std::optional<std::string> string(std::string_view key, size_t max_bytes, bool required = false,
                                    bool free_text = false);
  // An array of at most max_items strings, each 1–max_bytes bytes without control characters.
  std::optional<std::vector<std::string>> strings(std::string_view key, size_t max_items,
                                                  size_t max_bytes, bool required = false);
  std::optional<bool> boolean(std::string_view key, bool required = false);
  // An integer in [min, max].
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max,
                                 bool required = false);
  // A non-negative count up to max (bytes, packets).
  std::optional<uint64_t> count(std::string_view key, uint64_t max, bool required = false);
  // A finite number in [min, max].
  std::optional<double> number(std::string_view key, double min, double max, bool required = false);
  // The field itself (any type) when present, for a nested reader.
  const nlohmann::json* field(std::string_view key, bool required = false);

  bool ok() const { return !error_; }
  const std::optional<InputError>& error() const { return error_; }
  // Records a problem found by the caller (the first one is kept).
  void fail(Reason reason, std::string_view field, std::string message);

 private:
  const nlohmann::json* find(std::string_view key, bool required);
  const nlohmann::json* object_;  // null when the value read was not an object
  std::optional<InputError> error_;
};

// A short word of [a-z0-9_.] (kinds, codes, method names).
bool is_word(std::string_view s, size_t max_bytes);

}  // namespace nj::device_protocol
