#include <sys/socket.h>

#include <vector>

#include "error.h"
#include "probe.h"

namespace umlperf {

void Control::cancel() {
  cancel_.store(true, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(m_);
  for (int fd : fds_) shutdown(fd, SHUT_RDWR);  // wakes a blocked recv/send/accept
}

void Control::attach(int fd) {
  std::lock_guard<std::mutex> lock(m_);
  fds_.push_back(fd);
  if (cancel_.load()) shutdown(fd, SHUT_RDWR);
}

void Control::detach(int fd) {
  std::lock_guard<std::mutex> lock(m_);
  for (auto it = fds_.begin(); it != fds_.end(); ++it)
    if (*it == fd) {
      fds_.erase(it);
      break;
    }
}

void enterProbeThread(const CommonOptions& o, const char* name) {
  nameThread(name);
  enterNetns(o.netns);
  pinToCpu(o.cpu);
}

}  // namespace umlperf
