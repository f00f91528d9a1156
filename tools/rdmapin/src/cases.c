// SPDX-License-Identifier: GPL-2.0
/* cases.c - the case table and the judging rules; see cases.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <infiniband/verbs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"

#define ROW(b, m, a, x) { RP_B_##b, RP_M_##m, RP_A_##a, RP_X_##x, RP_MK_NONE }
/* a "kept" row: mark pages of the backing, register read-only, then the process writes */
#define KEPT(b, k) { RP_B_##b, RP_M_MPROTECT_STORE, RP_A_RO, RP_X_COHERENT, RP_MK_##k }

const struct rp_case rp_cases[] = {
	ROW(ANON_ZERO, MPROTECT_STORE, RO, COHERENT),
	ROW(ANON_ZERO, PROC_MEM, RO, COHERENT),
	ROW(ANON_ZERO, FORK_STORE, RO, COHERENT),
	ROW(ANON_POPULATED, MPROTECT_STORE, RO, COHERENT),
	ROW(ANON_POPULATED, PROC_MEM, RO, COHERENT),
	ROW(ANON_POPULATED, FORK_STORE, RO, COHERENT),
	ROW(ANON_POPULATED, MADV_DONTNEED, RO, DIVERGE),
	ROW(ANON_POPULATED, WRITABLE_MR, RW, REFUSED),
	ROW(ANON_FORKED, MPROTECT_STORE, RO, COHERENT),
	ROW(ANON_FORKED, PROC_MEM, RO, COHERENT),
	ROW(ANON_FORKED, FORK_STORE, RO, COHERENT),
	ROW(THP_ZERO, MPROTECT_STORE, RO, COHERENT),
	ROW(THP_ZERO, PROC_MEM, RO, COHERENT),
	ROW(THP_ZERO, FORK_STORE, RO, COHERENT),
	ROW(THP_POPULATED, MPROTECT_STORE, RO, COHERENT),
	ROW(THP_POPULATED, PROC_MEM, RO, COHERENT),
	ROW(THP_POPULATED, FORK_STORE, RO, COHERENT),
	/* no proc_mem: FOLL_FORCE|FOLL_WRITE on R/O hugetlb is refused by design */
	ROW(HUGETLB_PRIVATE, MPROTECT_STORE, RO, COHERENT),
	ROW(HUGETLB_PRIVATE, FORK_STORE, RO, COHERENT),
	ROW(HUGETLB_FILE_PRIVATE, MPROTECT_STORE, RO, COHERENT),
	ROW(HUGETLB_FILE_PRIVATE, FORK_STORE, RO, COHERENT),
	ROW(TMPFS_PRIVATE, MPROTECT_STORE, RO, COHERENT),
	ROW(TMPFS_PRIVATE, PROC_MEM, RO, COHERENT),
	ROW(TMPFS_PRIVATE, FORK_STORE, RO, COHERENT),
	ROW(MEMFD_PRIVATE, MPROTECT_STORE, RO, COHERENT),
	ROW(MEMFD_PRIVATE, PROC_MEM, RO, COHERENT),
	ROW(MEMFD_PRIVATE, FORK_STORE, RO, COHERENT),
	/* shared file mappings: the process cannot store through an O_RDONLY mapping */
	ROW(FILE_SHARED_RO, PWRITE, RO, COHERENT),
	ROW(FILE_SHARED_RO, WRITABLE_MR, RW, REFUSED),
	ROW(FILE_SHARED_RW, MPROTECT_STORE, RO, COHERENT),
	ROW(FILE_SHARED_RW, PWRITE, RO, COHERENT),
	ROW(ANON_UFFD_WP, REGISTER, RO, COHERENT),
	/*
	 * Side effects are kept across unshare: every backing whose registration unshares, with
	 * some pages soft-dirty or uffd-wp protected before (hugetlb: pagemap shows only the VMA's
	 * soft-dirty flag, so only uffd-wp; KSM: mremap() unmerges, so only uffd-wp).
	 */
	KEPT(ANON_ZERO, SOFT_DIRTY),
	KEPT(ANON_ZERO, UFFD_WP),
	KEPT(THP_ZERO, SOFT_DIRTY),
	KEPT(THP_ZERO, UFFD_WP),
	KEPT(TMPFS_PRIVATE, SOFT_DIRTY),
	KEPT(TMPFS_PRIVATE, UFFD_WP),
	KEPT(MEMFD_PRIVATE, SOFT_DIRTY),
	KEPT(MEMFD_PRIVATE, UFFD_WP),
	KEPT(HUGETLB_FILE_PRIVATE, UFFD_WP),
	KEPT(ANON_FORKED, SOFT_DIRTY),
	KEPT(ANON_FORKED, UFFD_WP),
	/* a page-cache THP mapped by a PMD in a private mapping (the unshare/PMD livelock) */
	ROW(SHMEM_THP_PRIVATE, MPROTECT_STORE, RO, COHERENT),
	ROW(SHMEM_THP_PRIVATE, PROC_MEM, RO, COHERENT),
	ROW(SHMEM_THP_PRIVATE, FORK_STORE, RO, COHERENT),
	/* KSM-merged pages */
	ROW(KSM_MERGED, MPROTECT_STORE, RO, COHERENT),
	ROW(KSM_MERGED, PROC_MEM, RO, COHERENT),
	ROW(KSM_MERGED, FORK_STORE, RO, COHERENT),
	KEPT(KSM_MERGED, UFFD_WP),
	/* PTE-mapped THPs, partly or wholly shared (no fork_store: the child lacks the DONTFORK half) */
	ROW(THP_PTE_FORKED, MPROTECT_STORE, RO, COHERENT),
	ROW(THP_PTE_FORKED, PROC_MEM, RO, COHERENT),
	KEPT(THP_PTE_FORKED, SOFT_DIRTY),
	KEPT(THP_PTE_FORKED, UFFD_WP),
	ROW(THP_PTE_MPROTECT, MPROTECT_STORE, RO, COHERENT),
	ROW(THP_PTE_MPROTECT, PROC_MEM, RO, COHERENT),
	ROW(THP_PTE_MPROTECT, FORK_STORE, RO, COHERENT),
};

const size_t rp_ncases = sizeof(rp_cases) / sizeof(rp_cases[0]);

const char *rp_case_name(const struct rp_case *c)
{
	static char names[sizeof(rp_cases) / sizeof(rp_cases[0])][80];
	size_t i = (size_t)(c - rp_cases);

	if (i >= rp_ncases)
		return "?";
	if (!names[i][0])
		snprintf(names[i], sizeof(names[i]), "%s%s%s.%s",
			 rp_backing_info(c->backing)->name, c->mark ? "." : "",
			 c->mark ? rp_mark_name(c->mark) : "", rp_mutation_info(c->mutation)->name);
	return names[i];
}

const char *rp_mark_name(enum rp_mark k)
{
	static const char *const n[] = { "", "softdirty_kept", "uffd_wp_kept" };

	return n[k];
}

const char *rp_access_name(enum rp_access a)
{
	return a == RP_A_RO ? "REMOTE_READ" : "LOCAL_WRITE|REMOTE_WRITE|REMOTE_READ";
}

int rp_access_flags(enum rp_access a)
{
	return a == RP_A_RO ? IBV_ACCESS_REMOTE_READ :
	       IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
}

const char *rp_expect_name(enum rp_expect x)
{
	static const char *const n[] = { "coherent", "diverge (control)", "refused" };

	return n[x];
}

const char *rp_status_name(enum rp_status s)
{
	static const char *const n[] = { "pass", "fail", "skip" };

	return n[s];
}

const char *rp_verdict_name(enum rp_verdict v)
{
	static const char *const n[] = {
		"COHERENT", "STALE", "REFUSED", "DIVERGED", "ERROR", "SKIPPED", "TIMEOUT"
	};

	return n[v];
}

static const char *errname(int e)
{
	const char *s = strerrorname_np(e < 0 ? -e : e);

	return s ?: "E?";
}

/* append "; text" to the reason */
static void add(struct rp_result *r, const char *fmt, ...)
{
	size_t len = strlen(r->reason);
	va_list ap;

	if (len && len < sizeof(r->reason) - 2) {
		snprintf(r->reason + len, sizeof(r->reason) - len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->reason + len, sizeof(r->reason) - len, fmt, ap);
	va_end(ap);
}

static void fail(struct rp_result *r, enum rp_verdict v)
{
	r->status = RP_FAIL;
	r->verdict = v;
}

static void judge_rules(struct rp_result *r, int timeout_s)
{
	const struct rp_obs *o = &r->obs;
	const struct rp_backing_info *bi = rp_backing_info(r->c->backing);
	enum rp_expect x = r->c->expect;

	r->reason[0] = 0;
	r->status = RP_PASS;
	r->verdict = RP_V_COHERENT;

	/* a crashed or hung child costs its case, whatever else it saw */
	if (o->timed_out) {
		fail(r, RP_V_TIMEOUT);
		add(r, "case did not finish within %d s%s%s (child killed)", timeout_s,
		    o->progress[0] ? ": stuck in " : "", o->progress);
		if (o->thp_split_pmd > 0)
			add(r, "thp_split_pmd +%lld during the case", o->thp_split_pmd);
		return;
	}
	if (o->signal) {
		fail(r, RP_V_ERROR);
		add(r, "case child killed by %s", sigabbrev_np(o->signal) ?: "a signal");
		return;
	}
	if (!o->valid) {
		fail(r, RP_V_ERROR);
		add(r, "case child exited without a result");
		return;
	}
	if (o->kmsg_issues > 0) {
		fail(r, RP_V_ERROR);
		add(r, "kernel log: %d new problem record(s): %s", o->kmsg_issues, o->kmsg_first);
	}
	if (o->skip) {
		if (r->status == RP_PASS) {
			r->status = RP_SKIP;
			r->verdict = RP_V_SKIPPED;
		}
		add(r, "%s", o->note);
		return;
	}
	if (o->err) {
		fail(r, RP_V_ERROR);
		add(r, "%s: %s", o->step, errname(o->err));
		return;
	}

	/* registration: rules 1 and 4 */
	if (x == RP_X_REFUSED) {
		if (o->reg_errno) {
			r->verdict = RP_V_REFUSED;
			add(r, "writable MR refused with %s", errname(o->reg_errno));
		} else {
			fail(r, RP_V_COHERENT);
			add(r, "rule 4: writable MR registered over memory the process cannot write");
		}
		return;
	}
	if (o->reg_errno) {
		fail(r, RP_V_REFUSED);
		add(r, "rule 1: read-only MR over readable memory refused with %s",
		    errname(o->reg_errno));
		/* side effects of a refused registration still count */
	} else if (o->read_err) {
		fail(r, RP_V_ERROR);
		add(r, "%s: %s", o->step[0] ? o->step : "RDMA READ", errname(o->read_err));
	} else if (o->view_diff >= 0) {
		fail(r, RP_V_ERROR);
		add(r, "%s did not reach the process's view (offset %ld)",
		    rp_mutation_info(r->c->mutation)->name, o->view_diff);
	} else if (x == RP_X_DIVERGE) {
		if (o->data == RP_D_MISMATCH) {
			r->verdict = RP_V_DIVERGED;
			add(r, "pinned page kept the old data, process sees new pages (offset %ld)",
			    o->data_diff);
		} else {
			fail(r, RP_V_COHERENT);
			add(r, "control: after %s the remote read should diverge from the process "
			    "but matched", rp_mutation_info(r->c->mutation)->name);
		}
		return; /* controls judge only their control property */
	} else if (o->baseline == RP_D_MISMATCH) {
		fail(r, RP_V_STALE);
		add(r, "rule 2: right after registration the remote read differs at offset %ld",
		    o->baseline_diff);
	} else if (o->data == RP_D_MISMATCH) {
		fail(r, RP_V_STALE);
		add(r, "rule 2: after %s the remote read differs from the process view at offset %ld",
		    rp_mutation_info(r->c->mutation)->name, o->data_diff);
	} else if (o->data != RP_D_MATCH) {
		fail(r, RP_V_ERROR);
		add(r, "no RDMA READ result");
	}

	/* rule 3: no write side effects at registration */
	if (o->soft_dirty > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration set soft-dirty on %d/%d pages", o->soft_dirty,
		    o->pages);
	}
	if (o->pfn_changed > 0 && !(bi->flags & RP_BF_UNSHARE)) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration replaced %d/%d page frames of unshared memory",
		    o->pfn_changed, o->pages);
	}
	if (o->pfn_changed_excl > 0 && (bi->flags & RP_BF_UNSHARE_PART)) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration replaced %d/%d page frames that were mapped exclusively "
		    "(never shared)", o->pfn_changed_excl, o->pages);
	}
	if (o->uffd_wp_events > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration raised %d uffd-wp fault(s)", o->uffd_wp_events);
	}
	/* ... and keeps what was there: the "kept" rows */
	if (o->sd_lost > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration dropped soft-dirty from %d/%d marked pages", o->sd_lost,
		    o->marked);
	}
	if (o->wp_lost > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration dropped uffd-wp protection from %d/%d marked pages",
		    o->wp_lost, o->marked);
	}
	if (o->wp_added > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: registration set uffd-wp on %d unprotected pages", o->wp_added);
	}
	if (o->wp_write_bad > 0) {
		r->status = RP_FAIL;
		add(r, "rule 3: the write after registration raised %d WP fault(s) for %d protected "
		    "unit(s), %d unit(s) not exactly one (protected) or none (unprotected)",
		    o->wp_write_faults, o->wp_units, o->wp_write_bad);
	}
	if (o->note[0])
		add(r, "%s", o->note);
}

void rp_judge(struct rp_result *r, int timeout_s)
{
	const struct rp_obs *o = &r->obs;

	judge_rules(r, timeout_s);
	if (!o->valid || o->timed_out || o->signal || o->skip)
		return;
	/* a registration that cannot be undone is a pinning bug of its own, whatever else */
	if (o->dereg_errno > 0) {
		fail(r, RP_V_ERROR);
		add(r, "ibv_dereg_mr of the MR under test failed: %s", errname(o->dereg_errno));
	}
	if (o->teardown_err) {
		fail(r, RP_V_ERROR);
		add(r, "teardown of the connection (its MRs, CQ, PD) failed: %s",
		    errname(o->teardown_err));
	}
}

bool rp_case_match(const struct rp_case *c, const char *globs)
{
	char buf[1024], *save = NULL, *g;

	if (!globs)
		return true;
	snprintf(buf, sizeof(buf), "%s", globs);
	for (g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
		if (!fnmatch(g, rp_case_name(c), 0))
			return true;
	return false;
}
