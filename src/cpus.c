/* cpus: how many CPUs this process may use (see cpus.h). */

/* sched_getaffinity and CPU_COUNT are GNU extensions. */
#define _GNU_SOURCE

#include "cpus.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#ifdef HAVE_SCHED_GETAFFINITY
#include <sched.h>
#endif

unsigned
cpus_of_cpu_max(const char *text)
{
	uintmax_t quota, period;

	if (sscanf(text, "%ju %ju", &quota, &period) != 2 || period == 0)
		return 0;	/* "max": no limit */
	uintmax_t cpus = quota / period + (quota % period != 0);
	return cpus == 0 ? 1 : cpus > UINT_MAX ? UINT_MAX : (unsigned)cpus;
}

/*
 * The least quota of the process's cgroup v2 and those above it (each
 * limits all below), 0 if none: the cgroup is the "0::" line of
 * /proc/self/cgroup, below /sys/fs/cgroup.
 */
static unsigned
cgroup_quota(void)
{
	char line[PATH_MAX], path[PATH_MAX + 64];
	unsigned least = 0;
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (f == NULL)
		return 0;
	char *group = NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "0::", 3) == 0) {
			group = line + 3;
			group[strcspn(group, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	while (group != NULL) {
		snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", group);
		FILE *max = fopen(path, "r");
		char text[64];
		if (max != NULL) {
			unsigned cpus = fgets(text, sizeof text, max) != NULL ? cpus_of_cpu_max(text) : 0;
			if (cpus != 0 && (least == 0 || cpus < least))
				least = cpus;
			fclose(max);
		}
		char *slash = strrchr(group, '/');
		if (slash == NULL || slash == group)
			break;
		*slash = '\0';
	}
	return least;
}

unsigned
usable_cpus(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned cpus = online < 1 ? 1 : online > UINT_MAX ? UINT_MAX : (unsigned)online;

#ifdef HAVE_SCHED_GETAFFINITY
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		cpus = (unsigned)CPU_COUNT(&set);
#endif
	unsigned quota = cgroup_quota();
	return quota != 0 && quota < cpus ? quota : cpus;
}
