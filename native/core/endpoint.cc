#include "endpoint.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "error.h"
#include "wire.h"

namespace umlperf {

namespace {

constexpr size_t kBuf = 65536;
constexpr uint64_t kWakeNs = 200000000;  // blocked calls wake this often to notice stop()

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
  if (p == Proto::TCP && listen(fd.get(), 128) < 0) throwErrno("listen", std::string("cannot listen for ") + what);
  setRecvTimeout(fd.get(), kWakeNs);
  return fd;
}

bool sendAll(int fd, const char* p, size_t n, const std::atomic<bool>& stopping) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= size_t(w);
    } else if (w < 0 && (errno == EAGAIN || errno == EINTR) && !stopping.load(std::memory_order_relaxed)) {
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
    services_.emplace_back([this] { nameThread("umlperf-tcpecho"); acceptLoop(tcpEchoFd_.get(), true); });
    services_.emplace_back([this] { nameThread("umlperf-tcpdisc"); acceptLoop(tcpDiscardFd_.get(), false); });
  }
  if (o_.udp) {
    services_.emplace_back([this] { nameThread("umlperf-udpecho"); udpEcho(); });
    services_.emplace_back([this] { nameThread("umlperf-udpdisc"); udpDiscard(); });
  }
}

void Endpoint::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &udpEchoFd_, &udpDiscardFd_})
    if (*fd) shutdown(fd->get(), SHUT_RDWR);
  for (auto& t : services_) t.join();
  services_.clear();
  reap(true);
  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &udpEchoFd_, &udpDiscardFd_}) fd->reset();
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

void Endpoint::acceptLoop(int lfd, bool echo) {
  while (!stopping_.load()) {
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // timeout slice, EINTR, or shutdown by stop()
    reap(false);
    std::lock_guard<std::mutex> lock(connsMutex_);
    if (conns_.size() >= o_.maxConnections || stopping_.load()) {
      stats_.tcpRefused++;
      close(fd);
      continue;
    }
    stats_.tcpConnections++;
    setRecvTimeout(fd, kWakeNs);
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    Conn* raw = c.get();
    c->thread = std::thread([this, raw, echo] {
      nameThread(echo ? "umlperf-echo" : "umlperf-discard");
      echo ? tcpEcho(raw) : tcpDiscard(raw);
      finish(raw);
    });
    conns_.push_back(std::move(c));
  }
}

// Closes at once when the peer is done: a throughput probe waits for this close.
void Endpoint::finish(Conn* c) {
  std::lock_guard<std::mutex> lock(connsMutex_);
  close(c->fd);
  c->fd = -1;
  c->done = true;
}

void Endpoint::tcpEcho(Conn* c) {
  std::vector<char> buf(kBuf);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const bool spin = o_.wait == Wait::Spin;
  if (spin) setNonBlocking(c->fd, true);
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.data(), buf.size(), 0);
    if (n > 0) {
      if (!sendAll(c->fd, buf.data(), size_t(n), stopping_)) break;
      stats_.echoedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;
    }
  }
}

void Endpoint::tcpDiscard(Conn* c) {
  std::vector<char> buf(128 * 1024);
  while (!stopping_.load(std::memory_order_relaxed)) {
    ssize_t n = recv(c->fd, buf.data(), buf.size(), 0);
    if (n > 0)
      stats_.discardedBytes.fetch_add(uint64_t(n), std::memory_order_relaxed);
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
      break;
  }
}

void Endpoint::udpEcho() {
  int fd = udpEchoFd_.get();
  std::vector<char> buf(kBuf);
  const bool spin = o_.wait == Wait::Spin;
  if (spin) setNonBlocking(fd, true);
  else if (o_.wait == Wait::BusyPoll) setBusyPoll(fd, 50);
  while (!stopping_.load(std::memory_order_relaxed)) {
    sockaddr_storage from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) continue;
    // The reply is exactly the request: never more bytes than were received.
    sendto(fd, buf.data(), size_t(n), 0, reinterpret_cast<sockaddr*>(&from), len);
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
        WireReport rep{{kWireMagic, kWireReport, {0, 0, 0}, h.session, 0}, s->datagrams, s->bytes};
        sendto(fd, &rep, sizeof rep, 0, reinterpret_cast<sockaddr*>(&from[i]), msgs[i].msg_hdr.msg_namelen);
        stats_.udpQueries.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
}

}  // namespace umlperf
