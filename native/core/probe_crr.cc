// Connection rate: per transaction a new TCP connection, one request, its response, and the
// close (netperf's TCP_CRR). Each transaction is timed from the connect to the close done, and
// bounded by the per-transaction timeout, connect included. Against any echo (RFC 862) the
// response is the request and we close first; in a transaction session of umlperf's endpoint
// (wire.h) the response has its own size and the server closes first, as netperf's does.
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "probe_util.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr uint64_t kSliceNs = 100000000;
// A request send wakes this often to notice the deadline; it is also the connect's slice.
constexpr uint64_t kSendSliceNs = 20000000;
constexpr size_t kOneSegment = 536;  // the smallest MSS a peer may announce (RFC 9293)

// Sends all of p by the deadline; late() says what was not taken in time (built only then).
template <class Late>
void sendBy(Control& c, int fd, const char* p, size_t n, uint64_t deadlineNs, const std::string& peer, Late late) {
  size_t off = 0;
  while (off < n) {
    ssize_t rc = send(fd, p + off, n - off, MSG_NOSIGNAL);
    if (c.cancelled()) throwCancelled();
    if (rc > 0) {
      off += size_t(rc);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("send", "cannot send to " + peer);
    if (monoNs() > deadlineNs) throwErrno("send", late(), ETIMEDOUT);
  }
}

// One receive by the deadline (the socket's receive timeout bounds each wait): the bytes read,
// or 0 for the peer's close. A wait that would end past the deadline is cut to it, so a silent
// peer's failure comes at the deadline, not up to a slice after it. Cut once: a spinning
// (non-blocking) socket would otherwise pay a setsockopt per spin in the last slice.
template <class Late>
ssize_t recvBy(Control& c, int fd, char* p, size_t n, uint64_t deadlineNs, const std::string& peer, Late late) {
  bool cut = false;
  for (;;) {
    ssize_t rc = recv(fd, p, n, 0);
    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a close
    if (rc >= 0) return rc;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throwErrno("recv", "cannot receive from " + peer);
    uint64_t now = monoNs();
    if (now > deadlineNs) throwErrno("recv", late(), ETIMEDOUT);
    if (!cut && deadlineNs - now < kSliceNs) {
      setRecvTimeout(fd, deadlineNs - now);
      cut = true;
    }
  }
}

// Exactly n bytes by the deadline; closed(k) says what a close after k bytes means.
template <class Late, class Closed>
void recvExactly(Control& c, int fd, char* p, size_t n, uint64_t deadlineNs, const std::string& peer, Late late, Closed closed) {
  size_t off = 0;
  while (off < n) {
    ssize_t rc = recvBy(c, fd, p + off, n - off, deadlineNs, peer, late);
    if (rc == 0) throwPeer("CLOSED", closed(off));
    off += size_t(rc);
  }
}

// One transaction on a connected socket: the request out, the response back (the request's
// bytes, repeated to the response's size), and with a closing server, its close.
void exchange(Control& c, int fd, const std::vector<char>& req, std::vector<char>& got, bool serverCloses,
              uint64_t deadlineNs, const std::string& peer) {
  const auto late = [&] { return "no complete reply from " + peer + " within the timeout"; };
  sendBy(c, fd, req.data(), req.size(), deadlineNs, peer, [&] { return "the request to " + peer + " was not taken in time"; });
  recvExactly(c, fd, got.data(), got.size(), deadlineNs, peer, late, [&](size_t off) {
    return peer + " closed the connection after " + std::to_string(off) + " of " + std::to_string(got.size()) + " reply bytes";
  });
  for (size_t k = 0; k < got.size(); k += req.size())
    if (memcmp(got.data() + k, req.data(), std::min(req.size(), got.size() - k)) != 0)
      throwPeer("BAD_REPLY", peer + " answered with bytes that are not the request's");
  if (serverCloses) {
    char extra;
    if (recvBy(c, fd, &extra, 1, deadlineNs, peer, late) != 0)
      throwPeer("EXTRA_BYTES", peer + " sent more than the response's " + std::to_string(got.size()) + " bytes");
  }
}

// Asks the endpoint's control port for a transaction session; returns the session's address.
// The control connection stays open for the run: its close ends the session.
Address openSession(const CrrOptions& o, Control& c, const Address& control, Fd& ctl, const std::string& peer) {
  const uint64_t deadlineNs = monoNs() + o.timeoutNs;
  ctl = connectTo(control, Proto::TCP, Wait::Block, 0, o.timeoutNs, true, cancelledFn(c), kSendSliceNs);
  Attached att(c, ctl.get());
  setRecvTimeout(ctl.get(), std::min(kSliceNs, o.timeoutNs));
  uint64_t session = 0;
  while (getrandom(&session, sizeof session, 0) != sizeof session) {}
  TransactionRequest rq{};
  rq.h = {kWireMagic, kWireTransactionRequest, {0, 0, 0}, session, 0};
  rq.requestSize = o.size;
  rq.responseSize = o.responseSize;
  char msg[kSourceMsgSize] = {};
  memcpy(msg, &rq, sizeof rq);
  sendBy(c, ctl.get(), msg, sizeof msg, deadlineNs, peer, [&] { return peer + " takes no request"; });
  recvExactly(
      c, ctl.get(), msg, sizeof msg, deadlineNs, peer, [&] { return peer + " did not answer the request for a transaction session"; },
      [&](size_t) {
        return peer + " closed the connection instead of opening a transaction session (is it umlperf's endpoint, at its control port? For any TCP echo use the echo service)";
      });
  TransactionReply rep;
  memcpy(&rep, msg, sizeof rep);
  if (rep.h.magic != kWireMagic || rep.h.session != session ||
      (rep.h.kind != kWireTransactionAccept && rep.h.kind != kWireTransactionRefuse) ||
      (rep.h.kind == kWireTransactionAccept && rep.port == 0))
    throwPeer("BAD_REPLY", peer + " is not umlperf's endpoint control port: its answer is not one (for any TCP echo use the echo service)");
  if (rep.h.kind == kWireTransactionRefuse) {
    std::string why = rep.reason == kRefuseTransactionSize ? "the sizes are out of its range 1.." + std::to_string(rep.maxSize) + " bytes"
                                                           : "it cannot open a port for the session";
    throwCode("ERR_UMLPERF_SESSION_REFUSED", peer + " refused the transaction session: " + why);
  }
  Address a = control;
  setPort(a.ss, rep.port);
  return a;
}

}  // namespace

void runCrr(const CrrOptions& o, Control& c, CrrResult& r) {
  const Clock& clk = Clock::get();
  Address a = resolve(o.host, o.port);
  r.peer = a.str();
  std::vector<char> req(o.size ? o.size : 1), got(o.session && o.responseSize ? o.responseSize : req.size());
  Fd ctl;
  if (o.session) a = openSession(o, c, a, ctl, r.peer);
  const std::string peer = a.str();
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
        if (!spin) setRecvTimeout(fd.get(), std::min(kSliceNs, o.timeoutNs));
        exchange(c, fd.get(), req, got, o.session, deadlineNs, peer);
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
