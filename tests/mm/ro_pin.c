// SPDX-License-Identifier: GPL-2.0
/*
 * ro_pin - check what a R/O long-term pin (ibv_reg_mr without write access)
 * pins in COW and shared mappings, using pagemap instead of RDMA READ.
 *
 * For every case: map, read-fault (or otherwise populate), clear soft-dirty,
 * register an MR with IBV_ACCESS_REMOTE_READ only, look at the PFN, then make
 * the process write the memory (mprotect + store, /proc/self/mem for the
 * FOLL_FORCE case, pwrite for the shared file) and look again. If the PFN the process maps
 * changed after registration, the MR pins a page the process no longer maps:
 * STALE. Also report soft-dirty / uffd-wp bits and uffd-wp events.
 *
 * A R/O long-term pin must end up on an exclusive anonymous page in every COW
 * mapping (never-written anon = shared zeropage, THP huge zeropage, anon shared
 * with a child, tmpfs / memfd / hugetlb MAP_PRIVATE) and leave the page cache
 * page of a MAP_SHARED mapping alone, without setting soft-dirty, dropping
 * uffd-wp bits or raising uffd-wp events. On a kernel with the driver patches
 * but without the mm patches (drivers-only), the COW cases report STALE.
 *
 * Needs root (pagemap PFNs), RLIMIT_MEMLOCK, an RDMA device (rxe/siw), two
 * free 2 MiB huge pages for the hugetlb case. shmem_thp_private only gets a
 * page cache THP on kernels with CONFIG_BASE_FULL (MAX_PAGECACHE_ORDER).
 *
 * Build: gcc -O2 -Wall -Wextra -o ro_pin ro_pin.c -libverbs
 * Output: KTAP, exit 0 pass, 1 fail, 4 skip, 2 bad usage.
 * Usage: ro_pin [DEVICE [CASE_TIMEOUT_S]]: each case runs in a forked child with its own device
 * context; one still running after CASE_TIMEOUT_S (default 20) is killed and fails as TIMEOUT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <linux/memfd.h>
#include <linux/userfaultfd.h>
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_UFFD_WP	(1ULL << 57)
#define PM_PRESENT	(1ULL << 63)
#define SZ_2M		(2UL << 20)

static size_t pagesize;
static struct ibv_pd *pd;
static int test_nr;
static int failed;

static uint64_t pagemap(void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)addr / pagesize * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	return ent;
}

static void clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "4", 1) != 1)
			perror("clear_refs");
		close(fd);
	}
}

static void *align_2m(size_t len)
{
	char *p = mmap(NULL, len + SZ_2M, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return (void *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
}

static int file_with_data(int fd, size_t len)
{
	char *buf = malloc(len);
	int ret;

	memset(buf, 0x5a, len);
	ret = pwrite(fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
	free(buf);
	return ret;
}

enum kind { ANON_ZERO, ANON_THP_ZERO, ANON_FORK, TMPFS_PRIV, MEMFD_PRIV,
	    SHMEM_THP_PRIV, HUGETLB_PRIV, FILE_SHARED_RO, ANON_ZERO_UFFD_WP,
	    ANON_ZERO_PROCMEM, TMPFS_PRIV_UFFD_WP, HUGETLB_PRIV_UFFD_WP };
static const char *const names[] = {
	"anon_zero", "anon_thp_zero", "anon_fork", "tmpfs_private",
	"memfd_private", "shmem_thp_private", "hugetlb_private",
	"file_shared_ro", "anon_zero_uffd_wp", "anon_zero_procmem",
	"tmpfs_private_uffd_wp", "hugetlb_private_uffd_wp",
};

static bool is_uffd_wp(enum kind k)
{
	return k == ANON_ZERO_UFFD_WP || k == TMPFS_PRIV_UFFD_WP ||
	       k == HUGETLB_PRIV_UFFD_WP;
}

/* Returns the mapping; *len set; *fdp for cleanup. NULL + skip reason. */
static char *setup(enum kind k, size_t *len, int *fdp, pid_t *child,
		   int *uffd, const char **skip)
{
	char *p = NULL;
	int fd = -1;

	*len = 4 * pagesize;
	switch (k) {
	case ANON_ZERO:
	case ANON_ZERO_UFFD_WP:
	case ANON_ZERO_PROCMEM:
		p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		break;
	case ANON_THP_ZERO:
		*len = SZ_2M;
		p = align_2m(*len);
		if (!p)
			break;
		p = mmap(p, *len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_FIXED, -1, 0);
		if (p != MAP_FAILED && madvise(p, *len, MADV_HUGEPAGE))
			*skip = "MADV_HUGEPAGE failed";
		break;
	case ANON_FORK:
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 0x5a, *len);
		*child = fork();
		if (*child == 0) {
			pause();
			_exit(0);
		}
		break;
	case TMPFS_PRIV:
	case TMPFS_PRIV_UFFD_WP:
		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
		goto file;
	case MEMFD_PRIV:
		fd = memfd_create("ro_pin", 0);
		goto file;
	case SHMEM_THP_PRIV:
		*len = SZ_2M;
		mkdir("/tmp/ro_pin_huge", 0700);
		if (mount("none", "/tmp/ro_pin_huge", "tmpfs", 0,
			  "huge=always")) {
			*skip = "cannot mount tmpfs huge=always";
			return NULL;
		}
		fd = open("/tmp/ro_pin_huge", O_TMPFILE | O_RDWR, 0600);
		umount2("/tmp/ro_pin_huge", MNT_DETACH);
		goto file;
	case HUGETLB_PRIV:
	case HUGETLB_PRIV_UFFD_WP:
		*len = SZ_2M;
		fd = memfd_create("ro_pin_huge", MFD_HUGETLB);
		if (fd < 0) {
			*skip = "no hugetlb memfd";
			return NULL;
		}
		/* populate the page cache through a shared mapping */
		if (ftruncate(fd, *len))
			break;
		p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			*skip = "no free huge pages";
			close(fd);
			return NULL;
		}
		memset(p, 0x5a, *len);
		munmap(p, *len);
		p = align_2m(*len);
		p = mmap(p, *len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
		break;
	case FILE_SHARED_RO:
		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
		if (fd < 0 || file_with_data(fd, *len))
			break;
		p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
		break;
	}
	goto out;
file:
	p = NULL;
	if (fd >= 0 && !file_with_data(fd, *len))
		p = align_2m(*len);
	if (!p) {
		*skip = "cannot create file";
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(p, *len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
out:
	*fdp = fd;
	if (p == MAP_FAILED || !p) {
		if (!*skip)
			*skip = strerror(errno);
		return NULL;
	}
	if (is_uffd_wp(k)) {
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg = {
			.range = { (uintptr_t)p, *len },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		struct uffdio_writeprotect wp = {
			.range = { (uintptr_t)p, *len },
			.mode = UFFDIO_WRITEPROTECT_MODE_WP,
		};
		volatile char c;

		for (size_t i = 0; i < *len; i += pagesize)
			c = p[i];
		(void)c;
		*uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		if (*uffd < 0 || ioctl(*uffd, UFFDIO_API, &api) ||
		    ioctl(*uffd, UFFDIO_REGISTER, &reg) ||
		    ioctl(*uffd, UFFDIO_WRITEPROTECT, &wp)) {
			*skip = "userfaultfd wp unavailable";
			return p;
		}
	}
	return p;
}

static int uffd_events(int uffd)
{
	struct uffd_msg msg;
	int n = 0;

	while (read(uffd, &msg, sizeof(msg)) == sizeof(msg))
		n++;
	return n;
}

static void run(enum kind k)
{
	const char *skip = NULL, *verdict, *bad = NULL;
	uint64_t before, reg, after;
	int fd = -1, uffd = -1, sd = 0, wp = 0, events = -1;
	pid_t child = 0;
	struct ibv_mr *mr;
	size_t len, i;
	volatile char c;
	char *p;

	test_nr++;
	p = setup(k, &len, &fd, &child, &uffd, &skip);
	if (!p || skip) {
		printf("ok %d %s # SKIP %s\n", test_nr, names[k], skip);
		goto out;
	}
	for (i = 0; i < len; i += pagesize)
		c = p[i];
	(void)c;
	clear_soft_dirty();
	before = pagemap(p);
	if (!(before & PM_PRESENT) || !(before & PM_PFN_MASK)) {
		printf("ok %d %s # SKIP no PFN in pagemap (needs CAP_SYS_ADMIN)\n",
		       test_nr, names[k]);
		goto out;
	}

	mr = ibv_reg_mr(pd, p, len, IBV_ACCESS_REMOTE_READ);
	if (!mr) {
		printf("not ok %d %s # REFUSED reg_mr: %s\n", test_nr, names[k],
		       strerror(errno));
		failed++;
		goto out;
	}
	reg = pagemap(p);
	for (i = 0; i < len; i += pagesize) {
		uint64_t e = pagemap(p + i);

		sd += !!(e & PM_SOFT_DIRTY);
		wp += !!(e & PM_UFFD_WP);
	}
	if (uffd >= 0)
		events = uffd_events(uffd);

	/* The process writes: as a store or through /proc/self/mem. */
	if (k == FILE_SHARED_RO) {
		char b = 0x33;

		if (pwrite(fd, &b, 1, 0) != 1)
			perror("pwrite");
	} else if (is_uffd_wp(k)) {
		struct uffdio_writeprotect un = {
			.range = { (uintptr_t)p, len }, .mode = 0,
		};

		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &un))
			perror("UFFDIO_WRITEPROTECT");
		mprotect(p, len, PROT_READ | PROT_WRITE);
		p[0] = 0x33;
	} else if (k != ANON_ZERO_PROCMEM) {
		if (mprotect(p, len, PROT_READ | PROT_WRITE))
			perror("mprotect");
		p[0] = 0x33;
	} else {
		int mfd = open("/proc/self/mem", O_RDWR);
		char b = 0x33;

		/* FOLL_FORCE|FOLL_WRITE must still work on R/O mappings. */
		if (mfd < 0 || pwrite(mfd, &b, 1, (uintptr_t)p) != 1)
			perror("pwrite /proc/self/mem");
		close(mfd);
		if (p[0] != 0x33)
			printf("# %s: /proc/self/mem write not visible\n",
			       names[k]);
	}
	after = pagemap(p);

	if ((reg & PM_PFN_MASK) != (after & PM_PFN_MASK))
		verdict = "STALE";
	else
		verdict = "COHERENT";
	printf("# %-18s pfn before=%#llx reg=%#llx after=%#llx soft_dirty=%d uffd_wp_bits=%d uffd_events=%d %s\n",
	       names[k], (unsigned long long)(before & PM_PFN_MASK),
	       (unsigned long long)(reg & PM_PFN_MASK),
	       (unsigned long long)(after & PM_PFN_MASK), sd, wp, events,
	       verdict);
	/* the first broken promise names the failure: the suite's expectations match it */
	if (strcmp(verdict, "COHERENT"))
		bad = verdict;
	else if (sd)
		bad = "SOFT_DIRTY registration set soft-dirty";
	else if (events > 0)
		bad = "UFFD_EVENT registration raised uffd-wp faults";
	else if (is_uffd_wp(k) && wp != (int)(len / pagesize))
		bad = "UFFD_WP_LOST the unshared pages lost their uffd-wp bit";
	if (bad) {
		printf("not ok %d %s # %s\n", test_nr, names[k], bad);
		failed++;
	} else {
		printf("ok %d %s\n", test_nr, names[k]);
	}
	ibv_dereg_mr(mr);
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (p)
		munmap(p, len);
	if (fd >= 0)
		close(fd);
	if (uffd >= 0)
		close(uffd);
}

/* /proc/vmstat's thp_split_pmd: how often a PMD-mapped THP was split (a livelock shows). */
static long long thp_split_pmd(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "thp_split_pmd %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!name || !strcmp(name, ibv_get_device_name(list[i]))) {
			ctx = ibv_open_device(list[i]);
			break;
		}
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

/*
 * One case in a forked child with its own device context, so that a registration that never
 * returns (an unshare fault that loops) costs that case only: the parent kills it after
 * case_timeout seconds and reports it. Returns 1 if the case failed.
 */
static int run_forked(enum kind k, const char *dev, int case_timeout)
{
	long long split0 = thp_split_pmd(), split1;
	int status, waited_ms = 0, nr = k + 1;
	pid_t pid;

	test_nr = k;	/* run() counts the case itself */
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("not ok %d %s # fork: %s\n", nr, names[k], strerror(errno));
		return 1;
	}
	if (pid == 0) {
		struct ibv_context *ctx = open_device(dev);

		if (!ctx || !(pd = ibv_alloc_pd(ctx))) {
			printf("not ok %d %s # cannot open %s in the case's process\n",
			       nr, names[k], dev ? dev : "the RDMA device");
			_exit(1);
		}
		run(k);
		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited_ms >= case_timeout * 1000) {
			split1 = thp_split_pmd();
			kill(pid, SIGKILL);
			/* SIGKILL ends even a task looping in the fault handler (it is killable) */
			for (waited_ms = 0; waited_ms < 10000; waited_ms += 10) {
				if (waitpid(pid, &status, WNOHANG) == pid)
					break;
				usleep(10000);
			}
			printf("# %-18s registration still running after %ds: killed%s; thp_split_pmd grew by %lld\n",
			       names[k], case_timeout, waited_ms >= 10000 ? " (and still there 10s later)" : "",
			       split0 >= 0 && split1 >= 0 ? split1 - split0 : -1LL);
			printf("not ok %d %s # TIMEOUT\n", nr, names[k]);
			return 1;
		}
		usleep(10000);
		waited_ms += 10;
	}
	if (WIFSIGNALED(status)) {
		printf("not ok %d %s # the case's process died of signal %d\n", nr, names[k],
		       WTERMSIG(status));
		return 1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx;
	const char *dev = argc > 1 ? argv[1] : NULL;
	int i, nfailed = 0, case_timeout = 20;
	char *end;

	if (argc > 2) {
		case_timeout = (int)strtol(argv[2], &end, 10);
		if (*end || case_timeout < 1 || case_timeout > 3600) {
			fprintf(stderr, "ro_pin: timeout '%s': want 1..3600 seconds\n", argv[2]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pagesize = sysconf(_SC_PAGESIZE);
	printf("KTAP version 1\n");
	ctx = open_device(dev);
	if (!ctx) {
		printf("1..0 # SKIP no RDMA device%s%s\n", dev ? " " : "", dev ? dev : "");
		return 4;
	}
	printf("# device %s, %ds per case\n", ibv_get_device_name(ctx->device), case_timeout);
	ibv_close_device(ctx);
	printf("1..%zu\n", sizeof(names) / sizeof(names[0]));
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		nfailed += run_forked(i, dev, case_timeout);
	printf("# %d passed, %d failed\n", (int)(sizeof(names) / sizeof(names[0])) - nfailed,
	       nfailed);
	return nfailed ? 1 : 0;
}
