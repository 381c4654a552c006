/* input.c - checks of server-mgmt's request input besides server records:
 * power, boot device and identify bodies, the servers list's and the
 * SEL's query parameters, discovery scan bodies and their import. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/selector.h>
#include <osh/util.h>

#include "input.h"
#include "selector_sql.h"
#include "sm.h"

/*
 * Bodies of BMC actions.
 */

static const char *const power_actions[] = {
    "on", "off", "soft", "cycle", "reset", "diag", NULL};
static const struct osh_field power_fields[] = {
    {"action", OSH_FIELD_ENUM, true, false, 0, 0, power_actions},
};

int
input_power(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err)
{
	if (osh_json_check(
		body, power_fields, OSH_ARRAY_LEN(power_fields), err) != 0)
		return -1;
	if (!power_action_parse(osh_json_str(body, "action", ""), &rq->power))
		return osh_err_set(err, 400, "validation_failed", "action",
		    "action must be on, off, soft, cycle, reset or diag");
	return 0;
}

static const char *const boot_devices[] = {
    "pxe", "disk", "cdrom", "bios", "none", NULL};
static const struct osh_field boot_fields[] = {
    {"device", OSH_FIELD_ENUM, true, false, 0, 0, boot_devices},
    {"persistent", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"efi", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

int
input_boot(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err)
{
	if (osh_json_check(
		body, boot_fields, OSH_ARRAY_LEN(boot_fields), err) != 0)
		return -1;
	if (!boot_device_parse(
		osh_json_str(body, "device", ""), &rq->boot.device))
		return osh_err_set(err, 400, "validation_failed", "device",
		    "device must be pxe, disk, cdrom, bios or none");
	rq->boot.persistent = osh_json_bool(body, "persistent", false);
	rq->boot.efi = osh_json_bool(body, "efi", false);
	return 0;
}

static const struct osh_field identify_fields[] = {
    {"seconds", OSH_FIELD_INT, false, false, 1, 255, NULL},
    {"force", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"off", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

int
input_identify(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err)
{
	int given;

	if (osh_json_check(body, identify_fields,
		OSH_ARRAY_LEN(identify_fields), err) != 0)
		return -1;
	given = osh_json_has(body, "seconds") +
	    osh_json_bool(body, "force", false) +
	    osh_json_bool(body, "off", false);
	if (given != 1)
		return osh_err_set(err, 400, "validation_failed", "seconds",
		    "give exactly one of seconds, force: true or off: true");
	rq->identify.force = osh_json_bool(body, "force", false);
	rq->identify.seconds = (int)osh_json_int(body, "seconds", 0);
	return 0;
}

/*
 * Query parameters.
 */

/* Refuses parameter p[i] when it is not among known (NULL-terminated) or
 * was given before. */
static int
params_check(const struct input_param *p, size_t n, const char *const *known,
    struct osh_err *err)
{
	char name[OSH_ERR_FIELD_MAX];
	char *clean;

	if (n > INPUT_MAX_PARAMS)
		return osh_err_set(err, 400, "validation_failed", NULL,
		    "at most %d query parameters", INPUT_MAX_PARAMS);
	for (size_t i = 0; i < n; i++) {
		const char *const *k;

		for (k = known; *k != NULL; k++)
			if (strcmp(*k, p[i].key) == 0)
				break;
		for (size_t j = 0; *k != NULL && j < i; j++)
			if (strcmp(p[j].key, p[i].key) == 0)
				return osh_err_set(err, 400,
				    "validation_failed", *k,
				    "query parameter \"%s\" is given twice",
				    *k);
		if (*k != NULL)
			continue;
		clean = osh_utf8_clean(p[i].key, strlen(p[i].key), 64);
		osh_utf8_copy(name, clean != NULL ? clean : "?", sizeof(name));
		free(clean);
		return osh_err_set(err, 400, "validation_failed", name,
		    "unknown query parameter \"%s\"", name);
	}
	return 0;
}

static const char *
param(const struct input_param *p, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].key, key) == 0)
			return p[i].value;
	return NULL;
}

static bool
one_of(const char *v, const char *const *values)
{
	for (const char *const *s = values; *s != NULL; s++)
		if (strcmp(*s, v) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	enum server_sort sort;
	const char *asc, *desc; /* as cursors name them */
} sorts[] = {
    {"id", SERVER_SORT_ID, "id", "-id"},
    {"name", SERVER_SORT_NAME, "name", "-name"},
    {"status", SERVER_SORT_STATUS, "status", "-status"},
    {"power_state", SERVER_SORT_POWER, "power_state", "-power_state"},
    {"last_seen", SERVER_SORT_LAST_SEEN, "last_seen", "-last_seen"},
    {"created_at", SERVER_SORT_CREATED, "created_at", "-created_at"},
};

/* Text of at most INPUT_TEXT_MAX bytes, valid UTF-8, no control
 * characters. */
static bool
filter_text_ok(const char *t)
{
	size_t len = strlen(t);

	if (len > INPUT_TEXT_MAX || !osh_utf8_valid(t, len))
		return false;
	for (const unsigned char *c = (const unsigned char *)t; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* The inner text of a LIKE pattern matching t literally. */
static void
like_escape(const char *t, char *out, size_t len)
{
	size_t k = 0;

	for (; *t && k + 2 < len; t++) {
		if (*t == '\\' || *t == '%' || *t == '_')
			out[k++] = '\\';
		out[k++] = *t;
	}
	out[k] = '\0';
}

bool
input_cursor_parse(const char *cursor, const char *sort_text, char *key,
    size_t keylen, int64_t *id)
{
	unsigned char bin[INPUT_CURSOR_MAX];
	struct json_object *o, *k, *s, *i;
	struct osh_err err;
	size_t len = 0;
	bool ok;

	if (strlen(cursor) >= INPUT_CURSOR_MAX ||
	    sodium_base642bin(bin, sizeof(bin) - 1, cursor, strlen(cursor),
		NULL, &len, NULL,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	if ((o = osh_json_parse((const char *)bin, len, 3, &err)) == NULL)
		return false;
	ok = json_object_is_type(o, json_type_array) &&
	    json_object_array_length(o) == 3 &&
	    (s = json_object_array_get_idx(o, 0)) != NULL &&
	    (k = json_object_array_get_idx(o, 1)) != NULL &&
	    (i = json_object_array_get_idx(o, 2)) != NULL &&
	    json_object_is_type(s, json_type_string) &&
	    strcmp(json_object_get_string(s), sort_text) == 0 &&
	    json_object_is_type(k, json_type_string) &&
	    json_object_is_type(i, json_type_int) &&
	    osh_parse_int(json_object_to_json_string(i), 1, INT64_MAX, id) &&
	    osh_strlcpy(key, json_object_get_string(k), keylen) &&
	    osh_utf8_valid(key, strlen(key));
	json_object_put(o);
	return ok;
}

/* label=key=value, the older filter: one more term, key=value, into
 * *one (whose key and value point into buf). Its value is any text a
 * label may hold, commas and spaces too. */
static int
label_filter(const char *v, char *buf, size_t buflen,
    struct osh_selector_term *t, struct osh_err *err)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || !osh_selector_key_ok(v, (size_t)(eq - v)) ||
	    strlen(eq + 1) > OSH_SELECTOR_VALUE_MAX ||
	    !osh_utf8_valid(eq + 1, strlen(eq + 1)) ||
	    !osh_strlcpy(buf, v, buflen))
		return osh_err_set(err, 400, "validation_failed", "label",
		    "label must be key=value: a label name, then text of "
		    "at most %d bytes",
		    OSH_SELECTOR_VALUE_MAX);
	buf[eq - v] = '\0';
	t->op = OSH_SEL_EQ;
	t->key = buf;
	t->values[0] = buf + (eq - v) + 1;
	t->nvalues = 1;
	return 0;
}

/* The labels and label parameters, made into SQL parameters. */
static int
label_selector(const char *labels, const char *label, struct servers_query *out,
    struct osh_err *err)
{
	char buf[OSH_SELECTOR_KEY_MAX + OSH_SELECTOR_VALUE_MAX + 2];
	char *value[1];
	struct osh_selector_term term = {.values = value};
	struct osh_selector older = {&term, 1};
	const struct osh_selector *sels[2];
	struct osh_selector *sel = NULL;
	struct osh_selector_err serr = {0};
	size_t n = 0;
	int rc = -1;

	if (labels != NULL) {
		sel = osh_selector_parse(labels, strlen(labels), &serr);
		if (sel == NULL && strcmp(serr.message, "out of memory") == 0)
			return osh_err_set(
			    err, 503, NULL, NULL, "out of memory");
		if (sel == NULL)
			return osh_err_set(err, 400, "validation_failed",
			    "labels",
			    "labels must be a label selector (e.g. "
			    "rack=r12,role!=lab,env in (a,b),!legacy): %s at "
			    "position %zu",
			    serr.message, serr.pos);
		if (sel->nterms == 0) {
			osh_err_set(err, 400, "validation_failed", "labels",
			    "labels must not be empty");
			goto out_free;
		}
		sels[n++] = sel;
	}
	if (label != NULL) {
		if (label_filter(label, buf, sizeof(buf), &term, err) != 0)
			goto out_free;
		sels[n++] = &older;
	}
	if (selector_sql(sels, n, &out->label_eq, &out->label_keys,
		&out->label_rest) != 0) {
		osh_err_set(err, 503, NULL, NULL, "out of memory");
		goto out_free;
	}
	out->f.label_eq = out->label_eq;
	out->f.label_keys = out->label_keys;
	out->f.label_rest = out->label_rest;
	rc = 0;
out_free:
	osh_selector_free(sel);
	return rc;
}

void
input_servers_query_release(struct servers_query *q)
{
	free(q->label_eq);
	free(q->label_keys);
	free(q->label_rest);
	q->label_eq = q->label_keys = q->label_rest = NULL;
}

int
input_servers_query(const struct input_param *p, size_t n,
    struct servers_query *out, struct osh_err *err)
{
	static const char *const known[] = {"limit", "offset", "cursor", "sort",
	    "q", "name", "status", "power_state", "cluster", "manufacturer",
	    "labels", "label", "monitoring", NULL};
	static const char *const statuses[] = {
	    "unknown", "online", "offline", "auth_failed", "error", NULL};
	static const char *const powers[] = {"on", "off", "unknown", NULL};
	static const char *const bools[] = {"true", "false", NULL};
	const char *v;

	memset(out, 0, sizeof(*out));
	out->limit = 50;
	out->page.sort = SERVER_SORT_ID;
	out->page.sort_text = "id";
	if (params_check(p, n, known, err) != 0)
		return -1;
	if ((v = param(p, n, "limit")) &&
	    !osh_parse_int(v, 1, 1000, &out->limit))
		return osh_err_set(err, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to 1000");
	if ((v = param(p, n, "offset")) &&
	    !osh_parse_int(v, 0, 100000000, &out->offset))
		return osh_err_set(err, 400, "validation_failed", "offset",
		    "offset must be a non-negative integer");
	if ((v = param(p, n, "sort")) != NULL) {
		bool desc = v[0] == '-', found = false;
		for (size_t i = 0; i < OSH_ARRAY_LEN(sorts) && !found; i++) {
			if (strcmp(sorts[i].name, desc ? v + 1 : v) == 0) {
				out->page.sort = sorts[i].sort;
				out->page.desc = desc;
				out->page.sort_text =
				    desc ? sorts[i].desc : sorts[i].asc;
				found = true;
			}
		}
		if (!found)
			return osh_err_set(err, 400, "validation_failed",
			    "sort",
			    "sort must be id, name, status, power_state, "
			    "last_seen or created_at, '-' first for "
			    "descending");
	}
	if ((v = param(p, n, "cursor")) != NULL) {
		if (param(p, n, "offset") != NULL)
			return osh_err_set(err, 400, "validation_failed",
			    "cursor", "give cursor or offset, not both");
		if (!input_cursor_parse(v, out->page.sort_text, out->cursor_key,
			sizeof(out->cursor_key), &out->page.cursor_id))
			return osh_err_set(err, 400, "validation_failed",
			    "cursor",
			    "cursor must be the next_cursor of a page "
			    "with the same sort");
		out->page.cursor_key = out->cursor_key;
	}
	out->page.limit = out->limit;
	out->page.offset = out->offset;
	if ((v = param(p, n, "status")) != NULL && !one_of(v, statuses))
		return osh_err_set(err, 400, "validation_failed", "status",
		    "status must be unknown, online, offline, auth_failed or "
		    "error");
	out->f.status = v;
	if ((v = param(p, n, "power_state")) != NULL && !one_of(v, powers))
		return osh_err_set(err, 400, "validation_failed", "power_state",
		    "power_state must be on, off or unknown");
	out->f.power_state = v;
	if ((v = param(p, n, "monitoring")) != NULL && !one_of(v, bools))
		return osh_err_set(err, 400, "validation_failed", "monitoring",
		    "monitoring must be true or false");
	out->f.monitoring = v;
	{
		static const char *const names[] = {
		    "q", "name", "cluster", "manufacturer"};
		for (size_t i = 0; i < OSH_ARRAY_LEN(names); i++) {
			const char *t = param(p, n, names[i]);
			if (t != NULL && !filter_text_ok(t))
				return osh_err_set(err, 400,
				    "validation_failed", names[i],
				    "%s must be text of at most %d bytes "
				    "without control characters",
				    names[i], INPUT_TEXT_MAX);
		}
	}
	if ((v = param(p, n, "q")) != NULL) {
		if (v[0] == '\0')
			return osh_err_set(err, 400, "validation_failed", "q",
			    "q must not be empty");
		like_escape(v, out->q_like, sizeof(out->q_like));
		out->f.q = out->q_like;
	}
	if ((v = param(p, n, "name")) != NULL) {
		like_escape(v, out->name_like, sizeof(out->name_like));
		out->f.name = out->name_like;
	}
	out->f.cluster = param(p, n, "cluster");
	out->f.manufacturer = param(p, n, "manufacturer");
	if ((param(p, n, "labels") != NULL || param(p, n, "label") != NULL) &&
	    label_selector(
		param(p, n, "labels"), param(p, n, "label"), out, err) != 0)
		return -1;
	return 0;
}

int
input_sel_query(const struct input_param *p, size_t n,
    struct osh_ipmi_request *rq, struct osh_err *err)
{
	static const char *const known[] = {"limit", "cursor", NULL};
	int64_t limit = OSH_IPMI_SEL_PAGE_DEFAULT, cursor = 0;
	const char *v;

	if (param(p, n, "offset") != NULL)
		return osh_err_set(err, 400, "validation_failed", "offset",
		    "the SEL is paged with cursor (the next_cursor of the "
		    "page before), not offset");
	if (params_check(p, n, known, err) != 0)
		return -1;
	if ((v = param(p, n, "limit")) != NULL &&
	    !osh_parse_int(v, 1, OSH_IPMI_SEL_PAGE_MAX, &limit))
		return osh_err_set(err, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to %d",
		    OSH_IPMI_SEL_PAGE_MAX);
	/* Record ids 0x0000 and 0xffff mean first and last, never one. */
	if ((v = param(p, n, "cursor")) != NULL &&
	    !osh_parse_int(v, 1, 0xfffe, &cursor))
		return osh_err_set(err, 400, "validation_failed", "cursor",
		    "cursor must be a next_cursor from an earlier page");
	rq->sel.limit = (unsigned)limit;
	rq->sel.start = (uint16_t)cursor;
	return 0;
}

int
input_sel_around(const struct input_param *p, size_t n, struct sel_around *out,
    struct osh_err *err)
{
	static const char *const known[] = {
	    "around", "window_s", "limit", NULL};
	int64_t ms, window = 600, limit = 20;
	const char *v;

	if (params_check(p, n, known, err) != 0)
		return -1;
	if ((v = param(p, n, "around")) == NULL || !osh_time_parse(v, &ms) ||
	    ms < 0)
		return osh_err_set(err, 400, "validation_failed", "around",
		    "around must be an RFC 3339 time");
	if ((v = param(p, n, "window_s")) != NULL &&
	    !osh_parse_int(v, 1, 86400, &window))
		return osh_err_set(err, 400, "validation_failed", "window_s",
		    "window_s must be an integer from 1 to 86400");
	if ((v = param(p, n, "limit")) != NULL &&
	    !osh_parse_int(v, 1, 100, &limit))
		return osh_err_set(err, 400, "validation_failed", "limit",
		    "limit must be an integer from 1 to 100");
	out->around_s = ms / 1000;
	out->window_s = window;
	out->limit = (unsigned)limit;
	return 0;
}

/*
 * Discovery.
 */

static const struct osh_field scan_fields[] = {
    {"range", OSH_FIELD_STRING, true, false, 1, 4096, NULL},
    {"credentials", OSH_FIELD_ARRAY, false, false, 0, SCAN_MAX_CREDS, NULL},
    {"workarounds", OSH_FIELD_ARRAY, false, false, 0, 12, NULL},
    {"timeout_ms", OSH_FIELD_INT, false, false, 100, 10000, NULL},
};

/* The body as the field table sees it: range and port take several
 * shapes that scan_targets checks, so port is left out and a range that
 * is not a string stands as one (null stays null: refused). A new object (the caller puts it) with
 * references to the body's members. */
static struct json_object *
scan_fields_view(struct json_object *body)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_foreach(body, k, v)
	{
		if (strcmp(k, "port") == 0)
			continue;
		if (strcmp(k, "range") == 0 && v != NULL &&
		    !json_object_is_type(v, json_type_string))
			json_object_object_add(
			    o, k, json_object_new_string("x"));
		else
			json_object_object_add(o, k, json_object_get(v));
	}
	return o;
}

int
input_scan(struct json_object *body, int default_timeout_ms,
    struct scan_request *out, struct osh_err *err)
{
	struct json_object *view, *was, *creds;
	char bad[64];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(body, json_type_object))
		return osh_err_set(err, 400, "validation_failed", NULL,
		    "request body must be a JSON object");
	if ((view = scan_fields_view(body)) == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	rc = osh_json_check(view, scan_fields, OSH_ARRAY_LEN(scan_fields), err);
	json_object_put(view);
	if (rc != 0)
		return -1;
	out->range = json_object_get(json_object_object_get(body, "range"));
	out->port = json_object_get(json_object_object_get(body, "port"));
	out->timeout_ms =
	    (int)osh_json_int(body, "timeout_ms", default_timeout_ms);
	if (json_object_object_get_ex(body, "workarounds", &was)) {
		for (size_t i = 0; i < json_object_array_length(was); i++) {
			unsigned w;
			struct json_object *v =
			    json_object_array_get_idx(was, i);
			if (!json_object_is_type(v, json_type_string) ||
			    !osh_ipmi_workarounds_parse(
				json_object_get_string(v), &w, bad,
				sizeof(bad)))
				return osh_err_set(err, 400,
				    "validation_failed", "workarounds",
				    "unknown workaround flag");
			out->workaround_flags |= w;
		}
		out->workarounds = json_object_get(was);
	}
	if (json_object_object_get_ex(body, "credentials", &creds)) {
		for (size_t i = 0; i < json_object_array_length(creds); i++) {
			struct scan_cred *c = &out->creds[i];
			if (credentials_parse(
				json_object_array_get_idx(creds, i), c->user,
				sizeof(c->user), c->pass, sizeof(c->pass),
				err) != 0)
				return -1;
			out->ncreds++;
		}
	}
	return 0;
}

void
input_scan_release(struct scan_request *r)
{
	json_object_put(r->range);
	json_object_put(r->port);
	json_object_put(r->workarounds);
	r->range = r->port = r->workarounds = NULL;
	osh_wipe(r->creds, sizeof(r->creds));
	r->ncreds = 0;
}

static const struct osh_field import_fields[] = {
    {"results", OSH_FIELD_ARRAY, false, false, 1, 4096, NULL},
};

int
input_scan_import(struct json_object *body, const struct input_param *p,
    size_t n, struct scan_import_request *out, struct osh_err *err)
{
	static const char *const known[] = {"name_prefix", NULL};
	struct json_object *results;
	const char *prefix;

	memset(out, 0, sizeof(*out));
	if (params_check(p, n, known, err) != 0)
		return -1;
	prefix = param(p, n, "name_prefix");
	if (prefix != NULL &&
	    (strlen(prefix) > INPUT_PREFIX_MAX || !osh_name_ok(prefix)))
		return osh_err_set(err, 400, "validation_failed", "name_prefix",
		    "name_prefix must be a name of at most %d bytes (no "
		    "control characters, slashes or surrounding spaces)",
		    INPUT_PREFIX_MAX);
	osh_strlcpy(
	    out->prefix, prefix != NULL ? prefix : "bmc", sizeof(out->prefix));
	if (osh_json_check(
		body, import_fields, OSH_ARRAY_LEN(import_fields), err) != 0)
		return -1;
	if (!json_object_object_get_ex(body, "results", &results))
		return 0;
	for (size_t i = 0; i < json_object_array_length(results); i++) {
		struct json_object *v = json_object_array_get_idx(results, i);
		int64_t id;
		/* From the text: json-c holds integers past INT64_MAX too. */
		if (!json_object_is_type(v, json_type_int) ||
		    !osh_parse_int(
			json_object_to_json_string(v), 1, INT64_MAX, &id))
			return osh_err_set(err, 400, "validation_failed",
			    "results",
			    "results must be ids of scan results (positive "
			    "integers)");
	}
	out->ids_json = strdup(
	    json_object_to_json_string_ext(results, JSON_C_TO_STRING_PLAIN));
	if (out->ids_json == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	return 0;
}
