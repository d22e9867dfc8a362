// A probe job: one native thread of its own (never the libuv pool), results and progress
// back to JS through a thread-safe function, cancellable, joined on cancel, at environment
// teardown (worker threads) and at process exit.
#pragma once
#include <napi.h>

#include <memory>
#include <thread>

#include "../core/error.h"
#include "../core/probe.h"
#include "registry.h"

namespace umlperf {

class Job : public Stoppable {
 public:
  virtual ~Job() = default;
  // Starts the thread; returns { promise, cancel }.
  Napi::Object start(Napi::Env env, Napi::Value onProgress, const char* threadName);
  void stopAndJoin() override;

 protected:
  virtual void run(Control& c) = 0;                  // on the job's thread
  virtual Napi::Value result(Napi::Env env) = 0;     // on the JS thread, after run
  virtual const CommonOptions& common() const = 0;
  // After a failure: whether result() holds what was measured until then (attached as `partial`).
  virtual bool partial() const { return false; }
  // Whether the probe sends live interval snapshots (only when JS listens for them).
  virtual bool liveIntervals() const { return false; }

 private:
  struct Message {
    bool done;
    uint64_t doneCount, total;
    bool interval = false;  // a live interval snapshot (then doneCount is the stream index)
    bool receive = false;
    IntervalSnapshot snap{};
  };
  static void callJs(Napi::Env env, Napi::Function progress, Job* job, Message* m);
  static void finalize(Napi::Env env, void*, Job* job);
  static void cleanupHook(void* arg);

  Control control_;
  std::unique_ptr<Napi::Promise::Deferred> deferred_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::thread thread_;
  std::mutex joinMutex_;
  napi_env env_ = nullptr;
  bool hookRan_ = false;
  bool failed_ = false;
  Failure failure_{"", 0, "", ""};
  const char* threadName_ = "umlperf-probe";
};

// Makes a JS Error carrying code, errno and syscall.
Napi::Error toJsError(Napi::Env env, const Failure& f);

}  // namespace umlperf
