#include "options.h"

#include <cstring>

namespace umlperf {

namespace {

template <class T>
void num(const Napi::Object& o, const char* key, T& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
  out = T(v.As<Napi::Number>().DoubleValue());
}

void str(const Napi::Object& o, const char* key, std::string& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  out = v.As<Napi::String>().Utf8Value();
}

void flag(const Napi::Object& o, const char* key, bool& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be true or false");
  out = v.As<Napi::Boolean>().Value();
}

// Milliseconds in JS, nanoseconds in the core.
void millis(const Napi::Object& o, const char* key, uint64_t& ns) {
  double ms = double(ns) / 1e6;
  num(o, key, ms);
  ns = uint64_t(ms * 1e6);
}

Wait readWait(const Napi::Object& o) {
  std::string w = "block";
  str(o, "wait", w);
  if (w == "block") return Wait::Block;
  if (w == "spin") return Wait::Spin;
  if (w == "busy-poll") return Wait::BusyPoll;
  throw Napi::TypeError::New(o.Env(), "wait must be block, spin or busy-poll");
}

}  // namespace

void readCommon(const Napi::Object& o, CommonOptions& c) {
  str(o, "host", c.host);
  num(o, "port", c.port);
  std::string p = "tcp";
  str(o, "protocol", p);
  if (p != "tcp" && p != "udp") throw Napi::TypeError::New(o.Env(), "protocol must be tcp or udp");
  c.proto = p == "tcp" ? Proto::TCP : Proto::UDP;
  c.wait = readWait(o);
  num(o, "busyPollUs", c.busyPollUs);
  num(o, "cpu", c.cpu);
  str(o, "netns", c.netns);
}

void readResponse(const Napi::Object& o, ResponseOptions& r) {
  readCommon(o, r);
  num(o, "size", r.size);
  num(o, "iterations", r.iterations);
  num(o, "warmup", r.warmup);
  num(o, "intervalNs", r.intervalNs);
  num(o, "timeoutNs", r.timeoutNs);
  flag(o, "histogram", r.histogram);
  flag(o, "samples", r.samples);
}

void readThroughput(const Napi::Object& o, ThroughputOptions& t) {
  readCommon(o, t);
  num(o, "size", t.size);
  num(o, "bytes", t.bytes);
  num(o, "durationNs", t.durationNs);
  num(o, "drainTimeoutNs", t.drainTimeoutNs);
  std::string d = "send";
  str(o, "direction", d);
  if (d != "send" && d != "receive" && d != "both") throw Napi::TypeError::New(o.Env(), "direction must be send, receive or both");
  t.direction = d == "send" ? Direction::Send : d == "receive" ? Direction::Receive : Direction::Both;
  num(o, "sourcePort", t.sourcePort);
  num(o, "parallel", t.parallel);
  num(o, "intervalNs", t.intervalNs);
  num(o, "rateMbps", t.rateMbps);
}

void readCrr(const Napi::Object& o, CrrOptions& r) {
  readCommon(o, r);
  r.proto = Proto::TCP;
  num(o, "size", r.size);
  flag(o, "session", r.session);
  num(o, "responseSize", r.responseSize);
  num(o, "transactions", r.transactions);
  num(o, "warmup", r.warmup);
  num(o, "timeoutNs", r.timeoutNs);
  flag(o, "histogram", r.histogram);
  flag(o, "samples", r.samples);
}

void readStream(const Napi::Object& o, StreamOptions& s) {
  readCommon(o, s);
  s.proto = Proto::UDP;
  num(o, "size", s.size);
  num(o, "rateMbps", s.rateMbps);
  num(o, "durationNs", s.durationNs);
  num(o, "maxPackets", s.maxPackets);
  num(o, "drainNs", s.drainNs);
}

void readEndpoint(const Napi::Object& o, EndpointOptions& e) {
  str(o, "bind", e.bind);
  num(o, "echoPort", e.echoPort);
  num(o, "discardPort", e.discardPort);
  num(o, "chargenPort", e.chargenPort);
  flag(o, "chargen", e.chargen);
  num(o, "udpSourcePort", e.udpSourcePort);
  flag(o, "udpSource", e.udpSource);
  num(o, "udpSourceMaxMbps", e.udpSourceMaxMbps);
  millis(o, "sourceMaxMs", e.sourceMaxNs);
  flag(o, "tcp", e.tcp);
  flag(o, "udp", e.udp);
  e.wait = readWait(o);
  str(o, "netns", e.netns);
  num(o, "maxConnections", e.maxConnections);
  num(o, "maxConnectionsPerSource", e.maxConnectionsPerSource);
  millis(o, "idleTimeoutMs", e.idleTimeoutNs);
  num(o, "udpRepliesPerSecond", e.udpRepliesPerSecond);
  num(o, "discardReadBytes", e.discardReadBytes);
}

Napi::Value nsArray(Napi::Env env, const std::vector<int64_t>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a[i] = double(v[i]);
  return a;
}

}  // namespace umlperf
