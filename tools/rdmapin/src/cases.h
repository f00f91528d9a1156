/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cases.h - THE case table and the judging rules.
 *
 * A case is a row {backing, mutation, access, expectation}; its name is
 * "<backing>.<mutation>". The runner turns a row into an observation (struct rp_obs); rp_judge()
 * turns an observation into pass/fail/skip, a verdict word and a reason, by the rules of
 * "reliable R/O long-term pinning" (see Documentation/rdmapin.md), never by per-row verdicts:
 *  1. a read-only MR over readable memory registers;
 *  2. RDMA READ returns exactly what the process sees through its mapping, also after a write;
 *  3. registration has no write side effects: no soft-dirty bit, no uffd-wp fault, no page
 *     replaced unless it had to be unshared (RP_BF_UNSHARE backings); and it keeps them: a
 *     page that was soft-dirty or uffd-wp protected before is so after (also where it was
 *     replaced), and a protected page raises exactly one WP fault on the process's next write
 *     (the "kept" rows, enum rp_mark);
 *  4. a writable MR over memory the process cannot write is refused.
 * Controls are rows too: RP_X_DIVERGE (the pin must keep the old page) and RP_X_REFUSED.
 */
#ifndef RDMAPIN_CASES_H
#define RDMAPIN_CASES_H

#include <stdbool.h>
#include <stddef.h>

#include "mapping.h"
#include "mutate.h"

enum rp_access {
	RP_A_RO, /* IBV_ACCESS_REMOTE_READ only */
	RP_A_RW, /* LOCAL_WRITE | REMOTE_WRITE | REMOTE_READ */
};

enum rp_expect {
	RP_X_COHERENT, /* rules 1-3 */
	RP_X_DIVERGE,  /* control: the process and the pinned page must diverge */
	RP_X_REFUSED,  /* rule 4 / control: registration must fail */
};

/*
 * What the runner marks before registration, on every even rp_map_mark_unit() of the backing
 * (the odd ones stay unmarked, so both "kept" and "not added" are judged in one case).
 */
enum rp_mark {
	RP_MK_NONE,
	RP_MK_SOFT_DIRTY, /* "softdirty_kept": PTE soft-dirty set by mremap() out and back */
	RP_MK_UFFD_WP,    /* "uffd_wp_kept": uffd-wp write-protected, faults counted per page */
};

struct rp_case {
	enum rp_backing backing;
	enum rp_mutation mutation;
	enum rp_access access;
	enum rp_expect expect;
	enum rp_mark mark;
};

extern const struct rp_case rp_cases[];
extern const size_t rp_ncases;

/* rp_case_name - "<backing>[.<mark>].<mutation>" (static storage per row). */
const char *rp_case_name(const struct rp_case *c);
const char *rp_access_name(enum rp_access a);
int rp_access_flags(enum rp_access a);
const char *rp_expect_name(enum rp_expect x);
const char *rp_mark_name(enum rp_mark k);

enum rp_status { RP_PASS, RP_FAIL, RP_SKIP };
enum rp_verdict {
	RP_V_COHERENT, RP_V_STALE, RP_V_REFUSED, RP_V_DIVERGED, RP_V_ERROR, RP_V_SKIPPED,
	RP_V_TIMEOUT, /* the case did not finish within the timeout (child killed) */
};

const char *rp_status_name(enum rp_status s);
const char *rp_verdict_name(enum rp_verdict v);

enum rp_data { RP_D_NOT_READ, RP_D_MATCH, RP_D_MISMATCH };

/*
 * What a case child observed. Fixed size, no pointers: it travels through a pipe.
 * Counts are in 4 KiB pages; -1 means n/a (not probed or not available).
 */
struct rp_obs {
	int valid;              /* 1 once the child filled it in */
	int skip;               /* a requirement is missing: note says which */
	int err;                /* negative errno of a setup/mutation step, 0 if none */
	char step[96];          /* the failed step */
	int reg_errno;          /* positive errno of ibv_reg_mr, 0 on success */
	int dereg_errno;        /* positive errno of ibv_dereg_mr of that MR, 0 fine or not run */
	int teardown_err;       /* negative errno of the transport's teardown (rp_tp_close), 0 */
	int read_err;           /* negative errno of an RDMA READ, 0 if fine */
	enum rp_data baseline;  /* RDMA READ right after registration vs the process view */
	long baseline_diff;     /* first differing offset, -1 */
	enum rp_data data;      /* RDMA READ after the mutation vs the process view */
	long data_diff;
	long view_diff;         /* process view vs the expected view after the mutation, -1 */
	int pages;              /* pages probed */
	int soft_dirty;         /* pages soft-dirty after registration, -1 n/a */
	int pfn_changed;        /* pages whose PFN changed at registration, -1 n/a */
	int uffd_wp_events;     /* uffd-wp faults during registration, -1 not probed */
	/* the "kept" rows (0 where not judged) */
	int marked;             /* pages marked before registration */
	int sd_lost;            /* marked pages no longer soft-dirty after registration */
	int wp_lost;            /* marked pages no longer uffd-wp protected after registration */
	int wp_added;           /* unmarked pages uffd-wp protected after registration */
	int wp_units;           /* protected fault units (4 KiB, 2 MiB for hugetlb) */
	int wp_write_faults;    /* WP faults raised by the mutation's write, -1 not counted */
	int wp_write_bad;       /* units whose fault count was not 1 (protected) or 0 (not) */
	int pfn_changed_excl;   /* pages exclusively mapped before whose PFN changed */
	char progress[48];      /* the step the child was in (filled by the parent on timeout) */
	long long thp_split_pmd; /* /proc/vmstat thp_split_pmd delta over the case, -1 n/a */
	int kmsg_issues;        /* new kernel log problems, -1 n/a (filled by the parent) */
	char kmsg_first[128];
	int signal;             /* the child died of this signal (filled by the parent) */
	int timed_out;          /* the child hit the case timeout (filled by the parent) */
	char note[192];         /* skip reason, or n/a notes */
	char backing_desc[128];
};

struct rp_result {
	const struct rp_case *c;
	struct rp_obs obs;
	enum rp_status status;
	enum rp_verdict verdict;
	char reason[512];
};

/* rp_judge - fill r->status, r->verdict, r->reason from r->obs by the rules above. */
void rp_judge(struct rp_result *r, int timeout_s);

/* rp_case_match - does the case's name match any of the comma-separated globs? */
bool rp_case_match(const struct rp_case *c, const char *globs);

#endif /* RDMAPIN_CASES_H */
