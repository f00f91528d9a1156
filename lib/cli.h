/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the command-line checks every program of the project makes the same way: a number
 * in a range (the whole argument, no overflow), and the one-line usage error. Both print one
 * line "PROG: ... (see --help)" on stderr and return -EINVAL; the caller exits 2.
 */
#ifndef RDMAPIN_CLI_H
#define RDMAPIN_CLI_H

/*
 * cli_parse_num - parse S (decimal, the whole string) as a number in LO..HI into *OUT.
 * 0, or -EINVAL with "PROG: OPT: 'S' is not a number in LO..HI (see --help)" printed.
 */
int cli_parse_num(const char *prog, const char *opt, const char *s, long lo, long hi, long *out);

/* cli_usage_error - print "PROG: <printf FMT> (see --help)" on stderr; returns -EINVAL. */
int cli_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* RDMAPIN_CLI_H */
