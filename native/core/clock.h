// Timestamps for the probe hot loops: the TSC where it is invariant, else CLOCK_MONOTONIC_RAW.
// now() is a tick count; ticks become integer nanoseconds only after a run (toNs).
#pragma once
#include <cstdint>
#include <ctime>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace umlperf {

struct ClockInfo {
  const char* source;   // "tsc", "clock_monotonic_raw"
  double resolutionNs;  // one tick, or the clock's smallest observed step
  double overheadNs;    // measured cost of one timestamp
  double tscHz;         // 0 unless source is tsc
};

class Clock {
 public:
  // Calibrated once per process (thread-safe); ~25 ms the first time.
  static const Clock& get();

  inline uint64_t now() const {
#if defined(__x86_64__)
    if (tsc_) {
      unsigned aux;
      return __rdtscp(&aux);
    }
#endif
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
  }

  inline int64_t toNs(uint64_t ticks) const {
    return tsc_ ? int64_t(double(ticks) * nsPerTick_ + 0.5) : int64_t(ticks);
  }
  inline uint64_t fromNs(uint64_t ns) const {
    return tsc_ ? uint64_t(double(ns) / nsPerTick_) : ns;
  }
  const ClockInfo& info() const { return info_; }

 private:
  Clock();
  bool tsc_ = false;
  double nsPerTick_ = 1.0;
  ClockInfo info_{};
};

// Nanoseconds since an arbitrary point, for deadlines outside hot loops.
uint64_t monoNs();

// Nanoseconds on monoNs()'s scale and epoch (to within the TSC's calibration), read from the
// TSC where it is invariant, else monoNs(). For the endpoint's bookkeeping on every request
// (activity, rate limits, stalls): in a UML guest clock_gettime has no vDSO and each call is a
// trap to the guest kernel, tens of µs, while an rdtscp runs as it does on the host. The first
// call calibrates (~20 ms).
uint64_t fastNs();

}  // namespace umlperf
