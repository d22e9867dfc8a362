// Why a guest died during boot, read from its console log: the causes seen on real machines,
// each with what to do instead. A pure function over the log text.

export interface BootCause {
  code: string;
  /** One line: what happened and what to do. */
  message: string;
}

interface Known {
  code: string;
  test: RegExp;
  message: string;
}

const KNOWN: Known[] = [
  {
    code: 'ERR_UMLPERF_FPU_STATE',
    test: /ptrace set fp regs failed, errno = 14|ptrace.*(?:fp|xstate).*errno = 14/i,
    message: "the host's XSAVE area (AMX) outgrows the UML kernel's FPU buffer and the FPU-state adapter was not active: rebuild umlperf (npx node-gyp rebuild) so build/Release/umlperf-fpu.so exists, or use a UML kernel >= 6.13 with --kernel",
  },
  {
    code: 'ERR_UMLPERF_SHM_NOEXEC',
    test: /(?:mmap|map_memory|create_mem_file|physmem).*(?:Operation not permitted|Permission denied|errno = 1\b|errno = 13\b)|\/dev\/shm.*noexec/i,
    message: 'UML could not map guest RAM with exec permission from $TMPDIR=/dev/shm: mount -o remount,exec /dev/shm',
  },
  {
    code: 'ENOMEM',
    test: /Out of memory|Cannot allocate memory|errno = 12\b|ENOMEM|oom-kill/i,
    message: 'the guest or the host ran out of memory during boot: lower --guests, raise --mem only if the host has room, or free host memory',
  },
  {
    code: 'ERR_UMLPERF_TUN',
    test: /\/dev\/net\/tun|TUNSETIFF|open_tun|tap_open|vector.*(?:tap|tun).*failed|Failed to open.*tap/i,
    message: 'the guest could not open its TAP device: modprobe tun, and check /dev/net/tun (c 10 200)',
  },
  {
    code: 'ERR_UMLPERF_ROOT_MOUNT',
    test: /VFS: Unable to mount root fs|No filesystem could mount root/i,
    message: 'the guest could not mount its root disk: the image or its COW file is damaged or was made on another base image; run umlperf image build again',
  },
];

/** The first known cause the log shows, or undefined. */
export function bootFailureCause(log: string): BootCause | undefined {
  for (const k of KNOWN) if (k.test.test(log)) return { code: k.code, message: k.message };
  return undefined;
}
