/* fuzz_alert_webhook_silence.c - libFuzzer target: the silence parts of
 * alert-webhook (silence.c): the bodies of POST /api/monitoring/silences
 * and /maintenance as the API checks them, and Alertmanager's answers to
 * its silences API.
 *
 * Input: byte 0 picks the parser (mod 5: silence body, maintenance body,
 * a list of silences, one silence, a POST answer), the rest is the text.
 * "Now" is fixed (2026-01-01T00:00:00Z) so that seeds mean the same on
 * every run. Invariants: a refused body is a 400 naming a field; an
 * accepted silence has 1 to 32 matchers, every name a label name, the
 * caller as createdBy and an end after its start, at most the bound
 * later; a window has servers or a cluster and becomes one regex
 * matcher; an answer accepted has ids Alertmanager could have made and
 * known states. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-webhook/silence.h"
#include "osh/json.h"
#include "osh/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS 1767225600000LL
#define MAX_S (30 * 86400LL)

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_alert_webhook_silence: %s\n", what);
	abort();
}

static bool
label_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && !(s[0] >= '0' && s[0] <= '9') &&
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_") == n;
}

static void
check_silence(struct json_object *s, int64_t max_s)
{
	struct json_object *ms = json_object_object_get(s, "matchers");
	int64_t st = 0, en = 0;

	check(json_object_is_type(ms, json_type_array), "matchers");
	check(json_object_array_length(ms) >= 1 &&
		json_object_array_length(ms) <= SILENCE_MATCHERS_MAX,
	    "matcher count");
	for (size_t i = 0; i < json_object_array_length(ms); i++)
		check(label_name(osh_json_str(
			  json_object_array_get_idx(ms, i), "name", "")),
		    "matcher name");
	check(strcmp(osh_json_str(s, "createdBy", ""), "fuzzer") == 0,
	    "createdBy");
	check(osh_time_parse(osh_json_str(s, "startsAt", ""), &st) &&
		osh_time_parse(osh_json_str(s, "endsAt", ""), &en),
	    "times");
	check(en > st && en > NOW_MS && en - st <= max_s * 1000, "window");
	check(json_object_to_json_string(s) != NULL, "serialize");
}

static struct json_object *
body(const char *text, size_t len, const struct osh_field *f, size_t n,
    struct osh_err *err)
{
	struct json_object *o = osh_json_parse(text, len, 8, err);

	if (o != NULL && osh_json_check(o, f, n, err) != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static void
refused(const struct osh_err *err)
{
	check(err->status == 400, "status");
	check(err->message[0] != '\0', "message");
}

static void
answer_item(struct json_object *s)
{
	const char *state = osh_json_str(s, "state", "");

	check(silence_id_ok(osh_json_str(s, "id", "")), "answer id");
	check(strcmp(state, "active") == 0 || strcmp(state, "pending") == 0 ||
		strcmp(state, "expired") == 0,
	    "answer state");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	struct osh_err err = {0};
	struct json_object *o, *s;
	struct maint_input m;
	char id[SILENCE_ID_MAX];

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if ((o = body(text, size - 1, silence_fields, silence_nfields,
			 &err)) == NULL) {
			refused(&err);
			break;
		}
		s = silence_from_body(o, "fuzzer", NOW_MS, MAX_S, &err);
		if (s == NULL)
			refused(&err);
		else
			check_silence(s, MAX_S);
		json_object_put(s);
		json_object_put(o);
		break;
	case 1:
		if ((o = body(text, size - 1, maint_fields, maint_nfields,
			 &err)) == NULL) {
			refused(&err);
			break;
		}
		if (maint_from_body(o, NOW_MS, MAX_S, &m, &err) != 0) {
			refused(&err);
		} else {
			check((m.nservers > 0) != (m.cluster != NULL),
			    "servers or cluster");
			s = silence_for_maint(&m, "fuzzer");
			check_silence(s, MAX_S);
			check(json_object_array_length(
				  json_object_object_get(s, "matchers")) == 1,
			    "one matcher");
			json_object_put(s);
		}
		json_object_put(o);
		break;
	case 2:
	case 3:
		s = silence_answer(text, size - 1, data[0] % 5 == 2, NULL);
		if (s != NULL && json_object_is_type(s, json_type_array))
			for (size_t i = 0; i < json_object_array_length(s); i++)
				answer_item(json_object_array_get_idx(s, i));
		else if (s != NULL)
			answer_item(s);
		json_object_put(s);
		break;
	default:
		if (silence_id_of(text, size - 1, id, sizeof(id)))
			check(silence_id_ok(id), "posted id");
		break;
	}
	return 0;
}
