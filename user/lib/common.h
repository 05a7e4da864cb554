/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef XVR_COMMON_H
#define XVR_COMMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

extern int xvr_verbose;

void xvr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pr_warn(...)  xvr_log(0, __VA_ARGS__)
#define pr_info(...)  xvr_log(1, __VA_ARGS__)
#define pr_debug(...) xvr_log(2, __VA_ARGS__)
/* Routes libbpf's messages through xvr_log; its debug output only with -v. */
void xvr_libbpf_logging(void);

/* Parsers return 0 or -EINVAL and never print. */
int parse_mac(const char *s, __u8 mac[6]);
/* "10.0.0.0/8", "2001:db8::/32", a bare address is /32 or /128. */
int parse_prefix(const char *s, int *family, __u8 addr[16], int *plen);
int parse_addr(const char *s, int *family, __u8 addr[16]);
int parse_u32(const char *s, __u32 *v, __u32 max);
/* A prefix with host bits set is refused (-EINVAL); this says so. */
bool prefix_is_canonical(int family, const __u8 addr[16], int plen);
/*
 * What is wrong with s as a prefix ("prefix length 33 is out of range
 * 0-32", "host bits set: the network is 10.0.0.0/8", …), written to buf for
 * a message; NULL when s is a canonical prefix.
 */
const char *prefix_problem(const char *s, char *buf, size_t len);
const char *fmt_mac(const __u8 mac[6], char *buf);	/* buf >= 18 */
/* addr: 4 bytes for AF_INET, 16 for AF_INET6; buf >= 46 */
const char *fmt_addr(int family, const __u8 *addr, char *buf);
/* Run the calling thread on cpu only: 0 or -errno. */
int cpu_pin(int cpu);
int if_index(const char *name);		/* ifindex or -ENODEV */
const char *if_name(int ifindex, char *buf);	/* buf >= IF_NAMESIZE */
int if_mac(const char *name, __u8 mac[6]);
int if_mtu(const char *name);
/* SIOCETHTOOL with cmd (struct ethtool_value, _drvinfo, …) on a link here; -errno. */
int if_ethtool(const char *name, void *cmd);

/*
 * fork() for a child that talks to its parent over pipes: stdio is flushed
 * first; the child closes the n fds in parent_ends (the parent's sides),
 * the parent closes the n fds in child_ends. Returns the child's pid, 0 in
 * the child, or -errno (nothing closed).
 */
int fork_split(const int *parent_ends, const int *child_ends, int n);

/*
 * Replace the file at path with len bytes of data, all at once (through
 * path.tmp and a rename: a reader sees the old content or the new); a new
 * file gets mode (less the umask).
 */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* A name of 1..max letters, digits, '-' and '_' (routers, nodes). */
bool name_ok(const char *name, size_t max);

/* Keyword matching: true when arg is a non-empty prefix of word. */
bool matches(const char *arg, const char *word);

/*
 * Test hook: when $XVR_DIE_AT names step ("router-add:netns", …), the
 * process kills itself there with SIGKILL, as a crash or an operator's
 * kill -9 would, so tests can check what the next command finds.
 */
void xvr_die_at(const char *step);
/* Likewise $XVR_FAIL_AT: true at that step, whose caller then fails as on an error. */
bool xvr_fail_at(const char *step);

#endif
