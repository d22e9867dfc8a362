#include "registry.h"

#include <vector>

namespace umlperf {

Registry& Registry::get() {
  static Registry r;
  return r;
}

void Registry::add(Stoppable* s) {
  std::lock_guard<std::mutex> lock(m_);
  items_.insert(s);
}

void Registry::remove(Stoppable* s) {
  std::lock_guard<std::mutex> lock(m_);
  items_.erase(s);
}

Registry::~Registry() {
  std::vector<Stoppable*> left;
  {
    std::lock_guard<std::mutex> lock(m_);
    left.assign(items_.begin(), items_.end());
  }
  for (Stoppable* s : left) s->stopAndJoin();
}

}  // namespace umlperf
