/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - one measurement as one line of text: what the bench prints in the guest and what
 * --combine reads back on the host. A line is a type and key=value fields, "why=" last (it runs
 * to the end of the line):
 *
 *   reg device=rxe0 backing=anon_zero size=4096 status=ok reg=5/1200/1100/1500 dereg=...
 *       memcpy=... fault=...                            (times: n/median/min/max in ns)
 *   reg device=rxe0 backing=file_shared_ro size=4096 status=regfail err=-14 ... why=EFAULT
 *   verify device=rxe0 size=65536 status=ok bw=5/41000000/39000000/43000000   (bytes/s)
 *   ibbw device=rxe0 size=65536 status=ok bw=1/40000000/40000000/40000000
 *   info uname=6.1.192 memavail=2734000 hugepages=128    (free text, kept for the report)
 *
 * status: ok; skip (the backing or tool is not available: why); regfail (ibv_reg_mr failed with
 * err, e.g. -EFAULT for FOLL_FORCE over a shared mapping: data, not a bench error); error (the
 * bench itself failed: err, why). '#' lines and blank lines are ignored.
 */
#ifndef BENCH_RECORD_H
#define BENCH_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "stats.h"

enum bs_type { BS_REG, BS_VERIFY, BS_IBBW, BS_INFO };
enum bs_status { BS_OK, BS_SKIP, BS_REGFAIL, BS_ERROR };

#define BS_NAME_MAX 32

struct bs_rec {
	enum bs_type type;
	char device[BS_NAME_MAX];
	char backing[BS_NAME_MAX]; /* BS_REG only */
	uint64_t size;             /* bytes */
	enum bs_status status;
	int err;                   /* negative errno (regfail, error) */
	struct bs_stat reg, dereg, copy, fault; /* ns (BS_REG) */
	struct bs_stat bw;                      /* bytes/s (BS_VERIFY, BS_IBBW) */
	char why[192];             /* skip/failure reason; BS_INFO: the text */
};

const char *bs_type_name(enum bs_type t);
const char *bs_status_name(enum bs_status s);

/* bs_rec_print - one line (with '\n') for r. */
void bs_rec_print(FILE *f, const struct bs_rec *r);

/*
 * bs_rec_parse - parse one line (a trailing newline is fine). 0: r holds a record; 1: a comment
 * or blank line; -EINVAL: malformed (why says what).
 */
int bs_rec_parse(const char *line, struct bs_rec *r, char *why, size_t whylen);

/* bs_size_str - "4K", "16M", "1G" or the bytes when not a whole KiB multiple. */
const char *bs_size_str(uint64_t size, char *buf, size_t len);

/* bs_size_parse - "4096", "4K", "16M", "1G" (binary units) into *out; 0 or -EINVAL. */
int bs_size_parse(const char *s, uint64_t *out);

#endif /* BENCH_RECORD_H */
