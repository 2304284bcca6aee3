/*
 * cpus: how many CPUs this process may use, for the default of --threads.
 *
 * Not the CPUs online (sysconf) but those of its affinity mask (taskset,
 * a cpuset), and no more than its CPU quota where a cgroup v2 sets one
 * (docker --cpus, a Kubernetes CPU limit): a reader thread on a CPU the
 * process may not use, or beyond its quota, would only add its cost.
 * cgroup v1 quotas are not read.
 */
#ifndef MT_CPUS_H
#define MT_CPUS_H

/* The CPUs this process may use, at least 1. */
unsigned usable_cpus(void);

/*
 * The CPUs a cgroup v2 cpu.max file allows ("QUOTA PERIOD", or "max ..."
 * for no limit), rounded up; 0 for no limit or text it cannot read.
 */
unsigned cpus_of_cpu_max(const char *text);

#endif
