// Pieces the probe loops share: the cancellation check, a progress throttle, and the
// attach/detach guard for the socket a cancel must wake.
#pragma once
#include "clock.h"
#include "error.h"
#include "probe.h"

namespace umlperf {

[[noreturn]] inline void throwCancelled() { throwCode("ABORT_ERR", "the probe was cancelled"); }

// A peer that did something an echo/discard service never does. The code names what it did:
// ERR_UMLPERF_PEER_SILENT, _CLOSED, _EXTRA_BYTES, _BAD_REPLY, _WRONG_SEQUENCE, _BAD_REPORT.
[[noreturn]] inline void throwPeer(const char* what, const std::string& message) {
  throwCode((std::string("ERR_UMLPERF_PEER_") + what).c_str(), message);
}

inline std::function<bool()> cancelledFn(const Control& c) {
  return [&c] { return c.cancelled(); };
}

struct Attached {
  Control& c;
  int fd;
  Attached(Control& c, int fd) : c(c), fd(fd) { c.attach(fd); }
  ~Attached() { c.detach(fd); }
};

// Reports progress at most every 100 ms; cheap to call each iteration.
class Throttle {
 public:
  Throttle(const Clock& clk, Control& c, bool on = true)
      : c_(c), every_(clk.fromNs(100000000)), next_(on ? clk.now() + every_ : UINT64_MAX) {}
  inline void tick(uint64_t now, uint64_t done, uint64_t total) {
    if (now < next_) return;
    next_ = now + every_;
    if (c_.progress) c_.progress(done, total);
  }

 private:
  Control& c_;
  uint64_t every_, next_;
};

}  // namespace umlperf
