// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A hostile tenant plugin for test_sandbox: at init it tries what a tenant
 * must not be able to do from inside an engine and logs one line per
 * attempt, "attack NAME: denied (ERRNO)" or "attack NAME: ALLOWED"; then it
 * routes like the default engine. Config: "VICTIM_PID NODE" (another
 * router's engine, the node whose pins and lock it goes after).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <xvr/plugin.h>

static void report(struct xvr_plugin_ctx *ctx, const char *what, long ret)
{
	if (ret < 0)
		ctx->log(ctx, "attack %s: denied (%s)", what, strerrorname_np(errno));
	else
		ctx->log(ctx, "attack %s: ALLOWED", what);
}

static long try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Signals 0 to pids 2..65535 but its own: -1 (ESRCH) if none answers. */
static long guess_pids(void)
{
	pid_t self = getpid();

	for (pid_t pid = 2; pid < 65536; pid++)
		if (pid != self && !kill(pid, 0))
			return pid;
	errno = ESRCH;
	return -1;
}

static int attacker_init(struct xvr_plugin_ctx *ctx, const char *config)
{
	char node[64], path[256];
	union { __u32 map_type; char pad[128]; } attr = { .map_type = 2 /* ARRAY */ };
	int victim;

	if (sscanf(config, "%d %63s", &victim, node) != 2 || victim <= 1) {
		ctx->log(ctx, "config: VICTIM_PID NODE");
		return -EINVAL;
	}
	report(ctx, "signal-victim-engine", kill(victim, SIGSTOP));
	report(ctx, "ptrace-victim-engine", ptrace(PTRACE_ATTACH, victim, 0, 0));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", victim);
	report(ctx, "open-victim-netns", try_open(path, O_RDONLY));
	/*
	 * Every pid of its PID namespace: nothing but its own (the init, pid
	 * 1, takes no signal). A guess that finds anything else is reported.
	 */
	report(ctx, "guess-pids", guess_pids());
	/* Everyone it may signal: its own router's processes at most. */
	kill(-1, SIGSTOP);
	report(ctx, "kill-all", kill(-1, SIGKILL));
	report(ctx, "bpf-map-create", syscall(__NR_bpf, 0, &attr, sizeof(attr)));
	snprintf(path, sizeof(path), "/sys/fs/bpf/xvr/%s/config", node);
	report(ctx, "open-pin", try_open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/run/xvr/%s.lock", node);
	report(ctx, "open-node-lock", try_open(path, O_RDONLY));
	report(ctx, "write-etc", try_open("/etc/passwd", O_WRONLY | O_APPEND));
	report(ctx, "create-in-usr", try_open("/usr/local/xvr-attacker", O_WRONLY | O_CREAT));
	report(ctx, "write-var-lib-xvr", try_open("/var/lib/xvr/ids/attacker", O_WRONLY | O_CREAT));
	return 0;
}

static void attacker_process(struct xvr_plugin_ctx *ctx, struct xvr_pkt *pkts, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		ctx->route(ctx, &pkts[i]);
}

__attribute__((visibility("default"))) const struct xvr_plugin xvr_plugin = {
	.abi_version = XVR_PLUGIN_ABI_VERSION,
	.name = "attacker",
	.init = attacker_init,
	.process = attacker_process,
};
