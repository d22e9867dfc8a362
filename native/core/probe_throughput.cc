// Throughput: bulk transfer into a discard service (RFC 863). TCP is timed until the peer
// closes after our FIN, so every byte counted has been read by the receiver. UDP goes out in
// sendmmsg batches; umlperf's own endpoint then reports what it received.
#include <sys/random.h>
#include <sys/socket.h>

#include <cstring>

#include "probe_util.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr uint64_t kSliceNs = 100000000;

// Stops the send loop by byte count or by time, and fails a stalled peer.
struct Budget {
  const ThroughputOptions& o;
  const Clock& clk;
  uint64_t t0, endTick, stallTicks, lastProgress;
  Budget(const ThroughputOptions& o, const Clock& clk, uint64_t t0)
      : o(o), clk(clk), t0(t0), endTick(t0 + clk.fromNs(o.durationNs)),
        stallTicks(clk.fromNs(o.drainTimeoutNs)), lastProgress(t0) {}
  inline bool more(uint64_t sent, uint64_t now) const {
    return o.bytes ? sent < o.bytes : now < endTick;
  }
  inline void stalled(uint64_t now) const {
    if (now - lastProgress > stallTicks)
      throwErrno("send", "the receiver stopped reading", ETIMEDOUT);
  }
};

void tcp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk) {
  const size_t size = o.size ? o.size : 128 * 1024;
  r.size = uint32_t(size);
  std::vector<char> buf(size, 'x');
  const bool spin = o.wait == Wait::Spin;
  if (!spin) setSendTimeout(fd, kSliceNs);
  Throttle progress(clk, c);
  uint64_t sent = 0;
  uint64_t t0 = clk.now(), now = t0;
  Budget b(o, clk, t0);
  while (b.more(sent, now)) {
    if (c.cancelled()) throwCancelled();
    size_t n = o.bytes && o.bytes - sent < size ? size_t(o.bytes - sent) : size;
    ssize_t rc = send(fd, buf.data(), n, MSG_NOSIGNAL);
    now = clk.now();
    if (rc > 0) {
      sent += uint64_t(rc);
      b.lastProgress = now;
      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);
      continue;
    }
    if (c.cancelled()) throwCancelled();
    if (errno != EAGAIN && errno != EINTR) throwErrno("send", "cannot send to " + r.peer);
    b.stalled(now);
  }
  uint64_t t1 = clk.now();
  r.bytesSent = sent;
  r.sendDurationNs = clk.toNs(t1 - t0);

  // Half-close and wait for the receiver to close: it has then read everything.
  shutdown(fd, SHUT_WR);
  setNonBlocking(fd, false);
  setRecvTimeout(fd, kSliceNs);
  uint64_t giveUp = t1 + clk.fromNs(o.drainTimeoutNs);
  char sink[4096];
  for (;;) {
    ssize_t rc = recv(fd, sink, sizeof sink, 0);
    if (c.cancelled()) throwCancelled();  // before rc == 0: cancel's shutdown reads as a close
    if (rc == 0) {
      r.drained = true;
      break;
    }
    if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;  // reset: the receiver is gone
    if (clk.now() > giveUp) break;
  }
  uint64_t t2 = clk.now();
  r.durationNs = r.drained ? clk.toNs(t2 - t0) : r.sendDurationNs;
  r.bytesReceived = r.drained ? sent : 0;
}

void udp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk) {
  const size_t size = o.size ? o.size : 1472;
  r.size = uint32_t(size);
  constexpr unsigned kBatch = 64;
  std::vector<char> bufs(size * kBatch, 'x');
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  memset(msgs, 0, sizeof msgs);
  for (unsigned i = 0; i < kBatch; i++) {
    iov[i] = {bufs.data() + i * size, size};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t session = 0;
  while (getrandom(&session, sizeof session, 0) != sizeof session) {}
  const bool header = size >= sizeof(WireHeader);
  if (header)
    for (unsigned i = 0; i < kBatch; i++) {
      WireHeader h{kWireMagic, kWireData, {0, 0, 0}, session, 0};
      memcpy(bufs.data() + i * size, &h, sizeof h);
    }
  setBuffers(fd, 4 << 20);
  const bool spin = o.wait == Wait::Spin;
  if (!spin) setSendTimeout(fd, kSliceNs);
  Throttle progress(clk, c);

  uint64_t sent = 0, dgrams = 0;
  uint64_t t0 = clk.now(), now = t0;
  Budget b(o, clk, t0);
  while (b.more(sent, now)) {
    if (c.cancelled()) throwCancelled();
    unsigned n = kBatch;
    if (o.bytes) {
      uint64_t left = (o.bytes - sent + size - 1) / size;
      if (left < n) n = unsigned(left);
    }
    if (header)
      for (unsigned i = 0; i < n; i++) {
        uint64_t seq = dgrams + i;
        memcpy(bufs.data() + i * size + offsetof(WireHeader, seq), &seq, 8);
      }
    int rc = sendmmsg(fd, msgs, n, 0);
    now = clk.now();
    if (rc > 0) {
      dgrams += unsigned(rc);
      sent += uint64_t(rc) * size;
      b.lastProgress = now;
      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);
      continue;
    }
    if (c.cancelled()) throwCancelled();
    if (errno == ECONNREFUSED) throwErrno("sendmmsg", "nothing is listening on " + r.peer);
    if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) throwErrno("sendmmsg", "cannot send to " + r.peer);
    b.stalled(now);
  }
  uint64_t t1 = clk.now();
  r.bytesSent = sent;
  r.datagramsSent = dgrams;
  r.sendDurationNs = r.durationNs = clk.toNs(t1 - t0);
  if (!header) return;

  // Ask the receiver what arrived. The query is queued behind the data, so the answer covers it.
  // A standard discard service never answers: then the count stays unconfirmed. A closed port
  // (ICMP port unreachable) is an error, and so is a count larger than what was sent.
  setNonBlocking(fd, false);
  setRecvTimeout(fd, 20000000);
  char q[kWireQuerySize] = {};
  WireHeader qh{kWireMagic, kWireQuery, {0, 0, 0}, session, 0};
  memcpy(q, &qh, sizeof qh);
  auto refused = [&](const char* syscall) {
    if (errno == ECONNREFUSED) throwErrno(syscall, "nothing is listening on " + r.peer + " (port unreachable)");
  };
  for (int attempt = 0; attempt < 5 && !r.receiverCounted; attempt++) {
    if (c.cancelled()) throwCancelled();
    if (send(fd, q, sizeof q, 0) < 0) {
      if (c.cancelled()) throwCancelled();
      refused("send");
      break;
    }
    const uint64_t attemptEnd = clk.now() + clk.fromNs(200000000);
    char a[kWireQuerySize];
    while (clk.now() < attemptEnd) {
      ssize_t n = recv(fd, a, sizeof a, 0);
      if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a 0-byte datagram
      if (n < 0) {
        refused("recv");
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("recv", "cannot receive the count from " + r.peer);
        continue;
      }
      WireReport rep;
      if (size_t(n) < sizeof rep) continue;
      memcpy(&rep, a, sizeof rep);
      if (rep.h.magic != kWireMagic || rep.h.kind != kWireReport || rep.h.session != session) continue;
      if (rep.datagrams > dgrams || rep.bytes > sent)
        throwPeer("BAD_REPORT", "the receiver reports " + std::to_string(rep.datagrams) + " datagrams (" +
                                    std::to_string(rep.bytes) + " bytes) received of " + std::to_string(dgrams) +
                                    " sent (" + std::to_string(sent) + " bytes)");
      r.receiverCounted = true;
      r.datagramsReceived = rep.datagrams;
      r.bytesReceived = rep.bytes;
      break;
    }
  }
}

}  // namespace

void runThroughput(const ThroughputOptions& o, Control& c, ThroughputResult& r) {
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  Fd fd = connectTo(a, o.proto, o.wait, o.busyPollUs, o.drainTimeoutNs, false, cancelledFn(c));
  Attached att(c, fd.get());
  if (o.proto == Proto::TCP)
    tcp(o, c, r, fd.get(), clk);
  else
    udp(o, c, r, fd.get(), clk);
  if (c.progress) c.progress(1, 1);
}

}  // namespace umlperf
