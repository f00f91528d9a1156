// SPDX-License-Identifier: GPL-2.0
/*
 * kmsg_match - lib/kmsg.c's matcher on the command line, for test_kmsg_patterns.py:
 *   kmsg_match --list   the compiled-in patterns, one a line (what the build generated)
 *   kmsg_match          for every line of stdin, the pattern rp_kmsg_match() finds, or "-"
 */
#include <stdio.h>
#include <string.h>

#include "kmsg.h"

int main(int argc, char **argv)
{
	char line[4096];
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < rp_kmsg_npatterns; i++)
			printf("%s\n", rp_kmsg_patterns[i]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: kmsg_match [--list] <LINES\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		const char *p;

		line[strcspn(line, "\n")] = 0;
		p = rp_kmsg_match(line);
		printf("%s\n", p ? p : "-");
	}
	return 0;
}
