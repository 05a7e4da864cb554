/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every test of test_progs; one DEFINE_TEST per test_<name>() function. */
DEFINE_TEST(alloc)
DEFINE_TEST(egress)
DEFINE_TEST(fair)
DEFINE_TEST(fib4)
DEFINE_TEST(fib4_table)
DEFINE_TEST(fib6)
DEFINE_TEST(fib_scale)
DEFINE_TEST(fibsync)
DEFINE_TEST(ingress)
DEFINE_TEST(nl)
