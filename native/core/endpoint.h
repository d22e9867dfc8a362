// The endpoint: TCP and UDP echo (RFC 862) and discard (RFC 863) services, plus the counting
// that UDP throughput tests ask for (wire.h), a TCP chargen source (RFC 864) for reverse
// throughput, and a control port for the paced UDP source and for transaction sessions
// (connection rate with the server closing first). Blocking by default: in a one-CPU guest, spinning would distort what is measured.
// A reply is never larger than its request, except chargen's stream: that goes only to the
// peer of an established TCP connection (no spoofed victim), at the pace that peer reads, and
// for at most sourceMaxNs; there is no UDP chargen. The UDP source (reverse UDP) is asked for
// over a TCP connection and sends only to that connection's peer address, at most at
// udpSourceMaxMbps and for at most sourceMaxNs (wire.h: SourceRequest).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "sock.h"

namespace umlperf {

constexpr size_t kMinDiscardRead = 16 * 1024, kMaxDiscardRead = 4 * 1024 * 1024;

struct EndpointOptions {
  std::string bind = "127.0.0.1";
  uint16_t echoPort = 7007;     // 0: any free port
  uint16_t discardPort = 7008;  // 0: any free port
  uint16_t chargenPort = 7009;  // TCP only; 0: any free port
  bool chargen = true;
  uint16_t udpSourcePort = 7010;          // TCP control for the paced UDP source; 0: any free port
  bool udpSource = true;
  double udpSourceMaxMbps = 1000;         // per control connection
  uint64_t sourceMaxNs = 60000000000ull;  // a chargen connection is closed after this long
  bool tcp = true, udp = true;
  Wait wait = Wait::Block;
  std::string netns;
  unsigned maxConnections = 256;          // per TCP service; at the limit the longest-idle one makes room
  unsigned maxConnectionsPerSource = 0;   // per TCP service and source address; 0: maxConnections / 2
  uint64_t idleTimeoutNs = 60000000000ull;  // a TCP connection silent this long is closed
  uint32_t udpRepliesPerSecond = 1000000;  // per source address; 0: no limit (see udp_guard.h)
  // TCP discard's read size, a buffer per connection (kMinDiscardRead..kMaxDiscardRead): see tcpDiscard().
  size_t discardReadBytes = 128 * 1024;
};

struct EndpointStats {
  std::atomic<uint64_t> tcpConnections{0}, tcpRefused{0}, echoedBytes{0}, discardedBytes{0};
  std::atomic<uint64_t> udpEchoed{0}, udpDiscarded{0}, udpQueries{0};
  std::atomic<uint64_t> tcpIdleClosed{0};  // closed for silence, or to make room for a new client
  std::atomic<uint64_t> udpIgnored{0};     // reserved or own source port, reflection loop, rate limit
  std::atomic<uint64_t> chargenBytes{0};   // handed to the kernel by the chargen source
  std::atomic<uint64_t> chargenCapped{0};  // chargen connections closed at sourceMaxNs
  std::atomic<uint64_t> udpSourceDatagrams{0};  // sent by the UDP source
  std::atomic<uint64_t> udpSourceRefused{0};    // requests refused (over a cap, malformed, silent)
  std::atomic<uint64_t> transactionSessions{0};  // accepted (wire.h: TransactionRequest)
  std::atomic<uint64_t> transactions{0};         // served in them: request in, response out, closed
};

class Endpoint {
 public:
  explicit Endpoint(EndpointOptions o);
  ~Endpoint();
  void start();  // binds everything or throws; services run on threads of their own
  void stop();   // idempotent; joins every thread
  uint16_t echoPort() const { return echoPort_; }
  uint16_t discardPort() const { return discardPort_; }
  uint16_t chargenPort() const { return chargenPort_; }
  uint16_t udpSourcePort() const { return udpSourcePort_; }
  const EndpointStats& stats() const { return stats_; }
  const EndpointOptions& options() const { return o_; }

 private:
  enum Service { Echo, Discard, Chargen, UdpSource };
  struct Conn {
    int fd;
    int sessionFd = -1;  // a transaction session's listener, with connsMutex_ held
    Service service;
    std::string source;                // the peer's address, without port
    std::atomic<uint64_t> activeNs{0};  // last time it sent anything
    std::atomic<bool> done{false};
    bool evicted = false;
    // How long it has been silent at `nowNs`. Its worker stores activeNs at any moment, so a
    // time read before that store is earlier than activeNs: that is no silence at all (an
    // unsigned difference would wrap and close a busy connection as idle).
    uint64_t silentNs(uint64_t nowNs) const {
      uint64_t a = activeNs.load(std::memory_order_relaxed);
      return nowNs > a ? nowNs - a : 0;
    }
  };
  void startThreads();
  // Each TCP service is served by a pool of workers that all wait in accept() on its socket;
  // the one that takes a connection serves it itself, and starts another worker first when no
  // other is left waiting. A connection therefore costs no thread creation and no hand-off
  // between threads (a connect-request-response-close client meets a waiting worker); a worker
  // idle for kWorkerIdleNs ends while another waits.
  struct Worker {
    std::thread thread;
    bool done = false;  // with poolMutex_ held
  };
  bool spawnWorker(int lfd, Service service);  // with poolMutex_ held
  void endWorker(Worker* w);
  void workerLoop(Worker* w, int lfd, Service service);
  Conn* admitConn(int fd, const sockaddr_storage& from, Service service);
  void serve(Conn* c);
  void reapWorkers();
  bool admit(const std::string& source, Service service);  // with connsMutex_ held
  bool idleTooLong(Conn* c, uint64_t nowNs);
  void idleWatch();
  void tcpEcho(Conn* c);
  void tcpDiscard(Conn* c);
  void tcpChargen(Conn* c);
  void control(Conn* c);
  void udpSource(Conn* c, const char* request);
  void transactionSession(Conn* c, const char* request);
  void udpEcho();
  void udpDiscard();
  void reapAll();
  void finish(Conn* c);

  EndpointOptions o_;
  EndpointStats stats_;
  Fd tcpEchoFd_, tcpDiscardFd_, tcpChargenFd_, udpEchoFd_, udpDiscardFd_, udpSourceFd_;
  uint16_t echoPort_ = 0, discardPort_ = 0, chargenPort_ = 0, udpSourcePort_ = 0;
  uint64_t recvWakeNs_ = 1000000000;  // start(): at most 1 s, at most half the idle timeout
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::vector<std::thread> services_;
  // The echo and discard connections block in recv() with no timeout (a timer armed and
  // cancelled on every wait lengthens each round trip); one thread closes the idle ones.
  std::mutex idleMutex_;
  std::condition_variable idleWake_;  // stop() wakes the watcher
  std::mutex connsMutex_;
  std::list<std::unique_ptr<Conn>> conns_;
  std::mutex poolMutex_;  // never held together with connsMutex_
  std::list<Worker> workers_;
  // Per service: workers in the accept loop. Atomic, and workers that ended are counted, so
  // that a connection's hand-over takes no lock (two workers of one service meet there, on
  // one CPU: a lock taken then made every second connection wait on a futex).
  std::atomic<int> accepting_[4] = {0, 0, 0, 0};
  std::atomic<unsigned> ended_{0};
};

}  // namespace umlperf
