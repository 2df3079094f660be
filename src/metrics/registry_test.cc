#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace nj::metrics {
namespace {

TEST(Metrics, CounterWithLabelsRendersPrometheusText) {
  Registry r;
  auto& requests = r.counter("nj_requests_total", "Requests.", {"route", "status"});
  requests.with({"/a", "200"}).inc();
  requests.with({"/a", "200"}).inc(2);
  requests.with({"/b\"x", "404"}).inc();
  const auto text = r.render();
  EXPECT_NE(text.find("# HELP nj_requests_total Requests.\n# TYPE nj_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("nj_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("nj_requests_total{route=\"/b\\\"x\",status=\"404\"} 1\n"),
            std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.histogram("nj_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  auto& series = h.with({"/x"});
  series.observe(0.05);
  series.observe(0.1);  // on the bound: counted in le="0.1"
  series.observe(0.5);
  series.observe(7);
  const auto text = r.render();
  EXPECT_NE(text.find("nj_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("nj_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("nj_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("nj_latency_seconds_sum{route=\"/x\"} 7.65\n"), std::string::npos);
  EXPECT_NE(text.find("nj_latency_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
}

TEST(Metrics, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = r.counter("c", "first", {"l"});
  auto& b = r.counter("c", "second", {"l"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"v"}), &b.with({"v"}));
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.counter("c", "c").with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
}

TEST(Metrics, GaugesAndCollectors) {
  Registry r;
  r.gauge("g", "A gauge.").with({}).set(2.5);
  r.add_collector([](std::string& out) { out += "extra 1\n"; });
  const auto text = r.render();
  EXPECT_NE(text.find("g 2.5\n"), std::string::npos);
  EXPECT_NE(text.find("extra 1\n"), std::string::npos);
}

TEST(Metrics, FormatValue) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
}

}  // namespace
}  // namespace nj::metrics
