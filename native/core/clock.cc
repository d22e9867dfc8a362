#include "clock.h"

#include <cpuid.h>
#include <cstdlib>
#include <cstring>

namespace umlperf {

uint64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

static bool invariantTsc() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007) return false;
  __get_cpuid(0x80000007, &a, &b, &c, &d);
  return (d >> 8) & 1;
#else
  return false;
#endif
}

#if defined(__x86_64__)
// One (tsc, raw ns) pair, taken where the two reads bracket each other most tightly.
static void pair(uint64_t& tsc, uint64_t& ns) {
  uint64_t best = ~0ull;
  for (int i = 0; i < 16; i++) {
    unsigned aux;
    uint64_t a = __rdtscp(&aux);
    uint64_t t = monoNs();
    uint64_t b = __rdtscp(&aux);
    if (b - a < best) {
      best = b - a;
      tsc = a + (b - a) / 2;
      ns = t;
    }
  }
}
#endif

namespace {

// The TSC's rate against CLOCK_MONOTONIC_RAW, measured once per process over 20 ms, where the
// TSC is invariant and UMLPERF_CLOCK=monotonic does not forbid it.
struct TscScale {
  bool ok = false;
  uint64_t tsc0 = 0, ns0 = 0;  // one bracketed pair: the anchor of fastNs()
  double nsPerTick = 1.0;
};

const TscScale& tscScale() {
  static const TscScale scale = [] {
    TscScale s;
    const char* force = getenv("UMLPERF_CLOCK");
    if (force && strcmp(force, "monotonic") == 0) return s;
#if defined(__x86_64__)
    if (!invariantTsc()) return s;
    uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
    pair(t0, n0);
    timespec sl{0, 20 * 1000 * 1000};
    nanosleep(&sl, nullptr);
    pair(t1, n1);
    if (t1 > t0 && n1 > n0) {
      s.ok = true;
      s.tsc0 = t0;
      s.ns0 = n0;
      s.nsPerTick = double(n1 - n0) / double(t1 - t0);
    }
#endif
    return s;
  }();
  return scale;
}

}  // namespace

uint64_t fastNs() {
#if defined(__x86_64__)
  const TscScale& s = tscScale();
  if (s.ok) {
    unsigned aux;
    // Signed: a read on another CPU may be a few ticks behind the anchor.
    int64_t ticks = int64_t(__rdtscp(&aux) - s.tsc0);
    return s.ns0 + uint64_t(int64_t(double(ticks) * s.nsPerTick));
  }
#endif
  return monoNs();
}

Clock::Clock() {
  const TscScale& s = tscScale();
  if (s.ok) {
    tsc_ = true;
    nsPerTick_ = s.nsPerTick;
    info_.source = "tsc";
    info_.tscHz = 1e9 / nsPerTick_;
    info_.resolutionNs = nsPerTick_;
  } else {
    info_.source = "clock_monotonic_raw";
    info_.tscHz = 0;
    // Resolution: the smallest step the clock actually shows, at least clock_getres.
    timespec res;
    clock_getres(CLOCK_MONOTONIC_RAW, &res);
    double getres = double(res.tv_sec) * 1e9 + double(res.tv_nsec);
    uint64_t minStep = ~0ull;
    for (int i = 0; i < 1000; i++) {
      uint64_t a = monoNs(), b;
      do b = monoNs(); while (b == a);
      if (b - a < minStep) minStep = b - a;
    }
    info_.resolutionNs = double(minStep) > getres ? double(minStep) : getres;
  }
  // Overhead: back-to-back timestamps, best of several rounds.
  const int n = 20000;
  double best = 1e18;
  for (int round = 0; round < 5; round++) {
    uint64_t a = now();
    for (int i = 0; i < n; i++) (void)now();
    uint64_t b = now();
    double per = double(toNs(b - a)) / (n + 1);
    if (per < best) best = per;
  }
  info_.overheadNs = best;
}

const Clock& Clock::get() {
  static Clock clock;  // thread-safe static initialisation
  return clock;
}

}  // namespace umlperf
