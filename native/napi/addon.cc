// The addon's surface, declared for TypeScript in src/native.ts.
#include <napi.h>

#include "../core/clock.h"

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

static Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("clockInfo", Napi::Function::New(env, clockInfo));
  initProbes(env, exports);
  initEndpoint(env, exports);
  initNet(env, exports);
  return exports;
}

}  // namespace umlperf

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return umlperf::init(env, exports); }

NODE_API_MODULE(umlperf, Init)
