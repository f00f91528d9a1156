/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mutate.h - what the process does to its memory after the MR was registered.
 *
 * Each mutation changes the memory the way a real program would and updates the "expected
 * view": the bytes the process must now see through its own mapping. The runner then checks
 * that the process does see them (so the mutation really happened) and that an RDMA READ of
 * the MR returns the same bytes (rule 2). Patterns: step 1 is the process's new data, step 2
 * the fork child's own store into its copy.
 */
#ifndef RDMAPIN_MUTATE_H
#define RDMAPIN_MUTATE_H

#include <stdint.h>
#include <sys/types.h>

#include "mapping.h"

enum rp_mutation {
	RP_M_REGISTER,       /* nothing after registration (probe cases) */
	RP_M_MPROTECT_STORE, /* mprotect(PROT_READ|PROT_WRITE), then store through the mapping */
	RP_M_PROC_MEM,       /* write through /proc/self/mem, no mprotect (FOLL_FORCE path) */
	RP_M_FORK_STORE,     /* fork(); the child stores into its copy, then the parent stores */
	RP_M_PWRITE,         /* pwrite() through another fd of a shared file */
	RP_M_MADV_DONTNEED,  /* MADV_DONTNEED: the process sees fresh pages (control) */
	RP_M_WRITABLE_MR,    /* nothing: the row registers a writable MR (control) */
	RP_M__COUNT
};

struct rp_mutation_info {
	const char *name;
	const char *desc;
};

const struct rp_mutation_info *rp_mutation_info(enum rp_mutation mu);

/* State a mutation keeps until rp_mutate_finish() (the fork child). */
struct rp_mut_state {
	pid_t child;
	int ctl;
};

#define RP_MUT_STATE_INIT { .child = 0, .ctl = -1 }

/*
 * rp_mutate - apply mu to m; expect (m->len bytes) is updated to what the process must see.
 * Returns 0 or a negative errno with *step naming the failed step.
 */
int rp_mutate(enum rp_mutation mu, struct rp_map *m, unsigned char *expect, uint64_t seed,
	      int timeout_ms, struct rp_mut_state *st, const char **step);

/* rp_mutate_finish - release what the mutation keeps alive (bounded wait for the child). */
void rp_mutate_finish(struct rp_mut_state *st);

#endif /* RDMAPIN_MUTATE_H */
