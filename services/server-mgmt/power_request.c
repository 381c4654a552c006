/* power_request.c - reading osh:power-requests entries. */
#include <stdio.h>
#include <string.h>

#include <osh/util.h>

#include "power_request.h"
#include "sm.h"

/* Copies a field's value when it is text of at most max-1 bytes without
 * NUL or control characters. */
static bool
text(const struct power_field *f, char *out, size_t max)
{
	if (f->len >= max || memchr(f->value, '\0', f->len) != NULL)
		return false;
	for (size_t i = 0; i < f->len; i++)
		if ((unsigned char)f->value[i] < 0x20 || f->value[i] == 0x7f)
			return false;
	memcpy(out, f->value, f->len);
	out[f->len] = '\0';
	return true;
}

static bool
number(const struct power_field *f, int64_t min, int64_t max, int64_t *out)
{
	char buf[24];

	return text(f, buf, sizeof(buf)) && osh_parse_int(buf, min, max, out);
}

/* request ids are short and plain: letters, digits, '.', '-', '_', ':'. */
static bool
id_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		char ch = *s;
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			(ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '-' ||
			ch == '_' || ch == ':'))
			return false;
	}
	return true;
}

bool
power_action_read(const char *s, struct osh_ipmi_request *rq, bool *idempotent)
{
	char buf[POWER_ACTION_MAX];
	char *rest, *part;
	int64_t secs;

	memset(rq, 0, sizeof(*rq));
	*idempotent = true;
	if (strcmp(s, "status") == 0) {
		rq->want = OSH_IPMI_WANT_CHASSIS;
		return true;
	}
	if (power_action_parse(s, &rq->power)) {
		rq->want = OSH_IPMI_WANT_CONTROL;
		*idempotent = rq->power == OSH_POWER_ON ||
		    rq->power == OSH_POWER_OFF || rq->power == OSH_POWER_SOFT;
		return true;
	}
	if (!osh_strlcpy(buf, s, sizeof(buf)))
		return false;
	if (strncmp(buf, "identify:", 9) == 0) {
		rq->want = OSH_IPMI_WANT_IDENTIFY;
		if (strcmp(buf + 9, "off") == 0)
			return true;
		if (!osh_parse_int(buf + 9, 1, 255, &secs))
			return false;
		rq->identify.seconds = (int)secs;
		return true;
	}
	if (strncmp(buf, "boot:", 5) != 0)
		return false;
	rq->want = OSH_IPMI_WANT_BOOT;
	rest = buf + 5;
	part = strsep(&rest, ":");
	if (part == NULL || strcmp(part, "none") == 0 ||
	    !boot_device_parse(part, &rq->boot.device))
		return false;
	while ((part = strsep(&rest, ":")) != NULL) {
		if (strcmp(part, "persistent") == 0 && !rq->boot.persistent &&
		    !rq->boot.efi)
			rq->boot.persistent = true;
		else if (strcmp(part, "efi") == 0 && !rq->boot.efi)
			rq->boot.efi = true;
		else
			return false;
	}
	return true;
}

static const struct power_field *
field(const struct power_field *f, size_t n, const char *name)
{
	const struct power_field *found = NULL;

	for (size_t i = 0; i < n; i++)
		if (f[i].name != NULL && strcmp(f[i].name, name) == 0)
			found = &f[i];
	return found;
}

static enum power_parse
invalid(const char **code, const char *c, char *why, size_t why_len,
    const char *what)
{
	*code = c;
	snprintf(why, why_len, "%s", what);
	return POWER_PARSE_INVALID;
}

enum power_parse
power_request_parse(const struct power_field *f, size_t n,
    struct power_request *out, const char **code, char *why, size_t why_len)
{
	static const struct {
		const char *name;
		size_t off;
	} nums[] = {
	    {"job_id", offsetof(struct power_request, job_id)},
	    {"task_id", offsetof(struct power_request, task_id)},
	    {"attempt", offsetof(struct power_request, attempt)},
	    {"server_id", offsetof(struct power_request, server_id)},
	};
	const struct power_field *x;
	char v[8];

	memset(out, 0, sizeof(*out));
	*code = NULL;
	if (why_len > 0)
		why[0] = '\0';
	x = field(f, n, "request_id");
	if (x == NULL || !text(x, out->request_id, sizeof(out->request_id)) ||
	    !id_ok(out->request_id)) {
		out->request_id[0] = '\0';
		return POWER_PARSE_NO_ID;
	}
	/* What is readable is kept, so that even a refusal names its task. */
	for (size_t i = 0; i < OSH_ARRAY_LEN(nums); i++) {
		int64_t *dst = (int64_t *)(void *)((char *)out + nums[i].off);
		x = field(f, n, nums[i].name);
		if (x == NULL || !number(x, 0, INT64_MAX, dst)) {
			*dst = 0;
			invalid(code, "internal", why, why_len, nums[i].name);
		}
	}
	if ((x = field(f, n, "requested_by")) != NULL &&
	    !text(x, out->requested_by, sizeof(out->requested_by)))
		out->requested_by[0] = '\0';
	if ((x = field(f, n, "trace")) != NULL &&
	    !text(x, out->trace, sizeof(out->trace)))
		out->trace[0] = '\0';
	x = field(f, n, "action");
	if (x != NULL && !text(x, out->action, sizeof(out->action)))
		out->action[0] = '\0';
	if (*code != NULL) {
		char what[96];
		snprintf(
		    what, sizeof(what), "%s: not a non-negative integer", why);
		return invalid(code, "internal", why, why_len, what);
	}
	if (out->server_id < 1)
		return invalid(code, "not_found", why, why_len,
		    "server_id: no such server");
	x = field(f, n, "v");
	if (x == NULL || !text(x, v, sizeof(v)) || strcmp(v, "1") != 0)
		return invalid(code, "unsupported", why, why_len,
		    "v: this server-mgmt speaks version 1");
	x = field(f, n, "deadline_ms");
	if (x != NULL && !number(x, 0, INT64_MAX, &out->deadline_ms))
		return invalid(code, "internal", why, why_len,
		    "deadline_ms: not epoch milliseconds");
	if (out->action[0] == '\0' ||
	    !power_action_read(out->action, &out->rq, &out->idempotent)) {
		return invalid(code, "unsupported", why, why_len,
		    "action: not one this server-mgmt knows");
	}
	return POWER_PARSE_OK;
}

const char *
power_error_code(enum osh_ipmi_err e)
{
	switch (e) {
	case OSH_IPMI_OK: return "";
	case OSH_IPMI_UNREACHABLE: return "bmc_unreachable";
	case OSH_IPMI_TIMEOUT: return "bmc_timeout";
	case OSH_IPMI_AUTH_FAILED: return "auth_failed";
	case OSH_IPMI_PRIVILEGE: return "privilege";
	case OSH_IPMI_UNSUPPORTED: return "unsupported";
	case OSH_IPMI_BUSY: return "bmc_busy";
	case OSH_IPMI_BAD_RESPONSE:
	case OSH_IPMI_INTERNAL: break;
	}
	return "internal";
}

bool
power_error_transient(const char *code)
{
	return strcmp(code, "bmc_timeout") == 0 ||
	    strcmp(code, "bmc_unreachable") == 0 ||
	    strcmp(code, "bmc_busy") == 0 || strcmp(code, "worker_lost") == 0;
}
