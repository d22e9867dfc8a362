// AF_UNIX datagram sockets bound to filesystem paths (Node has none): the transport of UML's
// management console. Filesystem paths, not abstract names, because abstract names are per
// network namespace and the guests run in another one.
#pragma once
#include <cstddef>
#include <string>

#include "sock.h"

namespace umlperf {

// Binds a new datagram socket to path (which must not exist).
Fd unixDgramBind(const std::string& path);
// Sends one datagram to the socket bound at path without blocking (EAGAIN when its queue is full).
void unixDgramSendTo(int fd, const void* data, size_t len, const std::string& path);

struct UnixDatagram {
  std::string data;
  std::string from;  // the sender's path, empty when unbound
};
// Receives one pending datagram without blocking; false when none is pending.
bool unixDgramReceive(int fd, UnixDatagram& out);

}  // namespace umlperf
