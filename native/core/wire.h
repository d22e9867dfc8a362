// The optional, additive header umlperf puts in UDP datagrams so its own endpoint can count
// what a UDP throughput test delivered. Any standard discard service ignores it as payload.
#pragma once
#include <cstdint>

namespace umlperf {

constexpr uint32_t kWireMagic = 0x504c4d55;  // "UMLP" little-endian
enum : uint8_t { kWireData = 1, kWireQuery = 2, kWireReport = 3 };

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
};
constexpr unsigned kWireQuerySize = 64;
static_assert(sizeof(WireHeader) == 24, "header layout");
static_assert(sizeof(WireReport) <= kWireQuerySize, "no amplification");

}  // namespace umlperf
