// Throughput: bulk transfer into a discard service (RFC 863). TCP is timed until the peer
// closes after our FIN, so every byte counted has been read by the receiver. UDP goes out in
// sendmmsg batches; umlperf's own endpoint then reports what it received. Reverse (TCP): a
// chargen source (RFC 864) sends, we count what arrives and close when done. Parallel and
// bidirectional runs are several such streams, each on a connection and thread of its own.
#include <sys/random.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>
#include <poll.h>
#include <netinet/in.h>
#include <exception>
#include <memory>
#include <system_error>
#include <thread>

#include "batch.h"
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

// Waits until tick `at` (at most 10 ms per call): sleeping, or polling the clock in spin mode.
void waitUntil(const Clock& clk, Control& c, uint64_t at, bool spin) {
  uint64_t now = clk.now();
  if (at <= now) return;
  uint64_t ns = clk.toNs(at - now);
  if (ns > 10000000) ns = 10000000;
  if (spin) {
    uint64_t end = now + clk.fromNs(ns);
    while (clk.now() < end && !c.cancelled()) {}
    return;
  }
  timespec ts{0, long(ns)};
  nanosleep(&ts, nullptr);
}

// Snapshots a stream's cumulative counters at the end of each interval: in the loop, one
// comparison per iteration; the snapshot itself at most once per interval. Boundaries stay on
// the grid start + k * interval, so the streams of one run share them.
class Intervals {
 public:
  Intervals(const Clock& clk, uint64_t t0, uint64_t everyNs, std::vector<IntervalSnapshot>& out, int tcpSendFd,
            Control& c, unsigned stream, bool receive)
      : clk_(clk), t0_(t0), every_(everyNs ? clk.fromNs(everyNs) : 0), next_(everyNs ? t0 + every_ : UINT64_MAX),
        out_(out), fd_(tcpSendFd), c_(c), stream_(stream), receive_(receive) {}
  inline void tick(uint64_t now, uint64_t bytes, uint64_t lost = 0) {
    if (now >= next_) take(now, bytes, lost);
  }
  // The last, partial interval.
  void finish(uint64_t now, uint64_t bytes, uint64_t lost = 0) {
    if (every_ && (out_.empty() || out_.back().bytes != bytes || out_.back().lost != lost)) take(now, bytes, lost);
  }

 private:
  void take(uint64_t now, uint64_t bytes, uint64_t lost) {
    out_.push_back({clk_.toNs(now - t0_), bytes, fd_ >= 0 ? tcpRetransmits(fd_) : 0, lost});
    if (now >= next_) next_ += every_ * ((now - next_) / every_ + 1);
    if (c_.interval) c_.interval(stream_, receive_, out_.back());
  }
  const Clock& clk_;
  uint64_t t0_, every_, next_;
  std::vector<IntervalSnapshot>& out_;
  int fd_;
  Control& c_;
  unsigned stream_;
  bool receive_;
};

inline size_t tcpWriteSize(const ThroughputOptions& o) { return o.size ? o.size : kTcpWriteDefault; }

// payload: tcpWriteSize(o) bytes, shared read-only by every stream of the run.
void tcp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk, uint64_t t0, unsigned id,
         const char* payload) {
  const bool lead = id == 0;
  const size_t size = tcpWriteSize(o);
  r.size = uint32_t(size);
  const bool spin = o.wait == Wait::Spin;
  if (!spin) setSendTimeout(fd, kSliceNs);
  Throttle progress(clk, c, lead);
  Intervals iv(clk, t0, o.intervalNs, r.intervals, fd, c, id, false);
  uint64_t sent = 0;
  uint64_t now = clk.now();
  Budget b(o, clk, t0);
  while (b.more(sent, now)) {
    if (c.cancelled()) throwCancelled();
    size_t n = o.bytes && o.bytes - sent < size ? size_t(o.bytes - sent) : size;
    ssize_t rc = send(fd, payload, n, MSG_NOSIGNAL);
    now = clk.now();
    if (rc > 0) {
      sent += uint64_t(rc);
      b.lastProgress = now;
      iv.tick(now, sent);
      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);
      continue;
    }
    if (c.cancelled()) throwCancelled();
    if (errno != EAGAIN && errno != EINTR) throwErrno("send", "cannot send to " + r.peer);
    b.stalled(now);
  }
  uint64_t t1 = clk.now();
  iv.finish(t1, sent);
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
  r.retransmits = tcpRetransmits(fd);
}

// Reverse: a source sends until we close. Timed from the common start to the last byte
// received, so what we report is bytes received over the receive time.
void tcpReceive(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk, uint64_t t0, unsigned id) {
  const bool lead = id == 0;
  const size_t size = o.size ? o.size : kTcpReadDefault;
  r.size = uint32_t(size);
  r.receive = true;
  std::vector<char> buf(size);
  if (o.wait != Wait::Spin) setRecvTimeout(fd, kSliceNs);
  Throttle progress(clk, c, lead);
  Intervals iv(clk, t0, o.intervalNs, r.intervals, -1, c, id, true);
  uint64_t got = 0;
  uint64_t now = clk.now(), last = t0;
  Budget b(o, clk, t0);
  while (b.more(got, now)) {
    if (c.cancelled()) throwCancelled();
    size_t n = o.bytes && o.bytes - got < size ? size_t(o.bytes - got) : size;
    ssize_t rc = recv(fd, buf.data(), n, 0);
    now = clk.now();
    if (rc > 0) {
      got += uint64_t(rc);
      last = b.lastProgress = now;
      iv.tick(now, got);
      progress.tick(now, o.bytes ? got : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);
      continue;
    }
    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as the source's close
    if (rc == 0)
      throwPeer("CLOSED", "the source " + r.peer + " closed after " + std::to_string(got) + " bytes, before the run ended");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("recv", "cannot receive from " + r.peer);
    if (now - b.lastProgress > b.stallTicks) throwErrno("recv", "the source " + r.peer + " stopped sending", ETIMEDOUT);
  }
  iv.finish(last, got);
  r.bytesSeen = got;
  r.sendDurationNs = r.durationNs = clk.toNs(last - t0);
  r.drained = true;
}

// Reverse UDP: asks the endpoint's UDP source (over the TCP control connection `ctl`) for a
// paced stream to a UDP socket of ours, counts what arrives by sequence number (distinct,
// duplicates, reordered), and takes the source's own count of what it sent from its final
// report: lost = sent - distinct received. Timed from the common start to the last datagram.
void udpReceive(const ThroughputOptions& o, Control& c, ThroughputResult& r, int ctl, const Clock& clk, uint64_t t0, unsigned id) {
  const bool lead = id == 0;
  const size_t size = o.size ? o.size : kUdpDatagramDefault;
  r.size = uint32_t(size);
  r.receive = true;
  if (size < sizeof(WireHeader) || size > 65507) throwCode("EINVAL", "a UDP source datagram is 24..65507 bytes");
  if (!(o.rateMbps > 0)) throwCode("EINVAL", "reverse UDP needs a rate");
  if (!o.durationNs) throwCode("EINVAL", "reverse UDP runs for a duration");
  // Every sequence number the source may send at that rate and duration (and a margin).
  const double expected = o.rateMbps * 1e6 * double(o.durationNs) / 1e9 / (double(size) * 8) * 1.05 + 1024;
  constexpr double kMaxTracked = double(1ull << 28);
  if (expected > kMaxTracked) throwCode("EINVAL", "too many datagrams to track: raise the size, or lower the rate or the duration");
  const uint64_t seqBound = uint64_t(expected);
  std::vector<uint64_t> seen(size_t(seqBound / 64 + 1), 0);

  // Our UDP socket on the address the control connection uses; the source sends from the
  // control connection's peer address, and nothing from elsewhere is counted.
  sockaddr_storage local{}, peer{};
  socklen_t llen = sizeof local, plen = sizeof peer;
  if (getsockname(ctl, reinterpret_cast<sockaddr*>(&local), &llen) < 0 || getpeername(ctl, reinterpret_cast<sockaddr*>(&peer), &plen) < 0)
    throwErrno("getsockname", "cannot read the control connection's addresses");
  if (local.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(local).sin_port = 0;
  else reinterpret_cast<sockaddr_in6&>(local).sin6_port = 0;
  Fd u(socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!u || bind(u.get(), reinterpret_cast<sockaddr*>(&local), llen) < 0) throwErrno("bind", "cannot open a UDP socket to receive on");
  Attached au(c, u.get());
  setBuffers(u.get(), 8 << 20);
  sockaddr_storage mine{};
  socklen_t mlen = sizeof mine;
  getsockname(u.get(), reinterpret_cast<sockaddr*>(&mine), &mlen);
  const uint16_t udpPort = ntohs(mine.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(mine).sin_port
                                                            : reinterpret_cast<sockaddr_in6&>(mine).sin6_port);
  setNonBlocking(u.get(), true);
  setNonBlocking(ctl, true);

  uint64_t session = 0;
  while (getrandom(&session, sizeof session, 0) != sizeof session) {}
  SourceRequest rq{};
  rq.h = {kWireMagic, kWireSourceRequest, {0, 0, 0}, session, 0};
  rq.bitsPerSecond = uint64_t(o.rateMbps * 1e6);
  rq.durationNs = o.durationNs;
  rq.maxDatagrams = 0;
  rq.size = uint32_t(size);
  rq.udpPort = udpPort;
  char out[kSourceMsgSize] = {};
  memcpy(out, &rq, sizeof rq);

  // Every wait below is a poll of at most kSliceNs, so cancel (which shuts both sockets down)
  // and the deadlines are noticed.
  const uint64_t stallTicks = clk.fromNs(o.drainTimeoutNs);
  auto pollFor = [&](short ctlEvents) {
    pollfd p[2] = {{ctl, ctlEvents, 0}, {u.get(), POLLIN, 0}};
    // With intervals, wake often enough to close an interval in which nothing arrived.
    int rc = poll(p, 2, o.wait == Wait::Spin ? 0 : o.intervalNs ? 10 : int(kSliceNs / 1000000));
    if (c.cancelled()) throwCancelled();
    if (rc < 0 && errno != EINTR) throwErrno("poll", "cannot wait for the source " + r.peer);
  };
  size_t off = 0;
  uint64_t since = clk.now();
  while (off < sizeof out) {
    ssize_t w = send(ctl, out + off, sizeof out - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += size_t(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("send", "cannot ask the source " + r.peer);
    if (clk.now() - since > stallTicks) throwErrno("send", "the source " + r.peer + " takes no request", ETIMEDOUT);
    pollFor(POLLOUT);
  }

  // The control connection's messages, 64 bytes each.
  char in[kSourceMsgSize];
  size_t have = 0;
  auto readReply = [&](SourceReply& rep) -> bool {  // true when a whole message is in rep
    ssize_t n = recv(ctl, in + have, sizeof in - have, 0);
    if (n == 0) {
      if (c.cancelled()) throwCancelled();
      throwPeer("CLOSED", "the source " + r.peer + " closed the control connection before it reported what it sent");
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
      if (c.cancelled()) throwCancelled();
      throwErrno("recv", "cannot read the control connection of " + r.peer);
    }
    have += size_t(n);
    if (have < sizeof in) return false;
    have = 0;
    memcpy(&rep, in, sizeof rep);
    if (rep.h.magic != kWireMagic || rep.h.session != session ||
        (rep.h.kind != kWireSourceAccept && rep.h.kind != kWireSourceRefuse && rep.h.kind != kWireSourceDone))
      throwPeer("BAD_REPLY", r.peer + " is not a umlperf UDP source: its answer to the request is not one");
    return true;
  };
  SourceReply rep{};
  since = clk.now();
  for (;;) {
    if (c.cancelled()) throwCancelled();
    if (readReply(rep)) break;
    if (clk.now() - since > stallTicks) throwErrno("recv", "the source " + r.peer + " did not answer the request", ETIMEDOUT);
    pollFor(POLLIN);
  }
  if (rep.h.kind == kWireSourceRefuse) {
    std::string why = rep.reason == kRefuseRate       ? "the rate is over its cap of " + std::to_string(rep.maxBitsPerSecond / 1000000) + " Mbit/s"
                      : rep.reason == kRefuseDuration ? "the duration is over its cap of " + std::to_string(rep.maxDurationNs / 1000000) + " ms"
                      : rep.reason == kRefuseSize     ? "the datagram size is out of range"
                      : rep.reason == kRefusePort     ? "the UDP port is reserved"
                                                      : "it cannot open a UDP socket to us";
    throwCode("ERR_UMLPERF_SOURCE_REFUSED", "the UDP source " + r.peer + " refused: " + why);
  }
  if (rep.h.kind != kWireSourceAccept) throwPeer("BAD_REPLY", "the source " + r.peer + " reported before it accepted");

  constexpr unsigned kBatch = 32;
  // One byte more than a datagram: a longer one is seen as longer, not cut to size.
  DatagramBatch<kBatch> batch(size + 1 <= 2048 ? 2048 : size + 1);
  Throttle progress(clk, c, lead);
  Intervals iv(clk, t0, o.intervalNs, r.intervals, -1, c, id, true);
  uint64_t bytes = 0, distinct = 0, next = 0, last = t0, activity = clk.now();
  bool done = false;
  uint64_t doneAt = 0;
  const uint64_t graceTicks = clk.fromNs(200000000);
  const uint64_t giveUp = clk.now() + clk.fromNs(o.durationNs) + stallTicks;
  auto samePeer = [&](const sockaddr_storage& f) {
    if (f.ss_family != peer.ss_family) return false;
    if (f.ss_family == AF_INET)
      return reinterpret_cast<const sockaddr_in&>(f).sin_addr.s_addr == reinterpret_cast<const sockaddr_in&>(peer).sin_addr.s_addr;
    return memcmp(&reinterpret_cast<const sockaddr_in6&>(f).sin6_addr, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, 16) == 0;
  };
  for (;;) {
    if (c.cancelled()) throwCancelled();
    int n = batch.recv(u.get(), MSG_DONTWAIT);
    uint64_t now = clk.now();
    if (n > 0) {
      for (int i = 0; i < n; i++) {
        size_t len = batch.len(unsigned(i));
        if (len != size || !samePeer(batch.from(unsigned(i)))) continue;  // not the stream asked for
        WireHeader h;
        memcpy(&h, batch.data(unsigned(i)), sizeof h);
        if (h.magic != kWireMagic || h.kind != kWireData || h.session != session) continue;
        if (h.seq >= seqBound)
          throwPeer("WRONG_SEQUENCE", "the source " + r.peer + " sent sequence number " + std::to_string(h.seq) +
                                          ", more datagrams than the rate and duration allow");
        uint64_t& word = seen[size_t(h.seq / 64)];
        const uint64_t bit = 1ull << (h.seq % 64);
        if (word & bit) {
          r.duplicates++;
          continue;
        }
        word |= bit;
        distinct++;
        bytes += len;
        if (h.seq < next) r.reordered++;
        else next = h.seq + 1;
      }
      last = activity = now;
      iv.tick(now, bytes, next - distinct);
      progress.tick(now, clk.toNs(now - t0), o.durationNs);
      // A source that never stops (duplicates, say) is still bounded by the run's time.
      if (done ? distinct >= rep.datagrams || now - doneAt > stallTicks : now > giveUp) {
        if (!done) throwErrno("recv", "the source " + r.peer + " did not report the end of its stream", ETIMEDOUT);
        break;
      }
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      if (c.cancelled()) throwCancelled();
      throwErrno("recvmmsg", "cannot receive from " + r.peer);
    }
    iv.tick(now, bytes, next - distinct);
    if (!done) {
      if (readReply(rep)) {
        if (rep.h.kind != kWireSourceDone) throwPeer("BAD_REPLY", "the source " + r.peer + " sent a second answer");
        done = true;
        doneAt = now;
        activity = now;
      }
    }
    // After the source's report, what it sent is in flight or here: wait until all of it has
    // arrived or nothing more comes for a short while.
    if (done && (distinct >= rep.datagrams || now - activity > graceTicks || now - doneAt > stallTicks)) break;
    if (!done && now - activity > stallTicks) throwErrno("recv", "the source " + r.peer + " stopped sending", ETIMEDOUT);
    if (!done && now > giveUp) throwErrno("recv", "the source " + r.peer + " did not report the end of its stream", ETIMEDOUT);
    pollFor(done ? 0 : POLLIN);
  }
  if (distinct > rep.datagrams || bytes > rep.bytes)
    throwPeer("BAD_REPORT", "the source reports " + std::to_string(rep.datagrams) + " datagrams sent, " + std::to_string(distinct) +
                                " distinct ones arrived");
  iv.finish(last, bytes, rep.datagrams - distinct);
  r.bytesSeen = bytes;
  r.datagramsReceived = distinct;
  r.datagramsSent = rep.datagrams;
  r.bytesSent = 0;
  r.receiverCounted = true;
  r.reorderCounted = true;
  r.sendDurationNs = r.durationNs = clk.toNs(last - t0);
  r.drained = true;
}

void udp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk, uint64_t t0, unsigned id) {
  const bool lead = id == 0;
  const size_t size = o.size ? o.size : kUdpDatagramDefault;
  r.size = uint32_t(size);
  constexpr unsigned kBatch = 64;
  DatagramBatch<kBatch> batch(size, 'x');
  uint64_t session = 0;
  while (getrandom(&session, sizeof session, 0) != sizeof session) {}
  const bool header = size >= sizeof(WireHeader);
  if (header)
    for (unsigned i = 0; i < kBatch; i++) {
      WireHeader h{kWireMagic, kWireData, {0, 0, 0}, session, 0};
      memcpy(batch.data(i), &h, sizeof h);
    }
  setBuffers(fd, 4 << 20);
  const bool spin = o.wait == Wait::Spin;
  if (!spin) setSendTimeout(fd, kSliceNs);
  Throttle progress(clk, c, lead);
  Intervals iv(clk, t0, o.intervalNs, r.intervals, -1, c, id, false);

  uint64_t sent = 0, dgrams = 0;
  uint64_t now = clk.now();
  Budget b(o, clk, t0);
  // Paced: datagram k is due at t0 + k * gap (an anchored schedule: a late wake-up is made up
  // in the next batch, the average never exceeds the rate).
  const double gapTicks = o.rateMbps > 0 ? double(clk.fromNs(1000000000ull)) * double(size) * 8.0 / (o.rateMbps * 1e6) : 0;
  while (b.more(sent, now)) {
    if (c.cancelled()) throwCancelled();
    unsigned n = kBatch;
    if (o.bytes) {
      uint64_t left = (o.bytes - sent + size - 1) / size;
      if (left < n) n = unsigned(left);
    }
    if (gapTicks > 0) {
      uint64_t due = uint64_t(double(now - t0) / gapTicks) + 1;
      if (due <= dgrams) {
        waitUntil(clk, c, t0 + uint64_t(double(dgrams) * gapTicks), spin);
        now = clk.now();
        b.lastProgress = now;
        continue;
      }
      if (due - dgrams < n) n = unsigned(due - dgrams);
    }
    if (header)
      for (unsigned i = 0; i < n; i++) {
        uint64_t seq = dgrams + i;
        memcpy(batch.data(i) + offsetof(WireHeader, seq), &seq, 8);
      }
    int rc = batch.send(fd, n);
    now = clk.now();
    if (rc > 0) {
      dgrams += unsigned(rc);
      sent += uint64_t(rc) * size;
      b.lastProgress = now;
      iv.tick(now, sent);
      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);
      continue;
    }
    if (c.cancelled()) throwCancelled();
    if (errno == ECONNREFUSED) throwErrno("sendmmsg", "nothing is listening on " + r.peer);
    if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) throwErrno("sendmmsg", "cannot send to " + r.peer);
    b.stalled(now);
  }
  uint64_t t1 = clk.now();
  iv.finish(t1, sent);
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
      WireReport rep{};
      if (size_t(n) < kWireReportV1Size) continue;
      memcpy(&rep, a, size_t(n) < sizeof rep ? size_t(n) : sizeof rep);
      r.reorderCounted = size_t(n) >= sizeof rep;
      if (rep.h.magic != kWireMagic || rep.h.kind != kWireReport || rep.h.session != session) continue;
      if (rep.datagrams > dgrams || rep.bytes > sent)
        throwPeer("BAD_REPORT", "the receiver reports " + std::to_string(rep.datagrams) + " datagrams (" +
                                    std::to_string(rep.bytes) + " bytes) received of " + std::to_string(dgrams) +
                                    " sent (" + std::to_string(sent) + " bytes)");
      r.receiverCounted = true;
      r.datagramsReceived = rep.datagrams;
      r.bytesReceived = rep.bytes;
      r.reordered = r.reorderCounted ? rep.reordered : 0;
      if (r.reordered > rep.datagrams)
        throwPeer("BAD_REPORT", "the receiver reports more datagrams reordered than received");
      break;
    }
  }
}

}  // namespace

void runThroughput(const ThroughputOptions& o, Control& c, ThroughputRun& run) {
  const Clock& clk = Clock::get();
  const bool send = o.direction != Direction::Receive, receive = o.direction != Direction::Send;
  const unsigned n = o.parallel ? o.parallel : 1;
  if (n > 128) throwCode("EINVAL", "at most 128 parallel streams");

  // Connect every stream first (each connect bounded and cancellable), then start them together.
  std::vector<Fd> fds;
  std::vector<std::unique_ptr<Attached>> attached;
  run.streams.clear();
  auto open = [&](uint16_t port, bool rx) {
    Address a = resolve(o.host, port);
    run.streams.emplace_back();
    run.streams.back().peer = a.str();
    run.streams.back().receive = rx;
    // A UDP receive stream's connection is the TCP control of the endpoint's UDP source.
    Proto p = rx ? Proto::TCP : o.proto;
    fds.push_back(connectTo(a, p, rx && o.proto == Proto::UDP ? Wait::Block : o.wait, o.busyPollUs, o.drainTimeoutNs, false, cancelledFn(c)));
    attached.push_back(std::make_unique<Attached>(c, fds.back().get()));
  };
  for (unsigned i = 0; send && i < n; i++) open(o.port, false);
  for (unsigned i = 0; receive && i < n; i++) open(o.sourcePort, true);
  if (o.intervalNs && o.durationNs)
    for (auto& s : run.streams) s.intervals.reserve(size_t(o.durationNs / o.intervalNs + 4));

  const size_t k = run.streams.size();
  std::vector<std::exception_ptr> errs(k);
  std::vector<char> payload(send && o.proto == Proto::TCP ? tcpWriteSize(o) : 0, 'x');
  const uint64_t t0 = clk.now();
  auto body = [&](size_t i) {
    try {
      ThroughputResult& r = run.streams[i];
      int fd = fds[i].get();
      if (r.receive && o.proto == Proto::UDP)
        udpReceive(o, c, r, fd, clk, t0, unsigned(i));
      else if (r.receive)
        tcpReceive(o, c, r, fd, clk, t0, unsigned(i));
      else if (o.proto == Proto::TCP)
        tcp(o, c, r, fd, clk, t0, unsigned(i), payload.data());
      else
        udp(o, c, r, fd, clk, t0, unsigned(i));
    } catch (...) {
      errs[i] = std::current_exception();
      c.cancel();  // one stream failing ends the others
    }
  };
  std::vector<std::thread> threads;
  try {
    for (size_t i = 1; i < k; i++)
      threads.emplace_back([&body, i] {
        nameThread("umlperf-tput-n");
        body(i);
      });
  } catch (const std::system_error& e) {
    c.cancel();
    for (auto& t : threads) t.join();
    throwErrno("pthread_create", "cannot start a thread per stream", e.code().value() ? e.code().value() : EAGAIN);
  }
  body(0);
  for (auto& t : threads) t.join();
  // The first failure that is not the cancel it caused in the other streams.
  std::exception_ptr first;
  for (auto& e : errs) {
    if (!e) continue;
    if (!first) first = e;
    try {
      std::rethrow_exception(e);
    } catch (const Failure& f) {
      if (f.code != "ABORT_ERR") std::rethrow_exception(e);
    } catch (...) {
      std::rethrow_exception(e);
    }
  }
  if (first) std::rethrow_exception(first);
  if (c.progress) c.progress(1, 1);
}

}  // namespace umlperf
