// Streaming: UDP datagrams paced on an anchored schedule (send i at t0 + i * interval, so
// lateness never accumulates) through an echo service. Every timestamp is taken here, on the
// measuring side: loss, duplicates, reordering and RFC 3550 jitter are those of the round trip.
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <cmath>
#include <cstring>

#include "probe_util.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr uint8_t kWireStream = 4;

struct Receiver {
  const Clock& clk;
  uint64_t session;
  uint64_t sentSoFar = 0;
  std::vector<uint64_t>& sendTick;
  std::vector<uint64_t>& recvTick;  // first arrival per seq, 0 = not yet
  uint64_t received = 0, duplicates = 0, reordered = 0;
  int64_t maxSeq = -1;
  double jitter = 0, lastTransit = 0;
  bool haveTransit = false;

  const char* sent = nullptr;  // the request bytes after the header (the same for every datagram)
  size_t size = 0;

  // Datagrams of other senders are ignored; an echo of ours must be exactly what was sent.
  void take(const char* p, size_t n, uint64_t now) {
    if (n < sizeof(WireHeader)) return;
    WireHeader h;
    memcpy(&h, p, sizeof h);
    if (h.magic != kWireMagic || h.kind != kWireStream || h.session != session) return;
    if (h.seq >= sentSoFar)
      throwPeer("WRONG_SEQUENCE", "the echo service returned datagram " + std::to_string(h.seq) + ", never sent");
    if (n != size || memcmp(p + sizeof h, sent, size - sizeof h) != 0)
      throwPeer("BAD_REPLY", "the echo of datagram " + std::to_string(h.seq) + " differs from what was sent (" +
                                 std::to_string(n) + " of " + std::to_string(size) + " bytes)");
    if (recvTick[h.seq]) {
      duplicates++;
      return;
    }
    recvTick[h.seq] = now;
    received++;
    if (int64_t(h.seq) < maxSeq)
      reordered++;
    else
      maxSeq = int64_t(h.seq);
    double transit = double(clk.toNs(now - sendTick[h.seq]));
    if (haveTransit) jitter += (std::fabs(transit - lastTransit) - jitter) / 16.0;
    lastTransit = transit;
    haveTransit = true;
  }
};

// Reads what is queued, without blocking; at most a bounded batch, so that a peer flooding
// datagrams cannot keep the probe from its schedule and its cancel checks.
void drain(int fd, Receiver& rx, char* buf, Control& c) {
  for (int k = 0; k < 1024; k++) {
    ssize_t n = recv(fd, buf, 65536, MSG_DONTWAIT);
    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a 0-byte datagram
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ECONNREFUSED) throwErrno("recv", "nothing is listening on the echo port (port unreachable)");
      throwErrno("recv", "cannot receive echoes");
    }
    rx.take(buf, size_t(n), rx.clk.now());
  }
}

// Waits up to ns for the socket to become readable (block and busy-poll modes).
void waitReadable(int fd, int64_t ns) {
  if (ns <= 0) return;
  pollfd p{fd, POLLIN, 0};
  timespec ts{time_t(ns / 1000000000), long(ns % 1000000000)};
  ppoll(&p, 1, &ts, nullptr);
}

}  // namespace

void runStream(const StreamOptions& o, Control& c, StreamResult& r) {
  if (o.size < sizeof(WireHeader)) throwCode("EINVAL", "stream datagrams need at least 24 bytes");
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  Fd fd = connectTo(a, Proto::UDP, o.wait, o.busyPollUs, 1000000000, true, cancelledFn(c));
  Attached att(c, fd.get());
  setBuffers(fd.get(), 4 << 20);

  const double bits = double(o.size) * 8;
  uint64_t count = o.maxPackets;
  if (o.rateMbps > 0) {
    double want = std::ceil(o.rateMbps * 1e6 * (double(o.durationNs) / 1e9) / bits);
    if (want < double(count)) count = uint64_t(want);
  }
  if (count == 0) count = 1;
  std::vector<uint64_t> sendTick(count), recvTick(count, 0);
  std::vector<char> buf(o.size, 's'), rbuf(65536);
  uint64_t session = 0;
  while (getrandom(&session, sizeof session, 0) != sizeof session) {}
  WireHeader h{kWireMagic, kWireStream, {0, 0, 0}, session, 0};
  Receiver rx{clk, session, 0, sendTick, recvTick};
  rx.sent = buf.data() + sizeof h;
  rx.size = o.size;

  const bool spin = o.wait == Wait::Spin;
  const double intervalTicks = o.rateMbps > 0 ? double(clk.fromNs(1000000000)) * bits / (o.rateMbps * 1e6) : 0;
  const uint64_t endTick = clk.now() + clk.fromNs(o.durationNs);
  Throttle progress(clk, c);
  uint64_t i = 0;
  const uint64_t t0 = clk.now();
  uint64_t lastSend = t0;
  while (i < count) {
    if (c.cancelled()) throwCancelled();
    uint64_t now = clk.now();
    uint64_t due = t0 + uint64_t(intervalTicks * double(i));
    if (now >= due) {
      if (o.rateMbps == 0 && now >= endTick) break;
      h.seq = i;
      memcpy(buf.data(), &h, sizeof h);
      sendTick[i] = now;
      ssize_t n = send(fd.get(), buf.data(), o.size, 0);
      if (n < 0) {
        if (c.cancelled()) throwCancelled();
        if (errno == ECONNREFUSED) throwErrno("send", "nothing is listening on " + r.peer);
        if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) throwErrno("send", "cannot send to " + r.peer);
        drain(fd.get(), rx, rbuf.data(), c);  // the queue is full: retry this seq
        continue;
      }
      lastSend = now;
      rx.sentSoFar = ++i;
      if ((i & 31) == 0) {
        drain(fd.get(), rx, rbuf.data(), c);
        progress.tick(now, i, count);
      }
      continue;
    }
    drain(fd.get(), rx, rbuf.data(), c);
    if (!spin) {
      uint64_t t = clk.now();
      int64_t left = t < due ? clk.toNs(due - t) : 0;
      if (left > 20000) waitReadable(fd.get(), left - 10000);  // wake a little early, then spin
    }
  }
  const uint64_t sent = i;
  r.durationNs = clk.toNs(lastSend - t0);

  // Collect the echoes still in flight.
  uint64_t stop = clk.now() + clk.fromNs(o.drainNs);
  while (rx.received < sent) {
    if (c.cancelled()) throwCancelled();
    uint64_t now = clk.now();
    if (now >= stop) break;
    drain(fd.get(), rx, rbuf.data(), c);
    if (!spin && rx.received < sent) waitReadable(fd.get(), clk.toNs(stop - now));
  }

  r.sent = sent;
  r.received = rx.received;
  r.lost = sent - rx.received;
  r.duplicates = rx.duplicates;
  r.reordered = rx.reordered;
  r.jitterNs = int64_t(rx.jitter + 0.5);
  double secs = double(r.durationNs) / 1e9;
  if (secs > 0) {
    r.sentMbps = double(sent) * bits / secs / 1e6;
    r.receivedMbps = double(rx.received) * bits / secs / 1e6;
  }
  r.rttNs.reserve(rx.received);
  for (uint64_t s = 0; s < sent; s++)
    if (recvTick[s]) r.rttNs.push_back(clk.toNs(recvTick[s] - sendTick[s]));
  if (c.progress) c.progress(count, count);
}

}  // namespace umlperf
