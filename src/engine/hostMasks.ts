/**
 * What of the host a build container must not see. A file that names this machine or this
 * boot (boot_id, the kernel command line, the CPU model, the memory size) reads the same in
 * two runs on one machine and differently on the next: a build that copies it into a ROM
 * would be called reproducible and differ everywhere else. No build needs these files to
 * build, so they are masked (the engine binds /dev/null over a file, an empty read-only
 * tmpfs over a folder). Both lists replace the engine's defaults, so Docker's own entries
 * are repeated here: the run manifest records exactly what a build could not see.
 * README ("What a build can see") lists what stays visible.
 */

/** Docker's default masked paths (moby oci/defaults.go), kept: setting the list replaces them. */
const DOCKER_DEFAULT_MASKED = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
] as const;

/** Files that identify the host or its boot and that no build needs. */
const HOST_IDENTITY_MASKED = [
  '/proc/cmdline', // the host kernel's boot arguments
  '/proc/sys/kernel/random/boot_id', // one UUID per host boot
  '/proc/cpuinfo', // CPU model, flags, microcode (count CPUs with nproc instead)
  '/proc/meminfo', // MemTotal and the rest of the host's memory
  '/proc/zoneinfo', // the host's memory layout
  '/proc/stat', // btime: the host's boot time
  '/proc/partitions', // the host's disks and their sizes
  '/proc/diskstats',
  '/proc/swaps',
  '/proc/modules', // the host kernel's loaded modules
  '/sys/devices/virtual/dmi', // vendor, product and board names (/sys/class/dmi/id)
] as const;

export const MASKED_PATHS: readonly string[] = [...DOCKER_DEFAULT_MASKED, ...HOST_IDENTITY_MASKED];

/** Docker's default read-only paths, kept for the same reason. */
export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];
