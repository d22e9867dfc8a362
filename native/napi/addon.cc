// The addon's surface, declared for TypeScript in src/native.ts.
#include <napi.h>

#include "../core/clock.h"
#include "../core/endpoint.h"
#include "../core/probe.h"

namespace umlperf {

void initProbes(Napi::Env env, Napi::Object exports);
void initEndpoint(Napi::Env env, Napi::Object exports);
void initNet(Napi::Env env, Napi::Object exports);

static Napi::Value clockInfo(const Napi::CallbackInfo& info) {
  const ClockInfo& c = Clock::get().info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("source", c.source);
  o.Set("resolutionNs", c.resolutionNs);
  o.Set("overheadNs", c.overheadNs);
  if (c.tscHz > 0) o.Set("tscHz", c.tscHz);
  return o;
}

// The native core's defaults and bounds, so the library checks and defaults with the same numbers.
static Napi::Object limits(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tcpWriteDefault", double(kTcpWriteDefault));
  o.Set("tcpReadDefault", double(kTcpReadDefault));
  o.Set("udpDatagramDefault", double(kUdpDatagramDefault));
  o.Set("discardReadMin", double(kMinDiscardRead));
  o.Set("discardReadMax", double(kMaxDiscardRead));
  return o;
}

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("clockInfo", Napi::Function::New(env, clockInfo));
  exports.Set("limits", limits(env));
  initProbes(env, exports);
  initEndpoint(env, exports);
  initNet(env, exports);
  return exports;
}

}  // namespace umlperf

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return umlperf::init(env, exports); }

NODE_API_MODULE(umlperf, Init)
