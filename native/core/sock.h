// Socket helpers shared by the probes and the endpoint.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>

namespace umlperf {

enum class Proto { TCP, UDP };
enum class Wait { Block, Spin, BusyPoll };

const char* waitName(Wait w);
const char* protoName(Proto p);

struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  std::string str() const;
};

// Sets the port of an IPv4 or IPv6 address.
void setPort(sockaddr_storage& ss, uint16_t port);

// Resolves host (name or literal) and port; throws ENOTFOUND when it cannot.
Address resolve(const std::string& host, uint16_t port, bool numericOnly = false);

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// A connected client socket for probes; applies the wait mode.
// noDelay: TCP_NODELAY, for request/response; bulk transfers leave Nagle on, as iperf3 does.
// A TCP connect waits at most timeoutNs, and ends (ABORT_ERR) once cancelled() says so.
// sendTimeoutNs: the socket's SO_SNDTIMEO afterwards (0: none), set once, before the connect.
Fd connectTo(const Address& a, Proto p, Wait w, uint32_t busyPollUs, uint64_t timeoutNs, bool noDelay,
             const std::function<bool()>& cancelled, uint64_t sendTimeoutNs = 0);

void setNonBlocking(int fd, bool on);
void setRecvTimeout(int fd, uint64_t ns);
// Blocking receives wait without a timer again (best effort: a socket that keeps its timeout
// only wakes more often).
void clearRecvTimeout(int fd);
void setSendTimeout(int fd, uint64_t ns);
void setBusyPoll(int fd, uint32_t us);
void setBuffers(int fd, int bytes);
// TCP_INFO's count of retransmitted segments over the connection's life; 0 when unavailable.
uint64_t tcpRetransmits(int fd);  // SO_SNDBUF/SO_RCVBUF, forced when privileged

// Runs the calling thread in a network namespace: a name under /run/netns or a path.
void enterNetns(const std::string& nameOrPath);
// Pins the calling thread to one CPU.
void pinToCpu(int cpu);
// Names the calling thread (shows in top -H, /proc/PID/task).
void nameThread(const char* name);

}  // namespace umlperf
