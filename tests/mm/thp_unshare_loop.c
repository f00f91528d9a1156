// SPDX-License-Identifier: GPL-2.0
/*
 * thp_unshare_loop.c - does a read-only long-term pin of a PMD-mapped page-cache THP in a
 * private mapping finish?
 *
 * A R/O FOLL_LONGTERM pin in a COW mapping must unshare a page-cache page (it must not pin a
 * page the process's next write COWs away). For a page-cache THP mapped by a PMD the unshare
 * fault (FAULT_FLAG_UNSHARE) cannot copy at PMD level: wp_huge_pmd() splits the PMD, which for
 * a file THP means zapping it, and returns VM_FAULT_FALLBACK; the PTE-level fault then finds
 * nothing mapped and, not being a write fault, goes to do_read_fault(), whose finish_fault()
 * (or filemap_map_pages() fault-around) maps the very same THP by a PMD again through
 * do_set_pmd(). GUP retries, finds the R/O PMD, asks to unshare again: forever. The task
 * stays killable (GUP checks fatal signals on every retry); /proc/vmstat thp_split_pmd grows
 * by the hundred thousand per second. Seen on Debian's 6.12.117; upstream report "Possible
 * regression in pin_user_pages_fast() behavior after commit 7ac67301e82f" (linux-ext4,
 * Oct 2025), posted fix "mm: do not install PMD mappings when handling a COW fault" (v2,
 * 24 Oct 2025, Fixes: a7f226604170). The rdmapin 6.1 series refuses the PMD in do_set_pmd()
 * under FAULT_FLAG_UNSHARE.
 *
 * The pin, in a child process so that a livelock can be killed:
 *  - /sys/kernel/debug/gup_test (CONFIG_GUP_TEST) PIN_LONGTERM_BENCHMARK with gup_flags 0:
 *    pin_user_pages(FOLL_LONGTERM) without FOLL_WRITE (the cmd also exists on 6.1, unlike
 *    PIN_LONGTERM_TEST_START); debugfs is mounted if it is not;
 *  - else, with -d DEV (or -m ibv), ibv_reg_mr(IBV_ACCESS_REMOTE_READ) on that RDMA device
 *    (what a read-only MR does on a kernel whose drivers no longer force a write).
 * The THP: lib's shmem_thp_private backing (lib/mapping.h): a one-THP file on a tmpfs mounted
 * huge=always (as root, on a private temporary directory in a private mount namespace,
 * detached once the file is open), else /dev/shm if it is huge already; mapped PMD-aligned
 * MAP_PRIVATE|PROT_READ and read-faulted; checked from /proc/kpageflags (THP, not anon) and
 * smaps ShmemPmdMapped.
 *
 * Exit (kselftest): 0 the pin finished, 1 it was still running after -t seconds (or failed,
 * or the child could not be killed), 4 setup impossible (the reason is printed), 2 bad usage.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mapping.h"
#include "memlock.h"
#include "probe.h"


/* mm/gup_test.h (6.1 and 6.12 agree on this part) */
struct gup_test {
	uint64_t get_delta_usec;
	uint64_t put_delta_usec;
	uint64_t addr;
	uint64_t size;
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	uint32_t which_pages[8];
};
#define PIN_LONGTERM_BENCHMARK _IOWR('g', 3, struct gup_test)
#define GUP_TEST_PATH "/sys/kernel/debug/gup_test"

/* everything the child says goes through this pipe as one line */
static int report_fd = -1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(report_fd, buf, n) != n)
		_exit(3);
}

static int gup_test_open(void)
{
	int fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && geteuid() == 0) {
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		fd = open(GUP_TEST_PATH, O_RDWR | O_CLOEXEC);
	}
	return fd;
}

/* The child: make the THP mapping, check it, say "ready", pin, say the result. */
static void child(const char *method, const char *dev)
{
	struct ibv_device **list = NULL;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	struct timespec t0, t1;
	char why[200], desc[200];
	struct rp_map m;
	int gfd = -1, ret, n;

	if (!strcmp(method, "gup_test")) {
		gfd = gup_test_open();
		if (gfd < 0) {
			say("setup %s: %s (CONFIG_GUP_TEST?); give an RDMA device with -d", GUP_TEST_PATH,
			    strerror(errno));
			_exit(4);
		}
	} else {
		rp_memlock_raise(0, NULL);
		list = ibv_get_device_list(&n);
		for (int i = 0; list && i < n; i++)
			if (!strcmp(ibv_get_device_name(list[i]), dev))
				ctx = ibv_open_device(list[i]);
		pd = ctx ? ibv_alloc_pd(ctx) : NULL;
		if (!pd) {
			say("setup RDMA device %s: %s", dev, ctx ? "ibv_alloc_pd failed" : "not found");
			_exit(4);
		}
	}
	/*
	 * lib's shmem_thp_private: a one-THP file on a huge=always tmpfs, mapped PMD-aligned
	 * MAP_PRIVATE|PROT_READ and read-faulted; rp_map_check() verifies from kpageflags (THP, not
	 * anon), contiguous aligned PFNs and smaps ShmemPmdMapped that a PMD maps a page-cache THP.
	 */
	ret = rp_map_create(&m, RP_B_SHMEM_THP_PRIVATE, 1, 1, 1000, why, sizeof(why));
	if (!ret)
		ret = rp_map_make_ro(&m);
	if (!ret)
		ret = rp_map_check(&m, why, sizeof(why));
	if (ret) {
		say("setup not a PMD-mapped page-cache THP: %s", why);
		_exit(4);
	}
	rp_map_describe(&m, desc, sizeof(desc));
	/* the count right before the pin: the parent may read the line after the first split */
	say("ready %lld %s, MAP_PRIVATE|PROT_READ; pinning with %s", rp_vmstat("thp_split_pmd"),
	    desc, method);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (gfd >= 0) {
		struct gup_test g = {
			.addr = (uintptr_t)m.addr, .size = m.len,
			.nr_pages_per_call = (uint32_t)(m.len / rp_page_size()),
			.gup_flags = 0, /* no FOLL_WRITE: a read-only FOLL_LONGTERM pin */
		};

		ret = ioctl(gfd, PIN_LONGTERM_BENCHMARK, &g) ? -errno : 0;
	} else {
		mr = ibv_reg_mr(pd, m.addr, m.len, IBV_ACCESS_REMOTE_READ);
		ret = mr ? 0 : -(errno ?: EIO);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	say("done %d %ld", ret, (long)((t1.tv_sec - t0.tv_sec) * 1000 +
				       (t1.tv_nsec - t0.tv_nsec) / 1000000));
	if (mr)
		ibv_dereg_mr(mr);
	_exit(0);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* read one line from fd within deadline_ms; 1 got it, 0 timeout, -1 EOF */
static int read_line(int fd, char *buf, size_t len, long deadline)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left > 100 ? 100 : left)) < 0)
			return 0;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, buf + got, 1);
		if (n <= 0)
			return -1;
		if (buf[got] == '\n') {
			buf[got] = 0;
			return 1;
		}
		got++;
	}
	buf[got] = 0;
	return 1;
}

static bool reap(pid_t pid, int *status, int ms)
{
	long end = now_ms() + ms;

	while (now_ms() < end) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' }, { "device", required_argument, NULL, 'd' },
		{ "method", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = NULL, *method = NULL;
	long long s0, s1;
	char line[512], *desc;
	int secs = 10, p[2], c, status = 0, r;
	long t0;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "t:d:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			secs = atoi(optarg);
			if (secs < 1 || secs > 3600) {
				fprintf(stderr, "thp_unshare_loop: -t wants 1..3600 seconds\n");
				return 2;
			}
			break;
		case 'd':
			dev = optarg;
			break;
		case 'm':
			method = optarg;
			if (strcmp(method, "gup_test") && strcmp(method, "ibv")) {
				fprintf(stderr, "thp_unshare_loop: -m is gup_test or ibv\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: thp_unshare_loop [-t SECONDS] [-m gup_test|ibv] [-d RDMA_DEVICE]\n"
			       "R/O long-term pin of a PMD-mapped page-cache THP in a private mapping:\n"
			       "exit 0 it finished, 1 still spinning after SECONDS (default 10) or\n"
			       "failed, 4 cannot set up\n");
			return 0;
		default:
			fprintf(stderr, "thp_unshare_loop: bad usage (see -h)\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "thp_unshare_loop: unexpected argument '%s' (see -h)\n", argv[optind]);
		return 2;
	}
	if (!method) {
		int fd = gup_test_open();

		method = fd >= 0 || !dev ? "gup_test" : "ibv";
		if (fd >= 0)
			close(fd);
	}
	if (!strcmp(method, "ibv") && !dev) {
		fprintf(stderr, "thp_unshare_loop: -m ibv needs -d DEVICE\n");
		return 2;
	}
	if (pipe2(p, O_CLOEXEC))
		return 4;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 4;
	if (!pid) {
		close(p[0]);
		report_fd = p[1];
		child(method, dev);
	}
	close(p[1]);
	r = read_line(p[0], line, sizeof(line), now_ms() + 30000);
	if (r <= 0 || strncmp(line, "ready ", 6)) {
		printf("# SKIP %s\n", r > 0 && !strncmp(line, "setup ", 6) ? line + 6 :
		       "the child died or hung during setup");
		kill(pid, SIGKILL);
		reap(pid, &status, 5000);
		return 4;
	}
	s0 = strtoll(line + 6, &desc, 10);
	printf("# %s\n", desc + (*desc == ' '));
	t0 = now_ms();
	r = read_line(p[0], line, sizeof(line), t0 + secs * 1000L);
	s1 = rp_vmstat("thp_split_pmd");
	if (r > 0 && !strncmp(line, "done ", 5)) {
		int ret = 0;
		long ms = 0;

		sscanf(line + 5, "%d %ld", &ret, &ms);
		reap(pid, &status, 5000);
		printf("# the pin returned %s after %ld ms; thp_split_pmd +%lld\n",
		       ret ? strerror(-ret) : "success", ms, s0 >= 0 ? s1 - s0 : -1);
		printf("%s thp_unshare_loop\n", ret ? "not ok 1" : "ok 1");
		return ret ? 1 : 0;
	}
	if (r < 0) {
		reap(pid, &status, 5000);
		printf("# the pinning child died (%s %d)\nnot ok 1 thp_unshare_loop\n",
		       WIFSIGNALED(status) ? "signal" : "exit",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return 1;
	}
	printf("# still pinning after %d s: thp_split_pmd +%lld (%lld/s): the unshare fault "
	       "splits the PMD, the read fault maps the THP by a PMD again\n", secs,
	       s0 >= 0 ? s1 - s0 : -1, s0 >= 0 ? (s1 - s0) / secs : -1);
	kill(pid, SIGKILL);
	t0 = now_ms();
	if (!reap(pid, &status, 5000))
		printf("# the child did not die within 5 s of SIGKILL: not killable\n");
	else
		printf("# SIGKILL ended it after %ld ms (the loop is killable)\n", now_ms() - t0);
	printf("not ok 1 thp_unshare_loop\n");
	return 1;
}
