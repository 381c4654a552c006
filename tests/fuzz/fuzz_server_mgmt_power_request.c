/* libFuzzer target: server-mgmt's reading of osh:power-requests entries
 * (power_request.c): the stream is written by another service, so every
 * entry is outside input. The input is an entry's fields, one per line
 * ("name=value"; a value may hold any byte but a newline, NUL
 * included). Besides the sanitizers, it checks: an entry without a
 * usable request_id fills nothing in; a refusal has a known code, a
 * reason and its request_id; what is taken has a plain request_id, a
 * server id, text fields without control characters, and an action that
 * reads back to the same request. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/util.h>

#include "server-mgmt/power_request.h"

#define MAX_FIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "broken invariant: %s\n", what);
		abort();
	}
}

static bool
plain(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct power_field f[MAX_FIELDS];
	char *buf = malloc(size + 1), *p, *end, names[MAX_FIELDS][64];
	struct power_request r, again;
	const char *code;
	char why[160];
	size_t n = 0;
	enum power_parse st;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;
	while (p < end && n < MAX_FIELDS) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eq;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		eq = memchr(p, '=', len);
		if (eq != NULL) {
			size_t nlen = (size_t)(eq - p);
			if (nlen >= sizeof(names[n]))
				nlen = sizeof(names[n]) - 1;
			memcpy(names[n], p, nlen);
			names[n][nlen] = '\0';
			f[n].name = names[n];
			f[n].value = eq + 1;
			f[n].len = len - (size_t)(eq - p) - 1;
			n++;
		}
		p += len + 1;
	}
	why[0] = '\0';
	st = power_request_parse(f, n, &r, &code, why, sizeof(why));
	switch (st) {
	case POWER_PARSE_NO_ID:
		check(r.request_id[0] == '\0', "no id, yet an id");
		break;
	case POWER_PARSE_INVALID:
		check(code != NULL &&
			(strcmp(code, "unsupported") == 0 ||
			    strcmp(code, "internal") == 0 ||
			    strcmp(code, "not_found") == 0),
		    "a refusal with an unknown code");
		check(why[0] != '\0', "a refusal without a reason");
		check(r.request_id[0] != '\0', "a refusal without its id");
		break;
	case POWER_PARSE_OK:
		check(code == NULL, "taken, with a code");
		check(r.request_id[0] != '\0', "taken without an id");
		check(r.server_id >= 1, "taken without a server");
		check(r.job_id >= 0 && r.task_id >= 0 && r.attempt >= 0,
		    "negative ids");
		check(plain(r.action, sizeof(r.action)) &&
			plain(r.requested_by, sizeof(r.requested_by)) &&
			plain(r.trace, sizeof(r.trace)),
		    "text with control characters");
		check(power_action_read(r.action, &again.rq, &again.idempotent),
		    "the action does not read again");
		check(memcmp(&again.rq, &r.rq, sizeof(r.rq)) == 0 &&
			again.idempotent == r.idempotent,
		    "the action reads differently");
		check(r.rq.want != 0, "an action asking for nothing");
		break;
	}
	check(plain(r.request_id, sizeof(r.request_id)), "a bad request_id");
	free(buf);
	return 0;
}
