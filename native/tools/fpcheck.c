/*
 * Checks that a kernel keeps every process's vector registers intact across preemption and
 * system calls: several processes, several threads each, every thread holding distinct values
 * in all its SSE, AVX2 or AVX-512 registers through long loops of additions (with a system
 * call every 16384 steps), checking every result against arithmetic. Built static, so it runs
 * in any guest, or as a guest's init (it then powers the guest off when done).
 *
 *   umlperf-fpcheck [--seconds S] [--procs P] [--threads T]
 *   umlperf-fpcheck --syscalls N     times N system calls instead (a syscall-heavy loop)
 *
 * Last line: "fpcheck: ok|FAILED loops=N mismatches=M procs=P threads=T modes=..." and exit
 * status 0 only when nothing differed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STEPS 200000

enum mode { SSE, AVX2, AVX512, MODES };
static const char *mode_name[MODES] = {"sse", "avx2", "avx512"};
static const int lanes[MODES] = {2 * 16, 4 * 16, 8 * 32}; /* u64 lanes per register file */

struct shared {
  uint64_t loops;
  uint64_t mismatches;
};
static struct shared *totals;
static double deadline;
static int have[MODES];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

#define R16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define R32(X) R16(X) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)

/* The loop body shared by all modes: count down, a system call every 16384 steps. */
#define LOOP_TAIL                     \
  "dec %[n]\n\t"                      \
  "test $0x3fff, %[n]\n\t"            \
  "jnz 2f\n\t"                        \
  "mov $39, %%eax\n\t" /* getpid */   \
  "syscall\n\t"                       \
  "2:\n\t"                            \
  "test %[n], %[n]\n\t"               \
  "jnz 1b\n\t"

#define SSE_LOAD(i) "movdqu " #i "*16(%[in]), %%xmm" #i "\n\t"
#define SSE_ADD(i) "paddq (%[inc]), %%xmm" #i "\n\t"
#define SSE_STORE(i) "movdqu %%xmm" #i ", " #i "*16(%[out])\n\t"
#define XMM_CLOBBER(i) "xmm" #i,

static void run_sse(const uint64_t *in, uint64_t *out, const uint64_t *inc, uint64_t n) {
  __asm__ volatile(R16(SSE_LOAD) "1:\n\t" R16(SSE_ADD) LOOP_TAIL R16(SSE_STORE)
                   : [n] "+r"(n)
                   : [in] "r"(in), [out] "r"(out), [inc] "r"(inc)
                   : R16(XMM_CLOBBER) "rax", "rcx", "r11", "memory", "cc");
}

#define AVX_LOAD(i) "vmovdqu " #i "*32(%[in]), %%ymm" #i "\n\t"
#define AVX_ADD(i) "vpaddq (%[inc]), %%ymm" #i ", %%ymm" #i "\n\t"
#define AVX_STORE(i) "vmovdqu %%ymm" #i ", " #i "*32(%[out])\n\t"

__attribute__((target("avx2"))) static void run_avx2(const uint64_t *in, uint64_t *out, const uint64_t *inc, uint64_t n) {
  __asm__ volatile(R16(AVX_LOAD) "1:\n\t" R16(AVX_ADD) LOOP_TAIL R16(AVX_STORE) "vzeroupper\n\t"
                   : [n] "+r"(n)
                   : [in] "r"(in), [out] "r"(out), [inc] "r"(inc)
                   : R16(XMM_CLOBBER) "rax", "rcx", "r11", "memory", "cc");
}

#define Z_LOAD(i) "vmovdqu64 " #i "*64(%[in]), %%zmm" #i "\n\t"
#define Z_ADD(i) "vpaddq (%[inc]), %%zmm" #i ", %%zmm" #i "\n\t"
#define Z_STORE(i) "vmovdqu64 %%zmm" #i ", " #i "*64(%[out])\n\t"

__attribute__((target("avx512f"))) static void run_avx512(const uint64_t *in, uint64_t *out, const uint64_t *inc, uint64_t n) {
  __asm__ volatile(R32(Z_LOAD) "1:\n\t" R32(Z_ADD) LOOP_TAIL R32(Z_STORE) "vzeroupper\n\t"
                   : [n] "+r"(n)
                   : [in] "r"(in), [out] "r"(out), [inc] "r"(inc)
                   : R32(XMM_CLOBBER) "rax", "rcx", "r11", "memory", "cc");
}

static uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x9e3779b97f4a7c15ull;
  return x ^ (x >> 29);
}

static void *worker(void *arg) {
  uintptr_t id = (uintptr_t)arg;
  enum mode m = SSE;
  int avail[MODES], na = 0;
  for (int i = 0; i < MODES; i++)
    if (have[i]) avail[na++] = i;
  m = (enum mode)avail[id % na];
  int n = lanes[m];
  int width = m == SSE ? 2 : m == AVX2 ? 4 : 8; /* u64 lanes per register */
  uint64_t in[256] __attribute__((aligned(64)));
  uint64_t out[256] __attribute__((aligned(64)));
  uint64_t inc[8] __attribute__((aligned(64)));
  uint64_t seed = mix(id * 0x100000001b3ull + (uint64_t)getpid());
  uint64_t loops = 0, bad = 0;
  while (now_s() < deadline) {
    for (int i = 0; i < width; i++) inc[i] = mix(seed + 1000 + i) | 1;
    for (int i = 0; i < n; i++) in[i] = mix(seed + i);
    memset(out, 0, sizeof out);
    if (m == SSE) run_sse(in, out, inc, STEPS);
    else if (m == AVX2) run_avx2(in, out, inc, STEPS);
    else run_avx512(in, out, inc, STEPS);
    for (int i = 0; i < n; i++)
      if (out[i] != in[i] + (uint64_t)STEPS * inc[i % width]) bad++;
    loops++;
    seed = mix(seed + loops);
  }
  __atomic_add_fetch(&totals->loops, loops, __ATOMIC_RELAXED);
  __atomic_add_fetch(&totals->mismatches, bad, __ATOMIC_RELAXED);
  return NULL;
}

static int process(int index, int threads) {
  pthread_t t[64];
  int started = 0;
  for (int i = 0; i < threads; i++)
    if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(index * threads + i)) == 0) started++;
    else break;
  for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
  return started == threads ? 0 : 1;
}

static void power_off_if_init(void) {
  fflush(stdout);
  if (getpid() == 1) {
    sync();
    reboot(RB_POWER_OFF);
  }
}

static int syscall_loop(long n) {
  double t0 = now_s();
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  double t1 = now_s();
  printf("syscalls: n=%ld ns_per_call=%.0f\n", n, (t1 - t0) * 1e9 / n);
  power_off_if_init();
  return 0;
}

int main(int argc, char **argv) {
  double seconds = 5;
  int procs = 2, threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--syscalls")) {
      long n = atol(argv[i + 1]);
      if (n < 1 || n > 100000000) {
        fprintf(stderr, "fpcheck: --syscalls 1..100000000\n");
        return 2;
      }
      return syscall_loop(n);
    }
    if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--procs")) procs = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
  }
  if (seconds <= 0 || seconds > 3600 || procs < 1 || procs > 64 || threads < 1 || threads > 64) {
    fprintf(stderr, "fpcheck: --seconds 0..3600, --procs 1..64, --threads 1..64\n");
    return 2;
  }
  __builtin_cpu_init();
  have[SSE] = 1;
  have[AVX2] = __builtin_cpu_supports("avx2");
  have[AVX512] = __builtin_cpu_supports("avx512f");
  totals = mmap(NULL, sizeof *totals, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (totals == MAP_FAILED) return 1;
  deadline = now_s() + seconds;
  int failed = 0;
  for (int p = 0; p < procs; p++) {
    pid_t pid = fork();
    if (pid == 0) _exit(process(p, threads));
    if (pid < 0) failed = 1;
  }
  int status;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  int ok = !failed && totals->mismatches == 0 && totals->loops > 0;
  printf("fpcheck: %s loops=%llu mismatches=%llu procs=%d threads=%d modes=%s%s%s seconds=%g\n", ok ? "ok" : "FAILED",
         (unsigned long long)totals->loops, (unsigned long long)totals->mismatches, procs, threads, mode_name[SSE],
         have[AVX2] ? ",avx2" : "", have[AVX512] ? ",avx512" : "", seconds);
  power_off_if_init();
  return ok ? 0 : 1;
}
