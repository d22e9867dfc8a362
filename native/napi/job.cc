#include "job.h"

#include <system_error>

namespace umlperf {

Napi::Error toJsError(Napi::Env env, const Failure& f) {
  Napi::Error e = Napi::Error::New(env, f.what());
  if (!f.code.empty()) e.Set("code", f.code);
  if (f.err) e.Set("errno", Napi::Number::New(env, -f.err));
  if (!f.syscall.empty()) e.Set("syscall", f.syscall);
  if (f.code == "ABORT_ERR") e.Set("name", "AbortError");
  return e;
}

Napi::Object Job::start(Napi::Env env, Napi::Value onProgress, const char* threadName) {
  threadName_ = threadName;
  env_ = env;
  deferred_ = std::make_unique<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  Napi::Function progress = onProgress.IsFunction()
                                ? onProgress.As<Napi::Function>()
                                : Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  tsfn_ = Napi::TypedThreadSafeFunction<Job, Message, callJs>::New(env, progress, "umlperf-probe", 0, 1, this,
                                                                    finalize, (void*)nullptr)
              .operator napi_threadsafe_function();
  // Registered after the thread-safe function, so at teardown it runs first (LIFO) and the
  // thread is joined while the function is still valid.
  napi_add_env_cleanup_hook(env, cleanupHook, this);
  Registry::get().add(this);

  control_.progress = [this](uint64_t done, uint64_t total) {
    napi_call_threadsafe_function(tsfn_, new Message{false, done, total}, napi_tsfn_nonblocking);
  };
  if (liveIntervals())
    control_.interval = [this](unsigned stream, bool receive, const IntervalSnapshot& s) {
      napi_call_threadsafe_function(tsfn_, new Message{false, stream, 0, true, receive, s}, napi_tsfn_nonblocking);
    };
  try {
    thread_ = std::thread([this] {
      try {
        enterProbeThread(common(), threadName_);
        run(control_);
      } catch (const Failure& f) {
        failed_ = true;
        failure_ = f;
      } catch (const std::exception& e) {
        failed_ = true;
        failure_ = Failure("ERR_UMLPERF_NATIVE", 0, "", e.what());
      }
      if (napi_call_threadsafe_function(tsfn_, new Message{true, 0, 0}, napi_tsfn_nonblocking) != napi_ok) {
        // The environment is closing: nobody will read the message.
      }
      napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
    });
  } catch (const std::system_error& e) {
    // No thread (RLIMIT_NPROC, memory): the probe fails; the process goes on. The promise is
    // settled through the same path as a thread's end, which also releases the function.
    failed_ = true;
    failure_ = Failure("EAGAIN", e.code().value(), "pthread_create", std::string("cannot start the probe thread: ") + e.what());
    napi_call_threadsafe_function(tsfn_, new Message{true, 0, 0}, napi_tsfn_nonblocking);
    napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  }

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", deferred_->Promise());
  handle.Set("cancel", Napi::Function::New(env, [this](const Napi::CallbackInfo&) { control_.cancel(); }));
  return handle;
}

void Job::callJs(Napi::Env env, Napi::Function progress, Job* job, Message* m) {
  std::unique_ptr<Message> msg(m);
  if (env == nullptr) return;  // teardown: drop it
  if (msg->interval) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("stream", double(msg->doneCount));
    s.Set("direction", msg->receive ? "receive" : "send");
    s.Set("endNs", double(msg->snap.endNs));
    s.Set("bytes", double(msg->snap.bytes));
    s.Set("retransmits", double(msg->snap.retransmits));
    s.Set("lost", double(msg->snap.lost));
    try {
      progress.Call({Napi::String::New(env, "interval"), s});
    } catch (const Napi::Error&) {
    }
    return;
  }
  if (!msg->done) {
    // A throwing callback must not take the process down from here: the JS side guards it too.
    try {
      progress.Call({Napi::Number::New(env, double(msg->doneCount)), Napi::Number::New(env, double(msg->total))});
    } catch (const Napi::Error&) {
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(job->joinMutex_);
    if (job->thread_.joinable()) job->thread_.join();  // it has nothing left but release
  }
  if (job->failed_) {
    Napi::Error e = toJsError(env, job->failure_);
    if (job->partial()) {
      try {
        e.Set("partial", job->result(env));
      } catch (const Napi::Error&) {
      }
    }
    job->deferred_->Reject(e.Value());
    return;
  }
  try {
    job->deferred_->Resolve(job->result(env));
  } catch (const Napi::Error& e) {
    job->deferred_->Reject(e.Value());
  }
}

void Job::stopAndJoin() {
  control_.cancel();
  std::lock_guard<std::mutex> lock(joinMutex_);
  if (thread_.joinable()) thread_.join();
}

void Job::cleanupHook(void* arg) {
  Job* job = static_cast<Job*>(arg);
  job->hookRan_ = true;
  job->stopAndJoin();
}

void Job::finalize(Napi::Env env, void*, Job* job) {
  job->stopAndJoin();
  if (!job->hookRan_) napi_remove_env_cleanup_hook(job->env_, cleanupHook, job);
  Registry::get().remove(job);
  delete job;
}

}  // namespace umlperf
