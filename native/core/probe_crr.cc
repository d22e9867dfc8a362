// Connection rate: per transaction a new TCP connection, one request, its echoed response, and
// the close (netperf's TCP_CRR). Each transaction is timed from the connect to the close done,
// and bounded by the per-transaction timeout, connect included.
#include <sys/socket.h>

#include <cstring>

#include "probe_util.h"

namespace umlperf {

namespace {

constexpr uint64_t kSliceNs = 100000000;
// A request send wakes this often to notice the deadline; it is also the connect's slice.
constexpr uint64_t kSendSliceNs = 20000000;
constexpr size_t kOneSegment = 536;  // the smallest MSS a peer may announce (RFC 9293)

// One transaction on a connected socket: the request out, exactly its bytes back.
void exchange(Control& c, int fd, const std::vector<char>& req, std::vector<char>& got,
              uint64_t deadlineNs, const std::string& peer) {
  size_t off = 0;
  while (off < req.size()) {
    ssize_t rc = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (c.cancelled()) throwCancelled();
    if (rc > 0) {
      off += size_t(rc);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("send", "cannot send to " + peer);
    if (monoNs() > deadlineNs) throwErrno("send", "the request to " + peer + " was not taken in time", ETIMEDOUT);
  }
  off = 0;
  while (off < got.size()) {
    ssize_t rc = recv(fd, got.data() + off, got.size() - off, 0);
    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a close
    if (rc > 0) {
      off += size_t(rc);
      continue;
    }
    if (rc == 0) throwPeer("CLOSED", peer + " closed the connection after " + std::to_string(off) + " of " + std::to_string(got.size()) + " reply bytes");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("recv", "cannot receive from " + peer);
    if (monoNs() > deadlineNs) throwErrno("recv", "no complete reply from " + peer + " within the timeout", ETIMEDOUT);
  }
  if (memcmp(got.data(), req.data(), req.size()) != 0)
    throwPeer("BAD_REPLY", peer + " answered with bytes that are not the request's");
}

}  // namespace

void runCrr(const CrrOptions& o, Control& c, CrrResult& r) {
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  std::vector<char> req(o.size ? o.size : 1), got(req.size());
  if (o.samples) r.latencyNs.reserve(size_t(o.transactions));
  uint64_t measured = 0;
  Throttle progress(clk, c);
  const uint64_t total = o.warmup + o.transactions;
  uint64_t measuredStart = 0, end = 0;
  try {
    for (uint64_t i = 0; i < total; i++) {
      if (c.cancelled()) throwCancelled();
      // Each request differs from the last (its number in its first bytes), so a reply left
      // over from another connection cannot pass for this one's.
      for (size_t k = 0; k < req.size(); k++) req[k] = k < 8 ? char(i >> (8 * k)) : char('a' + (i + k) % 26);
      const uint64_t deadlineNs = monoNs() + o.timeoutNs;
      uint64_t t0 = clk.now();
      {
        // Nagle cannot hold back a request of one segment (nothing is unacknowledged when it
        // is sent): TCP_NODELAY, one system call more per transaction, only for longer ones.
        const bool spin = o.wait == Wait::Spin;
        Fd fd = connectTo(a, Proto::TCP, o.wait, o.busyPollUs, o.timeoutNs, req.size() > kOneSegment, cancelledFn(c),
                          spin ? 0 : kSendSliceNs);
        Attached att(c, fd.get());
        if (!spin) setRecvTimeout(fd.get(), kSliceNs);
        exchange(c, fd.get(), req, got, deadlineNs, r.peer);
      }  // closed here: the close is part of the transaction
      uint64_t t1 = clk.now();
      if (i >= o.warmup) {
        if (i == o.warmup) measuredStart = t0;
        if (o.samples) r.latencyNs.push_back(clk.toNs(t1 - t0));
        if (o.histogram) r.hist.record(clk.toNs(t1 - t0));
        measured++;
        end = t1;
      }
      progress.tick(t1, i + 1, total);
    }
  } catch (...) {
    r.partial = true;
    r.durationNs = measured ? clk.toNs(end - measuredStart) : 0;
    throw;
  }
  r.durationNs = measured ? clk.toNs(end - measuredStart) : 0;
  if (c.progress) c.progress(1, 1);
}

}  // namespace umlperf
