// The optional, additive header umlperf puts in UDP datagrams so its own endpoint can count
// what a UDP throughput test delivered. Any standard discard service ignores it as payload.
#pragma once
#include <cstdint>

namespace umlperf {

constexpr uint32_t kWireMagic = 0x504c4d55;  // "UMLP" little-endian
enum : uint8_t {
  kWireData = 1, kWireQuery = 2, kWireReport = 3,
  // UDP source control, over a TCP connection only (see SourceRequest).
  kWireSourceRequest = 4, kWireSourceAccept = 5, kWireSourceRefuse = 6, kWireSourceDone = 7,
  // Transaction sessions, over the same control port (see TransactionRequest).
  kWireTransactionRequest = 8, kWireTransactionAccept = 9, kWireTransactionRefuse = 10, kWireTransactionDone = 11
};

struct WireHeader {  // 24 bytes, little-endian host order (both ends are x86/UML here)
  uint32_t magic;
  uint8_t kind;
  uint8_t pad[3];
  uint64_t session;
  uint64_t seq;
};
struct WireReport {  // reply to a query: never larger than the query (kWireQuerySize)
  WireHeader h;
  uint64_t datagrams;
  uint64_t bytes;
  uint64_t reordered;  // arrived after a datagram with a higher sequence number (absent: 40-byte report)
};
constexpr unsigned kWireReportV1Size = 40;  // an endpoint without the reordering count

// UDP reverse: the prober asks, over a TCP connection to the endpoint's UDP source control
// port, for a paced UDP stream to its own address (the TCP peer's address, never another) at
// udpPort. The endpoint answers Accept or Refuse (reason), sends the datagrams (WireHeader kind
// Data, the session, seq from 0) until the duration, the count or the close of the control
// connection, then SourceDone with its counts. Every message on the control connection is 64 bytes.
enum : uint32_t { kRefuseRate = 1, kRefuseDuration = 2, kRefuseSize = 3, kRefusePort = 4, kRefuseSocket = 5 };
struct SourceRequest {
  WireHeader h;             // kind kWireSourceRequest, session
  uint64_t bitsPerSecond;   // > 0, at most the endpoint's cap
  uint64_t durationNs;      // > 0, at most the endpoint's sourceMaxNs
  uint64_t maxDatagrams;    // 0: no count limit
  uint32_t size;            // datagram size, 24..65507
  uint16_t udpPort;         // the prober's UDP port, >= 1024
  uint16_t pad;
};
struct SourceReply {  // Accept, Refuse (reason) or Done (datagrams, bytes sent)
  WireHeader h;
  uint64_t datagrams;
  uint64_t bytes;
  uint32_t reason;
  uint32_t pad;
  uint64_t maxBitsPerSecond;  // Refuse: the endpoint's caps, so the error can say what is allowed
  uint64_t maxDurationNs;
};
constexpr unsigned kSourceMsgSize = 64;
static_assert(sizeof(SourceRequest) <= kSourceMsgSize && sizeof(SourceReply) <= kSourceMsgSize, "control layout");

// Connection rate with the server closing first (netperf's TCP_CRR): the prober asks, over a TCP
// connection to the same control port, for a transaction session. The endpoint listens on a
// new port (in the reply's port), takes connections from the control connection's peer address
// only, and on each reads requestSize bytes, sends responseSize bytes (the request's bytes
// repeated) and closes first, so the TIME_WAITs are the server's, as with netperf's server. The
// session ends when the control connection closes (then Done, with the count), at stop(), or
// after idleTimeout without a transaction. Both sizes are 1..kTransactionMaxSize.
constexpr uint32_t kTransactionMaxSize = 65536;
enum : uint32_t { kRefuseTransactionSize = 6 };
struct TransactionRequest {
  WireHeader h;  // kind kWireTransactionRequest, session
  uint32_t requestSize;
  uint32_t responseSize;
};
struct TransactionReply {  // Accept (port), Refuse (reason) or Done (transactions served)
  WireHeader h;
  uint64_t transactions;
  uint32_t reason;
  uint16_t port;
  uint16_t pad;
  uint32_t maxSize;
};
static_assert(sizeof(TransactionRequest) <= kSourceMsgSize && sizeof(TransactionReply) <= kSourceMsgSize, "control layout");
constexpr unsigned kWireQuerySize = 64;
static_assert(sizeof(WireHeader) == 24, "header layout");
static_assert(sizeof(WireReport) <= kWireQuerySize, "no amplification");
static_assert(sizeof(WireReport) >= kWireReportV1Size, "report layout");

}  // namespace umlperf
