/*
 * Exercises PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) on a traced child with a buffer of a
 * given size, as UML does, and says whether the registers set are the registers read back.
 * Linked dynamically on purpose: it takes ptrace() from libc, so the FPU-state adapter can be
 * preloaded into it exactly as into UML.
 *
 *   umlperf-regset-check SIZE             one set/get round trip, JSON on stdout
 *   umlperf-regset-check SIZE --pairs N   times N GETREGSET+SETREGSET pairs, JSON on stdout
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define XMM_OFFSET 160    /* 16 XMM registers in the legacy area */
#define XMM_BYTES 256
#define YMMH_OFFSET 576   /* upper halves of YMM0-15, right after the XSAVE header */
#define YMMH_BYTES 256
#define MAX_BYTES (64 * 1024)

static long regset(int req, pid_t pid, void *buf, size_t *len) {
  struct iovec iov = {buf, *len};
  long r = ptrace(req, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov);
  *len = iov.iov_len;
  return r < 0 ? -errno : 0;
}

static pid_t stopped_child(void) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    raise(SIGSTOP);
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) return -1;
  return pid;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SIZE [--pairs N]\n", argv[0]);
    return 2;
  }
  size_t size = strtoul(argv[1], NULL, 10);
  long pairs = argc >= 4 && strcmp(argv[2], "--pairs") == 0 ? atol(argv[3]) : 0;
  if (size < 512 || size > MAX_BYTES || pairs < 0) {
    fprintf(stderr, "SIZE must be 512..%d and N >= 0\n", MAX_BYTES);
    return 2;
  }
  static unsigned char buf[MAX_BYTES], back[MAX_BYTES], probe[MAX_BYTES];
  pid_t pid = stopped_child();
  if (pid < 0) {
    perror("traced child");
    return 1;
  }
  size_t host = sizeof probe;
  long hr = regset(PTRACE_GETREGSET, pid, probe, &host);

  int rc = 0;
  if (pairs > 0) {
    size_t len = size;
    long r = regset(PTRACE_GETREGSET, pid, buf, &len);
    double t0 = now_ns();
    for (long i = 0; i < pairs && r == 0; i++) {
      len = size;
      r = regset(PTRACE_GETREGSET, pid, buf, &len);
      len = size;
      if (r == 0) r = regset(PTRACE_SETREGSET, pid, buf, &len);
    }
    double t1 = now_ns();
    printf("{\"size\":%zu,\"hostBytes\":%zu,\"pairs\":%ld,\"error\":%ld,\"nsPerPair\":%.1f}\n",
           size, hr == 0 ? host : 0, pairs, -r, r == 0 ? (t1 - t0) / pairs : 0.0);
    rc = r == 0 ? 0 : 1;
  } else {
    size_t len = size;
    long get = regset(PTRACE_GETREGSET, pid, buf, &len);
    size_t got = len;
    /* A pattern no process would hold by chance, in every XMM register and YMM upper half. */
    for (int i = 0; i < XMM_BYTES; i++) buf[XMM_OFFSET + i] = (unsigned char)(0x5a ^ (i * 7));
    int ymm = size >= YMMH_OFFSET + YMMH_BYTES;
    if (ymm) {
      for (int i = 0; i < YMMH_BYTES; i++) buf[YMMH_OFFSET + i] = (unsigned char)(0xa5 ^ (i * 13));
      uint64_t bv;
      memcpy(&bv, buf + 512, sizeof bv);
      bv |= 4; /* the AVX component now holds data */
      memcpy(buf + 512, &bv, sizeof bv);
    }
    len = size;
    long set = get == 0 ? regset(PTRACE_SETREGSET, pid, buf, &len) : get;
    len = size;
    memset(back, 0, sizeof back);
    long reget = regset(PTRACE_GETREGSET, pid, back, &len);
    int match = set == 0 && reget == 0 && memcmp(back + XMM_OFFSET, buf + XMM_OFFSET, XMM_BYTES) == 0 &&
                (!ymm || memcmp(back + YMMH_OFFSET, buf + YMMH_OFFSET, YMMH_BYTES) == 0);
    printf("{\"size\":%zu,\"hostBytes\":%zu,\"get\":%ld,\"got\":%zu,\"set\":%ld,\"reget\":%ld,\"checkedYmm\":%s,\"match\":%s}\n",
           size, hr == 0 ? host : 0, -get, got, -set, -reget, ymm ? "true" : "false", match ? "true" : "false");
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return rc;
}
