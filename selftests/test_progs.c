// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Runs every test in tests.h, or those named with -t NAME[/SUBTEST]. */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "test_progs.h"
#include "common.h"

struct test_env env;
static const char *filter_test, *filter_sub;

#define DEFINE_TEST(name) void test_##name(void);
#include "tests.h"

static int saved_ns = -1;

bool test_netns_enter(void)
{
	saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved_ns < 0) {
		test__skip("cannot open /proc/self/ns/net");
		return false;
	}
	if (unshare(CLONE_NEWNET)) {
		test__skip("unshare(CLONE_NEWNET) failed (needs CAP_SYS_ADMIN)");
		close(saved_ns);
		saved_ns = -1;
		return false;
	}
	return true;
}

void test_netns_leave(void)
{
	if (saved_ns < 0)
		return;
	if (setns(saved_ns, CLONE_NEWNET))
		fprintf(stderr, "setns back: %s\n", strerror(errno));
	close(saved_ns);
	saved_ns = -1;
}

int test_sh(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf) ? -1 : 0;
}
#undef DEFINE_TEST

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
#define DEFINE_TEST(name) { #name, test_##name },
#include "tests.h"
#undef DEFINE_TEST
};

static bool sub_open;
static bool sub_any_failed;

void test__fail(void)
{
	env.cur_failed = true;
}

void test__skip(const char *why)
{
	env.skipped++;
	printf("#SKIP %s%s%s: %s\n", env.cur_test, env.cur_subtest ? "/" : "",
	       env.cur_subtest ? env.cur_subtest : "", why);
}

void test__end_subtest(void)
{
	if (!sub_open)
		return;
	printf("  %s/%s: %s\n", env.cur_test, env.cur_subtest,
	       env.cur_failed ? "FAIL" : "OK");
	if (env.cur_failed)
		sub_any_failed = true;
	env.subtests++;
	env.cur_failed = false;
	env.cur_subtest = NULL;
	sub_open = false;
}

bool test__start_subtest(const char *name)
{
	test__end_subtest();
	if (filter_sub && strcmp(filter_sub, name))
		return false;
	env.cur_subtest = name;
	env.cur_failed = false;
	sub_open = true;
	return true;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	int opt, passed = 0;
	char *slash;

	while ((opt = getopt(argc, argv, "t:v")) != -1) {
		switch (opt) {
		case 't':
			filter_test = optarg;
			slash = strchr(optarg, '/');
			if (slash) {
				*slash = '\0';
				filter_sub = slash + 1;
			}
			break;
		case 'v':
			env.verbose = true;
			xvr_verbose = 2;
			break;
		default:
			fprintf(stderr, "usage: %s [-v] [-t TEST[/SUBTEST]]\n", argv[0]);
			return 2;
		}
	}
	libbpf_set_print(print_libbpf);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		bool failed;

		if (filter_test && strcmp(filter_test, tests[i].name))
			continue;
		env.cur_test = tests[i].name;
		env.cur_failed = false;
		sub_any_failed = false;
		tests[i].fn();
		test__end_subtest();
		failed = env.cur_failed || sub_any_failed;
		printf("#%zu %s: %s\n", i + 1, tests[i].name, failed ? "FAIL" : "OK");
		env.tests++;
		if (failed)
			env.failed++;
		else
			passed++;
	}
	printf("Summary: %d/%d subtests, %d skipped\n", env.subtests, env.tests,
	       env.skipped);
	printf("%d passed, %d failed\n", passed, env.failed);
	return env.failed ? 1 : 0;
}
