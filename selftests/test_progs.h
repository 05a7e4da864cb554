/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small test_progs-style harness: each test file defines test_<name>()
 * functions, registered in tests.h; subtests and ASSERT_* print what was
 * expected and what came.
 */
#ifndef XVR_TEST_PROGS_H
#define XVR_TEST_PROGS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

struct test_env {
	int tests, subtests, failed, skipped;
	bool cur_failed;	/* current subtest (or test) failed */
	const char *cur_test;
	const char *cur_subtest;
	bool verbose;
};
extern struct test_env env;

/* Starts a subtest when it matches the filter; false means skip it. */
bool test__start_subtest(const char *name);
void test__end_subtest(void);
void test__skip(const char *why);
void test__fail(void);

#define _CHECK(cond, name, fmt, ...) ({					\
	bool ___ok = !(cond);						\
	if (!___ok) {							\
		test__fail();						\
		fprintf(stderr, "%s:%d: %s: FAIL " fmt "\n",		\
			__func__, __LINE__, name, ##__VA_ARGS__);	\
	} else if (env.verbose) {					\
		fprintf(stderr, "%s:%d: %s: ok\n", __func__, __LINE__, name); \
	}								\
	___ok;								\
})

#define ASSERT_TRUE(c, name) _CHECK(!(c), name, "expected true")
#define ASSERT_FALSE(c, name) _CHECK((c), name, "expected false")
#define ASSERT_EQ(a, b, name) ({ long long ___a = (a), ___b = (b);	\
	_CHECK(___a != ___b, name, "got %lld expected %lld", ___a, ___b); })
#define ASSERT_NEQ(a, b, name) ({ long long ___a = (a), ___b = (b);	\
	_CHECK(___a == ___b, name, "got %lld, must differ", ___a); })
#define ASSERT_GE(a, b, name) ({ long long ___a = (a), ___b = (b);	\
	_CHECK(___a < ___b, name, "got %lld expected >= %lld", ___a, ___b); })
#define ASSERT_LE(a, b, name) ({ long long ___a = (a), ___b = (b);	\
	_CHECK(___a > ___b, name, "got %lld expected <= %lld", ___a, ___b); })
#define ASSERT_OK(r, name) ({ long long ___r = (r);			\
	_CHECK(___r != 0, name, "got error %lld (%s)", ___r,		\
	       ___r < 0 ? strerror((int)-___r) : "?"); })
#define ASSERT_ERR(r, name) ({ long long ___r = (r);			\
	_CHECK(___r >= 0, name, "got %lld expected an error", ___r); })
#define ASSERT_OK_PTR(p, name) _CHECK(!(p), name, "got NULL")
#define ASSERT_MEMEQ(a, b, n, name) _CHECK(memcmp((a), (b), (n)), name, \
	"%zu bytes differ", (size_t)(n))


/*
 * Tests with devices run in a private network namespace: test_netns_enter()
 * keeps the current one and enters a new one (false: the test is skipped,
 * nothing changed); test_netns_leave() goes back, and the private one and
 * its devices go with it. test_sh() runs a shell command, its output
 * discarded: 0, or -1 if it failed.
 */
bool test_netns_enter(void);
void test_netns_leave(void);
int test_sh(const char *cmd);

#endif
