// The in-process endpoint as a JS class. While it serves, a referenced thread-safe function
// keeps the event loop alive (like a listening net.Server); unref() lets the process exit.
#include <napi.h>

#include "../core/endpoint.h"
#include "job.h"
#include "options.h"
#include "registry.h"

namespace umlperf {

namespace {

class EndpointWrap : public Napi::ObjectWrap<EndpointWrap>, public Stoppable {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeEndpoint",
                       {InstanceMethod("close", &EndpointWrap::close), InstanceMethod("ref", &EndpointWrap::ref),
                        InstanceMethod("unref", &EndpointWrap::unref), InstanceMethod("stats", &EndpointWrap::stats),
                        InstanceAccessor("echoPort", &EndpointWrap::echoPort, nullptr),
                        InstanceAccessor("discardPort", &EndpointWrap::discardPort, nullptr),
                        InstanceAccessor("chargenPort", &EndpointWrap::chargenPort, nullptr),
                        InstanceAccessor("udpSourcePort", &EndpointWrap::udpSourcePort, nullptr)});
  }

  explicit EndpointWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EndpointWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    EndpointOptions o;
    readEndpoint(info[0].As<Napi::Object>(), o);
    ep_ = std::make_unique<Endpoint>(o);
    try {
      ep_->start();
    } catch (const Failure& f) {
      throw toJsError(env, f);
    } catch (const std::exception& e) {
      throw toJsError(env, Failure("ERR_UMLPERF_NATIVE", 0, "", e.what()));
    }
    env_ = env;
    alive_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                           "umlperf-endpoint", 0, 1);
    napi_add_env_cleanup_hook(env, cleanupHook, this);
    Registry::get().add(this);
  }

  ~EndpointWrap() override { shutdown(); }

  void stopAndJoin() override {
    std::lock_guard<std::mutex> lock(m_);
    if (ep_) ep_->stop();
  }

 private:
  static void cleanupHook(void* arg) {
    auto* self = static_cast<EndpointWrap*>(arg);
    self->hookRan_ = true;
    self->shutdown();
  }

  void shutdown() {
    stopAndJoin();
    if (!open_) return;
    open_ = false;
    Registry::get().remove(this);
    if (!hookRan_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
    alive_.Release();
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    shutdown();
    return info.Env().Undefined();
  }
  Napi::Value ref(const Napi::CallbackInfo& info) {
    if (open_) alive_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value unref(const Napi::CallbackInfo& info) {
    if (open_) alive_.Unref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value echoPort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ep_->echoPort()); }
  Napi::Value discardPort(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ep_->discardPort());
  }
  Napi::Value chargenPort(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ep_->chargenPort());
  }
  Napi::Value udpSourcePort(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ep_->udpSourcePort());
  }
  Napi::Value stats(const Napi::CallbackInfo& info) {
    const EndpointStats& s = ep_->stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("tcpConnections", double(s.tcpConnections.load()));
    o.Set("tcpRefused", double(s.tcpRefused.load()));
    o.Set("echoedBytes", double(s.echoedBytes.load()));
    o.Set("discardedBytes", double(s.discardedBytes.load()));
    o.Set("udpEchoed", double(s.udpEchoed.load()));
    o.Set("udpDiscarded", double(s.udpDiscarded.load()));
    o.Set("udpQueries", double(s.udpQueries.load()));
    o.Set("tcpIdleClosed", double(s.tcpIdleClosed.load()));
    o.Set("udpIgnored", double(s.udpIgnored.load()));
    o.Set("chargenBytes", double(s.chargenBytes.load()));
    o.Set("chargenCapped", double(s.chargenCapped.load()));
    o.Set("udpSourceDatagrams", double(s.udpSourceDatagrams.load()));
    o.Set("udpSourceRefused", double(s.udpSourceRefused.load()));
    o.Set("transactionSessions", double(s.transactionSessions.load()));
    o.Set("transactions", double(s.transactions.load()));
    return o;
  }

  std::mutex m_;
  std::unique_ptr<Endpoint> ep_;
  Napi::ThreadSafeFunction alive_;
  napi_env env_ = nullptr;
  bool open_ = true;
  bool hookRan_ = false;
};

}  // namespace

void initEndpoint(Napi::Env env, Napi::Object exports) { exports.Set("NativeEndpoint", EndpointWrap::define(env)); }

}  // namespace umlperf
