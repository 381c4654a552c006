/* silence.c - silences of the API <-> Alertmanager's v2 silences. */
#include <stdio.h>
#include <string.h>

#include <osh/util.h>

#include "silence.h"

#define DAY_S 86400

const struct osh_field silence_fields[] = {
    {"id", OSH_FIELD_STRING, false, true, 1, SILENCE_ID_MAX, NULL},
    {"matchers", OSH_FIELD_ARRAY, true, false, 1, SILENCE_MATCHERS_MAX, NULL},
    {"starts_at", OSH_FIELD_STRING, false, true, 1, 40, NULL},
    {"ends_at", OSH_FIELD_STRING, true, false, 1, 40, NULL},
    {"comment", OSH_FIELD_STRING, true, false, 1, SILENCE_COMMENT_MAX, NULL},
};
const size_t silence_nfields = OSH_ARRAY_LEN(silence_fields);

static const struct osh_field matcher_fields[] = {
    {"name", OSH_FIELD_STRING, true, false, 1, SILENCE_NAME_MAX, NULL},
    {"value", OSH_FIELD_STRING, true, false, 0, SILENCE_VALUE_MAX, NULL},
    {"is_regex", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"is_equal", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
};

const struct osh_field maint_fields[] = {
    {"server_ids", OSH_FIELD_ARRAY, false, false, 1, MAINT_SERVERS_MAX, NULL},
    {"cluster", OSH_FIELD_STRING, false, false, 1, 128, NULL},
    {"starts_at", OSH_FIELD_STRING, false, true, 1, 40, NULL},
    {"ends_at", OSH_FIELD_STRING, true, false, 1, 40, NULL},
    {"reason", OSH_FIELD_STRING, true, false, 1, SILENCE_COMMENT_MAX, NULL},
};
const size_t maint_nfields = OSH_ARRAY_LEN(maint_fields);

/* A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
static bool
label_name_ok(const char *s)
{
	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Regular expressions go to Alertmanager (RE2 syntax), which refuses
 * those it cannot compile (400 passed on). Checked here: brackets and
 * parentheses balance outside escapes and classes, so that an obvious
 * typo gets a clear answer naming the matcher. */
static bool
regex_balanced(const char *s)
{
	int depth = 0;
	bool cls = false;

	for (; *s != '\0'; s++) {
		if (*s == '\\') {
			if (s[1] == '\0')
				return false;
			s++;
		} else if (cls) {
			if (*s == ']')
				cls = false;
		} else if (*s == '[') {
			cls = true;
			if (s[1] == '^')
				s++;
			if (s[1] == ']')
				s++; /* a leading ] is literal */
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && --depth < 0) {
			return false;
		}
	}
	return depth == 0 && !cls;
}

static void
add_time(struct json_object *o, const char *key, int64_t ms)
{
	char t[OSH_TIME_LEN];

	json_object_object_add(
	    o, key, json_object_new_string(osh_time_format(ms, t, sizeof(t))));
}

static struct json_object *
am_matcher(const char *name, const char *value, bool regex, bool equal)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "name", json_object_new_string(name));
	json_object_object_add(m, "value", json_object_new_string(value));
	json_object_object_add(m, "isRegex", json_object_new_boolean(regex));
	json_object_object_add(m, "isEqual", json_object_new_boolean(equal));
	return m;
}

static struct json_object *
am_silence(struct json_object *matchers, int64_t starts_ms, int64_t ends_ms,
    const char *user, const char *comment, const char *id)
{
	struct json_object *s = json_object_new_object();

	if (id != NULL)
		json_object_object_add(s, "id", json_object_new_string(id));
	json_object_object_add(s, "matchers", matchers);
	add_time(s, "startsAt", starts_ms);
	add_time(s, "endsAt", ends_ms);
	json_object_object_add(s, "createdBy", json_object_new_string(user));
	json_object_object_add(s, "comment", json_object_new_string(comment));
	return s;
}

/* starts_at (default now) and ends_at of a body, checked: ends_at in the
 * future, after starts_at, at most max_s later. */
static int
window(struct json_object *body, int64_t now_ms, int64_t max_s, int64_t *starts,
    int64_t *ends, struct osh_err *err)
{
	const char *s = osh_json_str(body, "starts_at", NULL);
	const char *e = osh_json_str(body, "ends_at", "");

	*starts = now_ms;
	if (s != NULL && (!osh_time_parse(s, starts) || *starts < 0))
		return osh_err_set(err, 400, "validation_failed", "starts_at",
		    "starts_at must be an RFC 3339 time");
	if (!osh_time_parse(e, ends) || *ends < 0)
		return osh_err_set(err, 400, "validation_failed", "ends_at",
		    "ends_at must be an RFC 3339 time");
	if (*ends <= now_ms)
		return osh_err_set(err, 400, "validation_failed", "ends_at",
		    "ends_at must be in the future");
	if (*ends <= *starts)
		return osh_err_set(err, 400, "validation_failed", "ends_at",
		    "ends_at must be later than starts_at");
	if (*starts < now_ms)
		*starts = now_ms; /* what Alertmanager does too */
	if (*ends - *starts > max_s * 1000)
		return osh_err_set(err, 400, "validation_failed", "ends_at",
		    "a silence lasts at most %lld days",
		    (long long)(max_s / DAY_S));
	return 0;
}

struct json_object *
silence_from_body(struct json_object *body, const char *user, int64_t now_ms,
    int64_t max_s, struct osh_err *err)
{
	struct json_object *ms = json_object_object_get(body, "matchers");
	struct json_object *out;
	const char *id = osh_json_str(body, "id", NULL);
	int64_t starts, ends;
	size_t n;
	bool nonempty = false;

	if (id != NULL && !silence_id_ok(id)) {
		osh_err_set(err, 400, "validation_failed", "id",
		    "id must be a silence id");
		return NULL;
	}
	if (window(body, now_ms, max_s, &starts, &ends, err) != 0)
		return NULL;
	out = json_object_new_array();
	n = json_object_array_length(ms);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(ms, i);
		const char *name, *value;
		bool regex, equal;
		char field[40];

		snprintf(field, sizeof(field), "matchers[%zu]", i);
		if (osh_json_check(m, matcher_fields,
			OSH_ARRAY_LEN(matcher_fields), err) != 0) {
			/* Name the matcher as well as its member (the
			 * member names are short). */
			char inner[32];

			osh_strlcpy(inner, err->field, sizeof(inner));
			snprintf(err->field, sizeof(err->field), "%s%s%.31s",
			    field, inner[0] ? "." : "", inner);
			goto out_put;
		}
		name = osh_json_str(m, "name", "");
		value = osh_json_str(m, "value", "");
		regex = osh_json_bool(m, "is_regex", false);
		equal = osh_json_bool(m, "is_equal", true);
		if (!label_name_ok(name)) {
			osh_err_set(err, 400, "validation_failed", field,
			    "a matcher's name is a label name "
			    "([a-zA-Z_][a-zA-Z0-9_]*)");
			goto out_put;
		}
		if (regex && !regex_balanced(value)) {
			osh_err_set(err, 400, "validation_failed", field,
			    "the matcher's regular expression is malformed");
			goto out_put;
		}
		/* Alertmanager wants a matcher that cannot match an absent
		 * label; an equality to a non-empty value is the plain one. */
		if (equal && !regex && value[0] != '\0')
			nonempty = true;
		if (equal && regex && value[0] != '\0' &&
		    strcmp(value, ".*") != 0)
			nonempty = true;
		json_object_array_add(
		    out, am_matcher(name, value, regex, equal));
	}
	if (!nonempty) {
		osh_err_set(err, 400, "validation_failed", "matchers",
		    "at least one matcher must match a label's value (an "
		    "equality to a non-empty value): a silence of everything "
		    "is refused");
		goto out_put;
	}
	return am_silence(
	    out, starts, ends, user, osh_json_str(body, "comment", ""), id);
out_put:
	json_object_put(out);
	return NULL;
}

struct json_object *
silence_for_labels(struct json_object *labels, int64_t starts_ms,
    int64_t ends_ms, const char *user, const char *comment, const char *id)
{
	struct json_object *out;

	if (!json_object_is_type(labels, json_type_object) ||
	    json_object_object_length(labels) == 0)
		return NULL;
	out = json_object_new_array();
	json_object_object_foreach(labels, k, v)
	{
		if (!json_object_is_type(v, json_type_string)) {
			json_object_put(out);
			return NULL;
		}
		json_object_array_add(
		    out, am_matcher(k, json_object_get_string(v), false, true));
	}
	return am_silence(out, starts_ms, ends_ms, user, comment, id);
}

int
maint_from_body(struct json_object *body, int64_t now_ms, int64_t max_s,
    struct maint_input *out, struct osh_err *err)
{
	struct json_object *ids = json_object_object_get(body, "server_ids");

	memset(out, 0, sizeof(*out));
	out->cluster = osh_json_str(body, "cluster", NULL);
	out->reason = osh_json_str(body, "reason", "");
	if ((ids == NULL) == (out->cluster == NULL))
		return osh_err_set(err, 400, "validation_failed", "server_ids",
		    "a window is for server_ids or for a cluster (one of "
		    "them)");
	if (out->cluster != NULL && !osh_name_ok(out->cluster))
		return osh_err_set(err, 400, "validation_failed", "cluster",
		    "cluster must be a cluster name");
	if (out->cluster != NULL && strchr(out->cluster, ',') != NULL)
		return osh_err_set(err, 400, "validation_failed", "cluster",
		    "cluster must be a cluster name (no comma)");
	for (size_t i = 0; ids != NULL && i < json_object_array_length(ids);
	     i++) {
		struct json_object *v = json_object_array_get_idx(ids, i);
		int64_t id;
		char field[40];

		snprintf(field, sizeof(field), "server_ids[%zu]", i);
		if (!json_object_is_type(v, json_type_int) ||
		    (id = json_object_get_int64(v)) < 1)
			return osh_err_set(err, 400, "validation_failed", field,
			    "a server id is a positive integer");
		for (size_t j = 0; j < out->nservers; j++)
			if (out->server_ids[j] == id)
				return osh_err_set(err, 400,
				    "validation_failed", field,
				    "server %lld is given twice",
				    (long long)id);
		out->server_ids[out->nservers++] = id;
	}
	if (window(body, now_ms, max_s, &out->starts_ms, &out->ends_ms, err) !=
	    0)
		return -1;
	return 0;
}

struct json_object *
silence_for_maint(const struct maint_input *m, const char *user)
{
	struct json_object *ms = json_object_new_array();
	struct osh_buf b;
	char comment[SILENCE_COMMENT_MAX * 4 + 32];

	osh_buf_init(&b, 32 * MAINT_SERVERS_MAX + 1024);
	if (m->nservers > 0) {
		for (size_t i = 0; i < m->nservers; i++)
			osh_buf_printf(&b, "%s%lld", i ? "|" : "",
			    (long long)m->server_ids[i]);
		json_object_array_add(
		    ms, am_matcher("server_id", b.data, true, true));
	} else {
		/* ",a,b," holds the name between commas; the name's
		 * metacharacters escaped (RE2 takes \ before any
		 * punctuation). */
		osh_buf_puts(&b, ".*,");
		for (const char *p = m->cluster; *p != '\0'; p++) {
			if (strchr("\\.+*?()|[]{}^$", *p) != NULL)
				osh_buf_append(&b, "\\", 1);
			osh_buf_append(&b, p, 1);
		}
		osh_buf_puts(&b, ",.*");
		json_object_array_add(
		    ms, am_matcher("clusters", b.data, true, true));
	}
	osh_buf_release(&b);
	snprintf(comment, sizeof(comment), "maintenance: %s", m->reason);
	return am_silence(ms, m->starts_ms, m->ends_ms, user, comment, NULL);
}

bool
silence_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n < SILENCE_ID_MAX &&
	    strspn(id, "0123456789abcdefABCDEF-") == n;
}

bool
silence_id_of(const char *body, size_t len, char *buf, size_t n)
{
	struct osh_err err;
	struct json_object *o = osh_json_parse(body, len, 4, &err);
	const char *id;
	bool ok;

	id = json_object_is_type(o, json_type_object)
	    ? osh_json_str(o, "silenceID", "")
	    : "";
	ok = silence_id_ok(id) && strlen(id) < n;
	if (ok)
		osh_strlcpy(buf, id, n);
	json_object_put(o);
	return ok;
}

/*
 * Alertmanager's answers.
 */

static bool
copy_str(struct json_object *from, const char *key, struct json_object *to,
    const char *as)
{
	struct json_object *v;

	if (!json_object_object_get_ex(from, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	json_object_object_add(to, as, json_object_get(v));
	return true;
}

static bool
copy_time(struct json_object *from, const char *key, struct json_object *to,
    const char *as)
{
	int64_t ms;

	if (!osh_time_parse(osh_json_str(from, key, ""), &ms))
		return false;
	add_time(to, as, ms);
	return true;
}

/* One gettableSilence in the API's form, or NULL. */
static struct json_object *
one(struct json_object *s)
{
	struct json_object *o, *ms, *st, *out;
	const char *state;

	if (!json_object_is_type(s, json_type_object) ||
	    !json_object_object_get_ex(s, "matchers", &ms) ||
	    !json_object_is_type(ms, json_type_array) ||
	    json_object_array_length(ms) > 256 ||
	    !json_object_object_get_ex(s, "status", &st) ||
	    !json_object_is_type(st, json_type_object))
		return NULL;
	state = osh_json_str(st, "state", "");
	if (strcmp(state, "active") != 0 && strcmp(state, "pending") != 0 &&
	    strcmp(state, "expired") != 0)
		return NULL;
	o = json_object_new_object();
	if (!copy_str(s, "id", o, "id") ||
	    !silence_id_ok(osh_json_str(o, "id", "")))
		goto out_put;
	json_object_object_add(o, "state", json_object_new_string(state));
	out = json_object_new_array();
	json_object_object_add(o, "matchers", out);
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *x;

		if (!json_object_is_type(m, json_type_object))
			goto out_put;
		x = json_object_new_object();
		json_object_array_add(out, x);
		if (!copy_str(m, "name", x, "name") ||
		    !copy_str(m, "value", x, "value"))
			goto out_put;
		json_object_object_add(x, "is_regex",
		    json_object_new_boolean(
			osh_json_bool(m, "isRegex", false)));
		json_object_object_add(x, "is_equal",
		    json_object_new_boolean(osh_json_bool(m, "isEqual", true)));
	}
	if (!copy_time(s, "startsAt", o, "starts_at") ||
	    !copy_time(s, "endsAt", o, "ends_at") ||
	    !copy_time(s, "updatedAt", o, "updated_at") ||
	    !copy_str(s, "createdBy", o, "created_by") ||
	    !copy_str(s, "comment", o, "comment"))
		goto out_put;
	return o;
out_put:
	json_object_put(o);
	return NULL;
}

struct json_object *
silence_answer(const char *body, size_t len, bool list, const char *state)
{
	struct osh_err err;
	struct json_object *in = osh_json_parse(body, len, 8, &err),
			   *out = NULL;

	if (in == NULL)
		return NULL;
	if (!list) {
		out = one(in);
		goto out_put;
	}
	if (!json_object_is_type(in, json_type_array) ||
	    json_object_array_length(in) > SILENCE_LIST_MAX)
		goto out_put;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(in); i++) {
		struct json_object *s = one(json_object_array_get_idx(in, i));

		if (s == NULL) {
			json_object_put(out);
			out = NULL;
			goto out_put;
		}
		if (state == NULL ||
		    strcmp(osh_json_str(s, "state", ""), state) == 0)
			json_object_array_add(out, s);
		else
			json_object_put(s);
	}
out_put:
	json_object_put(in);
	return out;
}
