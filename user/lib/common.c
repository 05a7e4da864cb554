// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include "common.h"

int xvr_verbose;

int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX + 8];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

bool name_ok(const char *name, size_t max)
{
	size_t n = strlen(name);

	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] == '-' || name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

int fork_split(const int *parent_ends, const int *child_ends, int n)
{
	const int *close_here;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	close_here = pid ? child_ends : parent_ends;
	for (int i = 0; i < n; i++)
		close(close_here[i]);
	return pid;
}

void xvr_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > xvr_verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && xvr_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && xvr_verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void xvr_libbpf_logging(void)
{
	libbpf_set_print(libbpf_print);
}

bool matches(const char *arg, const char *word)
{
	size_t n = strlen(arg);

	return n && n <= strlen(word) && !strncmp(arg, word, n);
}

int cpu_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

int parse_u32(const char *s, __u32 *v, __u32 max)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

int parse_addr(const char *s, int *family, __u8 addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

bool prefix_is_canonical(int family, const __u8 addr[16], int plen)
{
	int bytes = family == AF_INET ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int bits = plen - i * 8;
		__u8 mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));

		if (addr[i] & ~mask)
			return false;
	}
	return true;
}

int parse_prefix(const char *s, int *family, __u8 addr[16], int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	__u32 len;

	if (!strcmp(s, "default")) {
		/* "default" alone is ambiguous; callers pass default or default6 */
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (parse_addr(buf, family, addr))
		return -EINVAL;
	len = *family == AF_INET ? 32 : 128;
	if (slash && parse_u32(slash + 1, &len, len))
		return -EINVAL;
	*plen = len;
	return 0;
}

const char *prefix_problem(const char *s, char *buf, size_t len)
{
	char addr_s[INET6_ADDRSTRLEN + 8], net[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	__u8 addr[16];
	int family, plen, max;
	__u32 v;

	if (!parse_prefix(s, &family, addr, &plen)) {
		if (prefix_is_canonical(family, addr, plen))
			return NULL;
		for (int i = 0; i < 16; i++) {
			int bits = plen - i * 8;

			addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
		}
		snprintf(buf, len, "host bits set: the network is %s/%d",
			 fmt_addr(family, addr, net), plen);
		return buf;
	}
	snprintf(addr_s, sizeof(addr_s), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (!slash || parse_addr(addr_s, &family, addr)) {
		snprintf(buf, len, "'%s' is not an IPv4 or IPv6 address", addr_s);
		return buf;
	}
	max = family == AF_INET ? 32 : 128;
	if (!parse_u32(slash + 1, &v, 0xffffffffu))
		snprintf(buf, len, "prefix length %u is out of range 0-%d", v, max);
	else
		snprintf(buf, len, "prefix length '%s' is not a number 0-%d", slash + 1, max);
	return buf;
}

const char *fmt_mac(const __u8 mac[6], char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		mac[4], mac[5]);
	return buf;
}

const char *fmt_addr(int family, const __u8 *addr, char *buf)
{
	if (!inet_ntop(family, addr, buf, INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

int if_index(const char *name)
{
	unsigned int idx = if_nametoindex(name);

	return idx ? (int)idx : -ENODEV;
}

const char *if_name(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

static int if_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr->ifr_name, name);
	if (ioctl(fd, req, ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int if_mac(const char *name, __u8 mac[6])
{
	struct ifreq ifr = {};
	int err = if_ioctl(name, SIOCGIFHWADDR, &ifr);

	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

int if_ethtool(const char *name, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	return if_ioctl(name, SIOCETHTOOL, &ifr);
}

int if_mtu(const char *name)
{
	struct ifreq ifr = {};
	int err = if_ioctl(name, SIOCGIFMTU, &ifr);

	return err ? err : ifr.ifr_mtu;
}

void xvr_die_at(const char *step)
{
	const char *want = getenv("XVR_DIE_AT");

	if (!want || strcmp(want, step))
		return;
	fprintf(stderr, "xvr: XVR_DIE_AT=%s: killed\n", step);
	kill(getpid(), SIGKILL);
}

bool xvr_fail_at(const char *step)
{
	const char *want = getenv("XVR_FAIL_AT");

	return want && !strcmp(want, step);
}
