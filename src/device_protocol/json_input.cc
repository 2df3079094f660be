#include "device_protocol/json_input.h"

#include <cmath>

#include "common/json_depth.h"

namespace nj::device_protocol {

using nlohmann::json;

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::kTooLarge:
      return "too_large";
    case Reason::kNotJson:
      return "not_json";
    case Reason::kTooDeep:
      return "too_deep";
    case Reason::kWrongType:
      return "wrong_type";
    case Reason::kMissing:
      return "missing";
    case Reason::kOutOfRange:
      return "out_of_range";
    case Reason::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Parsed<json> parse_json(std::string_view payload, const JsonLimits& limits) {
  if (payload.size() > limits.max_bytes) {
    return Unexpected(
        InputError{Reason::kTooLarge, "", "over " + std::to_string(limits.max_bytes) + " bytes"});
  }
  if (json_nesting_exceeds(payload, limits.max_depth)) {
    return Unexpected(InputError{Reason::kTooDeep, "", "nested too deeply"});
  }
  try {
    json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Unexpected(InputError{Reason::kNotJson, "", "not JSON"});
    return j;
  } catch (const std::exception&) {  // allocation failure: refuse, never propagate
    return Unexpected(InputError{Reason::kNotJson, "", "not readable"});
  }
}

bool is_word(std::string_view s, size_t max_bytes) {
  if (s.empty() || s.size() > max_bytes) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  }
  return true;
}

ObjectReader::ObjectReader(const json& j) : object_(j.is_object() ? &j : nullptr) {
  if (!object_) error_ = InputError{Reason::kWrongType, "", "not an object"};
}

void ObjectReader::fail(Reason reason, std::string_view field, std::string message) {
  if (!error_) error_ = InputError{reason, std::string(field), std::move(message)};
}

const json* ObjectReader::find(std::string_view key, bool required) {
  if (!object_) return nullptr;
  const auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) {
    if (required) fail(Reason::kMissing, key, std::string(key) + " is missing");
    return nullptr;
  }
  return &*it;
}

const json* ObjectReader::field(std::string_view key, bool required) { return find(key, required); }

namespace {

bool has_control(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> ObjectReader::string(std::string_view key, size_t max_bytes,
                                                bool required, bool free_text) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail(Reason::kWrongType, key, std::string(key) + " must be a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    fail(Reason::kOutOfRange, key, std::string(key) + " is too long");
    return std::nullopt;
  }
  if (!free_text && has_control(s)) {
    fail(Reason::kOutOfRange, key, std::string(key) + " has control characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<std::string>> ObjectReader::strings(std::string_view key,
                                                              size_t max_items, size_t max_bytes,
                                                              bool required) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    fail(Reason::kWrongType, key, std::string(key) + " must be a list of strings");
    return std::nullopt;
  }
  if (v->size() > max_items) {
    fail(Reason::kOutOfRange, key, std::string(key) + " has too many items");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) {
      fail(Reason::kWrongType, key, std::string(key) + " must be a list of strings");
      return std::nullopt;
    }
    const auto& s = item.get_ref<const std::string&>();
    if (s.empty() || s.size() > max_bytes) {
      fail(Reason::kOutOfRange, key, std::string(key) + " has an empty or too long item");
      return std::nullopt;
    }
    if (has_control(s)) {
      fail(Reason::kOutOfRange, key, std::string(key) + " has control characters");
      return std::nullopt;
    }
    out.push_back(s);
  }
  return out;
}

std::optional<bool> ObjectReader::boolean(std::string_view key, bool required) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    fail(Reason::kWrongType, key, std::string(key) + " must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<int64_t> ObjectReader::integer(std::string_view key, int64_t min, int64_t max,
                                             bool required) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    fail(Reason::kWrongType, key, std::string(key) + " must be an integer");
    return std::nullopt;
  }
  // An unsigned beyond int64 reads as negative through get<int64_t>: check it apart.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    fail(Reason::kOutOfRange, key, std::string(key) + " is out of range");
    return std::nullopt;
  }
  const int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    fail(Reason::kOutOfRange, key, std::string(key) + " is out of range");
    return std::nullopt;
  }
  return n;
}

std::optional<uint64_t> ObjectReader::count(std::string_view key, uint64_t max, bool required) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_unsigned()) {
    fail(v->is_number_integer() ? Reason::kOutOfRange : Reason::kWrongType, key,
         std::string(key) + " must be a count (an integer of 0 or more)");
    return std::nullopt;
  }
  const uint64_t n = v->get<uint64_t>();
  if (n > max) {
    fail(Reason::kOutOfRange, key, std::string(key) + " is out of range");
    return std::nullopt;
  }
  return n;
}

std::optional<double> ObjectReader::number(std::string_view key, double min, double max,
                                           bool required) {
  const json* v = find(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    fail(Reason::kWrongType, key, std::string(key) + " must be a number");
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(Reason::kOutOfRange, key, std::string(key) + " is out of range");
    return std::nullopt;
  }
  return d;
}

}  // namespace nj::device_protocol
