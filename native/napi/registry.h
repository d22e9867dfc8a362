// Everything in this process that owns a native thread, so that process exit can stop and
// join it (process.exit() runs no environment cleanup hooks, only static destructors).
#pragma once
#include <mutex>
#include <set>

namespace umlperf {

class Stoppable {
 public:
  virtual void stopAndJoin() = 0;

 protected:
  ~Stoppable() = default;
};

class Registry {
 public:
  static Registry& get();
  void add(Stoppable* s);
  void remove(Stoppable* s);
  ~Registry();

 private:
  std::mutex m_;
  std::set<Stoppable*> items_;
};

}  // namespace umlperf
