// Throughput: bulk transfer into a discard service (RFC 863). TCP is timed until the peer
// closes after our FIN, so every byte counted has been read by the receiver. UDP goes out in
// sendmmsg batches; umlperf's own endpoint then reports what it received. Reverse (TCP): a
// chargen source (RFC 864) sends, we count what arrives and close when done. Parallel and
// bidirectional runs are several such streams, each on a connection and thread of its own.
#include <sys/random.h>
#include <sys/socket.h>

#include <cstring>
#include <exception>
#include <memory>
#include <system_error>
#include <thread>

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

// Snapshots a stream's cumulative counters at the end of each interval: in the loop, one
// comparison per iteration; the snapshot itself at most once per interval. Boundaries stay on
// the grid start + k * interval, so the streams of one run share them.
class Intervals {
 public:
  Intervals(const Clock& clk, uint64_t t0, uint64_t everyNs, std::vector<IntervalSnapshot>& out, int tcpSendFd,
            Control& c, unsigned stream, bool receive)
      : clk_(clk), t0_(t0), every_(everyNs ? clk.fromNs(everyNs) : 0), next_(everyNs ? t0 + every_ : UINT64_MAX),
        out_(out), fd_(tcpSendFd), c_(c), stream_(stream), receive_(receive) {}
  inline void tick(uint64_t now, uint64_t bytes) {
    if (now >= next_) take(now, bytes);
  }
  // The last, partial interval.
  void finish(uint64_t now, uint64_t bytes) {
    if (every_ && (out_.empty() || out_.back().bytes != bytes)) take(now, bytes);
  }

 private:
  void take(uint64_t now, uint64_t bytes) {
    out_.push_back({clk_.toNs(now - t0_), bytes, fd_ >= 0 ? tcpRetransmits(fd_) : 0});
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

void tcp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk, uint64_t t0, unsigned id) {
  const bool lead = id == 0;
  const size_t size = o.size ? o.size : 128 * 1024;
  r.size = uint32_t(size);
  std::vector<char> buf(size, 'x');
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
    ssize_t rc = send(fd, buf.data(), n, MSG_NOSIGNAL);
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
  const size_t size = o.size ? o.size : 128 * 1024;
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

void udp(const ThroughputOptions& o, Control& c, ThroughputResult& r, int fd, const Clock& clk, uint64_t t0, unsigned id) {
  const bool lead = id == 0;
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
  Throttle progress(clk, c, lead);
  Intervals iv(clk, t0, o.intervalNs, r.intervals, -1, c, id, false);

  uint64_t sent = 0, dgrams = 0;
  uint64_t now = clk.now();
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

void runThroughput(const ThroughputOptions& o, Control& c, ThroughputRun& run) {
  const Clock& clk = Clock::get();
  const bool send = o.direction != Direction::Receive, receive = o.direction != Direction::Send;
  if (receive && o.proto != Proto::TCP) throwCode("EINVAL", "reverse and bidirectional throughput are TCP only");
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
    fds.push_back(connectTo(a, o.proto, o.wait, o.busyPollUs, o.drainTimeoutNs, false, cancelledFn(c)));
    attached.push_back(std::make_unique<Attached>(c, fds.back().get()));
  };
  for (unsigned i = 0; send && i < n; i++) open(o.port, false);
  for (unsigned i = 0; receive && i < n; i++) open(o.sourcePort, true);
  if (o.intervalNs && o.durationNs)
    for (auto& s : run.streams) s.intervals.reserve(size_t(o.durationNs / o.intervalNs + 4));

  const size_t k = run.streams.size();
  std::vector<std::exception_ptr> errs(k);
  const uint64_t t0 = clk.now();
  auto body = [&](size_t i) {
    try {
      ThroughputResult& r = run.streams[i];
      int fd = fds[i].get();
      if (r.receive)
        tcpReceive(o, c, r, fd, clk, t0, unsigned(i));
      else if (o.proto == Proto::TCP)
        tcp(o, c, r, fd, clk, t0, unsigned(i));
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
