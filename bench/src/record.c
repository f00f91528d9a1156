// SPDX-License-Identifier: GPL-2.0
/* record.c - one measurement as one line of text; see record.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const char *const type_names[] = { "reg", "verify", "ibbw", "info" };
static const char *const status_names[] = { "ok", "skip", "regfail", "error" };

const char *bs_type_name(enum bs_type t)
{
	return t <= BS_INFO ? type_names[t] : "?";
}

const char *bs_status_name(enum bs_status s)
{
	return s <= BS_ERROR ? status_names[s] : "?";
}

const char *bs_size_str(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	if (!size || size % 1024) {
		snprintf(buf, len, "%" PRIu64, size);
		return buf;
	}
	while (u < 3 && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", size, units[u]);
	return buf;
}

int bs_size_parse(const char *s, uint64_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'K': case 'k':
		mul = 1ULL << 10;
		break;
	case 'M': case 'm':
		mul = 1ULL << 20;
		break;
	case 'G': case 'g':
		mul = 1ULL << 30;
		break;
	case 'T': case 't':
		mul = 1ULL << 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (!v || v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static void print_stat(FILE *f, const char *key, const struct bs_stat *s)
{
	if (s->n)
		fprintf(f, " %s=%u/%.0f/%.0f/%.0f", key, s->n, s->med, s->min, s->max);
}

void bs_rec_print(FILE *f, const struct bs_rec *r)
{
	if (r->type == BS_INFO) {
		fprintf(f, "info %s\n", r->why);
		return;
	}
	fprintf(f, "%s device=%s", bs_type_name(r->type), r->device);
	if (r->type == BS_REG)
		fprintf(f, " backing=%s", r->backing);
	fprintf(f, " size=%" PRIu64 " status=%s", r->size, bs_status_name(r->status));
	if (r->err)
		fprintf(f, " err=%d", r->err);
	print_stat(f, "reg", &r->reg);
	print_stat(f, "dereg", &r->dereg);
	print_stat(f, "memcpy", &r->copy);
	print_stat(f, "fault", &r->fault);
	print_stat(f, "bw", &r->bw);
	if (r->why[0])
		fprintf(f, " why=%s", r->why);
	fputc('\n', f);
}

static int parse_stat(const char *v, struct bs_stat *s)
{
	char tail;

	if (sscanf(v, "%u/%lf/%lf/%lf%c", &s->n, &s->med, &s->min, &s->max, &tail) != 4 ||
	    !s->n || s->min > s->med || s->med > s->max || s->min < 0)
		return -EINVAL;
	return 0;
}

static int lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int field(struct bs_rec *r, const char *key, const char *val, char *why, size_t whylen)
{
	char *end;
	int i;

	if (!strcmp(key, "device") || !strcmp(key, "backing")) {
		char *dst = key[0] == 'd' ? r->device : r->backing;

		if (!*val || strlen(val) >= BS_NAME_MAX)
			goto bad;
		strcpy(dst, val);
	} else if (!strcmp(key, "size")) {
		errno = 0;
		r->size = strtoull(val, &end, 10);
		if (errno || *end || !r->size)
			goto bad;
	} else if (!strcmp(key, "status")) {
		i = lookup(status_names, 4, val);
		if (i < 0)
			goto bad;
		r->status = i;
	} else if (!strcmp(key, "err")) {
		errno = 0;
		i = (int)strtol(val, &end, 10);
		if (errno || *end || i >= 0)
			goto bad;
		r->err = i;
	} else {
		static const char *const keys[] = { "reg", "dereg", "memcpy", "fault", "bw" };
		struct bs_stat *stats[] = { &r->reg, &r->dereg, &r->copy, &r->fault, &r->bw };

		i = lookup(keys, 5, key);
		if (i < 0) {
			snprintf(why, whylen, "unknown field '%s'", key);
			return -EINVAL;
		}
		if (parse_stat(val, stats[i]))
			goto bad;
	}
	return 0;
bad:
	snprintf(why, whylen, "bad %s '%s'", key, val);
	return -EINVAL;
}

int bs_rec_parse(const char *line, struct bs_rec *r, char *why, size_t whylen)
{
	char buf[1024], *tok, *save, *eq;
	size_t len;
	int t;

	memset(r, 0, sizeof(*r));
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || *line == '\n' || *line == '#')
		return 1;
	len = strcspn(line, "\n");
	if (len >= sizeof(buf)) {
		snprintf(why, whylen, "line too long");
		return -EINVAL;
	}
	memcpy(buf, line, len);
	buf[len] = 0;
	tok = strtok_r(buf, " ", &save);
	t = lookup(type_names, 4, tok);
	if (t < 0) {
		snprintf(why, whylen, "unknown record type '%s'", tok);
		return -EINVAL;
	}
	r->type = t;
	if (t == BS_INFO) {
		snprintf(r->why, sizeof(r->why), "%s", save ? save : "");
		return 0;
	}
	while ((tok = strtok_r(NULL, " ", &save))) {
		if (!strncmp(tok, "why=", 4)) {
			/* the rest of the line, spaces included */
			snprintf(r->why, sizeof(r->why), "%s%s%s", tok + 4, save && *save ? " " : "",
				 save ? save : "");
			break;
		}
		eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, whylen, "'%s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = 0;
		if (field(r, tok, eq + 1, why, whylen))
			return -EINVAL;
	}
	if (!r->device[0] || !r->size || (t == BS_REG && !r->backing[0])) {
		snprintf(why, whylen, "%s record without device, size%s", type_names[t],
			 t == BS_REG ? " or backing" : "");
		return -EINVAL;
	}
	if (r->status == BS_OK && (t == BS_REG ? !r->reg.n || !r->dereg.n : !r->bw.n)) {
		snprintf(why, whylen, "status=ok %s record without its figures", type_names[t]);
		return -EINVAL;
	}
	return 0;
}
