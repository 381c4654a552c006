/* power_request.h - an entry of the osh:power-requests stream read into a
 * request (see POWER-STREAMS in README: fields, actions), and the result
 * codes written back to osh:power-results. Pure: no I/O, for unit tests
 * and the fuzz target; the entries are outside input. */
#ifndef SM_POWER_REQUEST_H
#define SM_POWER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/ipmi.h>

#define POWER_REQUEST_ID_MAX 96
#define POWER_ACTION_MAX 48
#define POWER_NAME_MAX 64

/* A field of an entry as Redis holds it: value is len bytes (any bytes;
 * one holding a NUL is refused). */
struct power_field {
	const char *name;
	const char *value;
	size_t len;
};

struct power_request {
	char request_id[POWER_REQUEST_ID_MAX];
	int64_t job_id, task_id, attempt, server_id;
	char action[POWER_ACTION_MAX]; /* as given, once checked */
	struct osh_ipmi_request rq;
	/* Running it twice does what running it once does (on, off, soft,
	 * status, boot device, identify): it may be sent again when the
	 * first try's outcome is unknown. cycle, reset and diag are not. */
	bool idempotent;
	int64_t deadline_ms; /* epoch ms; 0: none given */
	char requested_by[POWER_NAME_MAX];
	char trace[POWER_NAME_MAX];
};

enum power_parse {
	POWER_PARSE_OK,
	/* No usable request_id: nothing can be answered; the entry goes to
	 * the dead-letter stream. */
	POWER_PARSE_NO_ID,
	/* request_id (and whatever else could be read) is filled, another
	 * field is wrong: answered with the error code *code. */
	POWER_PARSE_INVALID,
};

/* Reads an entry's fields into out (zeroed first). On POWER_PARSE_INVALID
 * *code is "unsupported" (an action or version this side does not know)
 * or "internal" (a malformed field), and why (why_len bytes) says which,
 * for the result's message. Fields not named in the protocol are
 * ignored; a field given twice counts once (the last). */
enum power_parse power_request_parse(const struct power_field *f, size_t n,
    struct power_request *out, const char **code, char *why, size_t why_len);

/* Parses an action ("cycle", "boot:pxe:persistent", "identify:30") into
 * rq; false when it is not one. */
bool power_action_read(
    const char *s, struct osh_ipmi_request *rq, bool *idempotent);

/* The protocol's error code for an engine error ("bmc_timeout", ...). */
const char *power_error_code(enum osh_ipmi_err e);

/* Whether cluster-mgmt may retry a task that failed with code. */
bool power_error_transient(const char *code);

#endif
