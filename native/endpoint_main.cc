// umlperf-endpoint: the endpoint as a static program, for guests and other hosts.
// Prints one "ready" line on stdout when every service is bound; exits 0 on SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/endpoint.h"
#include "core/error.h"

using namespace umlperf;

static const char* kUsage =
    "usage: umlperf-endpoint [--bind ADDR] [--port N] [--discard-port N] [--chargen-port N]\n"
    "                        [--no-chargen] [--source-max-s N] [--tcp-only|--udp-only]\n"
    "                        [--wait block|spin|busy-poll] [--max-connections N]\n"
    "                        [--max-connections-per-source N] [--idle-timeout-ms N]\n"
    "                        [--udp-rate N] [--udp-source-port N] [--no-udp-source]\n"
    "                        [--udp-source-max-mbps N] [--discard-read-kib N] [--parent PID]\n"
    "Serves echo (RFC 862) on --port (default 7007) and discard (RFC 863) on --discard-port\n"
    "(default: port + 1), over TCP and UDP, and chargen (RFC 864, TCP only) on --chargen-port\n"
    "(default: port + 2; each connection closed after --source-max-s, default 60),\n"
    "and a TCP control port, --udp-source-port (default: port + 3; --no-udp-source: none), on\n"
    "which a client asks for a paced UDP source for reverse UDP (sent only to the asking\n"
    "connection's address, at most --udp-source-max-mbps, default 1000, and for at most\n"
    "--source-max-s) or a connection-rate transaction session (umlperf probe crr),\n"
    "until SIGINT or SIGTERM. ADDR is numeric\n"
    "(default 127.0.0.1; 0.0.0.0 or :: for every address). With --parent, exits when process PID\n"
    "(its parent) ends.\n"
    "Limits: --max-connections per TCP service (default 256; at the limit the longest-idle\n"
    "connection makes room), --max-connections-per-source per service and client address\n"
    "(default half of it), --idle-timeout-ms closes silent TCP connections (default 60000),\n"
    "--udp-rate caps UDP replies per second to one client address (default 1000000; 0: none).\n"
    "--discard-read-kib: TCP discard's read size, 16 to 4096 KiB (default 128; larger reads\n"
    "are fewer system calls, which pays where each is costly, as in a UML guest).\n"
    "UDP datagrams from ports below 1024 or from echo/discard ports get no answer.\n"
    "\n"
    "usage: umlperf-endpoint --respawn PROGRAM\n"
    "Runs PROGRAM (an absolute path, no arguments) and runs it again a second after it ends\n"
    "with a non-zero status or by a signal; a refused fork is tried again a second later.\n"
    "Ends when PROGRAM exits 0, or on SIGINT or SIGTERM (passed on to PROGRAM).\n";

// Bad usage: one line on stderr, exit status 2.
[[noreturn]] static void usage(const std::string& why) {
  fprintf(stderr, "umlperf-endpoint: %s (see --help)\n", why.c_str());
  exit(2);
}

static unsigned long number(const char* flag, const char* v, unsigned long max) {
  char* end = nullptr;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (!*v || *v == '-' || *end || errno || n > max) usage(std::string("bad value for ") + flag + ": " + v);
  return n;
}

static bool numericAddress(const std::string& a) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// The guest's exec agent is a shell script, and a shell ends at a fork the system refuses: a
// fork bomb in the guest (or the pids limit of its cgroup on the host) would end the exec
// channel for good. Under --respawn it comes back once forks succeed again.
static int respawn(const char* program) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  auto stop = [](pid_t child) {
    if (child <= 0) return 0;
    kill(child, SIGTERM);
    for (int i = 0; i < 20; i++) {
      if (waitpid(child, nullptr, WNOHANG) == child) return 0;
      usleep(100000);
    }
    kill(child, SIGKILL);
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return 0;
  };
  for (;;) {
    pid_t child = fork();
    if (child == 0) {
      sigprocmask(SIG_UNBLOCK, &set, nullptr);
      execl(program, program, static_cast<char*>(nullptr));
      _exit(127);
    }
    while (child > 0) {
      int sig = sigwaitinfo(&set, nullptr);
      if (sig == SIGINT || sig == SIGTERM) return stop(child);
      int status = 0;
      if (sig != SIGCHLD || waitpid(child, &status, WNOHANG) != child) continue;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      child = 0;
    }
    // A pause before the next run (or the next try at a fork); a stop signal ends it.
    timespec second{1, 0};
    for (;;) {
      int sig = sigtimedwait(&set, nullptr, &second);
      if (sig == SIGINT || sig == SIGTERM) return 0;
      if (sig < 0 && errno == EINTR) continue;
      if (sig < 0) break;  // the second is up (a SIGCHLD meanwhile, of no child of ours, starts it over)
    }
  }
}

int main(int argc, char** argv) {
  if (argc >= 2 && !strcmp(argv[1], "--respawn")) {
    if (argc != 3) usage("--respawn takes one program and nothing else");
    if (argv[2][0] != '/') usage(std::string("--respawn takes an absolute path, not ") + argv[2]);
    return respawn(argv[2]);
  }
  EndpointOptions o;
  bool discardSet = false, chargenSet = false, udpSourceSet = false;
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
    else if (a == "--chargen-port") { o.chargenPort = uint16_t(number(a.c_str(), value(), 65535)); chargenSet = true; }
    else if (a == "--no-chargen") o.chargen = false;
    else if (a == "--udp-source-port") { o.udpSourcePort = uint16_t(number(a.c_str(), value(), 65535)); udpSourceSet = true; }
    else if (a == "--no-udp-source") o.udpSource = false;
    else if (a == "--udp-source-max-mbps") o.udpSourceMaxMbps = double(number(a.c_str(), value(), 1000000));
    else if (a == "--source-max-s") o.sourceMaxNs = uint64_t(number(a.c_str(), value(), 86400)) * 1000000000ull;
    else if (a == "--parent") parent = pid_t(number("--parent", value(), 4194304));
    else if (a == "--tcp-only") o.udp = false;
    else if (a == "--udp-only") o.tcp = false;
    else if (a == "--max-connections") o.maxConnections = unsigned(number(a.c_str(), value(), 65536));
    else if (a == "--max-connections-per-source") o.maxConnectionsPerSource = unsigned(number(a.c_str(), value(), 65536));
    else if (a == "--idle-timeout-ms") o.idleTimeoutNs = uint64_t(number(a.c_str(), value(), 86400000)) * 1000000ull;
    else if (a == "--udp-rate") o.udpRepliesPerSecond = uint32_t(number(a.c_str(), value(), 100000000));
    else if (a == "--discard-read-kib") o.discardReadBytes = size_t(number(a.c_str(), value(), kMaxDiscardRead / 1024)) * 1024;
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
  if (!numericAddress(o.bind)) usage("--bind takes a numeric IPv4 or IPv6 address, not " + o.bind);
  if (o.maxConnections == 0) usage("--max-connections must be at least 1");
  if (o.idleTimeoutNs == 0) usage("--idle-timeout-ms must be at least 1");
  if (o.discardReadBytes < kMinDiscardRead) usage("--discard-read-kib must be at least " + std::to_string(kMinDiscardRead / 1024));
  if (!discardSet && o.echoPort == 65535) usage("--port 65535 leaves no room for the discard port (port + 1); give --discard-port");
  if (!discardSet) o.discardPort = o.echoPort ? uint16_t(o.echoPort + 1) : 0;
  if (o.echoPort && o.echoPort == o.discardPort) usage("the echo and discard ports must differ");
  if (o.sourceMaxNs == 0) usage("--source-max-s must be at least 1");
  if (!chargenSet && o.chargen && o.echoPort >= 65534) usage("--port leaves no room for the chargen port (port + 2); give --chargen-port or --no-chargen");
  if (!chargenSet) o.chargenPort = o.echoPort ? uint16_t(o.echoPort + 2) : 0;
  if (o.chargen && o.chargenPort && (o.chargenPort == o.echoPort || o.chargenPort == o.discardPort))
    usage("the chargen port must differ from the echo and discard ports");

  if (o.udpSource && o.udpSourceMaxMbps <= 0) usage("--udp-source-max-mbps must be at least 1");
  if (!udpSourceSet && o.udpSource && o.echoPort >= 65533) usage("--port leaves no room for the UDP source port (port + 3); give --udp-source-port or --no-udp-source");
  if (!udpSourceSet) o.udpSourcePort = o.echoPort ? uint16_t(o.echoPort + 3) : 0;
  if (o.udpSource && o.udpSourcePort &&
      (o.udpSourcePort == o.echoPort || o.udpSourcePort == o.discardPort || (o.chargen && o.udpSourcePort == o.chargenPort)))
    usage("the UDP source port must differ from the echo, discard and chargen ports");

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
  } catch (const std::exception& e) {
    fprintf(stderr, "umlperf-endpoint: %s\n", e.what());
    return 1;
  }
  printf("umlperf-endpoint ready bind=%s echo=%u discard=%u tcp=%d udp=%d chargen=%u udpsource=%u\n", o.bind.c_str(),
         ep.echoPort(), ep.discardPort(), o.tcp, o.udp, ep.chargenPort(), ep.udpSourcePort());
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  ep.stop();
  return 0;
}
