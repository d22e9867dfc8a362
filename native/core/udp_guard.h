// Which UDP datagrams the endpoint answers. An echo service answering everything can be made
// to echo to itself or to another echo service forever (one spoofed datagram is enough), so:
// - never answer a reserved source port (< 1024: echo 7, discard 9, chargen 19, ...), as
//   inetd's echo does, nor a source port that is one of our own services or the default
//   umlperf echo/discard ports (two endpoints on the same ports, e.g. two guests, would
//   otherwise answer each other);
// - never answer a datagram that is byte for byte our last reply to the same source, arriving
//   within kLoopWindowNs (50 ms) of it: that is our own reply coming back through a reflector.
//   Whatever the round trip, a loop then gets at most one answer per window (20/s). (A client
//   repeating one payload faster than that sees every other repeat unanswered.)
// - at most perSecond replies to one source address (a token bucket, burst perSecond / 10).
// Memory is fixed: sources share hashed slots, and a newcomer takes over a slot.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace umlperf {

constexpr uint16_t kDefaultEchoPort = 7007;
constexpr uint16_t kDefaultDiscardPort = 7008;

class UdpGuard {
 public:
  enum Verdict { Answer, Reserved, Loop, Limited };
  static constexpr uint64_t kLoopWindowNs = 50000000;

  UdpGuard(uint16_t echoPort, uint16_t discardPort, uint32_t perSecond)
      : echoPort_(echoPort), discardPort_(discardPort), perSecond_(perSecond),
        burst_(perSecond / 10 > 64 ? double(perSecond / 10) : 64.0), rate_(kSlots), loop_(kSlots) {}

  Verdict check(const sockaddr_storage& from, const char* data, size_t n, uint64_t nowNs) {
    uint16_t port = portOf(from);
    if (port < 1024 || port == echoPort_ || port == discardPort_ || port == kDefaultEchoPort ||
        port == kDefaultDiscardPort)
      return Reserved;
    uint64_t src = addrHash(from), peer = src * 0x9e3779b97f4a7c15ull ^ port;
    LoopSlot& l = loop_[peer % kSlots];
    if (l.peer == peer && l.len == n && nowNs - l.atNs < kLoopWindowNs && l.hash == sampleHash(data, n)) return Loop;
    if (perSecond_) {
      RateSlot& r = rate_[src % kSlots];
      if (r.src != src) r = RateSlot{src, burst_, nowNs};
      r.tokens += double(nowNs - r.atNs) * 1e-9 * perSecond_;
      if (r.tokens > burst_) r.tokens = burst_;
      r.atNs = nowNs;
      if (r.tokens < 1) return Limited;
      r.tokens -= 1;
    }
    return Answer;
  }

  // Records the reply just sent to `to`, for the loop check.
  void replied(const sockaddr_storage& to, const char* data, size_t n, uint64_t nowNs) {
    uint64_t peer = addrHash(to) * 0x9e3779b97f4a7c15ull ^ portOf(to);
    loop_[peer % kSlots] = LoopSlot{peer, sampleHash(data, n), n, nowNs};
  }

 private:
  static constexpr size_t kSlots = 1024;
  struct RateSlot {
    uint64_t src = 0;
    double tokens = 0;
    uint64_t atNs = 0;
  };
  struct LoopSlot {
    uint64_t peer = 0, hash = 0;
    size_t len = 0;
    uint64_t atNs = 0;
  };

  static uint16_t portOf(const sockaddr_storage& s) {
    return ntohs(s.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(s).sin6_port
                                         : reinterpret_cast<const sockaddr_in&>(s).sin_port);
  }
  static uint64_t bytesHash(const char* p, size_t n) {  // FNV-1a
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ uint8_t(p[i])) * 0x100000001b3ull;
    return h;
  }
  // A word at a time: the echo hashes every request and every reply, and byte-wise that is 64
  // dependent multiplies per 64-byte datagram, twice per request (with the receive timeout
  // gone, the echo's loopback round trip became 1% shorter).
  static uint64_t wordsHash(const char* p, size_t n) {
    uint64_t h = n;
    for (size_t i = 0; i < n; i += 8) {
      uint64_t w = 0;
      memcpy(&w, p + i, n - i < 8 ? n - i : 8);
      h = (h ^ w) * 0x9e3779b97f4a7c15ull;
      h ^= h >> 29;
    }
    return h;
  }
  // The first and last 32 bytes: cheap at any size, and enough to tell our own reply coming
  // back from a client's next request (which differs somewhere, e.g. in a sequence number).
  static uint64_t sampleHash(const char* p, size_t n) {
    if (n <= 64) return wordsHash(p, n);
    return wordsHash(p, 32) * 31 + wordsHash(p + n - 32, 32);
  }
  static uint64_t addrHash(const sockaddr_storage& s) {
    if (s.ss_family == AF_INET6) {
      const auto& a = reinterpret_cast<const sockaddr_in6&>(s).sin6_addr;
      return bytesHash(reinterpret_cast<const char*>(&a), sizeof a) | 1;
    }
    const auto& a = reinterpret_cast<const sockaddr_in&>(s).sin_addr;
    return bytesHash(reinterpret_cast<const char*>(&a), sizeof a) | 1;
  }

  uint16_t echoPort_, discardPort_;
  uint32_t perSecond_;
  double burst_;
  std::vector<RateSlot> rate_;
  std::vector<LoopSlot> loop_;
};

}  // namespace umlperf
