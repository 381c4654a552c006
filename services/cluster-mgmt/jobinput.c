/* jobinput.c - rules for the body of POST /api/jobs that need no I/O. */
#include <stdio.h>
#include <string.h>

#include <osh/json.h>
#include <osh/selector.h>
#include <osh/util.h>

#include "jobinput.h"

static const char *const actions[] = {"on", "off", "soft", "cycle", "reset",
    "diag", "boot", "identify", "status", NULL};
static const char *const conflicts[] = {"wait", "skip", NULL};
static const char *const devices[] = {"pxe", "disk", "cdrom", "bios", NULL};

static const struct osh_field job_fields[] = {
    {"action", OSH_FIELD_ENUM, true, false, 0, 0, actions},
    {"targets", OSH_FIELD_OBJECT, true, false, 0, 0, NULL},
    {"boot", OSH_FIELD_OBJECT, false, false, 0, 0, NULL},
    {"identify_seconds", OSH_FIELD_INT, false, false, 0, 255, NULL},
    {"concurrency", OSH_FIELD_INT, false, false, 1, JOB_CONCURRENCY_MAX, NULL},
    {"stagger", OSH_FIELD_OBJECT, false, true, 0, 0, NULL},
    {"canary", OSH_FIELD_INT, false, false, 0, 100, NULL},
    {"timeout_s", OSH_FIELD_INT, false, false, 1, JOB_TIMEOUT_MAX_S, NULL},
    {"retries", OSH_FIELD_INT, false, false, 0, JOB_RETRIES_MAX, NULL},
    {"backoff_ms", OSH_FIELD_INT, false, false, 100, 600000, NULL},
    {"verify", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"verify_timeout_s", OSH_FIELD_INT, false, false, 1,
	JOB_VERIFY_TIMEOUT_MAX_S, NULL},
    {"not_before", OSH_FIELD_STRING, false, true, 1, 40, NULL},
    {"not_after", OSH_FIELD_STRING, false, true, 1, 40, NULL},
    {"on_conflict", OSH_FIELD_ENUM, false, false, 0, 0, conflicts},
    {"dry_run", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct osh_field target_fields[] = {
    {"server_ids", OSH_FIELD_ARRAY, false, false, 1, JOB_IDS_MAX, NULL},
    {"cluster", OSH_FIELD_INT, false, false, 1, INT64_MAX, NULL},
    {"selector", OSH_FIELD_STRING, false, false, 1, OSH_SELECTOR_MAX_LEN, NULL},
};

static const struct osh_field boot_fields[] = {
    {"device", OSH_FIELD_ENUM, true, false, 0, 0, devices},
    {"persistent", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"efi", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

static const struct osh_field stagger_fields[] = {
    {"count", OSH_FIELD_INT, true, false, 1, 10000, NULL},
    {"interval_s", OSH_FIELD_INT, false, false, 1, 3600, NULL},
    {"label", OSH_FIELD_STRING, false, false, 1, 63, NULL},
    {"label_count", OSH_FIELD_INT, false, false, 1, 10000, NULL},
    {"jitter_ms", OSH_FIELD_INT, false, false, 0, 60000, NULL},
};

#define BAD(field, ...)                                                        \
	osh_err_set(err, 400, "validation_failed", field, __VA_ARGS__)

static void
add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* The targets: exactly one of server ids, a cluster or a selector. */
static int
parse_targets(
    struct json_object *t, struct json_object *spec, struct osh_err *err)
{
	struct json_object *out, *v, *ids;
	int given = 0;

	if (osh_json_check(
		t, target_fields, OSH_ARRAY_LEN(target_fields), err) != 0) {
		osh_strlcpy(err->field, "targets", sizeof(err->field));
		return -1;
	}
	given = osh_json_has(t, "server_ids") + osh_json_has(t, "cluster") +
	    osh_json_has(t, "selector");
	if (given != 1)
		return BAD("targets",
		    "targets takes exactly one of server_ids, cluster and "
		    "selector");
	out = json_object_new_object();
	json_object_object_add(spec, "targets", out);
	if (json_object_object_get_ex(t, "server_ids", &v)) {
		size_t n = json_object_array_length(v);

		ids = json_object_new_array_ext((int)n);
		json_object_object_add(out, "server_ids", ids);
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			int64_t id;

			if (!json_object_is_type(e, json_type_int) ||
			    (id = json_object_get_int64(e)) < 1)
				return BAD("targets",
				    "server_ids must be positive integers "
				    "(item %zu is not)",
				    i);
			json_object_array_add(ids, json_object_new_int64(id));
		}
		return 0;
	}
	if (json_object_object_get_ex(t, "cluster", &v)) {
		add_int(out, "cluster", json_object_get_int64(v));
		return 0;
	}
	{
		const char *text = json_object_get_string(
		    json_object_object_get(t, "selector"));
		struct osh_selector_err serr = {0};
		struct osh_selector *s =
		    osh_selector_parse(text, strlen(text), &serr);
		struct json_object *terms;
		char buf[OSH_SELECTOR_MAX_LEN * 2 + 16];
		size_t n;

		if (s == NULL)
			return BAD("targets", "selector: %s at position %zu",
			    serr.message, serr.pos);
		n = osh_selector_format(s, NULL, 0);
		if (s->nterms == 0 || n >= sizeof(buf)) {
			osh_selector_free(s);
			return BAD("targets", "selector must select something");
		}
		osh_selector_format(s, buf, sizeof(buf));
		terms = osh_selector_json(s);
		osh_selector_free(s);
		if (terms == NULL)
			return osh_err_set(
			    err, 503, NULL, NULL, "out of memory");
		add_str(out, "selector", buf);
		json_object_object_add(out, "terms", terms);
	}
	return 0;
}

/* The action as the request stream spells it, and the state it asks for.
 * status only reads each server's power state: nothing to verify, its
 * tasks end with the state read. */
static int
parse_action(
    struct json_object *body, struct json_object *spec, struct osh_err *err)
{
	const char *kind = osh_json_str(body, "action", "");
	const char *target = NULL;
	char action[64];
	struct json_object *b = NULL;

	osh_strlcpy(action, kind, sizeof(action));
	if (strcmp(kind, "on") == 0 || strcmp(kind, "cycle") == 0 ||
	    strcmp(kind, "reset") == 0)
		target = "on";
	else if (strcmp(kind, "off") == 0 || strcmp(kind, "soft") == 0)
		target = "off";
	if (json_object_object_get_ex(body, "boot", &b) !=
	    (strcmp(kind, "boot") == 0))
		return BAD("boot",
		    "boot (the device) goes with action boot, "
		    "and only with it");
	if (osh_json_has(body, "identify_seconds") &&
	    strcmp(kind, "identify") != 0)
		return BAD("identify_seconds",
		    "identify_seconds goes with action identify only");
	if (b != NULL) {
		if (osh_json_check(
			b, boot_fields, OSH_ARRAY_LEN(boot_fields), err) != 0) {
			osh_strlcpy(err->field, "boot", sizeof(err->field));
			return -1;
		}
		snprintf(action, sizeof(action), "boot:%s%s%s",
		    osh_json_str(b, "device", ""),
		    osh_json_bool(b, "persistent", false) ? ":persistent" : "",
		    osh_json_bool(b, "efi", false) ? ":efi" : "");
	}
	if (strcmp(kind, "identify") == 0) {
		int64_t s = osh_json_int(body, "identify_seconds", 15);

		if (s == 0)
			osh_strlcpy(action, "identify:off", sizeof(action));
		else
			snprintf(action, sizeof(action), "identify:%lld",
			    (long long)s);
	}
	if (osh_json_bool(body, "verify", false) && target == NULL)
		return BAD("verify",
		    "verify applies to on, off, soft, cycle and reset");
	add_str(spec, "action", action);
	add_str(spec, "kind", kind);
	add_str(spec, "target_state", target);
	json_object_object_add(spec, "verify",
	    json_object_new_boolean(
		target != NULL && osh_json_bool(body, "verify", true)));
	return 0;
}

static int
parse_stagger(
    struct json_object *body, struct json_object *spec, struct osh_err *err)
{
	struct json_object *s = NULL, *out;

	if (!json_object_object_get_ex(body, "stagger", &s) || s == NULL) {
		json_object_object_add(spec, "stagger", NULL);
		return 0;
	}
	if (osh_json_check(
		s, stagger_fields, OSH_ARRAY_LEN(stagger_fields), err) != 0) {
		osh_strlcpy(err->field, "stagger", sizeof(err->field));
		return -1;
	}
	if (osh_json_has(s, "label") != osh_json_has(s, "label_count"))
		return BAD("stagger", "label and label_count go together");
	out = json_object_new_object();
	json_object_object_add(spec, "stagger", out);
	add_int(out, "count", osh_json_int(s, "count", 1));
	add_int(out, "interval_ms", osh_json_int(s, "interval_s", 1) * 1000);
	add_str(out, "label", osh_json_str(s, "label", NULL));
	add_int(out, "label_count", osh_json_int(s, "label_count", 0));
	add_int(out, "jitter_ms", osh_json_int(s, "jitter_ms", 0));
	return 0;
}

/* max_failures: 5 or "5" (a count), "10%" (of the tasks), null. */
static int
parse_budget(
    struct json_object *body, struct json_object *spec, struct osh_err *err)
{
	struct json_object *m = json_object_object_get(body, "max_failures");
	const char *s;
	char num[24];
	size_t len;
	int64_t v;
	bool pct;

	json_object_object_add(spec, "max_failures", NULL);
	json_object_object_add(spec, "max_failures_percent", NULL);
	if (m == NULL)
		return 0;
	if (json_object_is_type(m, json_type_int)) {
		v = json_object_get_int64(m);
		if (v < 0 || v > JOB_IDS_MAX)
			goto bad;
		add_int(spec, "max_failures", v);
		return 0;
	}
	if (!json_object_is_type(m, json_type_string))
		goto bad;
	s = json_object_get_string(m);
	len = strlen(s);
	pct = len > 0 && s[len - 1] == '%';
	if (pct)
		len--;
	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, s, len);
	num[len] = '\0';
	if (!osh_parse_int(num, 0, pct ? 100 : JOB_IDS_MAX, &v))
		goto bad;
	add_int(spec, pct ? "max_failures_percent" : "max_failures", v);
	return 0;
bad:
	return BAD("max_failures",
	    "max_failures is a count (\"5\") or a percentage (\"10%%\")");
}

static int
parse_time(struct json_object *body, const char *key, struct json_object *spec,
    int64_t *ms, struct osh_err *err)
{
	const char *s = osh_json_str(body, key, NULL);
	char buf[40];

	*ms = -1;
	if (s == NULL) {
		json_object_object_add(spec, key, NULL);
		return 0;
	}
	if (!osh_time_parse(s, ms) || *ms < 0)
		return BAD(key, "%s must be an RFC 3339 time", key);
	osh_time_format(*ms, buf, sizeof(buf));
	add_str(spec, key, buf);
	return 0;
}

int
job_in_parse(
    struct json_object *body, struct json_object **spec, struct osh_err *err)
{
	struct json_object *o, *t;
	int64_t nb, na;

	*spec = NULL;
	if (!json_object_is_type(body, json_type_object))
		return BAD(NULL, "the body must be a JSON object");
	/* max_failures is a number or a string: checked by parse_budget,
	 * the rest by the table. */
	if ((t = json_object_new_object()) == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	json_object_object_foreach(body, k, v)
	{
		if (strcmp(k, "max_failures") != 0)
			json_object_object_add(t, k, json_object_get(v));
	}
	nb = osh_json_check(t, job_fields, OSH_ARRAY_LEN(job_fields), err);
	json_object_put(t);
	if (nb != 0)
		return -1;
	if ((o = json_object_new_object()) == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	if (parse_action(body, o, err) != 0)
		goto out_put;
	t = json_object_object_get(body, "targets");
	if (parse_targets(t, o, err) != 0)
		goto out_put;
	add_int(o, "concurrency",
	    osh_json_int(body, "concurrency", JOB_CONCURRENCY_DEFAULT));
	if (parse_stagger(body, o, err) != 0 || parse_budget(body, o, err) != 0)
		goto out_put;
	add_int(o, "canary", osh_json_int(body, "canary", 0));
	add_int(o, "timeout_s",
	    osh_json_int(body, "timeout_s", JOB_TIMEOUT_DEFAULT_S));
	add_int(
	    o, "retries", osh_json_int(body, "retries", JOB_RETRIES_DEFAULT));
	add_int(o, "backoff_ms", osh_json_int(body, "backoff_ms", 1000));
	add_int(o, "verify_timeout_s",
	    osh_json_int(
		body, "verify_timeout_s", JOB_VERIFY_TIMEOUT_DEFAULT_S));
	if (parse_time(body, "not_before", o, &nb, err) != 0 ||
	    parse_time(body, "not_after", o, &na, err) != 0)
		goto out_put;
	if (nb >= 0 && na >= 0 && na <= nb) {
		BAD("not_after", "not_after must be later than not_before");
		goto out_put;
	}
	add_str(o, "on_conflict", osh_json_str(body, "on_conflict", "wait"));
	json_object_object_add(o, "dry_run",
	    json_object_new_boolean(osh_json_bool(body, "dry_run", false)));
	*spec = o;
	return 0;
out_put:
	json_object_put(o);
	return -1;
}
