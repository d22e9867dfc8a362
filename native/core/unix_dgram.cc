#include "unix_dgram.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "error.h"

namespace umlperf {

namespace {

socklen_t fillPath(sockaddr_un& a, const std::string& path) {
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    throwCode("EINVAL", "bad unix socket path '" + path + "' (1-" + std::to_string(sizeof a.sun_path - 1) + " bytes)");
  memcpy(a.sun_path, path.c_str(), path.size());
  return socklen_t(offsetof(sockaddr_un, sun_path) + path.size() + 1);
}

}  // namespace

Fd unixDgramBind(const std::string& path) {
  sockaddr_un a;
  socklen_t len = fillPath(a, path);
  Fd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throwErrno("socket", "cannot create unix datagram socket");
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) < 0) throwErrno("bind", "cannot bind " + path);
  return fd;
}

void unixDgramSendTo(int fd, const void* data, size_t len, const std::string& path) {
  sockaddr_un a;
  socklen_t alen = fillPath(a, path);
  if (sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&a), alen) < 0)
    throwErrno("sendto", "cannot send to " + path);
}

bool unixDgramReceive(int fd, UnixDatagram& out) {
  char buf[4096];
  sockaddr_un from{};
  socklen_t flen = sizeof from;
  ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return false;
    throwErrno("recvfrom", "cannot receive on unix datagram socket");
  }
  out.data.assign(buf, size_t(n));
  out.from.clear();
  if (flen > offsetof(sockaddr_un, sun_path) && from.sun_path[0] != '\0')
    out.from.assign(from.sun_path, strnlen(from.sun_path, flen - offsetof(sockaddr_un, sun_path)));
  return true;
}

}  // namespace umlperf
