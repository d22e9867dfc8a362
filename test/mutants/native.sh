#!/bin/sh
# Native mutation test: applies each hand-written mutant of native/core (the list below) to a
# scratch copy of the package, one at a time, rebuilds the addon and the static endpoint, runs
# the native-relevant tests, and prints whether the tests killed it (a failing or hanging run)
# or let it survive. Exit status 0 only if every mutant was killed.
#
#   sh test/mutants/native.sh            # every mutant
#   sh test/mutants/native.sh rtt-end    # only the named ones
#
# Not part of npm test (about a minute per mutant). Needs root, like the tests it runs.
# A mutant is "file<TAB>search<TAB>replace" lines under its name: literal strings, each of
# which must occur exactly once in the file (else the mutant is reported as stale, and fails
# the run: the list must follow the code). "\n" in search/replace stands for a newline.
# Left out as equivalent: removing sendAll()'s stall limit (its limit is the idle timeout, and
# the idle watch closes a connection silent that long anyway; the other sends are too small to stall).
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
tests='(probe|hostile-peers|ground-truth|cancel|endpoint-hardening|endpoint-binary|library-entry|throughput-breadth|crr|crr-session)\.test\.js$'
per_run_timeout=${MUTANT_TIMEOUT:-300}

MUTANTS=$(cat <<'EOF'
== rtt-end: the RTT end timestamp taken before the receive
native/core/probe_response.cc	      L.sendAll(sbuf.data(), o.size, deadline);\n	      L.sendAll(sbuf.data(), o.size, deadline);\n      uint64_t t1early = clk.now();\n
native/core/probe_response.cc	      uint64_t t1 = clk.now();	      uint64_t t1 = t1early;
== echo-plus-one: the TCP echo returns one byte more than it read
native/core/endpoint.cc	if (!sendAll(c->fd, buf.get(), size_t(n), stopping_, o_.idleTimeoutNs)) break;	if (!sendAll(c->fd, buf.get(), size_t(n) + 1, stopping_, o_.idleTimeoutNs)) break;
== mbps-off: streaming's bits -> Mbit/s conversion off by 1000
native/core/probe_stream.cc	    r.sentMbps = double(sent) * bits / secs / 1e6;	    r.sentMbps = double(sent) * bits / secs / 1e3;
native/core/probe_stream.cc	    r.receivedMbps = double(rx.received) * bits / secs / 1e6;	    r.receivedMbps = double(rx.received) * bits / secs / 1e3;
== loss-off-by-one: streaming counts one datagram more lost
native/core/probe_stream.cc	  r.lost = sent - rx.received;	  r.lost = sent - rx.received + 1;
== response-loss-off-by-one: a lost UDP request is not counted when it is the first
native/core/probe_response.cc	        lost += !ok;	        lost += !ok && measured > 0;
== rtt-ticks: RTT samples stored in clock ticks, not nanoseconds (equivalent on a clock without TSC)
native/core/probe_response.cc	      if (ticks[i]) r.rttNs.push_back(clk.toNs(ticks[i]));	      if (ticks[i]) r.rttNs.push_back(int64_t(ticks[i]));
== duration-ticks: the measured phase in ticks, not nanoseconds (equivalent on a clock without TSC)
native/core/probe_response.cc	    r.durationNs = measured ? clk.toNs(end - measuredStart) : 0;	    r.durationNs = measured ? int64_t(end - measuredStart) : 0;
== cancel-udp-reply: no cancel check when a UDP wait reads 0 bytes (the shutdown by cancel)
native/core/probe_response.cc	        if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a 0-byte datagram\n	
== cancel-tcp-drain: no cancel check before the TCP throughput drain takes a 0-byte read as the receiver's close
native/core/probe_throughput.cc	    if (c.cancelled()) throwCancelled();  // before rc == 0: cancel's shutdown reads as a close\n	
== cancel-pace: no cancel check while pacing between requests
native/core/probe_response.cc	    for (;;) {\n      if (c.cancelled()) throwCancelled();\n      uint64_t now = clk.now();\n      if (now >= until) return;	    for (;;) {\n      uint64_t now = clk.now();\n      if (now >= until) return;
== trickle: the per-request deadline checked only while no byte has arrived
native/core/probe_response.cc	      if (now > deadline)\n        throwErrno("recv", "no complete reply	      if (off == 0 && now > deadline)\n        throwErrno("recv", "no complete reply
== extra-bytes: TCP replies not compared with their requests
native/core/probe_response.cc	    if (memcmp(got, req, o.size) == 0) return;	    if (true) return;
== wrong-sequence: a UDP reply with a sequence number never sent counted as stale
native/core/probe_response.cc	        if (got == 0 || got > seq)\n	        if (false)\n
== silent-forever: a silent UDP target never ends the probe early
native/core/probe_response.cc	constexpr uint64_t kLostInRow = 3;	constexpr uint64_t kLostInRow = 1000000;
== report-trusted: a receiver's count larger than what was sent is believed
native/core/probe_throughput.cc	      if (rep.datagrams > dgrams || rep.bytes > sent)\n	      if (false)\n
== refused-is-unconfirmed: UDP throughput to a closed port reported as unconfirmed (the refusal taken for silence)
native/core/probe_throughput.cc	    if (errno == ECONNREFUSED) throwErrno("sendmmsg", "nothing is listening on " + r.peer);	    if (errno == ECONNREFUSED) break;
native/core/probe_throughput.cc	        refused("recv");\n        if (errno != EAGAIN	        if (errno == ECONNREFUSED) break;\n        if (errno != EAGAIN
native/core/probe_throughput.cc	      refused("send");\n      break;	      break;
== cancel-reverse: no cancel check when a reverse receive reads 0 bytes (the shutdown by cancel)
native/core/probe_throughput.cc	    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as the source's close\n	
== reverse-stall: a source that stops sending is waited for until the run ends
native/core/probe_throughput.cc	    if (now - b.lastProgress > b.stallTicks) throwErrno("recv"	    if (false) throwErrno("recv"
== stream-failure-alone: a failing stream does not end the other streams
native/core/probe_throughput.cc	      c.cancel();  // one stream failing ends the others	      (void)0;
== first-failure: the run's error is the first stream's, even the cancel another stream's failure caused
native/core/probe_throughput.cc	      if (f.code != "ABORT_ERR") std::rethrow_exception(e);	      std::rethrow_exception(e);
== interval-ticks: no snapshot at interval boundaries, only at the end
native/core/probe_throughput.cc	      iv.tick(now, sent);\n      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);\n      continue;\n    }\n    if (c.cancelled()) throwCancelled();\n    if (errno != EAGAIN && errno != EINTR) throwErrno("send"	      progress.tick(now, o.bytes ? sent : clk.toNs(now - t0), o.bytes ? o.bytes : o.durationNs);\n      continue;\n    }\n    if (c.cancelled()) throwCancelled();\n    if (errno != EAGAIN && errno != EINTR) throwErrno("send"
== chargen-cap: chargen connections are never closed at the time cap
native/core/endpoint.cc	    if (now - start >= o_.sourceMaxNs) {	    if (false) {
== chargen-pattern: chargen lines shifted by one character
native/core/endpoint.cc	char(' ' + (line + col) % 95)	char(' ' + (line + col + 1) % 95)
== crr-unchecked: a crr reply is not compared with its request
native/core/probe_crr.cc	    if (memcmp(got.data() + k, req.data(), std::min(req.size(), got.size() - k)) != 0)	    if (false)
== crr-deadline: a crr transaction waits for its reply without a deadline
native/core/probe_crr.cc	    if (now > deadlineNs) throwErrno("recv", late(), ETIMEDOUT);	    if (false) throwErrno("recv", late(), ETIMEDOUT);
== crr-cancel: no cancel check when a crr reply wait reads 0 bytes (the shutdown by cancel)
native/core/probe_crr.cc	    if (c.cancelled()) throwCancelled();  // cancel's shutdown reads as a close\n	
== crr-extra: bytes past a session's response are not noticed
native/core/probe_crr.cc	if (recvBy(c, fd, &extra, 1, deadlineNs, peer, late) != 0)	if (recvBy(c, fd, &extra, 1, deadlineNs, peer, late) < 0)
== session-stranger: a transaction session serves any address
native/core/endpoint.cc	    if (addressOf(from) != c->source) {	    if (false) {
== session-pattern: a session's response is not the request repeated
native/core/endpoint.cc	      memcpy(resp.data() + filled, resp.data(), n);	      memset(resp.data() + filled, 'x', n);
== session-endless: a session outlives its control connection
native/core/endpoint.cc	      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;\n      if (now - lastNs	      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;\n      if (now - lastNs
== crr-warmup: warm-up transactions are measured too
native/core/probe_crr.cc	      if (i >= o.warmup) {	      if (true) {
== reserved-ports: the endpoint answers datagrams from ports below 1024
native/core/udp_guard.h	    if (port < 1024 ||	    if (port < 1 ||
== loop-guard: the endpoint answers its own reflected reply
native/core/udp_guard.h	l.hash == sampleHash(data, n)) return Loop;	l.hash == sampleHash(data, n)) (void)0;
== rate-limit: no per-source UDP rate limit
native/core/udp_guard.h	    if (perSecond_) {	    if (false) {
== per-source-tcp: no per-source TCP connection limit
native/core/endpoint.cc	  if (fromSource >= o_.maxConnectionsPerSource) return false;	  if (false) return false;
== eviction: at the global limit a new client is refused instead of an idle one making room
native/core/endpoint.cc	  if (!idlest || idlest->silentNs(fastNs()) < kEvictableNs) return false;	  return false;
== idle-timeout: silent TCP connections are never closed
native/core/endpoint.cc	      if (c->silentNs(now) < o_.idleTimeoutNs) continue;	      continue;
== rss-zeroed: connection buffers zero-filled (memory touched for every silent connection)
native/core/endpoint.cc	return std::unique_ptr<char[]>(new char[n]);	return std::unique_ptr<char[]>(new char[n]());
== idle-watch: the idle watcher never closes a silent echo or discard connection
native/core/endpoint.cc	      stats_.tcpIdleClosed++;  // counted first: the client may see the close before this thread runs on\n      shutdown(c->fd, SHUT_RDWR);	      stats_.tcpIdleClosed++;
== fast-clock-scale: the endpoint's TSC clock runs at a tenth of the rate
native/core/clock.cc	    return s.ns0 + uint64_t(int64_t(double(ticks) * s.nsPerTick));	    return s.ns0 + uint64_t(int64_t(double(ticks) * s.nsPerTick * 0.1));
== udp-stop-wake: stop() does not wake the UDP services' blocked receives (they have no timeout)
native/core/endpoint.cc	  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpEchoFd_, &udpDiscardFd_, &udpSourceFd_})\n    if (*fd) shutdown	  for (Fd* fd : {&tcpEchoFd_, &tcpDiscardFd_, &tcpChargenFd_, &udpSourceFd_})\n    if (*fd) shutdown
== thread-failure: a failed thread creation ends the endpoint
native/core/endpoint.cc	  } catch (const std::system_error&) {\n    workers_.pop_back();	  } catch (const std::bad_alloc&) {\n    workers_.pop_back();
EOF
)

scratch=$(mktemp -d /tmp/umlperf-mutants.XXXXXX)
trap 'rm -rf "$scratch"' EXIT INT TERM
# The package without build outputs; node_modules is shared (read-only use).
tar -C "$here" --exclude=./build --exclude=./dist --exclude=./node_modules --exclude=./.git -cf - . | tar -C "$scratch" -xf -
ln -s "$(readlink -f "$here/node_modules")" "$scratch/node_modules"
cd "$scratch"
echo "building the unmutated package in $scratch ..."
npx node-gyp rebuild -j 2 >build.log 2>&1 || { tail -20 build.log; exit 2; }
npx tsc -p tsconfig.json

echo "baseline: the tests must pass unmutated"
if ! timeout "$per_run_timeout" npx uvu dist/test "$tests" >baseline.log 2>&1; then
  tail -30 baseline.log
  echo "baseline failed: fix the tests first"
  exit 2
fi

# apply NAME: mutates the scratch copy (python3 for exact literal replacement).
apply() {
  printf '%s\n' "$MUTANTS" | python3 -c '
import sys
name = sys.argv[1]
lines = sys.stdin.read().split("\n")
edits, on = [], False
for l in lines:
    if l.startswith("== "):
        on = l[3:].split(":")[0] == name
    elif on and l.strip():
        f, a, b = l.split("\t")
        edits.append((f, a.replace("\\n", "\n"), b.replace("\\n", "\n")))
if not edits:
    sys.exit("no such mutant: " + name)
for f, a, b in edits:
    s = open(f).read()
    if s.count(a) != 1:
        sys.exit("stale mutant %s: %r occurs %d times in %s" % (name, a, s.count(a), f))
    open(f, "w").write(s.replace(a, b))
' "$1"
}

names=${*:-$(printf '%s\n' "$MUTANTS" | sed -n 's/^== \([^:]*\):.*/\1/p')}
killed=0
survived=0
stale=0
for name in $names; do
  what=$(printf '%s\n' "$MUTANTS" | sed -n "s/^== $name: //p")
  cp -a native native.orig
  if ! apply "$name" 2>apply.log; then
    printf '%-24s %-26s %s\n' "$name" "STALE" "$(cat apply.log)"
    stale=$((stale + 1))
    rm -rf native && mv native.orig native
    continue
  fi
  if ! npx node-gyp build -j 2 >build.log 2>&1; then
    verdict="killed (does not compile)"
  elif timeout "$per_run_timeout" npx uvu dist/test "$tests" >run.log 2>&1; then
    verdict="SURVIVED"
  else
    verdict="killed"
  fi
  case $verdict in
    killed*) killed=$((killed + 1)) ;;
    *) survived=$((survived + 1)) ;;
  esac
  printf '%-24s %-26s %s\n' "$name" "$verdict" "$what"
  # Which tests caught it (uvu names each failing test on a FAIL line).
  if [ "$verdict" = killed ]; then
    sed 's/\x1b\[[0-9;]*m//g' run.log | awk '
      /^ *FAIL *"/ { sub(/^ *FAIL *"/, ""); sub(/"$/, ""); name = $0; want = 1; next }
      want && NF { sub(/^ */, ""); sub(/ *\(.*\)$/, ""); printf "    caught by: %s -- %s\n", name, $0; want = 0 }
    ' | head -3
    grep -q 'FAIL' run.log || echo "    caught by: a run that hung or crashed (timeout ${per_run_timeout}s)"
  fi
  changed=$(diff -rq native.orig native | sed -n 's/^Files native.orig\/\(.*\) and .*/\1/p')
  rm -rf native && mv native.orig native
  # The restored files are older than the mutant's objects: touch them so the next build
  # compiles them again.
  for f in $changed; do touch "native/$f"; done
done
echo "native mutants: $killed killed, $survived survived, $stale stale (of $((killed + survived + stale)))"
[ "$survived" -eq 0 ] && [ "$stale" -eq 0 ]
