/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pattern.h - fill patterns: a distinct, never-repeating byte stream per (seed, step).
 *
 * Every step of a case (initial fill, each mutation, the fork child's own store) uses its own
 * step number, so a remote read that returns an older step's bytes is told apart from the
 * current one at every 8-byte word.
 */
#ifndef RDMAPIN_PATTERN_H
#define RDMAPIN_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* splitmix64: a bijective mix, so distinct (seed, step, word) inputs give distinct words. */
static inline uint64_t rp_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline void rp_pattern_fill(void *dst, size_t len, uint64_t seed, unsigned int step)
{
	unsigned char *p = dst;
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = rp_mix64(seed ^ ((uint64_t)step << 56) ^ (i >> 3));
		size_t n = len - i < 8 ? len - i : 8;

		memcpy(p + i, &v, n);
	}
}

/* rp_first_diff - offset of the first differing byte of a and b, or -1 when equal. */
static inline long rp_first_diff(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; i < len; i++)
		if (x[i] != y[i])
			return (long)i;
	return -1;
}

#endif /* RDMAPIN_PATTERN_H */
