// Response time: ping-pong of `size` bytes against an echo service (RFC 862).
// The measured loop holds two timestamps and one store per request. Each request carries its
// sequence number in its first bytes (the rest is a fixed pattern), so a reply is recognised
// by its bytes: a late reply is stale, anything else a misbehaving peer.
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>

#include "probe_util.h"

namespace umlperf {

namespace {

constexpr uint64_t kLostInRow = 3;  // UDP: this many unanswered requests in a row: the target is gone
constexpr size_t kMaxDatagram = 65536;

inline size_t seqBytes(size_t size) { return size < 8 ? size : 8; }
inline void stampSeq(char* p, size_t size, uint64_t seq) { memcpy(p, &seq, seqBytes(size)); }
inline uint64_t readSeq(const char* p, size_t size) {
  uint64_t v = 0;
  memcpy(&v, p, seqBytes(size));
  return v;
}
inline uint64_t truncSeq(uint64_t seq, size_t size) { return size >= 8 ? seq : seq & ((1ull << (8 * size)) - 1); }

std::string msOf(uint64_t ns) { return std::to_string(ns / 1000000) + " ms"; }

struct Loop {
  const ResponseOptions& o;
  Control& c;
  const Clock& clk;
  int fd;
  bool spin;
  uint64_t timeoutTicks;
  bool narrowed = false;

  // Blocking waits are bounded by the socket timeouts, set to the whole per-request timeout,
  // not to a short slice: a kernel timer a few milliseconds out, armed and cancelled on every
  // wait, made each blocking round trip ~4% slower (UDP on loopback, 50 µs round trips). A
  // wait that starts late in a request (after part of a reply, a stale reply, a signal) gets
  // only what is left of the request's time; the next request restores the whole.
  inline void narrow(uint64_t now, uint64_t deadline) {
    if (spin) return;
    uint64_t left = deadline > now ? uint64_t(clk.toNs(deadline - now)) : 1;
    setRecvTimeout(fd, left);
    setSendTimeout(fd, left);
    narrowed = true;
  }
  inline void restore() {
    if (!narrowed) return;
    setRecvTimeout(fd, o.timeoutNs);
    setSendTimeout(fd, o.timeoutNs);
    narrowed = false;
  }

  inline bool again() const { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

  inline void sendAll(const char* buf, size_t len, uint64_t deadline) {
    size_t off = 0;
    while (off < len) {
      ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
      if (c.cancelled()) throwCancelled();
      if (n > 0) {
        off += size_t(n);
        if (off < len) narrow(clk.now(), deadline);
        continue;
      }
      if (n < 0 && again()) {
        uint64_t now = clk.now();
        if (now > deadline)
          throwErrno("send", "the echo service took no request bytes for " + msOf(o.timeoutNs), ETIMEDOUT);
        narrow(now, deadline);
        continue;
      }
      throwErrno("send", "cannot send request to " + o.host);
    }
  }

  // TCP: reads exactly len bytes by the deadline, however slowly they trickle in.
  inline void recvAll(char* buf, size_t len, uint64_t deadline) {
    size_t off = 0;
    for (;;) {
      ssize_t n = recv(fd, buf + off, len - off, 0);
      if (n > 0) {
        off += size_t(n);
        if (off == len) return;
      } else {
        if (c.cancelled()) throwCancelled();
        if (n == 0)
          throwPeer("CLOSED", "the echo service closed the connection after " + std::to_string(off) + " of " +
                                  std::to_string(len) + " reply bytes");
        if (!again()) throwErrno("recv", "cannot receive reply from " + o.host);
      }
      if (c.cancelled()) throwCancelled();
      uint64_t now = clk.now();
      if (now > deadline)
        throwErrno("recv", "no complete reply within " + msOf(o.timeoutNs) + " (" + std::to_string(off) + " of " +
                               std::to_string(len) + " bytes)", ETIMEDOUT);
      narrow(now, deadline);
    }
  }

  // UDP: waits for the reply carrying `seq`; false when the deadline passes (lost).
  inline bool recvReply(char* buf, const char* req, uint64_t seq, uint64_t deadline, uint64_t& stale) {
    for (;;) {
      ssize_t n = recv(fd, buf, kMaxDatagram, 0);
      if (n > 0 && size_t(n) == o.size) {
        uint64_t got = readSeq(buf, 8);
        if (got == seq) return true;
        if (got == 0 || got > seq)
          throwPeer("WRONG_SEQUENCE", "the echo service answered request " + std::to_string(seq) +
                                          " with sequence number " + std::to_string(got) + ", never sent");
        if (memcmp(buf + 8, req + 8, o.size - 8) != 0)
          throwPeer("BAD_REPLY", "a late reply to request " + std::to_string(got) + " differs from the request");
        stale++;
      } else if (n >= 0) {
        if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a 0-byte datagram
        throwPeer("BAD_REPLY", "the echo service answered a " + std::to_string(o.size) + "-byte request with " +
                                   std::to_string(n) + " bytes");
      } else {
        if (c.cancelled()) throwCancelled();
        if (errno == ECONNREFUSED) throwErrno("recv", "nothing is listening on " + o.host + " (port unreachable)");
        if (!again()) throwErrno("recv", "cannot receive reply from " + o.host);
      }
      if (c.cancelled()) throwCancelled();
      uint64_t now = clk.now();
      if (now > deadline) return false;
      narrow(now, deadline);
    }
  }

  // After the timestamp: the reply must be exactly the request's bytes.
  void checkReply(const char* got, const char* req, uint64_t seq, bool udp) const {
    if (memcmp(got, req, o.size) == 0) return;
    size_t k = seqBytes(o.size);
    if (!udp && seq > 1 && readSeq(got, o.size) == truncSeq(seq - 1, o.size) && memcmp(got + k, req + k, o.size - k) == 0)
      throwPeer("EXTRA_BYTES", "the echo service returned more bytes than it was sent (request " + std::to_string(seq) +
                                   " was answered with request " + std::to_string(seq - 1) + "'s bytes again)");
    size_t at = 0;
    while (got[at] == req[at]) at++;
    throwPeer("BAD_REPLY", "the reply to request " + std::to_string(seq) + " differs from the request at byte " +
                               std::to_string(at));
  }

  // Waits until t0 + interval, in short sleeps so that a cancel is seen.
  inline void pace(uint64_t t0) {
    if (!o.intervalNs) return;
    uint64_t until = t0 + clk.fromNs(o.intervalNs);
    for (;;) {
      if (c.cancelled()) throwCancelled();
      uint64_t now = clk.now();
      if (now >= until) return;
      if (spin) continue;
      int64_t ns = clk.toNs(until - now);
      if (ns > 5000000) ns = 5000000;
      timespec ts{time_t(ns / 1000000000), long(ns % 1000000000)};
      nanosleep(&ts, nullptr);
    }
  }
};

}  // namespace

void runResponse(const ResponseOptions& o, Control& c, ResponseResult& r) {
  const bool udp = o.proto == Proto::UDP;
  if (o.size == 0 || (udp && o.size < 8))
    throwCode("EINVAL", "UDP requests need at least 8 bytes (they carry their sequence number)");
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  Fd fd = connectTo(a, o.proto, o.wait, o.busyPollUs, o.timeoutNs, true, cancelledFn(c));
  Attached att(c, fd.get());
  bool spin = o.wait == Wait::Spin;
  if (!spin) {
    setRecvTimeout(fd.get(), o.timeoutNs);
    setSendTimeout(fd.get(), o.timeoutNs);
  }

  const uint64_t total = o.warmup + o.iterations;
  // Preallocated: the loop never allocates (the histogram grows only to the range seen).
  std::vector<uint64_t> ticks(o.samples ? o.iterations : 0);
  std::vector<char> sbuf(o.size), rbuf(udp ? kMaxDatagram : o.size);
  for (size_t i = 0; i < sbuf.size(); i++) sbuf[i] = char('a' + i % 26);

  Loop L{o, c, clk, fd.get(), spin, clk.fromNs(o.timeoutNs)};
  Throttle progress(clk, c);
  uint64_t stale = 0, lost = 0, lostInRow = 0, measuredStart = 0, measured = 0;

  // On any failure the requests measured so far are kept in r, for the caller to report.
  auto fill = [&](uint64_t end) {
    r.sent = measured;
    r.lost = lost;
    r.stale = stale;
    r.durationNs = measured ? clk.toNs(end - measuredStart) : 0;
    r.rttNs.clear();
    if (!o.samples) return;
    r.rttNs.reserve(measured - lost);
    for (uint64_t i = 0; i < measured; i++)
      if (ticks[i]) r.rttNs.push_back(clk.toNs(ticks[i]));
  };
  uint64_t end = 0;
  try {
    for (uint64_t i = 0; i < total; i++) {
      if (c.cancelled()) throwCancelled();
      uint64_t seq = i + 1;
      stampSeq(sbuf.data(), o.size, seq);
      L.restore();
      uint64_t t0 = clk.now();
      if (i == o.warmup) measuredStart = t0;
      const uint64_t deadline = t0 + L.timeoutTicks;
      bool ok = true;
      L.sendAll(sbuf.data(), o.size, deadline);
      if (udp)
        ok = L.recvReply(rbuf.data(), sbuf.data(), seq, deadline, stale);
      else
        L.recvAll(rbuf.data(), o.size, deadline);
      uint64_t t1 = clk.now();
      if (ok) L.checkReply(rbuf.data(), sbuf.data(), seq, udp);
      if (i >= o.warmup) {
        if (o.samples) ticks[i - o.warmup] = ok ? t1 - t0 : 0;  // 0 marks a lost request
        if (o.histogram && ok) r.hist.record(clk.toNs(t1 - t0));
        lost += !ok;
        measured++;
      }
      lostInRow = ok ? 0 : lostInRow + 1;
      if (lostInRow >= kLostInRow)
        throwPeer("SILENT", "no reply to " + std::to_string(kLostInRow) + " requests in a row (" + msOf(o.timeoutNs) +
                                " each): " + r.peer + " does not answer");
      progress.tick(t1, i + 1, total);
      L.pace(t0);
    }
    end = clk.now();
    if (!udp) {
      // A reply longer than its request leaves bytes behind after the last one.
      pollfd p{fd.get(), POLLIN, 0};
      char extra;
      if (poll(&p, 1, 2) > 0 && recv(fd.get(), &extra, 1, MSG_DONTWAIT) == 1)
        throwPeer("EXTRA_BYTES", "the echo service returned more bytes than it was sent");
    }
  } catch (const Failure&) {
    fill(clk.now());
    r.partial = true;
    throw;
  }
  fill(end);
  if (c.progress) c.progress(total, total);
}

}  // namespace umlperf
