// N datagrams of `slot` bytes each, laid out once for sendmmsg and recvmmsg.
#pragma once
#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace umlperf {

template <unsigned N>
class DatagramBatch {
 public:
  // Every slot starts as `fill` (0 for receiving); write the datagrams' bytes through data(i).
  explicit DatagramBatch(size_t slot, char fill = 0) : slot_(slot), bufs_(N * slot, fill) {
    memset(msgs_, 0, sizeof msgs_);
    for (unsigned i = 0; i < N; i++) {
      iov_[i] = {bufs_.data() + i * slot, slot};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }
  DatagramBatch(const DatagramBatch&) = delete;
  DatagramBatch& operator=(const DatagramBatch&) = delete;

  char* data(unsigned i) { return bufs_.data() + i * slot_; }
  // Sends datagrams [0, n) on a connected socket (sendmmsg): how many went, or -1 with errno.
  int send(int fd, unsigned n) { return sendmmsg(fd, msgs_, n, 0); }
  // Receives up to N datagrams with their senders (flags as recvmmsg's): how many, or -1 with errno.
  int recv(int fd, int flags) {
    for (unsigned i = 0; i < N; i++) {
      msgs_[i].msg_hdr.msg_name = &from_[i];
      msgs_[i].msg_hdr.msg_namelen = sizeof from_[i];
    }
    return recvmmsg(fd, msgs_, N, flags, nullptr);
  }
  // After recv: datagram i's length (a longer one is cut to the slot) and its sender.
  size_t len(unsigned i) const { return msgs_[i].msg_len; }
  const sockaddr_storage& from(unsigned i) const { return from_[i]; }
  socklen_t fromLen(unsigned i) const { return msgs_[i].msg_hdr.msg_namelen; }

 private:
  size_t slot_;
  std::vector<char> bufs_;
  mmsghdr msgs_[N];
  iovec iov_[N];
  sockaddr_storage from_[N];
};

}  // namespace umlperf
