// A log-bucketed histogram of nanosecond samples with a fixed relative error (HDR/DDSketch
// style): bucket k holds values in (g^(k-1), g^k] with g = (1 + a) / (1 - a), and its
// representative value 2 g^k / (g + 1) lies within a (relative) of every value in it. Memory
// is bounded by the range, not the count: ~15 000 buckets cover 1 ns .. 1e13 ns at a = 0.1%.
// Count, min, max, mean and variance are exact (Welford).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace umlperf {

class LogHistogram {
 public:
  static constexpr double kAlpha = 0.001;
  LogHistogram() : lnGamma_(std::log((1 + kAlpha) / (1 - kAlpha))) {}
  void record(int64_t ns) {
    n_++;
    if (n_ == 1 || ns < min_) min_ = ns;
    if (n_ == 1 || ns > max_) max_ = ns;
    double d = double(ns) - mean_;
    mean_ += d / double(n_);
    m2_ += d * (double(ns) - mean_);
    if (ns <= 0) {
      zeros_++;
      return;
    }
    size_t k = size_t(std::ceil(std::log(double(ns)) / lnGamma_));
    if (k >= counts_.size()) counts_.resize(k + 1, 0);
    counts_[k]++;
  }
  uint64_t count() const { return n_; }
  uint64_t zeros() const { return zeros_; }
  int64_t min() const { return min_; }
  int64_t max() const { return max_; }
  double mean() const { return mean_; }
  double m2() const { return m2_; }
  const std::vector<uint64_t>& counts() const { return counts_; }

 private:
  double lnGamma_;
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0, zeros_ = 0;
  int64_t min_ = 0, max_ = 0;
  double mean_ = 0, m2_ = 0;
};

}  // namespace umlperf
