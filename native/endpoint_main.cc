// umlperf-endpoint: the endpoint as a static program, for guests and other hosts.
// Prints one "ready" line on stdout when every service is bound; exits 0 on SIGINT/SIGTERM.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/endpoint.h"
#include "core/error.h"

using namespace umlperf;

static const char* kUsage =
    "usage: umlperf-endpoint [--bind ADDR] [--port N] [--discard-port N] [--tcp-only|--udp-only]\n"
    "                        [--wait block|spin|busy-poll] [--max-connections N] [--parent PID]\n"
    "Serves echo (RFC 862) on --port (default 7007) and discard (RFC 863) on --discard-port\n"
    "(default: port + 1), over TCP and UDP, until SIGINT or SIGTERM. ADDR is numeric\n"
    "(default 127.0.0.1; 0.0.0.0 or :: for every address). With --parent, exits when process PID\n"
    "(its parent) ends.\n";

[[noreturn]] static void usage(const std::string& why) {
  fprintf(stderr, "umlperf-endpoint: %s\n%s", why.c_str(), kUsage);
  exit(2);
}

static unsigned long number(const char* flag, const char* v, unsigned long max) {
  char* end = nullptr;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *end || errno || n > max) usage(std::string("bad value for ") + flag + ": " + v);
  return n;
}

int main(int argc, char** argv) {
  EndpointOptions o;
  bool discardSet = false;
  pid_t parent = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--bind") o.bind = value();
    else if (a == "--port") o.echoPort = uint16_t(number("--port", value(), 65535));
    else if (a == "--discard-port") { o.discardPort = uint16_t(number("--discard-port", value(), 65535)); discardSet = true; }
    else if (a == "--parent") parent = pid_t(number("--parent", value(), 4194304));
    else if (a == "--tcp-only") o.udp = false;
    else if (a == "--udp-only") o.tcp = false;
    else if (a == "--max-connections") o.maxConnections = unsigned(number(a.c_str(), value(), 65536));
    else if (a == "--wait") {
      std::string w = value();
      if (w == "block") o.wait = Wait::Block;
      else if (w == "spin") o.wait = Wait::Spin;
      else if (w == "busy-poll") o.wait = Wait::BusyPoll;
      else usage("unknown wait mode " + w);
    } else if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else {
      usage("unknown option " + a);
    }
  }
  if (!o.tcp && !o.udp) usage("--tcp-only and --udp-only exclude each other");
  if (!discardSet) o.discardPort = o.echoPort ? uint16_t(o.echoPort + 1) : 0;

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (parent) {
    // SIGTERM arrives (and sigwait takes it) when the parent dies; if it already has, stop now.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 1;
  }

  Endpoint ep(o);
  try {
    ep.start();
  } catch (const Failure& f) {
    fprintf(stderr, "umlperf-endpoint: %s\n", f.what());
    return f.code == "EADDRINUSE" || f.code == "EADDRNOTAVAIL" || f.code == "EINVAL" ? 2 : 1;
  }
  printf("umlperf-endpoint ready bind=%s echo=%u discard=%u tcp=%d udp=%d\n", o.bind.c_str(), ep.echoPort(),
         ep.discardPort(), o.tcp, o.udp);
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  ep.stop();
  return 0;
}
