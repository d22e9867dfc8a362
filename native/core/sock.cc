#include "sock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>

#include "clock.h"
#include "error.h"

namespace umlperf {

const char* waitName(Wait w) {
  switch (w) {
    case Wait::Block: return "block";
    case Wait::Spin: return "spin";
    case Wait::BusyPoll: return "busy-poll";
  }
  return "?";
}
const char* protoName(Proto p) { return p == Proto::TCP ? "tcp" : "udp"; }

std::string Address::str() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(s->sin_port));
  }
  auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(s->sin6_port));
}

Address resolve(const std::string& host, uint16_t port, bool numericOnly) {
  Address a;
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    memcpy(&a.ss, &v4, sizeof v4);
    a.len = sizeof v4;
    return a;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    memcpy(&a.ss, &v6, sizeof v6);
    a.len = sizeof v6;
    return a;
  }
  if (numericOnly) throwCode("EINVAL", "not a numeric address: " + host);
#ifdef UMLPERF_NO_GETADDRINFO
  throwCode("ENOTFOUND", "cannot resolve host " + host + " (this build takes numeric addresses only)");
#else
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) throwCode("ENOTFOUND", "cannot resolve host " + host + ": " + gai_strerror(rc));
  memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
  a.len = res->ai_addrlen;
  freeaddrinfo(res);
  if (a.ss.ss_family == AF_INET)
    reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = htons(port);
  else
    reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = htons(port);
  return a;
#endif
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}
Fd::~Fd() { reset(); }
void Fd::reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void setNonBlocking(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
    throwErrno("fcntl", "cannot set O_NONBLOCK");
}

void setRecvTimeout(int fd, uint64_t ns) {
  timeval tv{time_t(ns / 1000000000ull), suseconds_t((ns % 1000000000ull) / 1000)};
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
    throwErrno("setsockopt", "cannot set SO_RCVTIMEO");
}

void clearRecvTimeout(int fd) {
  timeval none{0, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
}

void setSendTimeout(int fd, uint64_t ns) {
  timeval tv{time_t(ns / 1000000000ull), suseconds_t((ns % 1000000000ull) / 1000)};
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
    throwErrno("setsockopt", "cannot set SO_SNDTIMEO");
}

void setBusyPoll(int fd, uint32_t us) {
  int v = int(us);
  if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof v) < 0)
    throwErrno("setsockopt", "cannot set SO_BUSY_POLL (needs CAP_NET_ADMIN)");
#ifdef SO_PREFER_BUSY_POLL
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one);  // best effort
#endif
}

void setBuffers(int fd, int bytes) {
  // The forced variants ignore net.core.[rw]mem_max and need CAP_NET_ADMIN.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

uint64_t tcpRetransmits(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) return 0;
  return ti.tcpi_total_retrans;
}

void setPort(sockaddr_storage& ss, uint16_t port) {
  if (ss.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(port);
  else reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(port);
}

Fd connectTo(const Address& a, Proto p, Wait w, uint32_t busyPollUs, uint64_t timeoutNs, bool noDelay,
             const std::function<bool()>& cancelled, uint64_t sendTimeoutNs) {
  Fd fd(socket(a.family(), (p == Proto::TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0));
  if (!fd) throwErrno("socket", "cannot create socket");
  if (p == Proto::TCP) {
    int one = 1;
    if (noDelay) setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Bounded connect: a blocking connect whose wait the send timeout cuts to one slice (on
    // loopback or a LAN it is done within the call, with no extra system calls), then, for a
    // peer that is slow to answer the SYN, polls in slices, so a cancel ends the wait.
    const uint64_t deadline = monoNs() + timeoutNs;  // the whole wait, the blocking slice included
    const uint64_t sliceNs = timeoutNs < 20000000ull ? timeoutNs : 20000000ull;
    // A caller's send timeout no longer than the slice serves as the slice, and stays.
    const bool keep = sendTimeoutNs && sendTimeoutNs <= sliceNs;
    setSendTimeout(fd.get(), keep ? sendTimeoutNs : sliceNs);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0) {
      // EINPROGRESS: the slice passed; EINTR: a signal. Either way the connect goes on.
      if (errno != EINPROGRESS && errno != EINTR) throwErrno("connect", "cannot connect to " + a.str());
      for (;;) {
        if (cancelled()) throwCode("ABORT_ERR", "the probe was cancelled");
        uint64_t now = monoNs();
        if (now >= deadline) throwErrno("connect", "cannot connect to " + a.str(), ETIMEDOUT);
        uint64_t left = deadline - now;
        int ms = int((left < 20000000ull ? left : 20000000ull) / 1000000ull);
        pollfd pfd{fd.get(), POLLOUT, 0};
        int rc = poll(&pfd, 1, ms > 0 ? ms : 1);
        if (rc > 0) break;
        if (rc < 0 && errno != EINTR) throwErrno("poll", "cannot connect to " + a.str());
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) throwErrno("connect", "cannot connect to " + a.str(), err);
    }
    if (!keep) {
      if (sendTimeoutNs) {
        setSendTimeout(fd.get(), sendTimeoutNs);
      } else {
        timeval none{0, 0};
        setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
      }
    }
  } else if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0) {
    throwErrno("connect", "cannot connect to " + a.str());
  }
  if (w == Wait::Spin) setNonBlocking(fd.get(), true);
  if (w == Wait::BusyPoll) setBusyPoll(fd.get(), busyPollUs);
  return fd;
}

void enterNetns(const std::string& nameOrPath) {
  if (nameOrPath.empty()) return;
  std::string path = nameOrPath.find('/') == std::string::npos ? "/run/netns/" + nameOrPath : nameOrPath;
  Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) throwErrno("open", "cannot open network namespace " + path);
  if (setns(ns.get(), CLONE_NEWNET) < 0) throwErrno("setns", "cannot enter network namespace " + path);
}

void pinToCpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (rc != 0) throwErrno("pthread_setaffinity_np", "cannot pin to CPU " + std::to_string(cpu), rc);
}

void nameThread(const char* name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

}  // namespace umlperf
