/* silence.h - silences as the API takes and shows them, checked and
 * turned into Alertmanager's v2 silences and back (pure: no I/O): the
 * bodies of POST /api/monitoring/silences and /maintenance, the silence
 * of an acknowledged alert, and Alertmanager's answers.
 *
 * The API's silence: {"id", "state" (active, pending, expired),
 * "matchers": [{"name", "value", "is_regex", "is_equal"}], "starts_at",
 * "ends_at", "updated_at", "created_by", "comment"}; times RFC 3339 UTC. */
#ifndef AW_SILENCE_H
#define AW_SILENCE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>
#include <osh/json.h>

#define SILENCE_MATCHERS_MAX 32
#define SILENCE_NAME_MAX 256 /* bytes of a label name */
#define SILENCE_VALUE_MAX 1024 /* characters of a matcher value */
#define SILENCE_COMMENT_MAX 1024 /* characters of a comment or reason */
#define SILENCE_ID_MAX 64 /* bytes of an Alertmanager silence id */
#define SILENCE_LIST_MAX 10000 /* silences an answer may hold */
#define MAINT_SERVERS_MAX 1000 /* servers of one maintenance window */

/* The members of POST /api/monitoring/silences (osh_req_json checks them
 * first): id (to edit), matchers, starts_at, ends_at, comment. */
extern const struct osh_field silence_fields[];
extern const size_t silence_nfields;

/* The members of POST /api/monitoring/maintenance: server_ids or
 * cluster, starts_at, ends_at, reason. */
extern const struct osh_field maint_fields[];
extern const size_t maint_nfields;

/* Checks a silence body (already checked against silence_fields) and
 * builds Alertmanager's postableSilence with createdBy user: matchers
 * required (label names, bounded values), ends_at later than now and
 * than starts_at (default now), at most max_s seconds apart. Returns a
 * new object, or NULL with err a 400 naming the member. */
struct json_object *silence_from_body(struct json_object *body,
    const char *user, int64_t now_ms, int64_t max_s, struct osh_err *err);

/* A postableSilence matching exactly labels (an object of strings): each
 * label an equality matcher. id: the silence to edit, or NULL. Returns
 * NULL when labels is not such an object or is empty. */
struct json_object *silence_for_labels(struct json_object *labels,
    int64_t starts_ms, int64_t ends_ms, const char *user, const char *comment,
    const char *id);

/* A maintenance window as checked from its body. Strings point into the
 * body. */
struct maint_input {
	int64_t server_ids[MAINT_SERVERS_MAX];
	size_t nservers; /* 0: a cluster's window */
	const char *cluster;
	int64_t starts_ms, ends_ms;
	const char *reason;
};

/* Checks a maintenance body (already checked against maint_fields):
 * server_ids (distinct positive ids) or cluster (a name), not both;
 * starts_at (default now) before ends_at, ends_at in the future, at most
 * max_s seconds apart; reason required. */
int maint_from_body(struct json_object *body, int64_t now_ms, int64_t max_s,
    struct maint_input *out, struct osh_err *err);

/* The postableSilence of a window: server_id=~"^(1|2)$" for servers, or
 * clusters=~".*,<name>,.*" (the service discovery's clusters label, the
 * name escaped) for a cluster. */
struct json_object *silence_for_maint(
    const struct maint_input *m, const char *user);

/* Whether id may be an Alertmanager silence id (a UUID: hex and '-'). */
bool silence_id_ok(const char *id);

/* The id in Alertmanager's answer to a POST ({"silenceID": "<id>"}) into
 * buf (SILENCE_ID_MAX bytes); false when the answer is not that. */
bool silence_id_of(const char *body, size_t len, char *buf, size_t n);

/* Alertmanager's gettableSilences (list: a JSON array) or one
 * gettableSilence (list false) in the API's form: a new array (those in
 * state, or all when state is NULL) or object; NULL when the answer is
 * malformed (a member of the wrong type, a time that is not one, too
 * many silences). */
struct json_object *silence_answer(
    const char *body, size_t len, bool list, const char *state);

#endif
