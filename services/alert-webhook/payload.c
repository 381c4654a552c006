/* payload.c - Alertmanager's webhook body and /api/v2/alerts answer
 * checked, member by member, and turned into store rows. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <osh/json.h>
#include <osh/util.h>

#include "payload.h"

/* Where in the payload the member being checked sits: "alerts[3]". */
struct at {
	const char *list; /* "alerts", or "" for the top-level array */
	size_t index;
};

static int
bad(struct osh_err *err, const struct at *at, const char *member,
    const char *msg)
{
	char field[OSH_ERR_FIELD_MAX];

	if (at == NULL)
		snprintf(field, sizeof(field), "%s",
		    member != NULL ? member : "body");
	else if (member == NULL)
		snprintf(field, sizeof(field), "%s[%zu]", at->list, at->index);
	else
		snprintf(field, sizeof(field), "%s[%zu].%s", at->list,
		    at->index, member);
	return osh_err_set(
	    err, 400, "validation_failed", field, "%s %s", field, msg);
}

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool
is_type(struct json_object *v, enum json_type t)
{
	return v != NULL && json_object_is_type(v, t);
}

/* An object of string values, bounded; labels or annotations. */
static int
check_map(struct json_object *m, const struct at *at, const char *name,
    size_t value_max, struct osh_err *err)
{
	size_t n = 0;

	if (!is_type(m, json_type_object))
		return bad(err, at, name, "must be an object of strings");
	json_object_object_foreach(m, k, v)
	{
		if (++n > PAYLOAD_LABELS_MAX)
			return bad(err, at, name, "has more than 128 members");
		if (strlen(k) == 0 || strlen(k) > PAYLOAD_NAME_MAX)
			return bad(
			    err, at, name, "has an empty or too long name");
		if (!is_type(v, json_type_string))
			return bad(err, at, name,
			    "must have a string for every value");
		if ((size_t)json_object_get_string_len(v) > value_max)
			return bad(
			    err, at, name, "has a value that is too long");
	}
	return 0;
}

static bool
fingerprint_ok(const char *s, size_t len)
{
	if (len == 0 || len > PAYLOAD_FINGERPRINT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (osh_hex_digit((unsigned char)s[i]) < 0)
			return false;
	return true;
}

/* A time member: RFC 3339. *ms is -1 when it is absent or Go's zero time
 * (Alertmanager's "not set"), which only 'optional' allows. */
static int
check_time(struct json_object *a, const struct at *at, const char *name,
    bool optional, int64_t *ms, struct osh_err *err)
{
	struct json_object *v = member(a, name);

	*ms = -1;
	if (v == NULL || is_type(v, json_type_null)) {
		if (optional)
			return 0;
		return bad(err, at, name, "is required");
	}
	if (!is_type(v, json_type_string) ||
	    !osh_time_parse(json_object_get_string(v), ms))
		return bad(err, at, name, "must be an RFC 3339 time");
	/* Before 1970 (Go's zero time is year 1): not set. After 9999:
	 * refused, so that every time fits PostgreSQL and our formats. */
	if (*ms > 253402300799999LL)
		return bad(err, at, name, "is past the year 9999");
	if (*ms <= 0) {
		*ms = -1;
		if (!optional)
			return bad(err, at, name, "must be after 1970");
	}
	return 0;
}

static int
check_string(struct json_object *a, const struct at *at, const char *name,
    size_t max, struct osh_err *err)
{
	struct json_object *v = member(a, name);

	if (v == NULL || is_type(v, json_type_null))
		return 0;
	if (!is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) > max)
		return bad(
		    err, at, name, "must be a string of at most 4096 bytes");
	return 0;
}

static void
add_time(struct json_object *row, const char *key, int64_t ms)
{
	char buf[OSH_TIME_LEN];

	json_object_object_add(row, key,
	    ms < 0 ? NULL
		   : json_object_new_string(
			 osh_time_format(ms, buf, sizeof(buf))));
}

/* The server_id label as a positive integer, or 0. */
static int64_t
server_id_of(struct json_object *labels)
{
	struct json_object *v = member(labels, "server_id");
	int64_t id;

	if (!is_type(v, json_type_string) ||
	    !osh_parse_int(json_object_get_string(v), 1, INT64_MAX / 2, &id))
		return 0;
	return id;
}

/* Checks one alert of either source and appends its row. 'state' is the
 * state the source gives it (checked by the caller). */
static int
one_alert(struct json_object *a, const struct at *at, const char *state,
    struct json_object *rows, struct osh_err *err)
{
	struct json_object *fp, *labels, *ann, *row, *url;
	int64_t starts, ends;
	int64_t sid;

	fp = member(a, "fingerprint");
	if (!is_type(fp, json_type_string) ||
	    !fingerprint_ok(json_object_get_string(fp),
		(size_t)json_object_get_string_len(fp)))
		return bad(err, at, "fingerprint",
		    "must be 1 to 64 hexadecimal digits");
	labels = member(a, "labels");
	if (labels == NULL)
		return bad(err, at, "labels", "is required");
	if (check_map(labels, at, "labels", PAYLOAD_LABEL_VALUE_MAX, err) != 0)
		return -1;
	ann = member(a, "annotations");
	if (ann != NULL && !is_type(ann, json_type_null) &&
	    check_map(ann, at, "annotations", PAYLOAD_ANNOTATION_MAX, err) != 0)
		return -1;
	if (check_time(a, at, "startsAt", false, &starts, err) != 0 ||
	    check_time(a, at, "endsAt", true, &ends, err) != 0 ||
	    check_string(a, at, "generatorURL", PAYLOAD_URL_MAX, err) != 0)
		return -1;
	if (strcmp(state, "resolved") != 0)
		ends = -1; /* a firing alert's endsAt is only a timeout */
	else if (ends >= 0 && ends < starts)
		return bad(err, at, "endsAt", "is before startsAt");
	row = json_object_new_object();
	json_object_object_add(row, "fp", json_object_get(fp));
	json_object_object_add(row, "state", json_object_new_string(state));
	add_time(row, "starts_at", starts);
	add_time(row, "ends_at", ends);
	json_object_object_add(row, "labels", json_object_get(labels));
	json_object_object_add(row, "annotations",
	    is_type(ann, json_type_object) ? json_object_get(ann)
					   : json_object_new_object());
	url = member(a, "generatorURL");
	json_object_object_add(row, "url",
	    is_type(url, json_type_string) ? json_object_get(url) : NULL);
	sid = server_id_of(labels);
	json_object_object_add(
	    row, "server_id", sid > 0 ? json_object_new_int64(sid) : NULL);
	json_object_array_add(rows, row);
	return 0;
}

static struct json_object *
parse(const char *body, size_t len, struct osh_err *err)
{
	return osh_json_parse(body, len, PAYLOAD_DEPTH, err);
}

static int
start(struct payload *out)
{
	memset(out, 0, sizeof(*out));
	out->rows = json_object_new_array();
	return out->rows != NULL ? 0 : -1;
}

int
payload_webhook(
    const char *body, size_t len, struct payload *out, struct osh_err *err)
{
	struct json_object *o, *v, *alerts;
	struct at at = {"alerts", 0};
	int64_t trunc = 0;
	size_t n;
	int rc = -1;

	if (start(out) != 0)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	if ((o = parse(body, len, err)) == NULL)
		return -1;
	if (!is_type(o, json_type_object)) {
		bad(err, NULL, "body", "must be a JSON object");
		goto out_put;
	}
	v = member(o, "version");
	if (!is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "4") != 0) {
		bad(err, NULL, "version", "must be \"4\"");
		goto out_put;
	}
	v = member(o, "status");
	if (!is_type(v, json_type_string) ||
	    (strcmp(json_object_get_string(v), "firing") != 0 &&
		strcmp(json_object_get_string(v), "resolved") != 0)) {
		bad(err, NULL, "status", "must be firing or resolved");
		goto out_put;
	}
	osh_strlcpy(
	    out->status, json_object_get_string(v), sizeof(out->status));
	v = member(o, "receiver");
	if (v != NULL && !is_type(v, json_type_string)) {
		bad(err, NULL, "receiver", "must be a string");
		goto out_put;
	}
	if (v != NULL)
		osh_utf8_copy(out->receiver, json_object_get_string(v),
		    sizeof(out->receiver));
	static const char *const maps[] = {
	    "groupLabels", "commonLabels", "commonAnnotations"};
	for (size_t i = 0; i < OSH_ARRAY_LEN(maps); i++) {
		v = member(o, maps[i]);
		if (v != NULL && !is_type(v, json_type_null) &&
		    !is_type(v, json_type_object)) {
			bad(err, NULL, maps[i], "must be an object");
			goto out_put;
		}
	}
	v = member(o, "truncatedAlerts");
	if (v != NULL && !is_type(v, json_type_null)) {
		if (!is_type(v, json_type_int) ||
		    (trunc = json_object_get_int64(v)) < 0 ||
		    trunc > INT32_MAX) {
			bad(err, NULL, "truncatedAlerts",
			    "must be a non-negative integer");
			goto out_put;
		}
	}
	out->truncated = trunc;
	alerts = member(o, "alerts");
	if (!is_type(alerts, json_type_array)) {
		bad(err, NULL, "alerts", "must be an array");
		goto out_put;
	}
	if ((n = json_object_array_length(alerts)) >
	    PAYLOAD_WEBHOOK_ALERTS_MAX) {
		bad(err, NULL, "alerts", "holds more than 5000 alerts");
		goto out_put;
	}
	for (at.index = 0; at.index < n; at.index++) {
		struct json_object *a =
		    json_object_array_get_idx(alerts, at.index);
		const char *state;

		if (!is_type(a, json_type_object)) {
			bad(err, &at, NULL, "must be an object");
			goto out_put;
		}
		v = member(a, "status");
		state = is_type(v, json_type_string) ? json_object_get_string(v)
						     : "";
		if (strcmp(state, "firing") != 0 &&
		    strcmp(state, "resolved") != 0) {
			bad(err, &at, "status", "must be firing or resolved");
			goto out_put;
		}
		if (one_alert(a, &at, state, out->rows, err) != 0)
			goto out_put;
	}
	out->nalerts = n;
	rc = 0;
out_put:
	json_object_put(o);
	return rc;
}

/* The state a gettableAlert's status object gives: firing, silenced or
 * inhibited; NULL when it is malformed. */
static const char *
poll_state(struct json_object *st)
{
	struct json_object *s, *sil, *inh;
	const char *state;

	if (!is_type(st, json_type_object))
		return NULL;
	s = member(st, "state");
	sil = member(st, "silencedBy");
	inh = member(st, "inhibitedBy");
	if (!is_type(s, json_type_string) ||
	    (sil != NULL && !is_type(sil, json_type_array)) ||
	    (inh != NULL && !is_type(inh, json_type_array)))
		return NULL;
	state = json_object_get_string(s);
	if (strcmp(state, "active") == 0 || strcmp(state, "unprocessed") == 0)
		return "firing";
	if (strcmp(state, "suppressed") != 0)
		return NULL;
	if (sil != NULL && json_object_array_length(sil) > 0)
		return "silenced";
	return "inhibited";
}

int
payload_poll(
    const char *body, size_t len, struct payload *out, struct osh_err *err)
{
	struct json_object *o;
	struct at at = {"", 0};
	size_t n;
	int rc = -1;

	if (start(out) != 0)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	if ((o = parse(body, len, err)) == NULL)
		return -1;
	if (!is_type(o, json_type_array)) {
		bad(err, NULL, "body", "must be a JSON array");
		goto out_put;
	}
	if ((n = json_object_array_length(o)) > PAYLOAD_POLL_ALERTS_MAX) {
		bad(err, NULL, "body", "holds more than 20000 alerts");
		goto out_put;
	}
	for (at.index = 0; at.index < n; at.index++) {
		struct json_object *a = json_object_array_get_idx(o, at.index);
		const char *state;

		if (!is_type(a, json_type_object)) {
			bad(err, &at, NULL, "must be an object");
			goto out_put;
		}
		if ((state = poll_state(member(a, "status"))) == NULL) {
			bad(err, &at, "status",
			    "must be {state, silencedBy, inhibitedBy}");
			goto out_put;
		}
		if (one_alert(a, &at, state, out->rows, err) != 0)
			goto out_put;
	}
	out->nalerts = n;
	rc = 0;
out_put:
	json_object_put(o);
	return rc;
}

void
payload_release(struct payload *out)
{
	json_object_put(out->rows);
	memset(out, 0, sizeof(*out));
}
