// The endpoint: TCP and UDP echo (RFC 862) and discard (RFC 863) services, plus the counting
// that UDP throughput tests ask for (wire.h). Blocking by default: in a one-CPU guest,
// spinning would distort what is measured. A reply is never larger than its request.
#pragma once
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sock.h"

namespace umlperf {

struct EndpointOptions {
  std::string bind = "127.0.0.1";
  uint16_t echoPort = 7007;     // 0: any free port
  uint16_t discardPort = 7008;  // 0: any free port
  bool tcp = true, udp = true;
  Wait wait = Wait::Block;
  std::string netns;
  unsigned maxConnections = 256;          // per TCP service; at the limit the longest-idle one makes room
  unsigned maxConnectionsPerSource = 0;   // per TCP service and source address; 0: maxConnections / 2
  uint64_t idleTimeoutNs = 60000000000ull;  // a TCP connection silent this long is closed
  uint32_t udpRepliesPerSecond = 1000000;  // per source address; 0: no limit (see udp_guard.h)
};

struct EndpointStats {
  std::atomic<uint64_t> tcpConnections{0}, tcpRefused{0}, echoedBytes{0}, discardedBytes{0};
  std::atomic<uint64_t> udpEchoed{0}, udpDiscarded{0}, udpQueries{0};
  std::atomic<uint64_t> tcpIdleClosed{0};  // closed for silence, or to make room for a new client
  std::atomic<uint64_t> udpIgnored{0};     // reserved or own source port, reflection loop, rate limit
};

class Endpoint {
 public:
  explicit Endpoint(EndpointOptions o);
  ~Endpoint();
  void start();  // binds everything or throws; services run on threads of their own
  void stop();   // idempotent; joins every thread
  uint16_t echoPort() const { return echoPort_; }
  uint16_t discardPort() const { return discardPort_; }
  const EndpointStats& stats() const { return stats_; }
  const EndpointOptions& options() const { return o_; }

 private:
  struct Conn {
    std::thread thread;
    int fd;
    bool echo;
    std::string source;                // the peer's address, without port
    std::atomic<uint64_t> activeNs{0};  // last time it sent anything
    std::atomic<bool> done{false};
    bool evicted = false;
  };
  void startThreads();
  void acceptLoop(int lfd, bool echo);
  bool admit(const std::string& source, bool echo);  // with connsMutex_ held
  bool idleTooLong(Conn* c, uint64_t nowNs);
  void tcpEcho(Conn* c);
  void tcpDiscard(Conn* c);
  void udpEcho();
  void udpDiscard();
  void reap(bool all);
  void finish(Conn* c);

  EndpointOptions o_;
  EndpointStats stats_;
  Fd tcpEchoFd_, tcpDiscardFd_, udpEchoFd_, udpDiscardFd_;
  uint16_t echoPort_ = 0, discardPort_ = 0;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::vector<std::thread> services_;
  std::mutex connsMutex_;
  std::list<std::unique_ptr<Conn>> conns_;
};

}  // namespace umlperf
