// Reading JS option objects into the core's option structs. The TypeScript facade validates
// and fills defaults; this layer only converts, and throws TypeError on a wrong type.
#pragma once
#include <napi.h>

#include "../core/endpoint.h"
#include "../core/probe.h"

namespace umlperf {

void readCommon(const Napi::Object& o, CommonOptions& c);
void readResponse(const Napi::Object& o, ResponseOptions& r);
void readThroughput(const Napi::Object& o, ThroughputOptions& t);
void readStream(const Napi::Object& o, StreamOptions& s);
void readCrr(const Napi::Object& o, CrrOptions& r);
void readEndpoint(const Napi::Object& o, EndpointOptions& e);

// Integer nanoseconds as a Float64Array (exact below 2^53 ns, i.e. 104 days).
Napi::Value nsArray(Napi::Env env, const std::vector<int64_t>& v);

}  // namespace umlperf
