// JS entry points for the three probes: each call starts a Job and returns { promise, cancel }.
#include "job.h"
#include "options.h"

#include <type_traits>

namespace umlperf {

namespace {

// The histogram as { alpha, count, zeros, minNs, maxNs, meanNs, m2, counts: Float64Array }.
Napi::Object histogramOf(Napi::Env env, const LogHistogram& h) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("alpha", LogHistogram::kAlpha);
  out.Set("count", double(h.count()));
  out.Set("zeros", double(h.zeros()));
  out.Set("minNs", double(h.min()));
  out.Set("maxNs", double(h.max()));
  out.Set("meanNs", h.mean());
  out.Set("m2", h.m2());
  Napi::Float64Array counts = Napi::Float64Array::New(env, h.counts().size());
  for (size_t i = 0; i < h.counts().size(); i++) counts[i] = double(h.counts()[i]);
  out.Set("counts", counts);
  return out;
}

class ResponseJob : public Job {
 public:
  ResponseOptions o;
  ResponseResult r;
  void run(Control& c) override { runResponse(o, c, r); }
  const CommonOptions& common() const override { return o; }
  bool partial() const override { return r.partial; }
  Napi::Value result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("rttNs", nsArray(env, r.rttNs));
    out.Set("sent", double(r.sent));
    out.Set("lost", double(r.lost));
    out.Set("stale", double(r.stale));
    out.Set("durationNs", double(r.durationNs));
    out.Set("peer", r.peer);
    if (o.histogram) out.Set("histogram", histogramOf(env, r.hist));
    return out;
  }
};

class ThroughputJob : public Job {
 public:
  ThroughputOptions o;
  ThroughputRun run_;
  bool live = false;
  void run(Control& c) override { runThroughput(o, c, run_); }
  bool liveIntervals() const override { return live; }
  const CommonOptions& common() const override { return o; }
  Napi::Value result(Napi::Env env) override {
    Napi::Array streams = Napi::Array::New(env, run_.streams.size());
    for (size_t i = 0; i < run_.streams.size(); i++) streams.Set(uint32_t(i), stream(env, run_.streams[i]));
    Napi::Object out = Napi::Object::New(env);
    out.Set("streams", streams);
    return out;
  }
  static Napi::Object stream(Napi::Env env, const ThroughputResult& r) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("direction", r.receive ? "receive" : "send");
    out.Set("bytesReceivedHere", double(r.bytesSeen));
    out.Set("retransmits", double(r.retransmits));
    Napi::Array iv = Napi::Array::New(env, r.intervals.size());
    for (size_t i = 0; i < r.intervals.size(); i++) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("endNs", double(r.intervals[i].endNs));
      s.Set("bytes", double(r.intervals[i].bytes));
      s.Set("retransmits", double(r.intervals[i].retransmits));
      s.Set("lost", double(r.intervals[i].lost));
      iv.Set(uint32_t(i), s);
    }
    out.Set("intervals", iv);
    out.Set("bytesSent", double(r.bytesSent));
    out.Set("datagramsSent", double(r.datagramsSent));
    out.Set("sendDurationNs", double(r.sendDurationNs));
    out.Set("durationNs", double(r.durationNs));
    out.Set("receiverCounted", r.receiverCounted);
    out.Set("bytesReceived", double(r.bytesReceived));
    out.Set("datagramsReceived", double(r.datagramsReceived));
    out.Set("reordered", double(r.reordered));
    out.Set("reorderCounted", r.reorderCounted);
    out.Set("duplicates", double(r.duplicates));
    out.Set("drained", r.drained);
    out.Set("size", double(r.size));
    out.Set("peer", r.peer);
    return out;
  }
};

class CrrJob : public Job {
 public:
  CrrOptions o;
  CrrResult r;
  void run(Control& c) override { runCrr(o, c, r); }
  const CommonOptions& common() const override { return o; }
  bool partial() const override { return r.partial; }
  Napi::Value result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("latencyNs", nsArray(env, r.latencyNs));
    out.Set("durationNs", double(r.durationNs));
    out.Set("peer", r.peer);
    if (o.histogram) out.Set("histogram", histogramOf(env, r.hist));
    return out;
  }
};

class StreamJob : public Job {
 public:
  StreamOptions o;
  StreamResult r;
  void run(Control& c) override { runStream(o, c, r); }
  const CommonOptions& common() const override { return o; }
  Napi::Value result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("sent", double(r.sent));
    out.Set("received", double(r.received));
    out.Set("lost", double(r.lost));
    out.Set("duplicates", double(r.duplicates));
    out.Set("reordered", double(r.reordered));
    out.Set("jitterNs", double(r.jitterNs));
    out.Set("durationNs", double(r.durationNs));
    out.Set("sentMbps", r.sentMbps);
    out.Set("receivedMbps", r.receivedMbps);
    out.Set("rttNs", nsArray(env, r.rttNs));
    out.Set("peer", r.peer);
    return out;
  }
};

template <class J, void (*Read)(const Napi::Object&, decltype(J::o)&)>
Napi::Value startJob(const Napi::CallbackInfo& info, const char* threadName) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  auto job = std::make_unique<J>();
  Read(info[0].As<Napi::Object>(), job->o);
  if constexpr (std::is_same_v<J, ThroughputJob>) {
    Napi::Value live = info[0].As<Napi::Object>().Get("liveIntervals");
    job->live = live.IsBoolean() && live.As<Napi::Boolean>().Value();
  }
  Napi::Object handle = job->start(env, info[1], threadName);
  job.release();  // owned by its thread-safe function from here on
  return handle;
}

}  // namespace

void initProbes(Napi::Env env, Napi::Object exports) {
  exports.Set("responseTime", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return startJob<ResponseJob, readResponse>(info, "umlperf-rtt");
  }));
  exports.Set("throughput", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return startJob<ThroughputJob, readThroughput>(info, "umlperf-tput");
  }));
  exports.Set("crr", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return startJob<CrrJob, readCrr>(info, "umlperf-crr");
  }));
  exports.Set("streaming", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    return startJob<StreamJob, readStream>(info, "umlperf-stream");
  }));
}

}  // namespace umlperf
