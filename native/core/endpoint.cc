#include "endpoint.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstring>
#include <system_error>

#include "clock.h"
#include "error.h"
#include "udp_guard.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr size_t kBuf = 65536;
constexpr uint64_t kWakeNs = 200000000;  // blocked calls wake this often to notice stop()
constexpr uint64_t kEvictableNs = 1000000000;  // at the limit, a connection idle this long makes room

std::string addressOf(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return buf;
}

// Uninitialised: a connection's buffer costs memory only once data arrives (bounded RSS
// under many silent connections).
std::unique_ptr<char[]> buffer(size_t n) { return std::unique_ptr<char[]>(new char[n]); }

uint16_t portOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

Fd bindSocket(const std::string& host, uint16_t port, Proto p, const char* what) {
  Address a = resolve(host, port, true);
  Fd fd(socket(a.family(), (p == Proto::TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket", std::string("cannot create the ") + what + " socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0)
    throwErrno("bind", std::string("cannot serve ") + what + " on " + a.str());
  if (p == Proto::TCP && listen(fd.get(), SOMAXCONN) < 0) throwErrno("listen", std::string("cannot listen for ") + what);
  setRecvTimeout(fd.get(), kWakeNs);
  return fd;
}

// Sends all of p; false when the peer is gone, stop() was called, or the peer has taken
// nothing for stallNs (a client that writes but never reads must not hold a thread forever).
bool sendAll(int fd, const char* p, size_t n, const std::atomic<bool>& stopping, uint64_t stallNs) {
  uint64_t progressNs = monoNs();
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= size_t(w);
      progressNs = monoNs();
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
               !stopping.load(std::memory_order_relaxed) && monoNs() - progressNs < stallNs) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Endpoint::Endpoint(EndpointOptions o) : o_(std::move(o)) {}
Endpoint::~Endpoint() { stop(); }

void Endpoint::start() {
  if (!o_.tcp && !o_.udp) throwCode("EINVAL", "an endpoint serves TCP, UDP or both");
  if (!o_.maxConnections) o_.maxConnections = 1;
  if (!o_.maxConnectionsPerSource) o_.maxConnectionsPerSource = o_.maxConnections > 1 ? o_.maxConnections / 2 : 1;
  try {
    startThreads();
  } catch (const std::system_error& e) {
    // No threads left (RLIMIT_NPROC, memory): fail the start, never the process.
    stop();
    throwErrno("pthread_create", "cannot start the endpoint's threads", e.code().value() ? e.code().value() : EAGAIN);
  }
}

void Endpoint::startThreads() {
  // Sockets belong to the namespace they are created in: make them on a thread that entered it.
  std::exception_ptr err;
  std::thread setup([&] {
    try {
      enterNetns(o_.netns);
      if (o_.tcp) {
        tcpEchoFd_ = bindSocket(o_.bind, o_.echoPort, Proto::TCP, "TCP echo");
        echoPort_ = portOf(tcpEchoFd_.get());
        tcpDiscardFd_ = bindSocket(o_.bind, o_.discardPort, Proto::TCP, "TCP discard");
        discardPort_ = portOf(tcpDiscardFd_.get());
        if (o_.chargen) {
          tcpChargenFd_ = bindSocket(o_.bind, o_.chargenPort, Proto::TCP, "TCP chargen");
          chargenPort_ = portOf(tcpChargenFd_.get());
        }
      }
      if (o_.udp) {
        udpEchoFd_ = bindSocket(o_.bind, o_.tcp ? echoPort_ : o_.echoPort, Proto::UDP, "UDP echo");
        echoPort_ = portOf(udpEchoFd_.get());
        udpDiscardFd_ = bindSocket(o_.bind, o_.tcp ? discardPort_ : o_.discardPort, Proto::UDP, "UDP discard");
        discardPort_ = portOf(udpDiscardFd_.get());
        setBuffers(udpEchoFd_.get(), 4 << 20);
        setBuffers(udpDiscardFd_.get(), 8 << 20);
      }
    } catch (...) {
      err = std::current_exception();
    }
  });
  setup.join();
  if (err) std::rethrow_exception(err);
  started_ = true;
  if (o_.tcp) {
    services_.emplace_back([this] { nameThread("umlperf-tcpecho"); acceptLoop(tcpEchoFd_.get(), Echo); });
    services_.emplace_back([this] { nameThread("umlperf-tcpdisc"); acceptLoop(tcpDiscardFd_.get(), Discard); });
    if (tcpChargenFd_)
      services_.emplace_back([this] { nameThread("umlperf-tcpchar"); acceptLoop(tcpChargenFd_.get(), Chargen); });
  }
  if (o_.udp) {
    services_.emplace_back([this] { nameThread("umlperf-udpecho"); udpEcho(); });
    services_.emplace_back([this] { nameThread("umlperf-udpdisc"); udpDiscard(); });
  }
}

void Endpoint::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpEchoFd_, &udpDiscardFd_})
    if (*fd) shutdown(fd->get(), SHUT_RDWR);
  for (auto& t : services_) t.join();
  services_.clear();
  reap(true);
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpEchoFd_, &udpDiscardFd_}) fd->reset();
}

// Joins finished connection threads; with all, first wakes and then joins every one.
// Threads are joined outside the lock: a finishing thread takes it in finish().
void Endpoint::reap(bool all) {
  std::list<std::unique_ptr<Conn>> gone;
  {
    std::lock_guard<std::mutex> lock(connsMutex_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (all && (*it)->fd >= 0) shutdown((*it)->fd, SHUT_RDWR);
      auto next = std::next(it);
      if (all || (*it)->done.load()) gone.splice(gone.end(), conns_, it);
      it = next;
    }
  }
  for (auto& c : gone) c->thread.join();
}

// Whether a new connection from `source` may be served: under the per-source limit, and under
// the global one, or else the longest-idle connection (silent for kEvictableNs at least) is
// woken to close, so that held connections cannot lock fresh clients out.
bool Endpoint::admit(const std::string& source, Service kind) {
  unsigned service = 0, fromSource = 0;
  Conn* idlest = nullptr;
  for (auto& c : conns_) {
    if (c->service != kind || c->done.load() || c->evicted) continue;
    service++;
    if (c->source == source) fromSource++;
    if (!idlest || c->activeNs.load() < idlest->activeNs.load()) idlest = c.get();
  }
  if (fromSource >= o_.maxConnectionsPerSource) return false;
  if (service < o_.maxConnections) return true;
  if (!idlest || monoNs() - idlest->activeNs.load() < kEvictableNs) return false;
  idlest->evicted = true;
  shutdown(idlest->fd, SHUT_RDWR);
  stats_.tcpIdleClosed++;
  return true;
}

void Endpoint::acceptLoop(int lfd, Service service) {
  while (!stopping_.load()) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;  // timeout slice, EINTR, or shutdown by stop()
    reap(false);
    std::lock_guard<std::mutex> lock(connsMutex_);
    std::string source = addressOf(from);
    if (stopping_.load() || !admit(source, service)) {
      stats_.tcpRefused++;
      close(fd);
      continue;
    }
    setRecvTimeout(fd, kWakeNs);
    setSendTimeout(fd, kWakeNs);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->service = service;
    c->source = std::move(source);
    c->activeNs = monoNs();
    Conn* raw = c.get();
    try {
      c->thread = std::thread([this, raw, service] {
        nameThread(service == Echo ? "umlperf-echo" : service == Discard ? "umlperf-discard" : "umlperf-chargen");
        if (service == Echo) tcpEcho(raw);
        else if (service == Discard) tcpDiscard(raw);
        else tcpChargen(raw);
        finish(raw);
      });
    } catch (const std::system_error&) {
      // No thread for it (RLIMIT_NPROC, memory): refuse this connection, keep serving the rest.
      stats_.tcpRefused++;
      close(fd);
      continue;
    }
    stats_.tcpConnections++;
    conns_.push_back(std::move(c));
  }
}

bool Endpoint::idleTooLong(Conn* c, uint64_t nowNs) {
  if (nowNs - c->activeNs.load(std::memory_order_relaxed) < o_.idleTimeoutNs) return false;
  stats_.tcpIdleClosed++;
  return true;
}

// Closes at once when the peer is done: a throughput probe waits for this close.
void Endpoint::finish(Conn* c) {
  std::lock_guard<std::mutex> lock(connsMutex_);
  close(c->fd);
  c->fd = -1;
  c->done = true;
}

void Endpoint::tcpEcho(Conn* c) {
  auto buf = buffer(kBuf);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const bool spin = o_.wait == Wait::Spin;
  if (spin) setNonBlocking(c->fd, true);
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.get(), kBuf, 0);
    if (n > 0) {
      c->activeNs.store(monoNs(), std::memory_order_relaxed);
      // Exactly the bytes read, never more.
      if (!sendAll(c->fd, buf.get(), size_t(n), stopping_, o_.idleTimeoutNs)) break;
      stats_.echoedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;
    } else if (idleTooLong(c, monoNs())) {
      break;
    }
  }
}

void Endpoint::tcpDiscard(Conn* c) {
  constexpr size_t kDiscardBuf = 128 * 1024;
  auto buf = buffer(kDiscardBuf);
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.get(), kDiscardBuf, 0);
    if (n > 0) {
      c->activeNs.store(monoNs(), std::memory_order_relaxed);
      stats_.discardedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;
    } else if (idleTooLong(c, monoNs())) {
      break;
    }
  }
}

// RFC 864's pattern: lines of 72 printable characters, each starting one character further
// along the 95 printable ASCII characters, ending in CR LF. It repeats every 95 lines.
void Endpoint::tcpChargen(Conn* c) {
  constexpr size_t kLine = 74, kPeriod = 95 * kLine, kChunk = 128 * 1024;
  std::vector<char> pattern(kPeriod + kChunk);
  for (size_t i = 0; i < pattern.size(); i++) {
    size_t line = (i / kLine) % 95, col = i % kLine;
    pattern[i] = col == 72 ? '\r' : col == 73 ? '\n' : char(' ' + (line + col) % 95);
  }
  const uint64_t start = monoNs();
  size_t off = 0;
  // The send timeout (kWakeNs) bounds each call: stop(), the cap and a peer that stopped reading
  // are all noticed within it.
  while (!stopping_.load(std::memory_order_relaxed)) {
    uint64_t now = monoNs();
    if (now - start >= o_.sourceMaxNs) {
      stats_.chargenCapped++;
      break;
    }
    ssize_t w = send(c->fd, pattern.data() + off, kChunk, MSG_NOSIGNAL);
    if (w > 0) {
      off = (off + size_t(w)) % kPeriod;
      c->activeNs.store(monoNs(), std::memory_order_relaxed);
      stats_.chargenBytes.fetch_add(uint64_t(w), std::memory_order_relaxed);
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (idleTooLong(c, monoNs())) break;  // the peer has taken nothing for the idle timeout
    } else {
      break;  // the peer closed (EPIPE, ECONNRESET)
    }
  }
}

void Endpoint::udpEcho() {
  int fd = udpEchoFd_.get();
  auto buf = buffer(kBuf);
  UdpGuard guard(echoPort_, discardPort_, o_.udpRepliesPerSecond);
  const bool spin = o_.wait == Wait::Spin;
  if (spin) setNonBlocking(fd, true);
  else if (o_.wait == Wait::BusyPoll) setBusyPoll(fd, 50);
  while (!stopping_.load(std::memory_order_relaxed)) {
    sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf.get(), kBuf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) continue;
    uint64_t now = monoNs();
    if (guard.check(from, buf.get(), size_t(n), now) != UdpGuard::Answer) {
      stats_.udpIgnored.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // The reply is exactly the request: never more bytes than were received.
    sendto(fd, buf.get(), size_t(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    guard.replied(from, buf.get(), size_t(n), now);
    stats_.udpEchoed.fetch_add(1, std::memory_order_relaxed);
  }
}

void Endpoint::udpDiscard() {
  int fd = udpDiscardFd_.get();
  constexpr unsigned kBatch = 16, kSessions = 64;
  struct Session {
    uint64_t id = 0, datagrams = 0, bytes = 0, lastUse = 0;
  };
  std::vector<Session> sessions(kSessions);
  UdpGuard guard(echoPort_, discardPort_, o_.udpRepliesPerSecond);
  uint64_t useClock = 0;
  std::vector<char> bufs(kBatch * kBuf);
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_storage from[kBatch];
  while (!stopping_.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < kBatch; i++) {
      iov[i] = {bufs.data() + i * kBuf, kBuf};
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    stats_.udpDiscarded.fetch_add(unsigned(n), std::memory_order_relaxed);
    for (int i = 0; i < n; i++) {
      size_t len = msgs[i].msg_len;
      stats_.discardedBytes.fetch_add(len, std::memory_order_relaxed);
      if (len < sizeof(WireHeader)) continue;
      WireHeader h;
      memcpy(&h, iov[i].iov_base, sizeof h);
      if (h.magic != kWireMagic) continue;
      // Find the session, or take the least recently used slot.
      Session* s = &sessions[0];
      for (auto& x : sessions) {
        if (x.id == h.session) { s = &x; break; }
        if (x.lastUse < s->lastUse) s = &x;
      }
      if (s->id != h.session) *s = Session{h.session, 0, 0, 0};
      s->lastUse = ++useClock;
      if (h.kind == kWireData) {
        s->datagrams++;
        s->bytes += len;
      } else if (h.kind == kWireQuery && len >= kWireQuerySize) {
        if (guard.check(from[i], static_cast<const char*>(iov[i].iov_base), len, monoNs()) != UdpGuard::Answer) {
          stats_.udpIgnored.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        WireReport rep{{kWireMagic, kWireReport, {0, 0, 0}, h.session, 0}, s->datagrams, s->bytes};
        sendto(fd, &rep, sizeof rep, 0, reinterpret_cast<sockaddr*>(&from[i]), msgs[i].msg_hdr.msg_namelen);
        stats_.udpQueries.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace umlperf
