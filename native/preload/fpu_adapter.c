/*
 * FPU-state adapter for UML kernels that save the guest's vector state in a fixed buffer.
 *
 * UML (before Linux 6.13) saves and restores a guest process's FPU/vector state with
 * PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) into a buffer sized for AVX-512 (2696 bytes). The
 * host kernel accepts a SETREGSET only for its whole XSAVE area, which with AMX is ~11 KB, so
 * every guest dies at its first user process there. This library is preloaded into the UML
 * kernel process (LD_PRELOAD) and interposes libc's ptrace(): for NT_X86_XSTATE calls whose
 * buffer is smaller than the host's area it does the call with a buffer of the host's size and
 * copies UML's bytes in or out. Components that lie beyond UML's buffer (only AMX tiles, which
 * no guest can enable) are given to the host in their init state by clearing their xstate_bv
 * bits. Every other call passes straight through.
 *
 * On the first NT_X86_XSTATE call the library writes one line to stderr (the guest's console
 * log), which umlperf reads to report how the guest ran:
 *   umlperf-fpu: native uml=2696 host=2696
 *   umlperf-fpu: adapted uml=2696 host=11008
 *
 * UMLPERF_FPU_ADAPT=always sends every XSTATE call through the copying path even when the
 * buffers fit (for tests and benchmarks of that path on hosts without AMX).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <cpuid.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

/* Offset of the XSAVE header's xstate_bv in the standard (non-compacted) layout ptrace uses. */
#define XSTATE_BV_OFFSET 512
#define XSAVE_HEADER_END 576
/* Far above any XSAVE area known today; the kernel clamps a longer iov_len to its own size. */
#define PROBE_BYTES (64 * 1024)
/* Nesting depth we keep buffers for (a signal handler calling ptrace inside ptrace). */
#define DEPTH 4

static ptrace_fn real_ptrace;
static int force_adapt;
static size_t host_bytes;          /* 0 until learned from the first GETREGSET */
static uint64_t component_end[64]; /* byte just past each user xstate component, 0 if unknown */
static int announced;

/* Per-thread scratch: one buffer for reads, one for writes whose tail stays zero (init state). */
struct scratch {
  unsigned char *get;
  unsigned char *set;
  size_t set_used; /* bytes of `set` that may hold data; everything past them is zero */
};
/* initial-exec: no allocation on first access, safe in a library preloaded at start-up. */
static __thread __attribute__((tls_model("initial-exec"))) struct scratch bufs[DEPTH];
static __thread __attribute__((tls_model("initial-exec"))) int depth;

static void learn_components(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d)) return;
  for (unsigned i = 2; i < 64; i++) {
    unsigned size, offset, ecx, edx;
    __cpuid_count(0xd, i, size, offset, ecx, edx);
    /* ECX bit 0 marks supervisor components, which ptrace never shows. */
    if (size == 0 || (ecx & 1)) continue;
    component_end[i] = (uint64_t)offset + size;
  }
}

__attribute__((constructor)) static void init(void) {
  real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  const char *f = getenv("UMLPERF_FPU_ADAPT");
  force_adapt = f && strcmp(f, "always") == 0;
  learn_components();
}

static long pass(enum __ptrace_request req, pid_t pid, void *addr, void *data) {
  if (!real_ptrace) {
    errno = ENOSYS;
    return -1;
  }
  return real_ptrace(req, pid, addr, data);
}

static unsigned char *scratch_buffer(unsigned char **slot) {
  if (!*slot) {
    void *p = mmap(NULL, PROBE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    *slot = p;
  }
  return *slot;
}

/* The host's area size: GETREGSET reports the size it wrote back in iov_len. */
static size_t learn_host_bytes(pid_t pid, unsigned char *buf) {
  if (host_bytes) return host_bytes;
  struct iovec probe = {buf, PROBE_BYTES};
  if (pass(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &probe) < 0) return 0;
  host_bytes = probe.iov_len;
  return host_bytes;
}

static void announce(size_t uml, size_t host, int adapted) {
  if (__atomic_exchange_n(&announced, 1, __ATOMIC_RELAXED)) return;
  char line[96];
  int n = snprintf(line, sizeof line, "umlperf-fpu: %s uml=%zu host=%zu\n", adapted ? "adapted" : "native", uml, host);
  if (n > 0) {
    ssize_t ignored = write(2, line, (size_t)n);
    (void)ignored;
  }
}

/* xstate_bv bits of components that do not fit in the first `len` bytes. */
static uint64_t beyond_mask(size_t len) {
  uint64_t mask = 0;
  for (unsigned i = 2; i < 64; i++)
    if (component_end[i] > len) mask |= 1ull << i;
  return mask;
}

static long xstate(enum __ptrace_request req, pid_t pid, void *addr, struct iovec *iov) {
  if (!iov || !iov->iov_base) return pass(req, pid, addr, iov);
  struct scratch *s = &bufs[depth];
  unsigned char *get = scratch_buffer(&s->get);
  unsigned char *set = scratch_buffer(&s->set);
  if (!get || !set) return pass(req, pid, addr, iov);
  size_t host = learn_host_bytes(pid, get);
  size_t uml = iov->iov_len;
  int adapt = host && (uml < host || (force_adapt && uml >= XSAVE_HEADER_END));
  announce(uml, host, adapt && uml < host);
  if (!adapt) return pass(req, pid, addr, iov);
  if (host > PROBE_BYTES) return pass(req, pid, addr, iov);

  size_t keep = uml < host ? uml : host;
  struct iovec whole;
  long r;
  if (req == PTRACE_GETREGSET) {
    whole.iov_base = get;
    whole.iov_len = host;
    r = pass(req, pid, addr, &whole);
    if (r < 0) return r;
    memcpy(iov->iov_base, get, keep);
    if (keep >= XSAVE_HEADER_END) {
      uint64_t bv;
      memcpy(&bv, (unsigned char *)iov->iov_base + XSTATE_BV_OFFSET, sizeof bv);
      bv &= ~beyond_mask(keep);
      memcpy((unsigned char *)iov->iov_base + XSTATE_BV_OFFSET, &bv, sizeof bv);
    }
    iov->iov_len = keep;
    return r;
  }
  /* SETREGSET: UML's bytes, then the tail in its init state (zeroes, bits cleared). */
  if (keep < XSAVE_HEADER_END) return pass(req, pid, addr, iov);
  if (s->set_used > keep) memset(set + keep, 0, s->set_used - keep);
  s->set_used = keep;
  memcpy(set, iov->iov_base, keep);
  uint64_t bv;
  memcpy(&bv, set + XSTATE_BV_OFFSET, sizeof bv);
  bv &= ~beyond_mask(keep);
  memcpy(set + XSTATE_BV_OFFSET, &bv, sizeof bv);
  whole.iov_base = set;
  whole.iov_len = host;
  r = pass(req, pid, addr, &whole);
  if (r >= 0) iov->iov_len = keep;
  return r;
}

__attribute__((visibility("default"))) long ptrace(enum __ptrace_request req, ...) {
  va_list ap;
  va_start(ap, req);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if ((req != PTRACE_GETREGSET && req != PTRACE_SETREGSET) || (uintptr_t)addr != NT_X86_XSTATE || depth >= DEPTH)
    return pass(req, pid, addr, data);
  depth++;
  long r = xstate(req, pid, addr, (struct iovec *)data);
  depth--;
  return r;
}
