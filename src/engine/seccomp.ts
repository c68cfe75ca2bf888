/**
 * reprorom's own seccomp profile, for the runs that turn ASLR off (`setarch -R`). The engine's
 * default profile refuses personality(ADDR_NO_RANDOMIZE), so without a profile of our own the
 * `aslr` variation never reaches a build. This one is a deny list: everything a build does is
 * allowed, and each rule below refuses one thing a build never needs and that would widen what
 * a hostile board file can reach of the host's kernel. Builds also run with every capability
 * dropped, no-new-privileges and no network, so most privileged calls fail in the kernel anyway;
 * the rules are a second wall. docs/seccomp.md gives the reason for each rule.
 *
 * The format is the engine's (`--security-opt seccomp=JSON`). A deny list lets through calls
 * newer than this list, so it is not claimed to be as strict as the engine's default allow
 * list: it is used only for the runs that need it.
 */

/** personality(2) flags (linux/personality.h) a build may set: setarch --uname-2.6, -R and a 32-bit persona. */
const PER_LINUX32 = 0x0008;
const UNAME26 = 0x0020000;
const ADDR_NO_RANDOMIZE = 0x0040000;
/** The query value personality(0xffffffff) has every bit set; real persona values never set bit 31. */
const QUERY_BIT = 0x80000000;

/** Namespace flags of clone(2): a new namespace is a way around the container's limits. */
const CLONE_NAMESPACE_FLAGS = [
  0x00020000, // CLONE_NEWNS
  0x02000000, // CLONE_NEWCGROUP
  0x04000000, // CLONE_NEWUTS
  0x08000000, // CLONE_NEWIPC
  0x10000000, // CLONE_NEWUSER
  0x20000000, // CLONE_NEWPID
  0x40000000, // CLONE_NEWNET
  0x00000080, // CLONE_NEWTIME
];

const EPERM = 1;
const ENOSYS = 38;

interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: 'SCMP_CMP_MASKED_EQ';
}

interface SeccompRule {
  names: string[];
  action: 'SCMP_ACT_ERRNO';
  errnoRet: number;
  args?: SeccompArg[];
  comment: string;
}

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ALLOW';
  archMap: Array<{ architecture: string; subArchitectures: string[] }>;
  syscalls: SeccompRule[];
}

const deny = (comment: string, names: string[], errnoRet = EPERM): SeccompRule => ({
  names,
  action: 'SCMP_ACT_ERRNO',
  errnoRet,
  comment,
});

/** Refuse `name` when (arg `index` & mask) == value: one masked comparison per rule. */
const denyWhen = (
  comment: string,
  name: string,
  index: number,
  mask: number,
  value: number,
): SeccompRule => ({
  ...deny(comment, [name]),
  args: [{ index, value: mask, valueTwo: value, op: 'SCMP_CMP_MASKED_EQ' }],
});

/** Every personality bit a build may not set: all but the three above and the query bit. */
function forbiddenPersonalityBits(): number[] {
  const allowed = PER_LINUX32 | UNAME26 | ADDR_NO_RANDOMIZE;
  const bits: number[] = [];
  for (let bit = 0; bit < 31; bit++) {
    const b = 2 ** bit;
    if ((allowed & b) === 0) bits.push(b);
  }
  return bits;
}

/**
 * One job: this is the profile itself, as data (the ABIs and one rule per syscall group),
 * read top to bottom against Docker's default; splitting it would scatter one table.
 */
export function reproromSeccompProfile(): SeccompProfile {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    // Every ABI of the host: without its sub-architectures a 32-bit call (int 0x80) would bypass the rules.
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
      { architecture: 'SCMP_ARCH_PPC64LE', subArchitectures: [] },
      { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    ],
    syscalls: [
      // personality: only ADDR_NO_RANDOMIZE (-R), UNAME26 (--uname-2.6), PER_LINUX32 and the query.
      // A flag such as READ_IMPLIES_EXEC or MMAP_PAGE_ZERO weakens the process's own memory
      // protections, which a build never needs. Rules compare one masked value each, so a bit is
      // refused only while bit 31 is clear: the query personality(0xffffffff) stays allowed.
      ...forbiddenPersonalityBits().map((bit) =>
        denyWhen(
          `personality flag 0x${bit.toString(16)}: not needed by a build`,
          'personality',
          0,
          bit + QUERY_BIT,
          bit,
        ),
      ),
      // New namespaces (an unprivileged user namespace first of all) open kernel code paths
      // that the dropped capabilities otherwise keep closed.
      deny('namespaces: unshare and setns', ['unshare', 'setns']),
      ...CLONE_NAMESPACE_FLAGS.map((flag) =>
        denyWhen(`clone with namespace flag 0x${flag.toString(16)}`, 'clone', 0, flag, flag),
      ),
      // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes libc fall back
      // to clone, whose flags the rules above see.
      deny('clone3: flags out of reach of seccomp; libc falls back to clone', ['clone3'], ENOSYS),
      // The kernel keyring is not namespaced: keys would be shared with the host.
      deny('kernel keyring: not namespaced', ['keyctl', 'add_key', 'request_key']),
      // File handles resolve to files without path checks (a way out of a container's root on
      // older kernels); kcmp compares kernel pointers. ptrace stays allowed: the kernel limits it
      // to the build's own processes, and debuggers and test harnesses use it.
      deny('raw file handles and kernel pointer comparison', [
        'name_to_handle_at',
        'open_by_handle_at',
        'kcmp',
      ]),
      // Kernel-wide facilities a build has no use for, each a frequent source of kernel bugs.
      deny('kernel-wide facilities', [
        'bpf',
        'perf_event_open',
        'userfaultfd',
        'io_uring_setup',
        'io_uring_enter',
        'io_uring_register',
        'lookup_dcookie',
      ]),
      // System administration: the clock (a build's clock is libfaketime's), modules, mounts,
      // swap, reboot, accounting, quotas. Dropped capabilities refuse them too.
      deny('system administration', [
        'settimeofday',
        'clock_settime',
        'clock_adjtime',
        'adjtimex',
        'stime',
        'init_module',
        'finit_module',
        'delete_module',
        'create_module',
        'query_module',
        'get_kernel_syms',
        'kexec_load',
        'kexec_file_load',
        'mount',
        'umount',
        'umount2',
        'pivot_root',
        'open_tree',
        'move_mount',
        'fsopen',
        'fsconfig',
        'fsmount',
        'fspick',
        'mount_setattr',
        'swapon',
        'swapoff',
        'reboot',
        'acct',
        'quotactl',
        'nfsservctl',
        'uselib',
        'ustat',
        'sysfs',
        '_sysctl',
        'vm86',
        'vm86old',
        'iopl',
        'ioperm',
      ]),
    ],
  };
}

/** The engine's `SecurityOpt` entry for the profile (the JSON itself, as the engine's API takes it). */
export function seccompSecurityOpt(profile: SeccompProfile = reproromSeccompProfile()): string {
  return `seccomp=${JSON.stringify(profile)}`;
}
