// SPDX-License-Identifier: GPL-2.0
/*
 * transport_smoke.c - smoke test of rdmapin's verbs transport on every RDMA device present.
 *
 * Per device: loopback open; RDMA READ of a 16 KiB anonymous buffer registered REMOTE_READ
 * compares byte for byte; a READ after the process changed the buffer sees the change; a READ
 * after the registered range was replaced by a new mapping returns the pinned pages, not the
 * process's new ones (the data really comes through the MR); a READ with a bad rkey fails
 * within the timeout (no hang); the next READ reconnects and works; a READ of an MR registered
 * without REMOTE_READ is refused (a device that serves it fails with verdict SERVED); then the
 * same against a forked rp_tp_serve() agent over the device's address (remote mode), two
 * connections one after another, after which the agent must exit 0.
 * Times of connection setup and of one 16 KiB READ go out as KTAP diagnostics.
 *
 * Each group runs in a forked child (the transport must be opened in the process that uses it,
 * see transport.h); a child that crashes or hangs fails its remaining tests.
 *
 * KTAP on stdout; exit 0 all passed, 1 something failed, 4 no RDMA device (skip).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/agent.h"
#include "../src/devices.h"
#include "../src/transport.h"
#include "memlock.h" /* lib/ */
#include "reap.h" /* lib/ */

#define LEN (16 * 1024)
#define MAX_DEVS 8
#define TIMEOUT_MS 10000
#define NREADS 8

/* shared with the forked children that run the checks, so a crash costs only its own tests */
static struct counters {
	int test_no, failed;
} *ctr;

static void result(bool ok, const char *dev, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d %s.%s", ok ? "ok" : "not ok", ++ctr->test_no, dev, name);
	if (fmt) {
		printf(" # ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	ctr->failed += !ok;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* -1 when equal, else the first differing offset */
static long first_diff(const unsigned char *a, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

/* Read mr back and compare with want: the message of a failure goes to *why. */
static bool read_matches(struct rp_tp *tp, struct ibv_mr *mr, const unsigned char *want,
			 unsigned char *got, char *why, size_t whylen)
{
	const char *step = "";
	long off;
	int r;

	r = rp_tp_read(tp, mr, got, LEN, &step);
	if (r) {
		snprintf(why, whylen, "%s: %s", step, strerror(-r));
		return false;
	}
	off = first_diff(want, got, LEN);
	if (off >= 0) {
		snprintf(why, whylen, "byte %ld: read 0x%02x, process sees 0x%02x", off, got[off],
			 want[off]);
		return false;
	}
	return true;
}

/*
 * READ an MR registered without IBV_ACCESS_REMOTE_READ. The device must refuse it within the
 * timeout. A device that serves it fails with verdict SERVED: any peer that learns the MR's key
 * can read memory registered for local access only (siw up to at least 6.12 checks no MR
 * permission for READ responses; tests/expectations lists the kernels that still do).
 */
static void no_remote_read_check(struct rp_tp *tp, const char *dev, const char *mode)
{
	unsigned char *other, *got;
	struct ibv_mr *mr;
	const char *step = "";
	char name[64];
	double t0, t;
	int r;

	snprintf(name, sizeof(name), "%s_read_without_remote_read", mode);
	other = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got = malloc(LEN);
	if (other == MAP_FAILED || !got) {
		fprintf(stderr, "transport_smoke: out of memory\n");
		exit(1);
	}
	fill(other, LEN, 3);
	r = rp_tp_reg(tp, other, LEN, IBV_ACCESS_LOCAL_WRITE, &mr);
	if (r) {
		result(false, dev, name, "ibv_reg_mr(LOCAL_WRITE): %s", strerror(-r));
		goto out;
	}
	t0 = now_ms();
	r = rp_tp_read(tp, mr, got, LEN, &step);
	t = now_ms() - t0;
	if (!r && first_diff(other, got, LEN) < 0)
		result(false, dev, name,
		       "SERVED %s returned the contents of an MR registered without IBV_ACCESS_REMOTE_READ",
		       dev);
	else if (!r)
		result(false, dev, name, "READ without REMOTE_READ succeeded with wrong data");
	else if (r != -EIO && r != -ETIMEDOUT)
		result(false, dev, name, "%s: %s, not the READ's refusal", step, strerror(-r));
	else if (t > TIMEOUT_MS + 2000)
		result(false, dev, name, "failed only after %.0f ms", t);
	else
		result(true, dev, name, "%s: %s after %.0f ms", step, strerror(-r), t);
	rp_tp_dereg(tp, mr);
out:
	free(got);
	munmap(other, LEN);
}

/*
 * The READ / change / refused / recover sequence on an open transport; mode is "loopback" or
 * "remote". Runs 4 tests (fewer results are padded by the caller's count).
 */
static void read_checks(struct rp_tp *tp, const char *dev, const char *mode, bool recover)
{
	unsigned char *buf, *got, *other;
	struct ibv_mr *mr = NULL, *moved_mr = NULL;
	char name[64], why[256];
	const char *step = "";
	double t0, t;
	bool ok;
	int i, r;

	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	got = malloc(LEN);
	if (buf == MAP_FAILED || other == MAP_FAILED || !got) {
		fprintf(stderr, "transport_smoke: out of memory\n");
		exit(1);
	}

	/* 1: distinct pattern, read back */
	fill(buf, LEN, 1);
	r = rp_tp_reg(tp, buf, LEN, IBV_ACCESS_REMOTE_READ, &mr);
	snprintf(name, sizeof(name), "%s_read_16k", mode);
	if (r) {
		result(false, dev, name, "ibv_reg_mr(REMOTE_READ): %s", strerror(-r));
	} else {
		ok = read_matches(tp, mr, buf, got, why, sizeof(why));
		t0 = now_ms();
		for (i = 0; ok && i < NREADS; i++)
			ok = read_matches(tp, mr, buf, got, why, sizeof(why));
		t = (now_ms() - t0) / NREADS;
		if (ok)
			result(true, dev, name, NULL);
		else
			result(false, dev, name, "%s", why);
		if (ok)
			printf("# %s %s: one 16 KiB RDMA READ %.2f ms (mean of %d)\n", dev, mode, t,
			       NREADS);
	}

	/* 2: the process changes every page, the READ must see it */
	snprintf(name, sizeof(name), "%s_read_after_change", mode);
	if (!mr) {
		result(false, dev, name, "no MR");
	} else {
		fill(buf, LEN, 2);
		ok = read_matches(tp, mr, buf, got, why, sizeof(why));
		if (ok)
			result(true, dev, name, NULL);
		else
			result(false, dev, name, "%s", why);
	}

	/*
	 * 3: the data comes over RDMA from the pinned pages: replace a registered range with a new
	 * mapping holding another pattern; the MR still pins the old pages, so the READ must return
	 * the old pattern and not what the process now sees at that address.
	 */
	snprintf(name, sizeof(name), "%s_read_through_mr_not_va", mode);
	fill(other, LEN, 6);
	memcpy(got, other, LEN);
	r = rp_tp_reg(tp, other, LEN, IBV_ACCESS_REMOTE_READ, &moved_mr);
	if (r) {
		result(false, dev, name, "ibv_reg_mr(REMOTE_READ): %s", strerror(-r));
	} else if (mmap(other, LEN, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		result(false, dev, name, "mmap(MAP_FIXED): %s", strerror(errno));
	} else {
		unsigned char *pinned = malloc(LEN);
		long off;

		if (!pinned) {
			fprintf(stderr, "transport_smoke: out of memory\n");
			exit(1);
		}
		memcpy(pinned, got, LEN);
		fill(other, LEN, 7);
		r = rp_tp_read(tp, moved_mr, got, LEN, &step);
		off = first_diff(pinned, got, LEN);
		if (r)
			result(false, dev, name, "%s: %s", step, strerror(-r));
		else if (off >= 0)
			result(false, dev, name, "byte %ld: read 0x%02x, pinned page has 0x%02x%s",
			       off, got[off], pinned[off], first_diff(other, got, LEN) < 0 ?
			       " (the process's new page: not read through the MR)" : "");
		else
			result(true, dev, name, NULL);
		free(pinned);
	}

	/* 4: a bad rkey: the READ must fail, and within the timeout */
	snprintf(name, sizeof(name), "%s_read_bad_rkey_fails", mode);
	if (!mr) {
		result(false, dev, name, "no MR");
	} else {
		struct ibv_mr bogus = *mr;

		bogus.rkey ^= 0x5a5a5a00;
		t0 = now_ms();
		r = rp_tp_read(tp, &bogus, got, LEN, &step);
		t = now_ms() - t0;
		if (!r)
			result(false, dev, name, "READ with rkey 0x%x succeeded", bogus.rkey);
		else if (r != -EIO && r != -ETIMEDOUT)
			result(false, dev, name, "%s: %s, not the READ's refusal", step,
			       strerror(-r));
		else if (t > TIMEOUT_MS + 2000)
			result(false, dev, name, "failed only after %.0f ms", t);
		else
			result(true, dev, name, "%s: %s after %.0f ms", step, strerror(-r), t);
	}

	/* 5: loopback reconnects after the error; remote refuses until reopened */
	snprintf(name, sizeof(name), "%s_read_after_error", mode);
	if (!mr) {
		result(false, dev, name, "no MR");
	} else if (recover) {
		fill(buf, LEN, 4);
		t0 = now_ms();
		ok = read_matches(tp, mr, buf, got, why, sizeof(why));
		if (ok)
			result(true, dev, name, "reconnect + READ %.0f ms", now_ms() - t0);
		else
			result(false, dev, name, "%s", why);
	} else {
		r = rp_tp_read(tp, mr, got, LEN, &step);
		result(r == -ENOTCONN, dev, name, "%s: %s", step, strerror(-r));
	}

	/* 6: loopback, reconnected: MR without REMOTE_READ (remote does it on a fresh connection) */
	if (recover)
		no_remote_read_check(tp, dev, mode);
	if (moved_mr) {
		r = rp_tp_dereg(tp, moved_mr);
		if (r)
			printf("# %s: ibv_dereg_mr: %s\n", dev, strerror(-r));
	}
	/* mr is left to rp_tp_close(), which must deregister it */
	free(got);
	munmap(other, LEN);
	munmap(buf, LEN);
}

static int open_timed(const struct rp_tp_opts *o, struct rp_tp **tp, const char **step,
		      double *ms)
{
	double t0 = now_ms(), until = t0 + TIMEOUT_MS;
	int r;

	/* the agent may not listen yet: retry refused connections for a while */
	do {
		r = rp_tp_open(o, tp, step);
		if (r != -ECONNREFUSED || !o->connect_host)
			break;
		usleep(200 * 1000);
	} while (now_ms() < until);
	*ms = now_ms() - t0;
	return r;
}

static struct rp_tp_opts dev_opts(const char *dev, unsigned short port)
{
	struct rp_tp_opts o = { .device = dev, .port = port, .timeout_ms = TIMEOUT_MS,
				.max_len = LEN };
	return o;
}

#define LOOPBACK_TESTS 7
static void loopback_checks(const char *dev, unsigned short port)
{
	struct rp_tp_opts o = dev_opts(dev, port);
	struct rp_tp *tp;
	const char *step = "";
	double ms;
	int r;

	r = open_timed(&o, &tp, &step, &ms);
	if (r) {
		result(false, dev, "loopback_open", "%s: %s", step, strerror(-r));
		return;
	}
	result(true, dev, "loopback_open", "%.0f ms", ms);
	if (strcmp(rp_tp_device(tp), dev))
		printf("# %s: transport reports device %s\n", dev, rp_tp_device(tp));
	read_checks(tp, dev, "loopback", true);
	rp_tp_close(tp);
}

#define REMOTE_TESTS 10
static void remote_checks(const char *dev, unsigned short port)
{
	struct rp_tp_opts o = dev_opts(dev, port);
	unsigned char *b, *g;
	struct ibv_mr *mr;
	struct rp_tp *tp;
	const char *step = "";
	char host[64], why[256] = "";
	double ms, t0, t;
	int r;

	r = rp_tp_device_addr(dev, host, sizeof(host), &step);
	if (r) {
		result(false, dev, "remote_open", "%s: %s", step, strerror(-r));
		return;
	}
	o.connect_host = host;

	/* nobody listens on port + 100: refused, and at once (no retry in open_timed) */
	o.port = (unsigned short)(port + 100);
	t0 = now_ms();
	r = rp_tp_open(&o, &tp, &step);
	t = now_ms() - t0;
	if (!r)
		rp_tp_close(tp);
	result(r == -ECONNREFUSED && t < TIMEOUT_MS, dev, "remote_open_no_agent_refused",
	       "%s: %s after %.0f ms", r ? step : "connected", strerror(-r), t);

	/* an address nobody has: the CM waits must give up within the timeout */
	o.connect_host = "192.0.2.254";
	o.timeout_ms = 2000;
	t0 = now_ms();
	r = rp_tp_open(&o, &tp, &step);
	t = now_ms() - t0;
	if (!r)
		rp_tp_close(tp);
	result(r && t < 3 * o.timeout_ms + 2000, dev, "remote_open_unreachable_bounded",
	       "%s: %s after %.0f ms", r ? step : "connected", strerror(-r), t);

	o = dev_opts(dev, port);
	o.connect_host = host;
	r = open_timed(&o, &tp, &step, &ms);
	if (r) {
		result(false, dev, "remote_open", "%s:%u: %s: %s", host, port, step, strerror(-r));
		return;
	}
	result(true, dev, "remote_open", "%s:%u %.0f ms", host, port, ms);
	read_checks(tp, dev, "remote", false);
	rp_tp_close(tp);

	/* the agent serves connections one after another: a second one must work too */
	r = open_timed(&o, &tp, &step, &ms);
	if (r) {
		result(false, dev, "remote_second_connection", "%s: %s", step, strerror(-r));
		return;
	}
	b = malloc(LEN);
	g = malloc(LEN);
	if (!b || !g) {
		fprintf(stderr, "transport_smoke: out of memory\n");
		exit(1);
	}
	fill(b, LEN, 5);
	r = rp_tp_reg(tp, b, LEN, IBV_ACCESS_REMOTE_READ, &mr);
	if (r)
		snprintf(why, sizeof(why), "ibv_reg_mr(REMOTE_READ): %s", strerror(-r));
	else if (read_matches(tp, mr, b, g, why, sizeof(why)))
		snprintf(why, sizeof(why), "open %.0f ms", ms);
	else
		r = -EIO;
	result(!r, dev, "remote_second_connection", "%s", why);
	no_remote_read_check(tp, dev, "remote");
	rp_tp_close(tp);
	free(b);
	free(g);
}

/*
 * Wait for pid at most ms milliseconds, then SIGKILL it and wait at most 5 s more (lib's
 * rp_reap_status); returns the wait status (a child still there after that, stuck in the
 * kernel, reads as killed by SIGKILL).
 */
static int reap(pid_t pid, int ms, bool *killed)
{
	int status = 0, r;

	r = rp_reap_status(pid, ms, &status, killed);
	if (!r)
		return status;
	fprintf(stderr, "transport_smoke: pid %d not reaped 5 s after SIGKILL: %s\n", (int)pid,
		strerror(-r));
	return SIGKILL;
}

/* Run fn in a forked child; fail the tests it did not get to (crash, hang, early return). */
static void in_child(void (*fn)(const char *, unsigned short), const char *dev,
		     unsigned short port, int ntests, const char *group)
{
	int first = ctr->test_no, status;
	bool killed;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("transport_smoke: fork");
		exit(1);
	}
	if (!pid) {
		fn(dev, port);
		fflush(stdout);
		_exit(0);
	}
	status = reap(pid, 12 * TIMEOUT_MS, &killed);
	while (ctr->test_no - first < ntests) {
		if (killed)
			result(false, dev, group, "killed after %d ms", 12 * TIMEOUT_MS);
		else if (WIFSIGNALED(status))
			result(false, dev, group, "child killed by signal %d", WTERMSIG(status));
		else
			result(false, dev, group, "not reached after an earlier failure");
	}
}

static void device_checks(const char *dev, unsigned short port)
{
	struct rp_tp_opts o = dev_opts(dev, port);
	const char *step = "";
	int r, status;
	bool killed;
	pid_t agent;

	in_child(loopback_checks, dev, port, LOOPBACK_TESTS, "loopback");

	/* the agent, forked from this process that never opened a transport */
	fflush(stdout);
	agent = fork();
	if (agent < 0) {
		perror("transport_smoke: fork");
		exit(1);
	}
	if (!agent) {
		alarm(12 * TIMEOUT_MS / 1000);
		r = rp_tp_serve(&o, NULL, 2, &step);
		if (r)
			fprintf(stderr, "transport_smoke: agent: %s: %s\n", step, strerror(-r));
		_exit(r ? 1 : 0);
	}
	in_child(remote_checks, dev, port, REMOTE_TESTS, "remote");
	/* two connections served (or refused): the agent must now leave on its own */
	status = reap(agent, TIMEOUT_MS, &killed);
	result(!killed && WIFEXITED(status) && !WEXITSTATUS(status), dev, "remote_agent_exit",
	       killed ? "agent still running after two connections" : "wait status 0x%x", status);
}

static void unknown_device_check(const char *dev, unsigned short port)
{
	struct rp_tp_opts o = dev_opts(dev, port);
	struct rp_tp *tp = NULL;
	const char *step = "";
	int r;

	r = rp_tp_open(&o, &tp, &step);
	result(r == -ENODEV && !tp, "any", "open_unknown_device", "%s: %s", step, strerror(-r));
	if (!r)
		rp_tp_close(tp);
}

int main(void)
{
	char devs[MAX_DEVS][IBV_SYSFS_NAME_MAX];
	unsigned long long lim = 0;
	int i, n, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ctr = mmap(NULL, sizeof(*ctr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctr == MAP_FAILED) {
		perror("transport_smoke: mmap");
		return 1;
	}
	printf("KTAP version 1\n");
	r = rp_memlock_raise(4 * LEN, &lim);
	if (r)
		printf("# RLIMIT_MEMLOCK is %llu bytes: %s\n", lim, strerror(-r));
	n = rp_list_devices(devs, MAX_DEVS);
	if (n < 0) {
		printf("1..0 # SKIP ibv_get_device_list: %s\n", strerror(-n));
		return 4;
	}
	if (!n) {
		printf("1..0 # SKIP no RDMA devices\n");
		return 4;
	}
	printf("1..%d\n", 1 + n * (LOOPBACK_TESTS + REMOTE_TESTS + 1));

	in_child(unknown_device_check, "rdmapin_nodev0", 0, 1, "open_unknown_device");
	for (i = 0; i < n; i++)
		device_checks(devs[i], (unsigned short)(RP_TP_DEFAULT_PORT + 1 + i));

	printf("# %d passed, %d failed\n", ctr->test_no - ctr->failed, ctr->failed);
	return ctr->failed ? 1 : 0;
}
