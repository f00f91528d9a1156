/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rows.h - the rows of the ibv_reg_mr sweep and the rules that compute their expectation.
 *
 * A row is one registration attempt: a backing kind, a protection, an access mask and an edge
 * (a plain registration, or one of the edge shapes: zero length, unaligned, two VMAs, a hole,
 * rereg read-only -> writable, dereg after munmap). sw_rows_build() generates every row from the
 * cross product plus the edge list; sw_expect() computes what a *fixed* kernel (read-only
 * long-term pins unshare, drivers use FOLL_WRITE only for writable MRs) must do with it. Kernel
 * profiles (tests/expectations) list the known deviations; nothing here knows about them.
 */
#ifndef SWEEP_ROWS_H
#define SWEEP_ROWS_H

#include <stdbool.h>

enum sw_kind {
	SW_ANON_PRIVATE,   /* MAP_PRIVATE|MAP_ANONYMOUS, never written before the pin */
	SW_ANON_SHARED,    /* MAP_SHARED|MAP_ANONYMOUS */
	SW_FILE_PRIVATE,   /* MAP_PRIVATE of a file opened O_RDONLY: page-cache pages */
	SW_FILE_SHARED_RO, /* MAP_SHARED of a file opened O_RDONLY */
	SW_FILE_SHARED_RW, /* MAP_SHARED of a file opened O_RDWR */
	SW_MEMFD,          /* MAP_SHARED of a memfd */
	SW_THP,            /* MAP_PRIVATE|MAP_ANONYMOUS, 2 MiB aligned, MADV_HUGEPAGE */
	SW_HUGETLB,        /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB (2 MiB pages) */
	SW_NKINDS
};

enum sw_prot { SW_PROT_RW, SW_PROT_R, SW_PROT_NONE, SW_NPROTS };

enum sw_edge {
	SW_PLAIN,              /* the sweep itself */
	SW_ZERO_LEN,           /* length 0 */
	SW_UNALIGNED,          /* start and length not page aligned, spanning 3 pages */
	SW_TWO_VMAS_RW_R,      /* page 0 PROT_READ|PROT_WRITE, page 1 PROT_READ */
	SW_TWO_VMAS_R_RW,      /* page 0 PROT_READ, page 1 PROT_READ|PROT_WRITE */
	SW_HOLE,               /* 3 pages with the middle one unmapped */
	SW_REREG_RO_RW,        /* read-only MR, then ibv_rereg_mr to a writable access */
	SW_DEREG_AFTER_MUNMAP, /* register, munmap the range, then deregister */
	SW_NEDGES
};

/* Outcomes: a registration is REGISTERED or REFUSED; rereg rows accept either (see below). */
enum sw_outcome { SW_REGISTERED, SW_REFUSED, SW_REFUSED_OR_REPINNED };

struct sw_row {
	char name[96];
	enum sw_edge edge;
	enum sw_kind kind;
	enum sw_prot prot;
	int access;            /* IBV_ACCESS_* of the (first) registration */
	int rereg_access;      /* SW_REREG_RO_RW: the access ibv_rereg_mr asks for */
	/* filled by sw_expect() */
	enum sw_outcome expect;
	int expect_errno;      /* for SW_REFUSED: the errno ibv_reg_mr must report */
	const char *rule;      /* the rule that decided, one line */
};

#define SW_MAX_ROWS 512

/* The access bits the sweep combines (16 masks including 0). */
#define SW_ACCESS_BITS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | \
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_ATOMIC)

const char *sw_kind_name(enum sw_kind k);
const char *sw_prot_name(enum sw_prot p);   /* "rw", "r", "none" */
const char *sw_edge_name(enum sw_edge e);   /* "plain", "zero_len", ... */
const char *sw_outcome_name(enum sw_outcome o);
/* "LOCAL_WRITE|REMOTE_READ", "none" for 0; buf of at least 64 bytes */
const char *sw_access_str(int access, char *buf);
/* "LW+RR", "0" for 0: the short form used in row names */
const char *sw_access_short(int access, char *buf);
int sw_prot_bits(enum sw_prot p);           /* PROT_* */
bool sw_access_writable(int access);        /* LOCAL_WRITE, REMOTE_WRITE or REMOTE_ATOMIC */

/* Whether kind x prot can be created at all (PROT_WRITE on MAP_SHARED of an O_RDONLY fd cannot). */
bool sw_creatable(enum sw_kind k, enum sw_prot p, const char **why);

/* Fill row->expect, ->expect_errno and ->rule from the rules of a fixed kernel. */
void sw_expect(struct sw_row *row);

/*
 * Build every row into rows[0..max-1]; returns the count. *not_rows counts the combinations
 * that cannot be created and are therefore not rows.
 */
int sw_rows_build(struct sw_row *rows, int max, int *not_rows);

#endif /* SWEEP_ROWS_H */
