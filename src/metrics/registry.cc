#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nj::metrics {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                               1,      2.5,     5,      10};
  return kBuckets;
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string_view>& label_values) {
  std::lock_guard lock(mu_);
  // Heterogeneous lookup would need a comparator over views; a miss is rare (new series),
  // so build the key once and search with it.
  std::vector<std::string> key(label_values.begin(), label_values.end());
  key.resize(label_names_.size());
  auto it = series_.find(key);
  if (it == series_.end()) it = series_.emplace(std::move(key), make_()).first;
  return *it->second;
}

template <class Metric>
void Family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [labels, metric] : series_) fn(labels, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

namespace {

template <class Map, class Make>
auto& find_or_add(Map& map, std::string name, Make make) {
  auto it = map.find(name);
  if (it == map.end()) it = map.emplace(std::move(name), make()).first;
  return *it->second;
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const std::string& name, const std::string& help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) out += (c == '\n') ? ' ' : c;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  return find_or_add(counters_, name, [&] {
    return std::make_unique<CounterFamily>(name, std::move(help), std::move(labels),
                                           [] { return std::make_unique<Counter>(); });
  });
}

GaugeFamily& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  return find_or_add(gauges_, name, [&] {
    return std::make_unique<GaugeFamily>(name, std::move(help), std::move(labels),
                                         [] { return std::make_unique<Gauge>(); });
  });
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  return find_or_add(histograms_, name, [&] {
    return std::make_unique<HistogramFamily>(
        name, std::move(help), std::move(labels),
        [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  });
}

void Registry::add_collector(std::function<void(std::string&)> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& entry : counters_) {
    const auto& name = entry.first;
    const auto& family = entry.second;
    append_header(out, name, family->help(), "counter");
    family->for_each([&](const std::vector<std::string>& labels, const Counter& c) {
      out += name;
      append_labels(out, family->label_names(), labels);
      out += ' ';
      out += std::to_string(c.value());
      out += '\n';
    });
  }
  for (const auto& entry : gauges_) {
    const auto& name = entry.first;
    const auto& family = entry.second;
    append_header(out, name, family->help(), "gauge");
    family->for_each([&](const std::vector<std::string>& labels, const Gauge& g) {
      out += name;
      append_labels(out, family->label_names(), labels);
      out += ' ';
      out += format_value(g.value());
      out += '\n';
    });
  }
  for (const auto& entry : histograms_) {
    const auto& name = entry.first;
    const auto& family = entry.second;
    append_header(out, name, family->help(), "histogram");
    family->for_each([&](const std::vector<std::string>& labels, const Histogram& h) {
      const auto counts = h.cumulative_counts();
      for (size_t i = 0; i < counts.size(); ++i) {
        out += name;
        out += "_bucket";
        const std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        append_labels(out, family->label_names(), labels, "le", le);
        out += ' ';
        out += std::to_string(counts[i]);
        out += '\n';
      }
      out += name;
      out += "_sum";
      append_labels(out, family->label_names(), labels);
      out += ' ';
      out += format_value(h.sum());
      out += '\n';
      out += name;
      out += "_count";
      append_labels(out, family->label_names(), labels);
      out += ' ';
      out += std::to_string(counts.back());
      out += '\n';
    });
  }
  for (const auto& collect : collectors_) collect(out);
  return out;
}

}  // namespace nj::metrics
