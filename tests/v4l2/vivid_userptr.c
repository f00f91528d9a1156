// SPDX-License-Identifier: GPL-2.0
/*
 * vivid-userptr - how videobuf2 pins V4L2 USERPTR buffers, seen from userspace through the
 * virtual vivid driver.
 *
 * Linux 6.1's get_vaddr_frames() (drivers/media/common/videobuf2/frame_vector.c) pins every
 * USERPTR buffer with FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM. Upstream 6.2 pins with FOLL_WRITE
 * only when the device writes the buffer (capture) and never with FOLL_FORCE. On a correct
 * (6.2+) kernel therefore:
 *   - an OUTPUT buffer (the device reads it) over read-only MAP_PRIVATE memory is accepted: a
 *     read-only long-term pin, which unshares whatever the COW mapping maps (the shared
 *     zeropage, page-cache pages); over read-only MAP_SHARED memory it is accepted too;
 *   - a CAPTURE buffer (the device writes it) over PROT_READ memory is refused with EFAULT.
 * 6.1 accepts the capture buffer over private PROT_READ memory by forcing a COW (FOLL_FORCE
 * bypasses the VMA's permissions, and the device then writes memory the process mapped
 * read-only), and refuses the output buffer over shared PROT_READ memory. A kernel that keeps
 * FOLL_WRITE but drops FOLL_FORCE refuses every output buffer over read-only memory.
 *
 * Cases are rows of a table {name, direction, backing, expectation on a correct kernel}. Each
 * runs in a forked child bounded by --timeout: open the vivid node, G_FMT for sizeimage,
 * REQBUFS USERPTR (count 1; vivid raises it to the 2 buffers it needs queued to stream), map
 * the backing for each buffer, fill it with a pattern before protecting it, QBUF. The verdict
 * is QBUF's answer for the first buffer. An accepted buffer is also streamed: STREAMON, poll
 * (bounded), DQBUF, STREAMOFF; for capture, the bytes the device wrote are counted.
 *
 * Nodes: the first vivid instance's "vivid-NNN-vid-cap" and "vivid-NNN-vid-out", found through
 * /sys/class/video4linux/videoN/name, single-planar (vivid's default multiplanar=1), with
 * STREAMING and USERPTR (vivid's default allocators=0, vmalloc).
 *
 * Output: KTAP version 1, one test per case. Exit (kselftest): 0 all pass, 1 any fail, 4 all
 * skipped (no vivid: "1..0 # SKIP"), 2 bad usage.
 * --inject FAULT makes every case hit a fault (vivid's error-injection controls, or a child
 * that hangs or crashes), so that each failure path of the harness can be seen to fail.
 * Usage: vivid-userptr [--list] [--case GLOB]... [--timeout S] [--inject FAULT] [--help]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "reap.h"

#define VU_MAX_BUFS	8
#define VU_MAX_GLOBS	16
#define VU_TIMEOUT_MAX	600

/* ---- the case table ------------------------------------------------------------------- */

enum vu_dir { VU_OUTPUT, VU_CAPTURE };

enum vu_backing {
	VU_ANON_PRIVATE_RW,	/* control: private anonymous, PROT_READ|PROT_WRITE, populated */
	VU_ANON_PRIVATE_RO,	/* private anonymous, filled, then mprotect(PROT_READ) */
	VU_ANON_ZERO_RO,	/* private anonymous PROT_READ, never written: the zeropage */
	VU_TMPFS_PRIVATE_RO,	/* tmpfs (memfd) file with data, MAP_PRIVATE PROT_READ */
	VU_ANON_SHARED_RO,	/* shared anonymous (shmem), filled, then mprotect(PROT_READ) */
};

enum vu_expect { VU_ACCEPTED, VU_REFUSED };

struct vu_case {
	const char *name;
	enum vu_dir dir;
	enum vu_backing backing;
	enum vu_expect expect;	/* on a correct (6.2+) kernel; refused means EFAULT */
	const char *why;	/* what a correct kernel does, for the diagnostic of a failure */
};

static const struct vu_case cases[] = {
	{ "output.anon_private_rw", VU_OUTPUT, VU_ANON_PRIVATE_RW, VU_ACCEPTED,
	  "control: writable private memory" },
	{ "output.anon_private_ro", VU_OUTPUT, VU_ANON_PRIVATE_RO, VU_ACCEPTED,
	  "the device only reads: a read-only long-term pin" },
	{ "output.anon_zero_ro", VU_OUTPUT, VU_ANON_ZERO_RO, VU_ACCEPTED,
	  "the device only reads: a read-only long-term pin unshares the zeropage" },
	{ "output.tmpfs_private_ro", VU_OUTPUT, VU_TMPFS_PRIVATE_RO, VU_ACCEPTED,
	  "the device only reads: a read-only long-term pin unshares the page cache" },
	{ "output.anon_shared_ro", VU_OUTPUT, VU_ANON_SHARED_RO, VU_ACCEPTED,
	  "the device only reads: a read-only pin of shared memory" },
	{ "capture.anon_private_rw", VU_CAPTURE, VU_ANON_PRIVATE_RW, VU_ACCEPTED,
	  "control: writable private memory" },
	{ "capture.anon_private_ro", VU_CAPTURE, VU_ANON_PRIVATE_RO, VU_REFUSED,
	  "the device would write memory the process mapped PROT_READ" },
	{ "capture.anon_zero_ro", VU_CAPTURE, VU_ANON_ZERO_RO, VU_REFUSED,
	  "the device would write memory the process mapped PROT_READ" },
	{ "capture.tmpfs_private_ro", VU_CAPTURE, VU_TMPFS_PRIVATE_RO, VU_REFUSED,
	  "the device would write memory the process mapped PROT_READ" },
	{ "capture.anon_shared_ro", VU_CAPTURE, VU_ANON_SHARED_RO, VU_REFUSED,
	  "the device would write memory the process mapped PROT_READ" },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *const dir_node_suffix[] = {
	[VU_OUTPUT] = "vid-out", [VU_CAPTURE] = "vid-cap",
};
static const char *const dir_text[] = {
	[VU_OUTPUT] = "video output", [VU_CAPTURE] = "video capture",
};

static enum v4l2_buf_type buf_type(enum vu_dir d)
{
	return d == VU_OUTPUT ? V4L2_BUF_TYPE_VIDEO_OUTPUT : V4L2_BUF_TYPE_VIDEO_CAPTURE;
}

/* ---- backings ------------------------------------------------------------------------- */

/* What the process puts in the buffer: a position-dependent pattern, zeros for the zeropage. */
static uint8_t pattern_byte(enum vu_backing b, size_t i)
{
	return b == VU_ANON_ZERO_RO ? 0 : (uint8_t)(0x5a ^ (i * 31 + i / 4096));
}

static void pattern_fill(enum vu_backing b, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(b, i);
}

/* Read-fault every page. */
static void populate_read(const uint8_t *p, size_t len)
{
	size_t i, pg = (size_t)sysconf(_SC_PAGESIZE);

	for (i = 0; i < len; i += pg)
		(void)*(volatile const uint8_t *)(p + i);
}

/* Map LEN bytes (page aligned) of backing B into *out. Returns 0 or -errno; *what names the
 * call that failed. */
static int backing_map(enum vu_backing b, size_t len, uint8_t **out, const char **what)
{
	uint8_t *p = MAP_FAILED;
	int fd, err;

	switch (b) {
	case VU_ANON_PRIVATE_RW:
	case VU_ANON_PRIVATE_RO:
	case VU_ANON_SHARED_RO:
		*what = "mmap";
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS |
			 (b == VU_ANON_SHARED_RO ? MAP_SHARED : MAP_PRIVATE), -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		pattern_fill(b, p, len);
		if (b != VU_ANON_PRIVATE_RW && mprotect(p, len, PROT_READ)) {
			err = -errno;
			*what = "mprotect";
			munmap(p, len);
			return err;
		}
		break;
	case VU_ANON_ZERO_RO:
		*what = "mmap";
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		populate_read(p, len);
		break;
	case VU_TMPFS_PRIVATE_RO:
		*what = "memfd_create";
		fd = memfd_create("vivid-userptr", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		*what = "ftruncate";
		if (ftruncate(fd, (off_t)len))
			goto file_err;
		/* the data goes into the page cache through a shared mapping */
		*what = "mmap(MAP_SHARED)";
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			goto file_err;
		pattern_fill(b, p, len);
		munmap(p, len);
		*what = "mmap(MAP_PRIVATE, PROT_READ)";
		p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			goto file_err;
		close(fd);
		populate_read(p, len);
		break;
	file_err:
		err = -errno;
		close(fd);
		return err;
	}
	*out = p;
	return 0;
}


/* ---- one case, in a child ------------------------------------------------------------- */

/* What the child saw, sent to the parent through a pipe in one write. */
struct vu_obs {
	int setup_err;		/* 0, or errno of the setup step "step" (nothing judged) */
	int qbuf_errno;		/* the verdict: 0 accepted, else the first buffer's QBUF errno */
	int stream_err;		/* accepted: 0 streamed, else errno of "step" (ETIME: poll) */
	char step[48];
	unsigned int nbufs;	/* buffers REQBUFS gave */
	unsigned int sizeimage;
	unsigned int dq_index;
	unsigned int bytesused;
	long dq_ms;		/* STREAMON to DQBUF */
	long changed;		/* capture: bytes of the dequeued buffer unlike the pattern */
	long first_change;	/* offset of the first, -1 none */
};

/* ---- fault injection (--inject): the harness's own failure paths, on purpose ---------- */

enum vu_inject { VU_INJ_NONE, VU_INJ_QBUF_ERROR, VU_INJ_STREAMON_ERROR, VU_INJ_DROP,
		 VU_INJ_BUF_ERROR, VU_INJ_HANG, VU_INJ_CRASH };

static const struct {
	const char *name;
	const char *ctrl;	/* vivid's error-injection control, by name; NULL: none */
	int value;
	const char *what;
} injects[] = {
	[VU_INJ_NONE]		= { "none", NULL, 0, "nothing (default)" },
	[VU_INJ_QBUF_ERROR]	= { "qbuf-error", "Inject VIDIOC_QBUF Error", 1,
				    "vivid fails the first QBUF that gets past the pin (EINVAL)" },
	[VU_INJ_STREAMON_ERROR]	= { "streamon-error", "Inject VIDIOC_STREAMON Error", 1,
				    "vivid fails STREAMON" },
	[VU_INJ_DROP]		= { "drop", "Percentage of Dropped Buffers", 100,
				    "vivid drops every buffer: poll times out" },
	[VU_INJ_BUF_ERROR]	= { "buf-error", "Inject V4L2_BUF_FLAG_ERROR", 1,
				    "vivid returns the buffer with V4L2_BUF_FLAG_ERROR" },
	[VU_INJ_HANG]		= { "hang", NULL, 0, "the child sleeps until it is killed" },
	[VU_INJ_CRASH]		= { "crash", NULL, 0, "the child raises SIGSEGV" },
};
#define NINJECTS (sizeof(injects) / sizeof(injects[0]))

static struct {
	const char *globs[VU_MAX_GLOBS];
	int nglobs;
	int timeout_s;
	bool list;
	enum vu_inject inject;
} opt = { .timeout_s = 20 };

/* Set vivid's control NAME (found by name: vivid's private IDs are not in the UAPI). */
static int set_ctrl_by_name(int fd, const char *name, int value)
{
	struct v4l2_queryctrl q = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	struct v4l2_control ctrl;

	while (!ioctl(fd, VIDIOC_QUERYCTRL, &q)) {
		if (!strcmp((const char *)q.name, name)) {
			ctrl = (struct v4l2_control){ .id = q.id, .value = value };
			return ioctl(fd, VIDIOC_S_CTRL, &ctrl) ? -errno : 0;
		}
		q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return -ENOENT;
}

/* Inject fault F on FD if it is the one opt.inject names. 0 or -errno (o->step set). */
static int inject(int fd, enum vu_inject f, int value, struct vu_obs *o)
{
	int ret;

	if (opt.inject != f)
		return 0;
	ret = set_ctrl_by_name(fd, injects[f].ctrl, value);
	if (ret)
		snprintf(o->step, sizeof(o->step), "inject %s", injects[f].name);
	return ret;
}


static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(fd, req, arg);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static void set_step(struct vu_obs *o, const char *step, int err)
{
	snprintf(o->step, sizeof(o->step), "%s", step);
	o->stream_err = err;
}

/* Stream the queued buffers until one comes back. Returns 0 or -errno (o->step says where). */
static int stream_one(int fd, const struct vu_case *c, uint8_t *const *maps, int poll_ms,
		      struct vu_obs *o)
{
	int type = buf_type(c->dir);
	struct v4l2_buffer b = { .type = type, .memory = V4L2_MEMORY_USERPTR };
	struct pollfd pfd = { .fd = fd, .events = c->dir == VU_OUTPUT ? POLLOUT : POLLIN };
	struct timespec t0;
	long left, i;
	int ret;

	ret = inject(fd, VU_INJ_STREAMON_ERROR, 1, o);
	if (!ret)
		ret = inject(fd, VU_INJ_BUF_ERROR, 1, o);
	if (!ret)
		ret = inject(fd, VU_INJ_DROP, injects[VU_INJ_DROP].value, o);
	if (ret) {
		o->stream_err = -ret;
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = xioctl(fd, VIDIOC_STREAMON, &type);
	if (ret) {
		set_step(o, "STREAMON", -ret);
		return ret;
	}
	for (;;) {
		left = poll_ms - ms_since(&t0);
		if (left <= 0) {
			set_step(o, "poll", ETIME);
			ret = -ETIME;
			goto off;
		}
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			ret = -errno;
			set_step(o, "poll", -ret);
			goto off;
		}
		if (ret == 0)
			continue; /* the deadline check above ends it */
		if (pfd.revents & (POLLERR | POLLNVAL)) {
			set_step(o, "poll (POLLERR)", EIO);
			ret = -EIO;
			goto off;
		}
		ret = xioctl(fd, VIDIOC_DQBUF, &b);
		if (ret == -EAGAIN)
			continue;
		if (ret) {
			set_step(o, "DQBUF", -ret);
			goto off;
		}
		break;
	}
	o->dq_ms = ms_since(&t0);
	o->dq_index = b.index;
	o->bytesused = b.bytesused;
	if (b.index >= o->nbufs) {
		set_step(o, "DQBUF (index out of range)", ERANGE);
		ret = -ERANGE;
		goto off;
	}
	if (b.flags & V4L2_BUF_FLAG_ERROR) {
		set_step(o, "DQBUF (V4L2_BUF_FLAG_ERROR)", EIO);
		ret = -EIO;
		goto off;
	}
	if (c->dir == VU_CAPTURE) {
		o->changed = 0;
		for (i = 0; i < (long)o->sizeimage; i++) {
			if (maps[b.index][i] == pattern_byte(c->backing, (size_t)i))
				continue;
			if (o->first_change < 0)
				o->first_change = i;
			o->changed++;
		}
	}
off:
	if (!ret) {
		ret = xioctl(fd, VIDIOC_STREAMOFF, &type);
		if (ret)
			set_step(o, "STREAMOFF", -ret);
	} else {
		xioctl(fd, VIDIOC_STREAMOFF, &type);
	}
	if (opt.inject == VU_INJ_DROP)
		set_ctrl_by_name(fd, injects[VU_INJ_DROP].ctrl, 0);
	return ret;
}

/*
 * vivid's QBUF error is a device-wide one-shot flag, consumed by the driver's buf_prepare,
 * which runs after the pin: a buffer the pin refused leaves it armed for the next QBUF on
 * either node. Consume it with a writable buffer, so that it fails no later case or run.
 */
static void drain_qbuf_error(int fd, const struct vu_case *c, size_t len)
{
	struct v4l2_buffer b = {
		.index = 0, .type = buf_type(c->dir), .memory = V4L2_MEMORY_USERPTR,
		.length = (uint32_t)len, .bytesused = c->dir == VU_OUTPUT ? (uint32_t)len : 0,
	};
	uint8_t *p = NULL;
	const char *what;

	if (backing_map(VU_ANON_PRIVATE_RW, len, &p, &what))
		return;
	b.m.userptr = (unsigned long)p;
	xioctl(fd, VIDIOC_QBUF, &b);
	munmap(p, len);
}

/* Fills *o. Returns 0 when the case was judged, -errno for a setup failure (o->step). */
static int run_case(const struct vu_case *c, const char *node, int poll_ms, struct vu_obs *o)
{
	struct v4l2_format fmt = { .type = buf_type(c->dir) };
	struct v4l2_requestbuffers req = {
		.count = 1, .type = buf_type(c->dir), .memory = V4L2_MEMORY_USERPTR,
	};
	uint8_t *maps[VU_MAX_BUFS] = { NULL };
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = 0;
	const char *what = "";
	unsigned int i, nmapped = 0;
	int fd, ret;

	o->first_change = -1;
	o->changed = -1;
	if (opt.inject == VU_INJ_HANG)
		for (;;)
			pause();
	if (opt.inject == VU_INJ_CRASH)
		raise(SIGSEGV);
	fd = open(node, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_step(o, "open", 0);
		goto out;
	}
	ret = xioctl(fd, VIDIOC_G_FMT, &fmt);
	if (ret) {
		set_step(o, "G_FMT", 0);
		goto close_fd;
	}
	o->sizeimage = fmt.fmt.pix.sizeimage;
	if (!o->sizeimage) {
		ret = -EINVAL;
		set_step(o, "G_FMT (sizeimage 0)", 0);
		goto close_fd;
	}
	len = (o->sizeimage + pg - 1) / pg * pg;
	ret = xioctl(fd, VIDIOC_REQBUFS, &req);
	if (ret) {
		set_step(o, "REQBUFS(USERPTR)", 0);
		goto close_fd;
	}
	o->nbufs = req.count;
	if (!req.count || req.count > VU_MAX_BUFS) {
		ret = -ERANGE;
		set_step(o, "REQBUFS (count)", 0);
		goto free_bufs;
	}
	for (nmapped = 0; nmapped < req.count; nmapped++) {
		ret = backing_map(c->backing, len, &maps[nmapped], &what);
		if (ret) {
			set_step(o, what, 0);
			goto unmap;
		}
	}

	ret = inject(fd, VU_INJ_QBUF_ERROR, 1, o);
	if (ret)
		goto unmap;
	for (i = 0; i < req.count; i++) {
		struct v4l2_buffer b = {
			.index = i, .type = buf_type(c->dir), .memory = V4L2_MEMORY_USERPTR,
			.m.userptr = (unsigned long)maps[i], .length = (uint32_t)len,
			.bytesused = c->dir == VU_OUTPUT ? o->sizeimage : 0,
		};

		ret = xioctl(fd, VIDIOC_QBUF, &b);
		if (i == 0) {
			o->qbuf_errno = -ret;
			if (ret) {
				ret = 0; /* judged: refused */
				goto unmap;
			}
		} else if (ret) {
			/* the first buffer was accepted and a later one was not: odd */
			set_step(o, "QBUF of a later buffer", -ret);
			ret = 0;
			goto unmap;
		}
	}
	/* judged: accepted; o->stream_err says how streaming went */
	stream_one(fd, c, maps, poll_ms, o);
	ret = 0;
unmap:
	if (opt.inject == VU_INJ_QBUF_ERROR && o->qbuf_errno && o->qbuf_errno != EINVAL)
		drain_qbuf_error(fd, c, len);
	for (i = 0; i < nmapped; i++)
		munmap(maps[i], len);
free_bufs:
	req.count = 0;
	xioctl(fd, VIDIOC_REQBUFS, &req);
close_fd:
	close(fd);
out:
	if (ret)
		o->setup_err = -ret;
	return ret;
}

/* ---- nodes ---------------------------------------------------------------------------- */

struct vu_node {
	bool found;
	unsigned int inst;
	char name[64];		/* vivid-000-vid-cap */
	char path[280];		/* /dev/video0 */
	char skip[256];		/* why the node cannot be used; empty: usable */
};

static void trim(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
}

/* The lowest vivid instance's capture and output nodes. Returns how many vivid nodes of any
 * kind were seen (0: no vivid at all). */
static int find_nodes(struct vu_node nodes[2])
{
	const char *cls = "/sys/class/video4linux";
	struct dirent *de;
	int seen = 0;
	DIR *d;

	d = opendir(cls);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], name[64] = "", kind[16];
		unsigned int inst;
		FILE *f;
		int dir;

		if (strncmp(de->d_name, "video", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", cls, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		fclose(f);
		trim(name);
		if (sscanf(name, "vivid-%u-%15s", &inst, kind) != 2)
			continue;
		seen++;
		for (dir = VU_OUTPUT; dir <= VU_CAPTURE; dir++) {
			struct vu_node *n = &nodes[dir];

			if (strcmp(kind, dir_node_suffix[dir]) || (n->found && n->inst <= inst))
				continue;
			n->found = true;
			n->inst = inst;
			snprintf(n->name, sizeof(n->name), "%s", name);
			snprintf(n->path, sizeof(n->path), "/dev/%s", de->d_name);
		}
	}
	closedir(d);
	return seen;
}

/* Append one missing item to n->skip, "; "-separated. */
static void __attribute__((format(printf, 2, 3)))
missing(struct vu_node *n, const char *fmt, ...)
{
	size_t off = strlen(n->skip);
	va_list ap;

	if (off && off + 2 < sizeof(n->skip))
		off += (size_t)snprintf(n->skip + off, sizeof(n->skip) - off, "; ");
	if (off + 1 >= sizeof(n->skip))
		return;
	va_start(ap, fmt);
	vsnprintf(n->skip + off, sizeof(n->skip) - off, fmt, ap);
	va_end(ap);
}

/* Requirement check of one node: every missing item goes into n->skip. */
static void check_node(struct vu_node *n, enum vu_dir dir)
{
	struct v4l2_capability cap = { 0 };
	struct v4l2_requestbuffers req = {
		.count = 0, .type = buf_type(dir), .memory = V4L2_MEMORY_USERPTR,
	};
	uint32_t caps, want = dir == VU_OUTPUT ? V4L2_CAP_VIDEO_OUTPUT : V4L2_CAP_VIDEO_CAPTURE;
	int fd, ret;

	if (!n->found) {
		missing(n, "no vivid %s node (vivid node_types without it?)", dir_text[dir]);
		return;
	}
	fd = open(n->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		missing(n, "%s (%s): open: %s", n->path, n->name, strerror(errno));
		return;
	}
	ret = xioctl(fd, VIDIOC_QUERYCAP, &cap);
	if (ret) {
		missing(n, "%s: QUERYCAP: %s", n->name, strerror(-ret));
		goto out;
	}
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
	if (!(caps & want))
		missing(n, "%s: not a single-planar %s node (vivid multiplanar=2?)", n->name,
			dir_text[dir]);
	if (!(caps & V4L2_CAP_STREAMING))
		missing(n, "%s: no V4L2_CAP_STREAMING", n->name);
	if (caps & want) {
		ret = xioctl(fd, VIDIOC_REQBUFS, &req);
		if (ret == -EBUSY)
			missing(n, "%s: REQBUFS: busy (another process streams?)", n->name);
		else if (ret || (req.capabilities &&
				 !(req.capabilities & V4L2_BUF_CAP_SUPPORTS_USERPTR)))
			missing(n, "%s: no USERPTR buffers (vivid allocators=1?)", n->name);
	}
out:
	close(fd);
}

/* ---- the runner ----------------------------------------------------------------------- */

enum vu_status { VU_PASS, VU_FAIL, VU_SKIP };


static const char *errname(int err)
{
	return strerrorname_np(err) ?: "E?";
}

/* Run C in a child bounded by opt.timeout_s. Returns 0 with *o filled, or -errno with WHY
 * saying what happened to the child (timed out, killed by a signal, no result). */
static int run_forked(const struct vu_case *c, const char *node, struct vu_obs *o,
		      char *why, size_t whylen)
{
	struct timespec t0;
	struct pollfd pfd;
	int p[2], status, ret = 0;
	long left;
	ssize_t n;
	bool reaped;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe2(p, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid == 0) {
		close(p[0]);
		/* the child answers before the parent's deadline when the device is just slow */
		run_case(c, node, opt.timeout_s * 1000 * 2 / 3, o);
		_exit(write(p[1], o, sizeof(*o)) == (ssize_t)sizeof(*o) ? 0 : 3);
	}
	close(p[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	for (;;) {
		left = opt.timeout_s * 1000L - ms_since(&t0);
		ret = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (ret < 0 && errno == EINTR)
			continue;
		break;
	}
	if (ret == 0) {
		/* rp_reap_status() below, with no grace, sends the SIGKILL */
		snprintf(why, whylen, "timed out after %d s, child killed", opt.timeout_s);
		ret = -ETIME;
	} else {
		n = read(p[0], o, sizeof(*o));
		ret = n == (ssize_t)sizeof(*o) ? 0 : -EPIPE;
	}
	close(p[0]);

	/* reap, bounded on the clock: a child stuck in the kernel may not die at once */
	reaped = rp_reap_status(pid, ret == -ETIME ? 0 : 3000, &status, NULL) == 0;
	if (ret == -EPIPE) {
		if (!reaped)
			snprintf(why, whylen, "child gave no result and did not exit");
		else if (WIFSIGNALED(status))
			snprintf(why, whylen, "child killed by signal %d (%s)", WTERMSIG(status),
				 sigabbrev_np(WTERMSIG(status)) ?: "?");
		else
			snprintf(why, whylen, "child exited with %d without a result",
				 WEXITSTATUS(status));
	} else if (ret == -ETIME && !reaped) {
		snprintf(why + strlen(why), whylen - strlen(why), " (and it did not die)");
	}
	return ret;
}

/* What happened, as one line; returns the status on a correct kernel's terms. */
static enum vu_status judge(const struct vu_case *c, const struct vu_obs *o, char *d, size_t dl)
{
	const char *ro = c->backing == VU_ANON_PRIVATE_RW ? "" : " PROT_READ";
	int e = o->qbuf_errno;

	if (o->setup_err) {
		snprintf(d, dl, "setup: %s: %s (%s)", o->step, strerror(o->setup_err),
			 errname(o->setup_err));
		return VU_FAIL;
	}
	if (e) {
		if (c->expect == VU_REFUSED && e == EFAULT) {
			snprintf(d, dl, "QBUF: %s (%s), refused as on a correct kernel",
				 strerror(e), errname(e));
			return VU_PASS;
		}
		snprintf(d, dl, "QBUF: %s (%s), a correct kernel %s (%s)", strerror(e),
			 errname(e), c->expect == VU_ACCEPTED ? "accepts this" :
			 "refuses this with EFAULT", c->why);
		return VU_FAIL;
	}
	if (c->expect == VU_REFUSED) {
		int n = snprintf(d, dl, "QBUF accepted, a correct kernel refuses this with EFAULT "
				 "(%s)", c->why);

		if (o->stream_err)
			snprintf(d + n, dl - (size_t)n, "; then %s: %s", o->step,
				 strerror(o->stream_err));
		else if (o->changed > 0)
			snprintf(d + n, dl - (size_t)n, "; the device wrote %ld of %u bytes of "
				 "the%s buffer (first at offset %ld)", o->changed, o->sizeimage,
				 ro, o->first_change);
		else
			snprintf(d + n, dl - (size_t)n, "; buffer %u came back, unchanged",
				 o->dq_index);
		return VU_FAIL;
	}
	if (o->stream_err) {
		snprintf(d, dl, "QBUF accepted (%u buffers of %u bytes), then %s: %s (%s)",
			 o->nbufs, o->sizeimage, o->step, strerror(o->stream_err),
			 errname(o->stream_err));
		return VU_FAIL;
	}
	if (c->dir == VU_CAPTURE && o->changed <= 0) {
		snprintf(d, dl, "QBUF accepted, buffer %u came back after %ld ms (bytesused %u) "
			 "but the device wrote nothing into it", o->dq_index, o->dq_ms,
			 o->bytesused);
		return VU_FAIL;
	}
	if (c->dir == VU_CAPTURE)
		snprintf(d, dl, "QBUF accepted (%u buffers of %u bytes), buffer %u came back "
			 "after %ld ms, the device wrote %ld bytes", o->nbufs, o->sizeimage,
			 o->dq_index, o->dq_ms, o->changed);
	else
		snprintf(d, dl, "QBUF accepted (%u buffers of %u bytes), buffer %u came back "
			 "after %ld ms", o->nbufs, o->sizeimage, o->dq_index, o->dq_ms);
	return VU_PASS;
}

static bool selected(const struct vu_case *c)
{
	int i;

	if (!opt.nglobs)
		return true;
	for (i = 0; i < opt.nglobs; i++)
		if (!fnmatch(opt.globs[i], c->name, 0))
			return true;
	return false;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: vivid-userptr [--list] [--case GLOB]... [--timeout S] [--inject FAULT]\n"
		"                     [--help]\n"
		"  V4L2 USERPTR buffers over read-only and writable memory on vivid's video\n"
		"  capture and output nodes, judged against what a correct (6.2+) kernel does.\n"
		"  KTAP output.\n"
		"  --list      print the case names; run nothing\n"
		"  --case      run only cases whose name matches GLOB (repeatable, up to %d)\n"
		"  --timeout   seconds one case may take before its child is killed (1-%d, "
		"default 20)\n"
		"  --inject    make every case hit FAULT, to check the harness's failure paths:\n",
		VU_MAX_GLOBS, VU_TIMEOUT_MAX);
	for (i = 0; i < NINJECTS; i++)
		fprintf(f, "                %-15s %s\n", injects[i].name, injects[i].what);
	fprintf(f, "exit: 0 pass, 1 fail, 4 skip (no vivid), 2 usage\n");
}

/* Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "case", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "inject", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t f;
	char *end;
	long v;
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":lc:t:i:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			opt.list = true;
			break;
		case 'c':
			if (opt.nglobs == VU_MAX_GLOBS) {
				fprintf(stderr, "vivid-userptr: at most %d --case\n", VU_MAX_GLOBS);
				return 2;
			}
			opt.globs[opt.nglobs++] = optarg;
			break;
		case 't':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > VU_TIMEOUT_MAX) {
				fprintf(stderr, "vivid-userptr: --timeout: seconds from 1 to %d, "
					"not '%s'\n", VU_TIMEOUT_MAX, optarg);
				return 2;
			}
			opt.timeout_s = (int)v;
			break;
		case 'i':
			for (f = 0; f < NINJECTS; f++)
				if (!strcmp(optarg, injects[f].name))
					break;
			if (f == NINJECTS) {
				fprintf(stderr, "vivid-userptr: --inject: unknown fault '%s' "
					"(see --help)\n", optarg);
				return 2;
			}
			opt.inject = (enum vu_inject)f;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "vivid-userptr: %s needs an argument (see --help)\n",
				argv[optind - 1]);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "vivid-userptr: unknown option '-%c' "
					"(see --help)\n", optopt);
			else
				fprintf(stderr, "vivid-userptr: unknown option '%s' (see --help)\n",
					argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vivid-userptr: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct vu_node nodes[2] = { { 0 } };
	int ret, n = 0, pass = 0, fail = 0, skip = 0;
	struct utsname uts;
	size_t i;

	ret = parse_args(argc, argv);
	if (ret >= 0)
		return ret;
	for (i = 0; i < NCASES; i++)
		n += selected(&cases[i]);
	if (!n) {
		fprintf(stderr, "vivid-userptr: no case matches the --case globs (see --list)\n");
		return 2;
	}
	if (opt.list) {
		for (i = 0; i < NCASES; i++)
			if (selected(&cases[i]))
				printf("%s\n", cases[i].name);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n");
	if (!find_nodes(nodes)) {
		printf("1..0 # SKIP no vivid device (modprobe vivid?)\n");
		return 4;
	}
	check_node(&nodes[VU_OUTPUT], VU_OUTPUT);
	check_node(&nodes[VU_CAPTURE], VU_CAPTURE);
	if (uname(&uts))
		snprintf(uts.release, sizeof(uts.release), "?");
	if (opt.inject)
		printf("# vivid-userptr: --inject %s: %s; cases that reach it must fail\n",
		       injects[opt.inject].name, injects[opt.inject].what);
	printf("# vivid-userptr: kernel %s; capture %s (%s); output %s (%s); timeout %d s\n",
	       uts.release,
	       nodes[VU_CAPTURE].found ? nodes[VU_CAPTURE].path : "-",
	       nodes[VU_CAPTURE].found ? nodes[VU_CAPTURE].name : "none",
	       nodes[VU_OUTPUT].found ? nodes[VU_OUTPUT].path : "-",
	       nodes[VU_OUTPUT].found ? nodes[VU_OUTPUT].name : "none", opt.timeout_s);
	printf("1..%d\n", n);

	n = 0;
	for (i = 0; i < NCASES; i++) {
		const struct vu_case *c = &cases[i];
		const struct vu_node *node = &nodes[c->dir];
		enum vu_status st;
		struct vu_obs o;
		char d[512];

		if (!selected(c))
			continue;
		n++;
		if (node->skip[0]) {
			printf("ok %d %s # SKIP %s\n", n, c->name, node->skip);
			skip++;
			continue;
		}
		if (run_forked(c, node->path, &o, d, sizeof(d)))
			st = VU_FAIL;
		else
			st = judge(c, &o, d, sizeof(d));
		printf("# %s: %s\n", c->name, d);
		printf("%s %d %s\n", st == VU_PASS ? "ok" : "not ok", n, c->name);
		if (st == VU_PASS)
			pass++;
		else
			fail++;
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", pass, fail, skip);
	return fail ? 1 : pass ? 0 : 4;
}
