// SPDX-License-Identifier: GPL-2.0
/*
 * test_judge.c - the judging rules and the case table: every verdict path is reached from an
 * observation (so each rule can fail), and the table keeps its invariants (unique names,
 * controls present, read-only access unless a row expects refusal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cases.h"
#include "unit.h"

static const struct rp_case *find(const char *name)
{
	for (size_t i = 0; i < rp_ncases; i++)
		if (!strcmp(rp_case_name(&rp_cases[i]), name))
			return &rp_cases[i];
	return NULL;
}

/* a clean, coherent observation */
static struct rp_result clean(const char *name)
{
	struct rp_result r;

	memset(&r, 0, sizeof(r));
	r.c = find(name);
	r.obs.valid = 1;
	r.obs.baseline = r.obs.data = RP_D_MATCH;
	r.obs.baseline_diff = r.obs.data_diff = r.obs.view_diff = -1;
	r.obs.pages = 4;
	r.obs.soft_dirty = r.obs.pfn_changed = 0;
	r.obs.uffd_wp_events = -1;
	r.obs.kmsg_issues = 0;
	return r;
}

static void expect(struct rp_result *r, enum rp_status s, enum rp_verdict v, const char *sub,
		   const char *what)
{
	rp_judge(r, 60);
	CHECK(r->status == s && r->verdict == v && (!sub || strstr(r->reason, sub)),
	      "%s # %s %s: %s", what, rp_status_name(r->status), rp_verdict_name(r->verdict),
	      r->reason);
}

int main(void)
{
	struct rp_result r;
	bool controls_diverge = false, controls_refuse = false, uniq = true, access_ok = true;

	unit_begin();
	CHECK(find("anon_zero.mprotect_store") && find("file_shared_ro.pwrite") &&
	      find("anon_populated.madv_dontneed") && find("anon_populated.writable_mr_on_ro") &&
	      find("anon_uffd_wp.register"), "table_has_named_cases");
	for (size_t i = 0; i < rp_ncases; i++) {
		for (size_t j = i + 1; j < rp_ncases; j++)
			uniq &= !!strcmp(rp_case_name(&rp_cases[i]), rp_case_name(&rp_cases[j]));
		controls_diverge |= rp_cases[i].expect == RP_X_DIVERGE;
		controls_refuse |= rp_cases[i].expect == RP_X_REFUSED;
		access_ok &= (rp_cases[i].access == RP_A_RO) == (rp_cases[i].expect != RP_X_REFUSED);
	}
	CHECK(uniq, "case_names_unique");
	CHECK(controls_diverge && controls_refuse, "controls_present");
	CHECK(access_ok, "writable_access_only_on_refusal_rows");

	r = clean("anon_zero.mprotect_store");
	r.obs.pfn_changed = 4; /* zeropage had to be unshared: allowed */
	expect(&r, RP_PASS, RP_V_COHERENT, NULL, "coherent_pass_with_unshare");

	r = clean("anon_zero.mprotect_store");
	r.obs.data = RP_D_MISMATCH, r.obs.data_diff = 0;
	expect(&r, RP_FAIL, RP_V_STALE, "rule 2", "stale_after_mutation");

	r = clean("tmpfs_private.proc_mem");
	r.obs.baseline = RP_D_MISMATCH, r.obs.baseline_diff = 4096;
	expect(&r, RP_FAIL, RP_V_STALE, "offset 4096", "stale_at_registration");

	r = clean("file_shared_ro.pwrite");
	r.obs.reg_errno = EFAULT, r.obs.data = RP_D_NOT_READ, r.obs.baseline = RP_D_NOT_READ;
	expect(&r, RP_FAIL, RP_V_REFUSED, "rule 1: read-only MR over readable memory refused with "
	       "EFAULT", "rule1_refused");

	r = clean("anon_populated.mprotect_store");
	r.obs.soft_dirty = 4;
	expect(&r, RP_FAIL, RP_V_COHERENT, "soft-dirty on 4/4", "rule3_soft_dirty");

	r = clean("anon_populated.mprotect_store");
	r.obs.pfn_changed = 1;
	expect(&r, RP_FAIL, RP_V_COHERENT, "replaced 1/4", "rule3_pfn_change_on_exclusive");

	r = clean("file_shared_rw.pwrite");
	r.obs.pfn_changed = 4;
	expect(&r, RP_FAIL, RP_V_COHERENT, "rule 3", "rule3_pfn_change_on_shared_file");

	r = clean("anon_uffd_wp.register");
	r.obs.uffd_wp_events = 4;
	expect(&r, RP_FAIL, RP_V_COHERENT, "4 uffd-wp fault", "rule3_uffd_wp");
	r = clean("anon_uffd_wp.register");
	r.obs.uffd_wp_events = 0;
	expect(&r, RP_PASS, RP_V_COHERENT, NULL, "uffd_wp_zero_passes");

	r = clean("anon_populated.writable_mr_on_ro");
	r.obs.reg_errno = EFAULT;
	expect(&r, RP_PASS, RP_V_REFUSED, "EFAULT", "rule4_refused_passes");
	r = clean("anon_populated.writable_mr_on_ro");
	expect(&r, RP_FAIL, RP_V_COHERENT, "rule 4", "rule4_registered_fails");

	r = clean("anon_populated.madv_dontneed");
	r.obs.data = RP_D_MISMATCH, r.obs.data_diff = 0;
	r.obs.soft_dirty = 4; /* controls judge only their control property */
	expect(&r, RP_PASS, RP_V_DIVERGED, NULL, "control_diverged_passes");
	r = clean("anon_populated.madv_dontneed");
	expect(&r, RP_FAIL, RP_V_COHERENT, "control", "control_coherent_fails");

	r = clean("anon_zero.proc_mem");
	r.obs.view_diff = 8;
	expect(&r, RP_FAIL, RP_V_ERROR, "did not reach", "mutation_not_visible_is_error");

	r = clean("anon_zero.fork_store");
	r.obs.read_err = -ETIMEDOUT;
	snprintf(r.obs.step, sizeof(r.obs.step), "RDMA READ: poll_cq");
	expect(&r, RP_FAIL, RP_V_ERROR, "ETIMEDOUT", "read_timeout_is_error");

	r = clean("anon_zero.fork_store");
	r.obs.signal = SIGSEGV;
	expect(&r, RP_FAIL, RP_V_ERROR, "SEGV", "crash_costs_the_case");
	r = clean("anon_zero.fork_store");
	r.obs.timed_out = 1;
	expect(&r, RP_FAIL, RP_V_TIMEOUT, "did not finish within 60 s", "timeout_costs_the_case");
	r = clean("shmem_thp_private.mprotect_store");
	r.obs.timed_out = 1;
	r.obs.thp_split_pmd = 1234567;
	snprintf(r.obs.progress, sizeof(r.obs.progress), "ibv_reg_mr");
	expect(&r, RP_FAIL, RP_V_TIMEOUT, "stuck in ibv_reg_mr", "timeout_names_the_step");
	CHECK(strstr(r.reason, "thp_split_pmd +1234567"), "timeout_reports_thp_split_pmd # %s",
	      r.reason);

	/* the "kept" rows: lost and added marks, and the write's WP faults */
	CHECK(find("anon_zero.softdirty_kept.mprotect_store") &&
	      find("hugetlb_file_private.uffd_wp_kept.mprotect_store"), "kept_rows_named");
	r = clean("tmpfs_private.softdirty_kept.mprotect_store");
	r.obs.marked = 2, r.obs.pfn_changed = 4;
	expect(&r, RP_PASS, RP_V_COHERENT, NULL, "kept_softdirty_pass");
	r = clean("tmpfs_private.softdirty_kept.mprotect_store");
	r.obs.marked = 2, r.obs.sd_lost = 2;
	expect(&r, RP_FAIL, RP_V_COHERENT, "dropped soft-dirty from 2/2", "kept_softdirty_lost");
	r = clean("tmpfs_private.softdirty_kept.mprotect_store");
	r.obs.marked = 2, r.obs.soft_dirty = 2;
	expect(&r, RP_FAIL, RP_V_COHERENT, "set soft-dirty on 2/4", "kept_softdirty_added");
	r = clean("anon_zero.uffd_wp_kept.mprotect_store");
	r.obs.marked = 2, r.obs.wp_lost = 1;
	expect(&r, RP_FAIL, RP_V_COHERENT, "dropped uffd-wp protection from 1/2",
	       "kept_uffd_wp_lost");
	r = clean("anon_zero.uffd_wp_kept.mprotect_store");
	r.obs.marked = 2, r.obs.wp_added = 1;
	expect(&r, RP_FAIL, RP_V_COHERENT, "set uffd-wp on 1", "kept_uffd_wp_added");
	r = clean("anon_zero.uffd_wp_kept.mprotect_store");
	r.obs.marked = 2, r.obs.wp_units = 2, r.obs.wp_write_faults = 0, r.obs.wp_write_bad = 2;
	expect(&r, RP_FAIL, RP_V_COHERENT, "raised 0 WP fault(s) for 2", "kept_uffd_wp_no_fault");
	r = clean("anon_zero.uffd_wp_kept.mprotect_store");
	r.obs.marked = 2, r.obs.wp_units = 2, r.obs.wp_write_faults = 2;
	expect(&r, RP_PASS, RP_V_COHERENT, NULL, "kept_uffd_wp_pass");
	r = clean("thp_pte_forked.mprotect_store");
	r.obs.pfn_changed = 512, r.obs.pfn_changed_excl = 256, r.obs.pages = 512;
	expect(&r, RP_FAIL, RP_V_COHERENT, "256/512 page frames that were mapped exclusively",
	       "partly_shared_exclusive_replaced");
	r = clean("thp_pte_forked.mprotect_store");
	r.obs.pfn_changed = 256, r.obs.pages = 512;
	expect(&r, RP_PASS, RP_V_COHERENT, NULL, "partly_shared_shared_half_unshared");

	r = clean("hugetlb_private.fork_store");
	r.obs.skip = 1;
	snprintf(r.obs.note, sizeof(r.obs.note), "no 2 MiB huge page could be reserved");
	expect(&r, RP_SKIP, RP_V_SKIPPED, "huge page", "skip_with_reason");

	r = clean("anon_zero.mprotect_store");
	r.obs.kmsg_issues = 1;
	snprintf(r.obs.kmsg_first, sizeof(r.obs.kmsg_first), "WARNING: at mm/gup.c");
	expect(&r, RP_FAIL, RP_V_ERROR, "mm/gup.c", "kernel_warning_fails");

	r = clean("anon_zero.mprotect_store");
	r.obs.soft_dirty = -1;
	snprintf(r.obs.note, sizeof(r.obs.note), "soft-dirty n/a: clear_refs rejects 4");
	expect(&r, RP_PASS, RP_V_COHERENT, "n/a", "soft_dirty_na_does_not_fail");

	r = clean("anon_populated.mprotect_store");
	r.obs.err = -ENOMEM;
	snprintf(r.obs.step, sizeof(r.obs.step), "rdma_connect");
	expect(&r, RP_FAIL, RP_V_ERROR, "rdma_connect: ENOMEM", "setup_error");

	CHECK(rp_case_match(find("thp_zero.proc_mem"), "anon_*,thp_*"), "glob_list_matches");
	CHECK(!rp_case_match(find("thp_zero.proc_mem"), "anon_*"), "glob_no_match");
	/* ibv_dereg_mr of the MR under test failed: an error, also where the data was coherent */
	r = clean("anon_zero.mprotect_store");
	r.obs.dereg_errno = EBUSY;
	expect(&r, RP_FAIL, RP_V_ERROR, "ibv_dereg_mr of the MR under test failed: EBUSY",
	       "dereg_failure_fails");
	r = clean("anon_populated.madv_dontneed");
	r.obs.data = RP_D_MISMATCH, r.obs.data_diff = 0;
	r.obs.dereg_errno = EINVAL;
	rp_judge(&r, 60);
	CHECK(r.status == RP_FAIL && strstr(r.reason, "EINVAL"), "dereg_failure_fails_a_control "
	      "# %s", r.reason);

	r = clean("anon_zero.mprotect_store");
	r.obs.teardown_err = -EBUSY;
	expect(&r, RP_FAIL, RP_V_ERROR, "teardown of the connection (its MRs, CQ, PD) failed: EBUSY",
	       "teardown_failure_fails");

	return unit_done();
}
