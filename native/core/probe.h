// The three probes of the measurement core. Each runs to completion on the calling thread
// (a native thread of its own), honours Control for cancellation and progress, and fills a
// result whose times are integer nanoseconds.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "histogram.h"
#include "sock.h"

namespace umlperf {

// Shared between the probe thread and whoever may cancel it.
struct IntervalSnapshot;

class Control {
 public:
  std::function<void(uint64_t done, uint64_t total)> progress;  // called at most ~10x/s
  // Live interval snapshots (stream index, snapshot); called by each stream's thread at most
  // once per interval. Empty: none.
  std::function<void(unsigned stream, bool receive, const IntervalSnapshot& s)> interval;
  bool cancelled() const { return cancel_.load(std::memory_order_relaxed); }
  // Sets the flag and wakes a thread blocked on the probe's socket.
  void cancel();
  void attach(int fd);  // a socket cancel() must wake (a probe with parallel streams has several)
  void detach(int fd);

 private:
  std::atomic<bool> cancel_{false};
  std::mutex m_;
  std::vector<int> fds_;
};

struct CommonOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7;
  Proto proto = Proto::TCP;
  Wait wait = Wait::Block;
  uint32_t busyPollUs = 50;
  int cpu = -1;         // pin the probe thread; -1: no pinning
  std::string netns;    // run in this network namespace (name under /run/netns, or a path)
};

struct ResponseOptions : CommonOptions {
  uint32_t size = 64;
  uint64_t iterations = 1000;
  uint64_t warmup = 100;
  uint64_t intervalNs = 0;
  uint64_t timeoutNs = 200000000;  // per request: UDP: lost (3 in a row fail the probe); TCP: fails
  bool histogram = false;  // record into `hist` (bounded memory) ...
  bool samples = true;     // ... and/or keep every sample (rttNs)
};
struct ResponseResult {
  std::vector<int64_t> rttNs;  // one per answered measured request, in order
  uint64_t sent = 0;           // measured requests sent (warm-up excluded)
  uint64_t lost = 0;           // UDP requests with no reply within the timeout
  uint64_t stale = 0;          // late replies to earlier requests, discarded
  int64_t durationNs = 0;      // the measured phase
  std::string peer;
  bool partial = false;        // the probe failed; these are the requests measured until then
  LogHistogram hist;           // with histogram: every answered measured request
};

enum class Direction { Send, Receive, Both };

// Sizes a probe takes when the caller gives none (the addon exports them as `limits`, the
// library's defaults). On a fast path the sender's CPU is what limits. Writes of 256 KiB: fewer
// system calls per byte than iperf3's 128 KiB, and where L2 is 512 KiB per core, 1 MiB writes
// ran at half the rate of 256 KiB ones (loopback, interleaved rounds). Reads of 1 MiB: ~10% more
// than 256 KiB from a fast source. UDP: the payload of one 1500-byte frame (IPv4).
constexpr size_t kTcpWriteDefault = 256 * 1024;
constexpr size_t kTcpReadDefault = 1024 * 1024;
constexpr size_t kUdpDatagramDefault = 1472;

struct ThroughputOptions : CommonOptions {
  uint32_t size = 0;         // write size (TCP) / datagram size (UDP); 0: TCP 256 KiB per write, 1 MiB per read / UDP 1472 B
  uint64_t bytes = 0;        // stop after this many bytes (per stream) ...
  uint64_t durationNs = 0;   // ... or after this long (one of the two; default 2 s)
  uint64_t drainTimeoutNs = 5000000000ull;
  // Send: into discard at `port`. Receive (TCP only): from a chargen source (RFC 864) at
  // `sourcePort`, which sends until we close. Both: the two at once.
  Direction direction = Direction::Send;
  uint16_t sourcePort = 0;
  unsigned parallel = 1;     // streams per direction, each on a connection (and thread) of its own
  uint64_t intervalNs = 0;   // 0: no interval snapshots
  // UDP: send streams are paced at this rate (0: as fast as possible); receive streams ask the
  // endpoint's UDP source (control at sourcePort, wire.h) for this rate (required, > 0).
  double rateMbps = 0;
};
// Cumulative counters of one stream at the end of an interval (the first interval starts at
// the stream's start). Taken by the stream's own thread at most once per interval.
struct IntervalSnapshot {
  int64_t endNs = 0;         // since the common start of all streams
  uint64_t bytes = 0;        // sent (send streams) or received (receive streams)
  uint64_t retransmits = 0;  // TCP send streams: TCP_INFO total retransmits
  uint64_t lost = 0;         // UDP receive streams: sequence numbers skipped so far
};
struct ThroughputResult {  // one stream
  bool receive = false;            // this stream received from a source (reverse)
  uint64_t bytesSeen = 0;          // receive streams: bytes received
  uint64_t retransmits = 0;        // TCP send streams: TCP_INFO total retransmits
  uint64_t bytesSent = 0;
  uint64_t datagramsSent = 0;      // UDP
  int64_t sendDurationNs = 0;      // first byte handed to the kernel .. last
  int64_t durationNs = 0;          // TCP: first byte .. peer closed after our FIN; UDP: = send
  bool receiverCounted = false;    // UDP: the endpoint reported what it received
  uint64_t bytesReceived = 0;      // UDP: receiver's count; TCP: = bytesSent when confirmed
  uint64_t datagramsReceived = 0;  // UDP receive streams: distinct datagrams that arrived here
  uint64_t reordered = 0;          // UDP: arrived after a higher sequence number (receiver's count)
  bool reorderCounted = false;     // UDP send: the receiver reported reordering
  uint64_t duplicates = 0;         // UDP receive streams
  bool drained = false;            // TCP: the peer confirmed by closing
  uint32_t size = 0;
  std::string peer;
  std::vector<IntervalSnapshot> intervals;
};
struct ThroughputRun {
  std::vector<ThroughputResult> streams;  // send streams first, then receive streams
  int64_t startedNs = 0;                  // monotonic ns of the common start (intervals count from it)
};

struct StreamOptions : CommonOptions {
  uint32_t size = kUdpDatagramDefault;
  double rateMbps = 0;           // 0: unpaced
  uint64_t durationNs = 1000000000ull;
  uint64_t maxPackets = 2000000;  // bounds memory and time
  uint64_t drainNs = 200000000;   // wait for echoes after the last send
};
struct StreamResult {
  uint64_t sent = 0, received = 0, lost = 0, duplicates = 0, reordered = 0;
  int64_t jitterNs = 0;           // RFC 3550 interarrival jitter of the echoes
  int64_t durationNs = 0;         // sending phase
  double sentMbps = 0, receivedMbps = 0;
  std::vector<int64_t> rttNs;     // per echoed packet (first copy)
  std::string peer;
};

// Connect, request, response, close per transaction (netperf's TCP_CRR), against an echo, or in
// a transaction session of umlperf's endpoint (session: port is its control port).
struct CrrOptions : CommonOptions {
  uint32_t size = 1;             // request bytes (= response bytes against an echo)
  bool session = false;          // a transaction session: the server closes first
  uint32_t responseSize = 0;     // in a session; 0: size
  uint64_t transactions = 1000;
  uint64_t warmup = 10;
  uint64_t timeoutNs = 5000000000ull;  // per transaction, connect included
  bool histogram = false;        // as ResponseOptions
  bool samples = true;
};
struct CrrResult {
  std::vector<int64_t> latencyNs;  // one per measured transaction: connect start .. close done
  int64_t durationNs = 0;          // the measured phase
  std::string peer;
  bool partial = false;            // the probe failed; these are the transactions until then
  LogHistogram hist;
};

void runResponse(const ResponseOptions& o, Control& c, ResponseResult& r);
void runCrr(const CrrOptions& o, Control& c, CrrResult& r);
void runThroughput(const ThroughputOptions& o, Control& c, ThroughputRun& r);
void runStream(const StreamOptions& o, Control& c, StreamResult& r);

// Prepares the calling thread: netns, CPU pinning, name.
void enterProbeThread(const CommonOptions& o, const char* name);

}  // namespace umlperf
