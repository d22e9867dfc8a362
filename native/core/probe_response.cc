// Response time: ping-pong of `size` bytes against an echo service (RFC 862).
// The measured loop holds two timestamps and one store per request.
#include <sys/socket.h>
#include <time.h>

#include <cstring>

#include "probe_util.h"

namespace umlperf {

namespace {

constexpr uint64_t kSliceNs = 100000000;  // blocking waits wake this often to check cancel/deadline

struct Loop {
  const ResponseOptions& o;
  Control& c;
  const Clock& clk;
  int fd;
  bool spin;
  uint64_t timeoutTicks;

  // Sends all of buf; returns false never (throws on failure).
  inline void sendAll(const char* buf, size_t len) {
    size_t off = 0;
    while (off < len) {
      ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += size_t(n);
        continue;
      }
      if (c.cancelled()) throwCancelled();
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      throwErrno("send", "cannot send request to " + std::string(o.host));
    }
  }

  // TCP: reads exactly len bytes or fails by deadline.
  inline void recvAll(char* buf, size_t len, uint64_t deadline) {
    size_t off = 0;
    while (off < len) {
      ssize_t n = recv(fd, buf + off, len - off, 0);
      if (n > 0) {
        off += size_t(n);
        continue;
      }
      if (c.cancelled()) throwCancelled();
      if (n == 0) throwCode("ECONNRESET", "the echo service closed the connection mid-request");
      if (errno == EAGAIN || errno == EINTR) {
        if (clk.now() > deadline)
          throwErrno("recv", "no reply within " + std::to_string(o.timeoutNs / 1000000) + " ms", ETIMEDOUT);
        continue;
      }
      throwErrno("recv", "cannot receive reply");
    }
  }

  // UDP: waits for the reply carrying `seq`; false when the deadline passes (lost).
  inline bool recvReply(char* buf, uint64_t seq, uint64_t deadline, uint64_t& stale) {
    for (;;) {
      ssize_t n = recv(fd, buf, 65536, 0);
      if (n >= 0) {
        if (o.size >= 8) {
          uint64_t got;
          memcpy(&got, buf, 8);
          if (got != seq || size_t(n) != o.size) {
            stale++;
            continue;
          }
        }
        return true;
      }
      if (c.cancelled()) throwCancelled();
      if (errno == EAGAIN || errno == EINTR) {
        if (clk.now() > deadline) return false;
        continue;
      }
      throwErrno("recv", "cannot receive reply from " + std::string(o.host));
    }
  }

  inline void pace(uint64_t t0) {
    if (!o.intervalNs) return;
    uint64_t until = t0 + clk.fromNs(o.intervalNs);
    if (spin) {
      while (clk.now() < until)
        if (c.cancelled()) throwCancelled();
      return;
    }
    uint64_t now = clk.now();
    if (now >= until) return;
    int64_t ns = clk.toNs(until - now);
    timespec ts{time_t(ns / 1000000000), long(ns % 1000000000)};
    nanosleep(&ts, nullptr);
  }
};

}  // namespace

void runResponse(const ResponseOptions& o, Control& c, ResponseResult& r) {
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  Fd fd = connectTo(a, o.proto, o.wait, o.busyPollUs, o.timeoutNs);
  Attached att(c, fd.get());
  bool spin = o.wait == Wait::Spin;
  if (!spin) setRecvTimeout(fd.get(), o.timeoutNs < kSliceNs ? o.timeoutNs : kSliceNs);

  const uint64_t total = o.warmup + o.iterations;
  std::vector<uint64_t> ticks(o.iterations);  // preallocated: the loop never allocates
  std::vector<char> sbuf(o.size ? o.size : 1), rbuf(o.proto == Proto::UDP ? 65536 : o.size + 1);
  for (size_t i = 0; i < sbuf.size(); i++) sbuf[i] = char('a' + i % 26);

  Loop L{o, c, clk, fd.get(), spin, clk.fromNs(o.timeoutNs)};
  Throttle progress(clk, c);
  uint64_t stale = 0, lost = 0, measuredStart = 0;
  const bool udp = o.proto == Proto::UDP;

  for (uint64_t i = 0; i < total; i++) {
    if (c.cancelled()) throwCancelled();
    uint64_t seq = i + 1;
    if (udp && o.size >= 8) memcpy(sbuf.data(), &seq, 8);
    uint64_t t0 = clk.now();
    if (i == o.warmup) measuredStart = t0;
    bool ok = true;
    L.sendAll(sbuf.data(), o.size);
    if (udp)
      ok = L.recvReply(rbuf.data(), seq, t0 + L.timeoutTicks, stale);
    else
      L.recvAll(rbuf.data(), o.size, t0 + L.timeoutTicks);
    uint64_t t1 = clk.now();
    if (i >= o.warmup) {
      ticks[i - o.warmup] = ok ? t1 - t0 : 0;  // 0 marks a lost request
      lost += !ok;
    }
    progress.tick(t1, i + 1, total);
    L.pace(t0);
  }
  uint64_t end = clk.now();

  r.sent = o.iterations;
  r.lost = lost;
  r.stale = stale;
  r.durationNs = o.iterations ? clk.toNs(end - measuredStart) : 0;
  r.rttNs.reserve(o.iterations - lost);
  for (uint64_t i = 0; i < o.iterations; i++)
    if (ticks[i]) r.rttNs.push_back(clk.toNs(ticks[i]));
  if (c.progress) c.progress(total, total);
}

}  // namespace umlperf
