#include <sys/socket.h>

#include "error.h"
#include "probe.h"

namespace umlperf {

void Control::cancel() {
  cancel_.store(true, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(m_);
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);  // wakes a blocked recv/send/accept
}

void Control::attach(int fd) {
  std::lock_guard<std::mutex> lock(m_);
  fd_ = fd;
  if (cancel_.load()) shutdown(fd_, SHUT_RDWR);
}

void Control::detach() {
  std::lock_guard<std::mutex> lock(m_);
  fd_ = -1;
}

void enterProbeThread(const CommonOptions& o, const char* name) {
  nameThread(name);
  enterNetns(o.netns);
  pinToCpu(o.cpu);
}

}  // namespace umlperf
