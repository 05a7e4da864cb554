// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Metrics for monitoring systems: 'xvr stats --format prometheus' prints the
 * node's counters in the Prometheus text exposition format (0.0.4), and
 * 'xvr exporter' serves the same over HTTP at /metrics. Every sample has a
 * node label, so several nodes' series never collide.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xvr.h"
#include "cpugroup.h"
#include "fe.h"
#include "supervise.h"
#include "version.h"

#define EXPORTER_LISTEN		"127.0.0.1:9469"
#define EXPORTER_IO_TIMEOUT_S	2	/* a client that stalls is dropped */
#define EXPORTER_REQ_MAX	4096

/* A router's or a port's counters, read once per scrape. */
struct counted {
	char name[XVR_NAME_LEN];
	const char *mode;	/* routers */
	__u32 id;		/* routers */
	struct xvr_counters c;
};

struct scrape {
	FILE *f;
	struct xvr_node *n;
	struct counted *routers, *ports;
	int nrouters, nports;
};

static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{node="…",k1="v1",…} value; the labels are key, value pairs ending in NULL. */
static void sample(struct scrape *s, const char *name, __u64 value, ...)
{
	const char *k;
	va_list ap;

	fprintf(s->f, "%s{node=\"", name);
	label_value(s->f, s->n->name);
	fputc('"', s->f);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *))) {
		fprintf(s->f, ",%s=\"", k);
		label_value(s->f, va_arg(ap, const char *));
		fputc('"', s->f);
	}
	va_end(ap);
	fprintf(s->f, "} %llu\n", (unsigned long long)value);
}

#define CNT(field)	offsetof(struct xvr_counters, field)
static const struct verdict_row {
	const char *verdict;
	size_t packets, bytes;
	bool router, port;	/* which objects count it */
} verdict_rows[] = {
	{ "rx", CNT(rx_packets), CNT(rx_bytes), true, true },
	{ "fwd", CNT(fwd_packets), CNT(fwd_bytes), true, true },
	{ "punt", CNT(punt_packets), CNT(punt_bytes), true, true },
	{ "drop", CNT(drop_packets), CNT(drop_bytes), true, true },
	{ "miss", CNT(miss_packets), CNT(miss_bytes), false, true },
	{ "tx", CNT(tx_packets), CNT(tx_bytes), true, false },
};

static __u64 field(const struct xvr_counters *c, size_t off)
{
	return *(const __u64 *)((const char *)c + off);
}

/* Packets and bytes by verdict, punts and drops by reason: of routers or ports. */
static void counted_metrics(struct scrape *s, bool ports)
{
	const char *what = ports ? "port" : "router";
	struct counted *objs = ports ? s->ports : s->routers;
	int cnt = ports ? s->nports : s->nrouters;
	char name[64], help[128];

	for (int unit = 0; unit < 2; unit++) {
		snprintf(name, sizeof(name), "xvr_%s_%s_total", what, unit ? "bytes" : "packets");
		snprintf(help, sizeof(help), "%s of each %s by verdict: rx = fwd + punt + drop%s",
			 unit ? "Bytes" : "Frames", what, ports ? " + miss" : "; tx: sent by its stack");
		header(s->f, name, "counter", help);
		for (int i = 0; i < cnt; i++)
			for (size_t v = 0; v < ARRAY_SIZE(verdict_rows); v++) {
				const struct verdict_row *r = &verdict_rows[v];

				if (ports ? !r->port : !r->router)
					continue;
				sample(s, name, field(&objs[i].c, unit ? r->bytes : r->packets), what,
				       objs[i].name, "verdict", r->verdict, NULL);
			}
	}
	snprintf(name, sizeof(name), "xvr_%s_punts_total", what);
	snprintf(help, sizeof(help), "Frames each %s handed to the router's stack, by reason", what);
	header(s->f, name, "counter", help);
	for (int i = 0; i < cnt; i++)
		for (unsigned int k = 0; k < XVR_PUNT_MAX; k++)
			if (punt_reason_name(k))
				sample(s, name, objs[i].c.punt[k], what, objs[i].name, "reason",
				       punt_reason_name(k), NULL);
	snprintf(name, sizeof(name), "xvr_%s_drops_total", what);
	snprintf(help, sizeof(help), "Frames each %s dropped, by reason", what);
	header(s->f, name, "counter", help);
	for (int i = 0; i < cnt; i++)
		for (unsigned int k = 0; k < XVR_DROP_MAX; k++)
			if (drop_reason_name(k))
				sample(s, name, objs[i].c.drop[k], what, objs[i].name, "reason",
				       drop_reason_name(k), NULL);
}

static void node_metrics(struct scrape *s)
{
	header(s->f, "xvr_build_info", "gauge", "The xvr version serving these metrics");
	sample(s, "xvr_build_info", 1, "version", XVR_VERSION, NULL);
	header(s->f, "xvr_node_up", "gauge", "1 if the node is up");
	sample(s, "xvr_node_up", s->n->config_fd >= 0, NULL);
	if (!s->nrouters)
		return;
	header(s->f, "xvr_router_info", "gauge", "Each router, with its mode");
	for (int i = 0; i < s->nrouters; i++)
		sample(s, "xvr_router_info", 1, "router", s->routers[i].name, "mode",
		       s->routers[i].mode, NULL);
}

static void router_metrics(struct scrape *s)
{
	if (s->nrouters)
		counted_metrics(s, false);
}

/* Bound routers' cpumap handoffs, per CPU: steered on the receiving CPU, arrived on the target. */
static void cpu_metrics(struct scrape *s)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xvr_cpu_counters *cc;

	if (!s->nrouters || ncpu <= 0)
		return;
	cc = calloc(ncpu, sizeof(*cc));
	if (!cc)
		return;
	for (int stage = 0; stage < 2; stage++) {
		const char *name = stage ? "xvr_router_cpu_arrived_total" : "xvr_router_cpu_steered_total";
		bool headed = false;	/* no header without a sample: nothing bound */

		for (int i = 0; i < s->nrouters; i++) {
			if (cpu_counters_read(s->n, s->routers[i].id, cc, ncpu))
				continue;
			for (int c = 0; c < ncpu; c++) {
				__u64 v = stage ? cc[c].arrived_packets : cc[c].steered_packets;
				char cpu[16];

				if (!v)
					continue;
				if (!headed)
					header(s->f, name, "counter", stage ?
					       "Frames of a bound router its cpumap program took, by CPU" :
					       "Frames of a bound router handed to its cpumap, by receiving CPU");
				headed = true;
				snprintf(cpu, sizeof(cpu), "%d", c);
				sample(s, name, v, "router", s->routers[i].name, "cpu", cpu, NULL);
			}
		}
	}
	free(cc);
}

static void port_metrics(struct scrape *s)
{
	if (s->nports)
		counted_metrics(s, true);
}

#define FES(field)	offsetof(struct xvr_fe_state, field)
static const struct engine_row {
	const char *name, *help;
	size_t off;
} engine_rows[] = {
	{ "xvr_engine_rx_packets_total", "Frames the engine received", FES(rx_packets) },
	{ "xvr_engine_rx_bytes_total", "Bytes the engine received", FES(rx_bytes) },
	{ "xvr_engine_tx_packets_total", "Frames the engine sent", FES(tx_packets) },
	{ "xvr_engine_tx_bytes_total", "Bytes the engine sent", FES(tx_bytes) },
	{ "xvr_engine_drops_total", "Frames the engine dropped (plugin verdicts, bad frames)",
	  FES(drop_packets) },
	{ "xvr_engine_rx_ring_full_total", "Frames lost to a full RX ring", FES(rx_ring_full) },
	{ "xvr_engine_rx_dropped_total", "Frames the socket dropped", FES(rx_dropped) },
	{ "xvr_engine_tx_invalid_total", "Invalid TX descriptors", FES(tx_invalid) },
	{ "xvr_engine_fill_empty_total", "Times the fill ring had no frames", FES(fill_empty) },
	{ "xvr_engine_tx_ring_full_total", "Times the TX ring was full", FES(tx_ring_full) },
	{ "xvr_engine_wakeups_total", "sendto/poll calls", FES(wakeups) },
	{ "xvr_engine_idle_sleeps_total", "Times the engine slept in poll()", FES(idle_sleeps) },
	{ "xvr_engine_restarts_total", "Times the supervisor restarted the engine",
	  FES(restarts) },
};

static void engine_metrics(struct scrape *s)
{
	__u32 ids[XVR_MAX_FES];
	int cnt = 0;

	for (__u32 id = 1; id < XVR_MAX_FES; id++) {
		struct xvr_fe fe;

		if (!fe_get(s->n, id, &fe))
			ids[cnt++] = id;
	}
	/* Up: its heartbeat is fresh, as ingress judges it. */
	for (int row = -1; cnt && row < (int)ARRAY_SIZE(engine_rows); row++) {
		const char *name = row < 0 ? "xvr_engine_up" : engine_rows[row].name;

		header(s->f, name, row < 0 ? "gauge" : "counter",
		       row < 0 ? "1 if the engine's heartbeat is fresh" : engine_rows[row].help);
		for (int i = 0; i < cnt; i++) {
			struct xvr_fe_state st = {};
			struct xvr_router r = {};
			struct xvr_fe fe = {};
			char id[16];
			long age;
			__u64 v;

			fe_get(s->n, ids[i], &fe);
			router_get(s->n, fe.vr_id, &r);
			fe_state_read(s->n, ids[i], &st);
			age = fe_heartbeat_age_ms(&st);
			v = row < 0 ? (age >= 0 && age < 200) :
				      *(const __u64 *)((const char *)&st + engine_rows[row].off);
			snprintf(id, sizeof(id), "%u", ids[i]);
			sample(s, name, v, "router", r.name, "engine", id, NULL);
		}
	}
}

/*
 * What a scrape shows, in order; one entry per kind of object, so a new
 * object (links, limits) is a new entry.
 */
static void (*const collectors[])(struct scrape *s) = {
	node_metrics,
	router_metrics,
	cpu_metrics,
	port_metrics,
	engine_metrics,
};

static int scrape_collect(struct scrape *s)
{
	__u32 key, next, *prev = NULL;
	struct xvr_router r;
	struct xvr_port p;

	s->routers = calloc(XVR_MAX_ROUTERS, sizeof(*s->routers));
	s->ports = calloc(XVR_MAX_PORTS, sizeof(*s->ports));
	if (!s->routers || !s->ports)
		return -ENOMEM;
	for (__u32 id = 1; id < XVR_MAX_ROUTERS; id++) {
		struct counted *c = &s->routers[s->nrouters];

		if (router_get(s->n, id, &r))
			continue;
		snprintf(c->name, sizeof(c->name), "%s", r.name);
		c->mode = mode_name(r.mode);
		c->id = id;
		counters_read(s->n->vr_stats_fd, id, &c->c);
		/* As 'xvr stats' books them: what the router's cpumap queues lost. */
		c->c.drop[XVR_DROP_CPU_HANDOFF] += cpu_handoff_lost(s->n, id);
		c->c.drop_packets += cpu_handoff_lost(s->n, id);
		s->nrouters++;
	}
	while (!bpf_map_get_next_key(s->n->ports_fd, prev, &next)) {
		struct counted *c = &s->ports[s->nports];

		key = next;
		prev = &key;
		if (port_get(s->n, key, &p) || s->nports >= XVR_MAX_PORTS)
			continue;
		snprintf(c->name, sizeof(c->name), "%s", p.name);
		counters_read(s->n->port_stats_fd, p.slot, &c->c);
		s->nports++;
	}
	return 0;
}

/* Writes the node's metrics to f. A node that is not up shows xvr_node_up 0. */
static int metrics_write(const char *node, FILE *f)
{
	struct xvr_node n;
	struct scrape s = { .f = f, .n = &n };
	int err;

	xvr_node_init(&n, node);
	err = xvr_node_name_ok(node) ? xvr_node_open(&n, node) : -EINVAL;
	if (!err)
		err = scrape_collect(&s);
	else
		xvr_node_init(&n, node);	/* config_fd -1: the node is down */
	if (err != -ENOMEM)
		for (size_t i = 0; i < ARRAY_SIZE(collectors); i++)
			collectors[i](&s);
	free(s.routers);
	free(s.ports);
	xvr_node_close(&n);
	return err == -ENOMEM ? err : 0;
}

int stats_prometheus(void)
{
	int err = metrics_write(xvr_node_name(cli_node), stdout);

	fflush(stdout);
	return err;
}

/* ---- xvr exporter ---- */

static int exporter_help(void)
{
	fprintf(stderr,
		"Usage: xvr exporter [listen ADDR:PORT]\n"
		"Serves the node's metrics (as 'xvr stats --format prometheus') over HTTP\n"
		"at /metrics, by default on " EXPORTER_LISTEN ". '[::]:PORT' listens on\n"
		"every address.\n");
	return 0;
}

static volatile sig_atomic_t exporter_stop;

static void exporter_signal(int sig)
{
	exporter_stop = 1;
}

/* "ADDR:PORT", "[V6ADDR]:PORT": a listening socket, or -errno. */
static int listen_on(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	struct addrinfo *ai;
	size_t hlen;
	int fd, one = 1, err;

	if (!colon || colon == spec || !colon[1])
		return -EINVAL;
	hlen = colon - spec;
	if (spec[0] == '[' && spec[hlen - 1] == ']')
		spec++, hlen -= 2;
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		goto out;
	}
	err = fd;
out:
	freeaddrinfo(ai);
	return err;
}

/* body NULL: the headers alone, as HEAD wants (Content-Length still len). */
static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, type, len);

	if (write(fd, head, n) == n && body && len)
		(void)!write(fd, body, len);
}

/* One request: GET /metrics (or HEAD), anything else 404/405. */
static void serve(int fd, const char *node)
{
	struct timeval tv = { .tv_sec = EXPORTER_IO_TIMEOUT_S };
	char req[EXPORTER_REQ_MAX + 1], *body = NULL;
	size_t len = 0, got = 0;
	bool head;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The request line and headers, up to the blank line (or the limit). */
	while (got < EXPORTER_REQ_MAX) {
		ssize_t n = read(fd, req + got, EXPORTER_REQ_MAX - got);

		if (n <= 0)
			break;
		got += n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	head = !strncmp(req, "HEAD ", 5);
	if (strncmp(req, "GET ", 4) && !head) {
		respond(fd, "405 Method Not Allowed", "text/plain", "GET /metrics\n", 13);
		return;
	}
	if (strncmp(req + (head ? 5 : 4), "/metrics", 8) ||
	    !strchr(" ?", req[(head ? 5 : 4) + 8])) {
		respond(fd, "404 Not Found", "text/plain", "metrics are at /metrics\n", 24);
		return;
	}
	f = open_memstream(&body, &len);
	if (!f || metrics_write(node, f)) {
		if (f)
			fclose(f);
		free(body);
		respond(fd, "500 Internal Server Error", "text/plain", "", 0);
		return;
	}
	fclose(f);
	respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", head ? NULL : body, len);
	free(body);
}

int do_exporter(int argc, char **argv)
{
	const char *listen_spec = EXPORTER_LISTEN, *node = xvr_node_name(cli_node);
	struct sigaction sa = { .sa_handler = exporter_signal };
	int lfd;

	cli_object = "exporter";
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "help")) {
			return exporter_help();
		} else if (matches(argv[0], "listen")) {
			NEXT_ARG();
			listen_spec = argv[0];
		} else {
			return unexpected_arg(argv[0]);
		}
	}
	if (cli_dry_run)
		return CLI_DRY_RUN;
	lfd = listen_on(listen_spec);
	if (lfd == -EINVAL)
		return bad_arg("listen address (ADDR:PORT, [V6ADDR]:PORT)", listen_spec);
	if (lfd < 0) {
		pr_warn("exporter: listen on %s: %s\n", listen_spec, strerror(-lfd));
		return lfd;
	}
	/* No SA_RESTART: a signal ends the accept() below. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pr_warn("exporter: node %s: serving http://%s/metrics\n", node, listen_spec);
	while (!exporter_stop) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		serve(fd, node);
		close(fd);
	}
	close(lfd);
	return 0;
}
