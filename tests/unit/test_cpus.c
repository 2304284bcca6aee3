/*
 * test_cpus: the CPUs the default of --threads counts (cpus.h): a cgroup
 * v2 quota read, and the affinity mask obeyed.
 */
#define _GNU_SOURCE	/* sched_setaffinity */

#include <check.h>
#include <sched.h>

#include "config.h"
#include "cpus.h"
#include "support.h"

START_TEST(test_cpu_max)
{
	ck_assert_uint_eq(cpus_of_cpu_max("max 100000\n"), 0);
	ck_assert_uint_eq(cpus_of_cpu_max("100000 100000\n"), 1);
	ck_assert_uint_eq(cpus_of_cpu_max("150000 100000\n"), 2);	/* 1.5 CPUs: a second one to use */
	ck_assert_uint_eq(cpus_of_cpu_max("200000 100000"), 2);
	ck_assert_uint_eq(cpus_of_cpu_max("1000 100000\n"), 1);	/* a hundredth: still one */
	ck_assert_uint_eq(cpus_of_cpu_max("100000 0\n"), 0);
	ck_assert_uint_eq(cpus_of_cpu_max(""), 0);
}
END_TEST

/* Bound to one CPU (as by taskset -c), the process has one, however many are online. */
START_TEST(test_affinity)
{
#ifdef HAVE_SCHED_GETAFFINITY
	cpu_set_t all, one;

	ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
	ck_assert_uint_ge(usable_cpus(), 1);
	ck_assert_uint_le(usable_cpus(), (unsigned)CPU_COUNT(&all));
	CPU_ZERO(&one);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &all)) {
			CPU_SET(cpu, &one);
			break;
		}
	}
	ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
	ck_assert_uint_eq(usable_cpus(), 1);
	ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
#endif
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cpus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cpu_max);
	tcase_add_test(tc, test_affinity);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
