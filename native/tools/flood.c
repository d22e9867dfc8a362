/* umlperf-flood ADDR PORT SECONDS MAXMBPS
 *
 * The isolation experiment's `flood` fault, run inside a guest (busybox has no UDP client):
 * 1472-byte UDP datagrams to one address as fast as the guest can send them, but never faster
 * than MAXMBPS and never longer than SECONDS. It refuses any address outside 198.18.0.0/15
 * (the lab's range) and any figure beyond its own caps, whatever the caller asks; an alarm
 * ends it should its clock loop ever stall past the window. Built static by binding.gyp.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECONDS 60
#define MAX_MBPS 10000
#define DATAGRAM 1472

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A decimal in (0, max], the whole string: nothing else is taken. */
static int number(const char *s, double max, double *out) {
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !(v > 0 && v <= max)) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  struct sockaddr_in a;
  static char buf[DATAGRAM];
  double port, secs, mbps;
  if (argc != 5) {
    fputs("usage: umlperf-flood ADDR PORT SECONDS MAXMBPS\n", stderr);
    return 2;
  }
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
    fputs("umlperf-flood: bad address\n", stderr);
    return 2;
  }
  if ((ntohl(a.sin_addr.s_addr) & 0xfffe0000u) != 0xc6120000u) {
    fputs("umlperf-flood: only 198.18.0.0/15\n", stderr);
    return 2;
  }
  if (number(argv[2], 65535, &port) || port != (double)(uint16_t)port || number(argv[3], MAX_SECONDS, &secs) ||
      number(argv[4], MAX_MBPS, &mbps)) {
    fprintf(stderr, "umlperf-flood: port 1-65535, seconds 0-%d, Mbit/s 0-%d\n", MAX_SECONDS, MAX_MBPS);
    return 2;
  }
  a.sin_port = htons((uint16_t)port);
  /* A backstop: the process ends a little after its window whatever its loop does. */
  alarm((unsigned)secs + 2);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("umlperf-flood");
    return 1;
  }
  double t0 = now(), end = t0 + secs, perSec = mbps * 1e6 / 8;
  unsigned long long sent = 0, errors = 0;
  for (;;) {
    double t = now();
    if (t >= end) break;
    /* At most one datagram ahead of the cap: the rate never exceeds MAXMBPS over any stretch. */
    if ((double)(sent + DATAGRAM) > (t - t0) * perSec + DATAGRAM) {
      usleep(100);
      continue;
    }
    ssize_t r = send(s, buf, sizeof buf, 0);
    if (r > 0)
      sent += (unsigned long long)r;
    else
      errors++;
  }
  printf("umlperf-flood: sent %llu bytes in %.3f s, %llu errors\n", sent, now() - t0, errors);
  return 0;
}
