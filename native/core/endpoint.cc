#include "endpoint.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <system_error>

#include "batch.h"
#include "clock.h"
#include "error.h"
#include "udp_guard.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr size_t kBuf = 65536;
constexpr uint64_t kWakeNs = 200000000;  // blocked sends wake this often to notice stop() and caps
// Blocked receives (and accepts) wake at most this often, to notice idleness and the worker
// pool's surplus; stop() wakes them itself (shutdown). Not shorter: a short kernel timer, armed
// and cancelled on every wait for a request, cost ~1.5% of a TCP echo's round trip (A/B of
// 200 ms against 1 s and 2 s).
constexpr uint64_t kRecvWakeMaxNs = 1000000000;
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

// A bound socket on a (TCP: listening). Accepted sockets inherit its timeouts, so every
// blocked call on them wakes within the slice, and its TCP_NODELAY (noDelay: no system call
// per connection for it; a connection per request makes that one in six or seven).
Fd bindSocket(const Address& a, Proto p, const char* what, uint64_t recvWakeNs, bool noDelay = false) {
  Fd fd(socket(a.family(), (p == Proto::TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket", std::string("cannot create the ") + what + " socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0)
    throwErrno("bind", std::string("cannot serve ") + what + " on " + a.str());
  if (p == Proto::TCP && listen(fd.get(), SOMAXCONN) < 0) throwErrno("listen", std::string("cannot listen for ") + what);
  if (recvWakeNs) setRecvTimeout(fd.get(), recvWakeNs);
  if (p == Proto::TCP) setSendTimeout(fd.get(), kWakeNs);
  if (noDelay) setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
Fd bindSocket(const std::string& host, uint16_t port, Proto p, const char* what, uint64_t recvWakeNs, bool noDelay = false) {
  return bindSocket(resolve(host, port, true), p, what, recvWakeNs, noDelay);
}

// Sends all of p; false when the peer is gone, stop() was called, or the peer has taken
// nothing for stallNs, give or take one send slice (a client that writes but never reads must
// not hold a thread forever).
bool sendAll(int fd, const char* p, size_t n, const std::atomic<bool>& stopping, uint64_t stallNs) {
  // The clock is read only once a send has come back with nothing sent: an echo's reply nearly
  // always goes in one call, and then costs no clock read at all.
  uint64_t stalledSince = 0;
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= size_t(w);
      stalledSince = 0;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
               !stopping.load(std::memory_order_relaxed)) {
      const uint64_t now = fastNs();
      if (!stalledSince) stalledSince = now;
      // The send that timed out had already waited its slice (kWakeNs) before this first read.
      if (now - stalledSince >= stallNs) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Reads exactly n bytes before deadlineNs; false when the peer closed, stop() was called or the
// deadline passed (the receive timeout, the endpoint's receive slice, bounds each call).
bool recvAll(int fd, char* p, size_t n, const std::atomic<bool>& stopping, uint64_t deadlineNs) {
  while (n) {
    if (stopping.load(std::memory_order_relaxed) || fastNs() >= deadlineNs) return false;
    ssize_t r = recv(fd, p, n, 0);
    if (r > 0) {
      p += r;
      n -= size_t(r);
    } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      return false;
    }
  }
  return true;
}

// A message on the control port: `m` with its kind set, zero-padded to kSourceMsgSize.
template <class Msg>
bool sendControl(int fd, Msg& m, uint8_t kind, const std::atomic<bool>& stopping, uint64_t stallNs) {
  static_assert(sizeof(Msg) <= kSourceMsgSize, "control layout");
  m.h.kind = kind;
  char out[kSourceMsgSize] = {};
  memcpy(out, &m, sizeof m);
  return sendAll(fd, out, sizeof out, stopping, stallNs);
}

void sleepNs(uint64_t ns) {
  timespec ts{time_t(ns / 1000000000ull), long(ns % 1000000000ull)};
  nanosleep(&ts, nullptr);
}

}  // namespace

Endpoint::Endpoint(EndpointOptions o) : o_(std::move(o)) {}
Endpoint::~Endpoint() { stop(); }

void Endpoint::start() {
  if (!o_.tcp && !o_.udp) throwCode("EINVAL", "an endpoint serves TCP, UDP or both");
  if (!o_.maxConnections) o_.maxConnections = 1;
  if (!o_.maxConnectionsPerSource) o_.maxConnectionsPerSource = o_.maxConnections > 1 ? o_.maxConnections / 2 : 1;
  // Idleness is noticed within half the idle timeout past it.
  recvWakeNs_ = std::max<uint64_t>(10000000, std::min(kRecvWakeMaxNs, o_.idleTimeoutNs / 2));
  (void)fastNs();  // its one-time calibration, here rather than in the first request
  if (o_.discardReadBytes < kMinDiscardRead || o_.discardReadBytes > kMaxDiscardRead)
    throwCode("EINVAL", "the discard read size is 16 KiB to 4 MiB");
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
        tcpEchoFd_ = bindSocket(o_.bind, o_.echoPort, Proto::TCP, "TCP echo", recvWakeNs_, true);
        echoPort_ = portOf(tcpEchoFd_.get());
        tcpDiscardFd_ = bindSocket(o_.bind, o_.discardPort, Proto::TCP, "TCP discard", recvWakeNs_);
        discardPort_ = portOf(tcpDiscardFd_.get());
        if (o_.chargen) {
          tcpChargenFd_ = bindSocket(o_.bind, o_.chargenPort, Proto::TCP, "TCP chargen", recvWakeNs_);
          chargenPort_ = portOf(tcpChargenFd_.get());
        }
        if (o_.udpSource) {
          udpSourceFd_ = bindSocket(o_.bind, o_.udpSourcePort, Proto::TCP, "UDP source control", recvWakeNs_);
          udpSourcePort_ = portOf(udpSourceFd_.get());
        }
      }
      if (o_.udp) {
        // No receive timeout: the UDP services keep no per-peer state to expire, and stop()'s
        // shutdown wakes their blocked receive (a timer armed on every wait costs round-trip
        // time: ~0.6% of a 19 µs loopback round trip).
        udpEchoFd_ = bindSocket(o_.bind, o_.tcp ? echoPort_ : o_.echoPort, Proto::UDP, "UDP echo", 0);
        echoPort_ = portOf(udpEchoFd_.get());
        udpDiscardFd_ = bindSocket(o_.bind, o_.tcp ? discardPort_ : o_.discardPort, Proto::UDP, "UDP discard", 0);
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
    std::lock_guard<std::mutex> lock(poolMutex_);
    const std::pair<int, Service> listeners[] = {{tcpEchoFd_.get(), Echo}, {tcpDiscardFd_.get(), Discard},
                                                 {tcpChargenFd_.get(), Chargen}, {udpSourceFd_.get(), UdpSource}};
    for (auto [lfd, service] : listeners)
      if (lfd >= 0 && !spawnWorker(lfd, service)) throw std::system_error(EAGAIN, std::generic_category(), "worker");
    services_.emplace_back([this] { nameThread("umlperf-idle"); idleWatch(); });
  }
  if (o_.udp) {
    services_.emplace_back([this] { nameThread("umlperf-udpecho"); udpEcho(); });
    services_.emplace_back([this] { nameThread("umlperf-udpdisc"); udpDiscard(); });
  }
}

void Endpoint::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(idleMutex_);  // the watcher is waiting, or sees stopping_
  }
  idleWake_.notify_all();
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpEchoFd_, &udpDiscardFd_, &udpSourceFd_})
    if (*fd) shutdown(fd->get(), SHUT_RDWR);
  for (auto& t : services_) t.join();
  services_.clear();
  reapAll();
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpEchoFd_, &udpDiscardFd_, &udpSourceFd_}) fd->reset();
}

// At stop: wakes every connection, then joins every worker (none starts once stopping_ is
// set), then frees the connections. Joins happen outside the locks.
void Endpoint::reapAll() {
  {
    std::lock_guard<std::mutex> lock(connsMutex_);
    for (auto& c : conns_) {
      if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
      if (c->sessionFd >= 0) shutdown(c->sessionFd, SHUT_RDWR);  // a transaction session's listener
    }
  }
  std::list<Worker> ended;
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    ended.splice(ended.end(), workers_);
  }
  for (auto& w : ended) w.thread.join();
  std::lock_guard<std::mutex> lock(connsMutex_);
  conns_.clear();
}

// Joins the workers that ended (never the caller: it is not done).
void Endpoint::reapWorkers() {
  if (ended_.load(std::memory_order_acquire) == 0) return;
  std::list<Worker> ended;
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      auto next = std::next(it);
      if (it->done) ended.splice(ended.end(), workers_, it);
      it = next;
    }
    ended_.fetch_sub(unsigned(ended.size()), std::memory_order_relaxed);
  }
  for (auto& w : ended) w.thread.join();
}

// The last thing a worker does (out of the accept loop's count): it is marked for joining.
void Endpoint::endWorker(Worker* w) {
  std::lock_guard<std::mutex> lock(poolMutex_);
  w->done = true;
  ended_.fetch_add(1, std::memory_order_release);
}

bool Endpoint::spawnWorker(int lfd, Service service) {
  if (stopping_.load()) return false;
  try {
    workers_.emplace_back();
    Worker* w = &workers_.back();
    accepting_[service]++;
    w->thread = std::thread([this, w, lfd, service] { workerLoop(w, lfd, service); });
  } catch (const std::system_error&) {
    workers_.pop_back();
    accepting_[service]--;
    return false;
  }
  return true;
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
  if (!idlest || idlest->silentNs(fastNs()) < kEvictableNs) return false;
  idlest->evicted = true;
  stats_.tcpIdleClosed++;  // counted first: the client may see the close before this thread runs on
  shutdown(idlest->fd, SHUT_RDWR);
  return true;
}

void Endpoint::workerLoop(Worker* w, int lfd, Service service) {
  constexpr uint64_t kWorkerIdleNs = 10000000000ull;
  nameThread(service == Echo      ? "umlperf-echo"
             : service == Discard ? "umlperf-discard"
             : service == Chargen ? "umlperf-chargen"
                                  : "umlperf-udpsrc-c");
  uint64_t idleSince = fastNs();
  while (!stopping_.load()) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) {  // timeout slice, EINTR, or shutdown by stop()
      // Out of descriptors or memory: the connection stays queued and accept() would fail at
      // once again; wait a little instead of spinning.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) sleepNs(10000000);
      if (fastNs() - idleSince < kWorkerIdleNs) continue;
      // Idle long enough: this worker ends if another waits (never leaving none).
      int n = accepting_[service].load();
      while (n > 1 && !accepting_[service].compare_exchange_weak(n, n - 1)) {
      }
      if (n > 1) {
        endWorker(w);
        return;
      }
      idleSince = fastNs();
      continue;
    }
    // Someone must go on waiting while this worker serves. With no thread to be had
    // (RLIMIT_NPROC, memory), this connection is refused and the worker keeps accepting.
    if (accepting_[service].fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(poolMutex_);
      if (!spawnWorker(lfd, service)) {
        accepting_[service]++;
        stats_.tcpRefused++;
        close(fd);
        continue;
      }
    }
    if (Conn* c = admitConn(fd, from, service)) serve(c);
    reapWorkers();
    accepting_[service]++;
    idleSince = fastNs();
  }
  accepting_[service]--;
  endWorker(w);
}

// Registers an accepted connection, or closes it when the limits refuse it.
Endpoint::Conn* Endpoint::admitConn(int fd, const sockaddr_storage& from, Service service) {
  std::list<std::unique_ptr<Conn>> gone;  // finished ones, freed once the lock is released
  std::lock_guard<std::mutex> lock(connsMutex_);
  for (auto it = conns_.begin(); it != conns_.end();) {
    auto next = std::next(it);
    if ((*it)->done.load()) gone.splice(gone.end(), conns_, it);
    it = next;
  }
  std::string source = addressOf(from);
  if (stopping_.load() || !admit(source, service)) {
    stats_.tcpRefused++;
    close(fd);
    return nullptr;
  }
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  c->service = service;
  c->source = std::move(source);
  c->activeNs = fastNs();
  conns_.push_back(std::move(c));
  stats_.tcpConnections++;
  return conns_.back().get();
}

void Endpoint::serve(Conn* c) {
  if (c->service == Echo) tcpEcho(c);
  else if (c->service == Discard) tcpDiscard(c);
  else if (c->service == Chargen) tcpChargen(c);
  else control(c);
  finish(c);
}

// Every recvWakeNs_: shuts down the echo and discard connections silent for the idle timeout.
// Their blocked recv() then reads end of stream, and the worker finishes the connection. Under
// connsMutex_ a registered fd is open: finish() unregisters it before closing it.
void Endpoint::idleWatch() {
  std::unique_lock<std::mutex> wait(idleMutex_);
  while (!stopping_.load()) {
    idleWake_.wait_for(wait, std::chrono::nanoseconds(recvWakeNs_));
    if (stopping_.load()) break;
    uint64_t now = fastNs();
    std::lock_guard<std::mutex> lock(connsMutex_);
    for (auto& c : conns_) {
      if ((c->service != Echo && c->service != Discard) || c->fd < 0 || c->evicted) continue;
      if (c->silentNs(now) < o_.idleTimeoutNs) continue;
      c->evicted = true;
      stats_.tcpIdleClosed++;  // counted first: the client may see the close before this thread runs on
      shutdown(c->fd, SHUT_RDWR);
    }
  }
}

bool Endpoint::idleTooLong(Conn* c, uint64_t nowNs) {
  if (c->silentNs(nowNs) < o_.idleTimeoutNs) return false;
  stats_.tcpIdleClosed++;
  return true;
}

// Closes at once when the peer is done: a throughput probe waits for this close.
void Endpoint::finish(Conn* c) {
  int fd;
  {
    // Under the lock the connection leaves the registry (eviction and stop() shut down only
    // the fds they find there); the close itself, which sends the FIN, is outside it, so the
    // next connection's admission does not wait for it.
    std::lock_guard<std::mutex> lock(connsMutex_);
    fd = c->fd;
    c->fd = -1;
    c->done = true;
  }
  close(fd);
}

void Endpoint::tcpEcho(Conn* c) {
  auto buf = buffer(kBuf);  // TCP_NODELAY: set on the listener, inherited
  if (o_.wait == Wait::Spin) setNonBlocking(c->fd, true);
  else clearRecvTimeout(c->fd);  // the listener's wake-up slice is inherited; idleWatch() closes idle ones
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.get(), kBuf, 0);
    if (n > 0) {
      c->activeNs.store(fastNs(), std::memory_order_relaxed);
      // Exactly the bytes read, never more.
      if (!sendAll(c->fd, buf.get(), size_t(n), stopping_, o_.idleTimeoutNs)) break;
      stats_.echoedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;  // end of stream: the peer's, or idleWatch()'s or stop()'s shutdown
    }
  }
}

void Endpoint::tcpDiscard(Conn* c) {
  // The read size is a trade. On a host (2 CPUs, 512 KiB of L2 each), 1 MiB reads ran 4 streams
  // at 0.81x the rate of 128 KiB ones (12 paired rounds, 95% CI 0.70-0.93). In a UML guest, where
  // every system call is a trap, 1 MiB reads took one stream to 1.13x (10 rounds, CI 1.04-1.22).
  // So 128 KiB by default, and the lab starts its guests' endpoints with 1 MiB. A buffer of its
  // own per connection: one shared by all (the bytes are never looked at) halved a host's
  // loopback rate, 14-20 against 28-36 Gbit/s.
  const size_t size = o_.discardReadBytes;
  auto buf = buffer(size);
  clearRecvTimeout(c->fd);  // as the echo's: idleWatch() closes idle ones
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.get(), size, 0);
    if (n > 0) {
      c->activeNs.store(fastNs(), std::memory_order_relaxed);
      stats_.discardedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      break;
    }
  }
}

// RFC 864's pattern: lines of 72 printable characters, each starting one character further
// along the 95 printable ASCII characters, ending in CR LF. It repeats every 95 lines. One copy,
// made at first use and only read after, serves every connection: a chunk of kChunk bytes from
// any offset within the period. Large sends cost fewer system calls per byte. The probe's own
// writes are 256 KiB (1 MiB ran at half the rate where L2 is 512 KiB per core); the chargen
// stays at 1 MiB, as reverse runs from it still lead iperf3 -R there (npm run bench).
namespace {
constexpr size_t kChargenLine = 74, kChargenPeriod = 95 * kChargenLine, kChargenChunk = 1024 * 1024;
const char* chargenPattern() {
  static const std::vector<char> pattern = [] {
    std::vector<char> p(kChargenPeriod + kChargenChunk);
    for (size_t i = 0; i < p.size(); i++) {
      size_t line = (i / kChargenLine) % 95, col = i % kChargenLine;
      p[i] = col == 72 ? '\r' : col == 73 ? '\n' : char(' ' + (line + col) % 95);
    }
    return p;
  }();
  return pattern.data();
}
}  // namespace

void Endpoint::tcpChargen(Conn* c) {
  constexpr size_t kPeriod = kChargenPeriod, kChunk = kChargenChunk;
  const char* pattern = chargenPattern();
  const uint64_t start = fastNs();
  size_t off = 0;
  // The send timeout (kWakeNs) bounds each call: stop(), the cap and a peer that stopped reading
  // are all noticed within it.
  while (!stopping_.load(std::memory_order_relaxed)) {
    uint64_t now = fastNs();
    if (now - start >= o_.sourceMaxNs) {
      stats_.chargenCapped++;
      break;
    }
    ssize_t w = send(c->fd, pattern + off, kChunk, MSG_NOSIGNAL);
    if (w > 0) {
      off = (off + size_t(w)) % kPeriod;
      c->activeNs.store(fastNs(), std::memory_order_relaxed);
      stats_.chargenBytes.fetch_add(uint64_t(w), std::memory_order_relaxed);
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (idleTooLong(c, fastNs())) break;  // the peer has taken nothing for the idle timeout
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
    if (n < 0 || stopping_.load(std::memory_order_relaxed)) continue;  // stop()'s shutdown reads as 0 bytes
    uint64_t now = fastNs();
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
    uint64_t id = 0, datagrams = 0, bytes = 0, lastUse = 0, next = 0, reordered = 0;
  };
  std::vector<Session> sessions(kSessions);
  UdpGuard guard(echoPort_, discardPort_, o_.udpRepliesPerSecond);
  uint64_t useClock = 0;
  DatagramBatch<kBatch> batch(kBuf);
  while (!stopping_.load(std::memory_order_relaxed)) {
    int n = batch.recv(fd, MSG_WAITFORONE);
    if (n <= 0) continue;
    stats_.udpDiscarded.fetch_add(unsigned(n), std::memory_order_relaxed);
    for (int i = 0; i < n; i++) {
      size_t len = batch.len(unsigned(i));
      stats_.discardedBytes.fetch_add(len, std::memory_order_relaxed);
      if (len < sizeof(WireHeader)) continue;
      WireHeader h;
      memcpy(&h, batch.data(unsigned(i)), sizeof h);
      if (h.magic != kWireMagic) continue;
      // Find the session, or take the least recently used slot.
      Session* s = &sessions[0];
      for (auto& x : sessions) {
        if (x.id == h.session) { s = &x; break; }
        if (x.lastUse < s->lastUse) s = &x;
      }
      if (s->id != h.session) *s = Session{h.session, 0, 0, 0, 0, 0};
      s->lastUse = ++useClock;
      if (h.kind == kWireData) {
        s->datagrams++;
        s->bytes += len;
        // Late: a higher sequence number arrived before it.
        if (h.seq < s->next) s->reordered++;
        else s->next = h.seq + 1;
      } else if (h.kind == kWireQuery && len >= kWireQuerySize) {
        if (guard.check(batch.from(unsigned(i)), batch.data(unsigned(i)), len, fastNs()) != UdpGuard::Answer) {
          stats_.udpIgnored.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        WireReport rep{{kWireMagic, kWireReport, {0, 0, 0}, h.session, 0}, s->datagrams, s->bytes, s->reordered};
        sendto(fd, &rep, sizeof rep, 0, reinterpret_cast<const sockaddr*>(&batch.from(unsigned(i))), batch.fromLen(unsigned(i)));
        stats_.udpQueries.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace umlperf

namespace umlperf {

// The control port: one request per connection, the paced UDP source or a transaction session.
void Endpoint::control(Conn* c) {
  constexpr uint64_t kRequestNs = 5000000000ull;  // a client that asks nothing in time is dropped
  char msg[kSourceMsgSize] = {};
  if (!recvAll(c->fd, msg, sizeof msg, stopping_, fastNs() + kRequestNs)) {
    stats_.udpSourceRefused++;
    return;
  }
  c->activeNs.store(fastNs(), std::memory_order_relaxed);
  WireHeader h;
  memcpy(&h, msg, sizeof h);
  if (h.magic == kWireMagic && h.kind == kWireSourceRequest) return udpSource(c, msg);
  if (h.magic == kWireMagic && h.kind == kWireTransactionRequest) return transactionSession(c, msg);
  stats_.udpSourceRefused++;  // not our protocol: close without a word
}

// The paced UDP source (reverse UDP). No amplification: it is asked for over an accepted TCP
// connection (a handshake proves the peer's address), it sends only to that address, at most at
// udpSourceMaxMbps and for at most sourceMaxNs, and it stops as soon as the control connection
// closes, the peer's port is closed (ICMP unreachable) or stop() is called.
void Endpoint::udpSource(Conn* c, const char* msg) {
  SourceRequest rq;
  memcpy(&rq, msg, sizeof rq);
  SourceReply rep{};
  rep.h = {kWireMagic, kWireSourceRefuse, {0, 0, 0}, rq.h.session, 0};
  rep.maxBitsPerSecond = uint64_t(o_.udpSourceMaxMbps * 1e6);
  rep.maxDurationNs = o_.sourceMaxNs;
  auto reply = [&](uint8_t kind) { return sendControl(c->fd, rep, kind, stopping_, o_.idleTimeoutNs); };
  uint32_t reason = 0;
  if (rq.bitsPerSecond == 0 || rq.bitsPerSecond > rep.maxBitsPerSecond) reason = kRefuseRate;
  else if (rq.durationNs == 0 || rq.durationNs > o_.sourceMaxNs) reason = kRefuseDuration;
  else if (rq.size < sizeof(WireHeader) || rq.size > 65507) reason = kRefuseSize;
  else if (rq.udpPort < 1024) reason = kRefusePort;
  Fd u;
  if (!reason) {
    // To the control connection's peer address only; from the address the client reached.
    sockaddr_storage peer{}, local{};
    socklen_t plen = sizeof peer, llen = sizeof local;
    if (getpeername(c->fd, reinterpret_cast<sockaddr*>(&peer), &plen) < 0 ||
        getsockname(c->fd, reinterpret_cast<sockaddr*>(&local), &llen) < 0) {
      reason = kRefuseSocket;
    } else {
      setPort(peer, rq.udpPort);
      setPort(local, 0);
      u = Fd(socket(peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      if (!u || bind(u.get(), reinterpret_cast<sockaddr*>(&local), llen) < 0 ||
          connect(u.get(), reinterpret_cast<sockaddr*>(&peer), plen) < 0)
        reason = kRefuseSocket;
    }
  }
  if (reason) {
    rep.reason = reason;
    reply(kWireSourceRefuse);
    stats_.udpSourceRefused++;
    return;
  }
  if (!reply(kWireSourceAccept)) return;

  constexpr unsigned kBatch = 32;
  const size_t size = rq.size;
  DatagramBatch<kBatch> batch(size);
  for (unsigned i = 0; i < kBatch; i++) {
    char* d = batch.data(i);
    for (size_t k = 0; k < size; k++) d[k] = char(' ' + (i * size + k) % 95);
    WireHeader h{kWireMagic, kWireData, {0, 0, 0}, rq.h.session, 0};
    memcpy(d, &h, sizeof h);
  }
  setBuffers(u.get(), 4 << 20);
  setSendTimeout(u.get(), kWakeNs);
  // An anchored schedule: datagram k is due at start + k * gap, so a late wake-up is made up
  // in the next batch and the average rate never exceeds the one asked for.
  const double gapNs = double(size) * 8e9 / double(rq.bitsPerSecond);
  const uint64_t start = fastNs();
  uint64_t sent = 0, nextCheck = start;
  while (!stopping_.load(std::memory_order_relaxed)) {
    uint64_t now = fastNs();
    if (now - start >= rq.durationNs || (rq.maxDatagrams && sent >= rq.maxDatagrams)) break;
    if (now >= nextCheck) {
      // The client's close ends the stream; anything it sends meanwhile is ignored.
      char sink[kSourceMsgSize];
      ssize_t r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
      c->activeNs.store(now, std::memory_order_relaxed);
      nextCheck = now + 10000000;
    }
    uint64_t due = uint64_t(double(now - start) / gapNs) + 1;
    if (rq.maxDatagrams && due > rq.maxDatagrams) due = rq.maxDatagrams;
    if (due <= sent) {
      uint64_t at = start + uint64_t(double(sent) * gapNs);
      uint64_t wait = at > now ? at - now : 0;
      sleepNs(wait < 10000000 ? wait : 10000000);
      continue;
    }
    unsigned n = due - sent < kBatch ? unsigned(due - sent) : kBatch;
    for (unsigned i = 0; i < n; i++) {
      uint64_t seq = sent + i;
      memcpy(batch.data(i) + offsetof(WireHeader, seq), &seq, 8);
    }
    int rc = batch.send(u.get(), n);
    if (rc > 0) {
      sent += unsigned(rc);
      stats_.udpSourceDatagrams.fetch_add(unsigned(rc), std::memory_order_relaxed);
    } else if (errno == ECONNREFUSED) {
      break;  // the client's UDP port is closed: stop sending to it
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS) {
      break;
    }
  }
  rep.datagrams = sent;
  rep.bytes = sent * size;
  reply(kWireSourceDone);
}

// A transaction session (wire.h: TransactionRequest). One connection at a time, as netperf's
// server: the client is the control connection's peer, running one transaction after another.
// Other addresses are closed at once; a response goes only to the peer of an established
// connection that sent its whole request, and is at most kTransactionMaxSize bytes.
void Endpoint::transactionSession(Conn* c, const char* msg) {
  TransactionRequest rq;
  memcpy(&rq, msg, sizeof rq);
  TransactionReply rep{};
  rep.h = {kWireMagic, kWireTransactionRefuse, {0, 0, 0}, rq.h.session, 0};
  rep.maxSize = kTransactionMaxSize;
  auto reply = [&](uint8_t kind) { return sendControl(c->fd, rep, kind, stopping_, o_.idleTimeoutNs); };
  uint32_t reason = 0;
  if (rq.requestSize == 0 || rq.requestSize > kTransactionMaxSize || rq.responseSize == 0 || rq.responseSize > kTransactionMaxSize)
    reason = kRefuseTransactionSize;
  Fd l;
  if (!reason) {
    // On the address the client reached, a port of the kernel's choice; a response of one
    // segment goes out at once.
    Address local;
    local.len = sizeof local.ss;
    if (getsockname(c->fd, reinterpret_cast<sockaddr*>(&local.ss), &local.len) < 0) {
      reason = kRefuseSocket;
    } else {
      setPort(local.ss, 0);
      try {
        l = bindSocket(local, Proto::TCP, "a transaction session", recvWakeNs_, true);
      } catch (const std::exception&) {
        reason = kRefuseSocket;
      }
    }
  }
  if (reason) {
    rep.reason = reason;
    reply(kWireTransactionRefuse);
    stats_.udpSourceRefused++;
    return;
  }
  rep.port = portOf(l.get());
  if (!reply(kWireTransactionAccept)) return;
  stats_.transactionSessions++;
  // Registered, so that stop() wakes the accept at once (stop() sets stopping_ first, which the
  // loop checks, so a stop just before this is not missed); unregistered before l is closed.
  auto registerListener = [&](int fd) {
    std::lock_guard<std::mutex> lock(connsMutex_);
    c->sessionFd = fd;
  };
  registerListener(l.get());

  std::vector<char> req(rq.requestSize), resp(rq.responseSize);
  uint64_t served = 0, lastNs = fastNs(), nextCheck = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    const uint64_t now = fastNs();
    if (now >= nextCheck) {
      // The client's close of the control connection ends the session.
      char sink[kSourceMsgSize];
      ssize_t r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      if (now - lastNs >= o_.idleTimeoutNs) {
        stats_.tcpIdleClosed++;
        break;
      }
      c->activeNs.store(lastNs, std::memory_order_relaxed);
      nextCheck = now + 10000000;
    }
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    Fd conn(accept4(l.get(), reinterpret_cast<sockaddr*>(&from), &flen, SOCK_CLOEXEC));
    if (!conn) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
          errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        continue;  // the wake-up slice, or a passing shortage
      break;
    }
    if (addressOf(from) != c->source) {
      stats_.tcpRefused++;
      continue;
    }
    if (!recvAll(conn.get(), req.data(), req.size(), stopping_, fastNs() + o_.idleTimeoutNs)) continue;
    // The response: the request's bytes, repeated.
    size_t filled = std::min(resp.size(), req.size());
    memcpy(resp.data(), req.data(), filled);
    while (filled < resp.size()) {
      size_t n = std::min(filled, resp.size() - filled);
      memcpy(resp.data() + filled, resp.data(), n);
      filled += n;
    }
    if (!sendAll(conn.get(), resp.data(), resp.size(), stopping_, o_.idleTimeoutNs)) continue;
    served++;
    stats_.transactions.fetch_add(1, std::memory_order_relaxed);
    lastNs = fastNs();
  }  // each connection is closed by its Fd as the iteration ends: the server closes first
  registerListener(-1);
  rep.transactions = served;
  reply(kWireTransactionDone);
}

}  // namespace umlperf
