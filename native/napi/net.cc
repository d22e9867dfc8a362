// Lab networking for JS: TAP devices and link settings inside a namespace (synchronous; each
// call is a few ioctls on a short-lived thread), and UnixDgramSocket, an AF_UNIX datagram
// socket whose receiving side runs on a native thread of its own and reports each datagram to
// a JS callback through a thread-safe function, so the JS thread never blocks.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "../core/tap.h"
#include "../core/unix_dgram.h"
#include "job.h"
#include "registry.h"

namespace umlperf {

namespace {

std::string str(const Napi::Object& o, const char* key, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return "";
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

int num(const Napi::Object& o, const char* key, int dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

Napi::Object opts(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  return info[0].As<Napi::Object>();
}

// Runs fn, turning a core Failure into a JS Error with code/errno/syscall.
template <class F>
auto guarded(Napi::Env env, F fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Failure& f) {
    throw toJsError(env, f);
  }
}

Napi::Value tapCreateJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  TapOptions t;
  t.name = str(o, "name", true);
  t.netns = str(o, "netns", false);
  t.owner = num(o, "owner", -1);
  t.group = num(o, "group", -1);
  guarded(info.Env(), [&] { tapCreate(t); });
  return info.Env().Undefined();
}

Napi::Value tapDeleteJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  std::string netns = str(o, "netns", false), name = str(o, "name", true);
  return Napi::Boolean::New(info.Env(), guarded(info.Env(), [&] { return tapDelete(netns, name); }));
}

Napi::Value linkSetUpJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  std::string netns = str(o, "netns", false), name = str(o, "name", true);
  bool up = o.Get("up").IsUndefined() ? true : o.Get("up").ToBoolean().Value();
  guarded(info.Env(), [&] { linkSetUp(netns, name, up); });
  return info.Env().Undefined();
}

Napi::Value addressSetJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  std::string netns = str(o, "netns", false), name = str(o, "name", true), address = str(o, "address", true);
  int prefix = num(o, "prefix", 24);
  guarded(info.Env(), [&] { addressSet(netns, name, address, prefix); });
  return info.Env().Undefined();
}

Napi::Value bridgeAttachJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  std::string netns = str(o, "netns", false), name = str(o, "name", true), bridge = str(o, "bridge", true);
  guarded(info.Env(), [&] { bridgeAttach(netns, name, bridge); });
  return info.Env().Undefined();
}

Napi::Value linkExistsJs(const Napi::CallbackInfo& info) {
  Napi::Object o = opts(info);
  std::string netns = str(o, "netns", false), name = str(o, "name", true);
  return Napi::Boolean::New(info.Env(), guarded(info.Env(), [&] { return linkExists(netns, name); }));
}

void deliver(Napi::Env env, Napi::Function onMessage, std::nullptr_t*, UnixDatagram* d) {
  std::unique_ptr<UnixDatagram> msg(d);
  if (env == nullptr) return;  // teardown: drop it
  onMessage.Call({Napi::Buffer<char>::Copy(env, msg->data.data(), msg->data.size()), Napi::String::New(env, msg->from)});
}

using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, UnixDatagram, deliver>;

class UnixDgramSocket : public Napi::ObjectWrap<UnixDgramSocket>, public Stoppable {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "UnixDgramSocket",
                       {InstanceMethod<&UnixDgramSocket::sendTo>("sendTo"),
                        InstanceMethod<&UnixDgramSocket::closeJs>("close"),
                        InstanceMethod<&UnixDgramSocket::refJs>("ref"),
                        InstanceMethod<&UnixDgramSocket::unrefJs>("unref"),
                        InstanceAccessor<&UnixDgramSocket::pathJs>("path")});
  }

  UnixDgramSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UnixDgramSocket>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "onMessage must be a function");
    path_ = info[0].As<Napi::String>().Utf8Value();
    fd_ = guarded(env, [&] { return unixDgramBind(path_); });
    wake_ = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) {
      unlink(path_.c_str());
      guarded(env, [&] { throwErrno("eventfd", "cannot create eventfd"); });
    }
    tsfn_ = Tsfn::New(env, info[1].As<Napi::Function>(), "umlperf-unix-dgram", 0, 1, nullptr);
    env_ = env;
    napi_add_env_cleanup_hook(env, cleanupHook, this);
    Registry::get().add(this);
    open_ = true;
    thread_ = std::thread([this] { receiveLoop(); });
  }

  ~UnixDgramSocket() override { close(); }

  void stopAndJoin() override {
    std::lock_guard<std::mutex> lock(joinMutex_);
    if (thread_.joinable()) {
      uint64_t one = 1;
      if (write(wake_.get(), &one, sizeof one) < 0) {
        // An eventfd write fails only on counter overflow; the thread is woken either way.
      }
      thread_.join();
    }
  }

 private:
  void receiveLoop() {
    nameThread("umlperf-mconsole");
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    for (;;) {
      int rc = poll(fds, 2, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 || (fds[1].revents & POLLIN)) return;
      // Drain what is pending, bounded so a flood cannot hold the loop away from the wake fd.
      for (int i = 0; i < 256; i++) {
        auto d = std::make_unique<UnixDatagram>();
        try {
          if (!unixDgramReceive(fd_.get(), *d)) break;
        } catch (const Failure&) {
          return;
        }
        if (tsfn_.NonBlockingCall(d.get()) != napi_ok) return;  // closing
        d.release();
      }
    }
  }

  void close() {
    if (!open_) return;
    open_ = false;
    stopAndJoin();
    Registry::get().remove(this);
    if (!hookRan_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
    tsfn_.Release();
    fd_.reset();
    wake_.reset();
    unlink(path_.c_str());
  }

  static void cleanupHook(void* arg) {
    auto* self = static_cast<UnixDgramSocket*>(arg);
    self->hookRan_ = true;
    self->close();
  }

  Napi::Value sendTo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!open_) throw Napi::Error::New(env, "socket is closed");
    if (!info[0].IsTypedArray() || !info[1].IsString())
      throw Napi::TypeError::New(env, "sendTo(data: Uint8Array, path: string)");
    auto data = info[0].As<Napi::Uint8Array>();
    std::string to = info[1].As<Napi::String>().Utf8Value();
    guarded(env, [&] { unixDgramSendTo(fd_.get(), data.Data(), data.ByteLength(), to); });
    return env.Undefined();
  }
  Napi::Value closeJs(const Napi::CallbackInfo& info) {
    close();
    return info.Env().Undefined();
  }
  Napi::Value refJs(const Napi::CallbackInfo& info) {
    if (open_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value unrefJs(const Napi::CallbackInfo& info) {
    if (open_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value pathJs(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }

  std::string path_;
  Fd fd_, wake_;
  Tsfn tsfn_;
  std::thread thread_;
  std::mutex joinMutex_;
  napi_env env_ = nullptr;
  bool open_ = false, hookRan_ = false;
};

}  // namespace

void initNet(Napi::Env env, Napi::Object exports) {
  exports.Set("tapCreate", Napi::Function::New(env, tapCreateJs));
  exports.Set("tapDelete", Napi::Function::New(env, tapDeleteJs));
  exports.Set("linkSetUp", Napi::Function::New(env, linkSetUpJs));
  exports.Set("addressSet", Napi::Function::New(env, addressSetJs));
  exports.Set("bridgeAttach", Napi::Function::New(env, bridgeAttachJs));
  exports.Set("linkExists", Napi::Function::New(env, linkExistsJs));
  exports.Set("UnixDgramSocket", UnixDgramSocket::define(env));
}

}  // namespace umlperf
