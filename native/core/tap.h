// TAP devices and simple link configuration for the lab, each done inside a given network
// namespace (name under /run/netns or a path; empty = the caller's own).
#pragma once
#include <string>

namespace umlperf {

struct TapOptions {
  std::string name;   // fits IFNAMSIZ
  std::string netns;  // empty: the current namespace
  int owner = -1;     // uid allowed to attach, -1: unchanged
  int group = -1;     // gid allowed to attach, -1: unchanged
};

// Creates a persistent single-queue TAP (IFF_TAP|IFF_NO_PI): UML rejects multi-queue ones.
void tapCreate(const TapOptions& o);
// Deletes a persistent TAP; returns false when no such link exists (idempotent).
bool tapDelete(const std::string& netns, const std::string& name);
// Sets a link up (or down).
void linkSetUp(const std::string& netns, const std::string& name, bool up);
// Sets the IPv4 address and prefix of a link.
void addressSet(const std::string& netns, const std::string& name, const std::string& ipv4, int prefix);
// Attaches a link to a bridge.
void bridgeAttach(const std::string& netns, const std::string& name, const std::string& bridge);
// True when a link of that name exists in the namespace.
bool linkExists(const std::string& netns, const std::string& name);

}  // namespace umlperf
