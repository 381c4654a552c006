/* input.h - what server-mgmt's requests carry besides server records
 * (server_in_parse and credentials_parse in servers.c check those): the
 * power, boot device and identify bodies, the query parameters of the
 * servers list and of the SEL, and discovery scan bodies and their
 * import. Pure: no I/O and no HTTP, so that the fuzz target
 * (tests/fuzz/fuzz_server_mgmt_bodies.c) runs exactly what the handlers
 * run. Each returns 0, or -1 with err set: 400 validation_failed naming
 * the field (none only when a body is not a JSON object), or 503 when out
 * of memory. Bodies are JSON values as osh_json_parse gave them, of any
 * type. */
#ifndef SM_INPUT_H
#define SM_INPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/error.h>
#include <osh/ipmi.h>

#include "scan.h"
#include "store.h"

/* POST /api/servers/{id}/power {"action": on|off|soft|cycle|reset|diag}:
 * sets rq->power. */
int input_power(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err);
/* PUT /api/servers/{id}/boot-device {"device": pxe|disk|cdrom|bios|none,
 * "persistent"?, "efi"?}: sets rq->boot. */
int input_boot(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err);
/* POST /api/servers/{id}/identify with exactly one of {"seconds": 1..255},
 * {"force": true}, {"off": true}: sets rq->identify. */
int input_identify(
    struct json_object *body, struct osh_ipmi_request *rq, struct osh_err *err);

/* A query parameter as the router decoded it (valid UTF-8, no NUL). */
struct input_param {
	const char *key, *value;
};
/* More parameters than this are refused (400). */
#define INPUT_MAX_PARAMS 16

/* GET /api/servers: limit (1..1000, 50); offset (0..100000000, 0) or
 * cursor (a next_cursor of the same sort, never both); sort (id, name,
 * status, power_state, last_seen, created_at, '-' first for descending);
 * q (text searched in name, BMC address, serial and labels), filters
 * name, status, power_state, cluster, manufacturer, monitoring; labels
 * (a selector, osh/selector.h) and label (key=value, the older form). The
 * query's strings point into the parameters or into the query itself;
 * release it (input_servers_query_release) after use, whatever the
 * result. A parameter given twice is refused. */
#define INPUT_TEXT_MAX 256 /* bytes of q and of the text filters */
#define INPUT_CURSOR_MAX 1024 /* characters of a cursor */
struct servers_query {
	struct server_filter f;
	struct server_page page;
	int64_t limit, offset; /* as page's */
	char q_like[2 * INPUT_TEXT_MAX + 1], name_like[2 * INPUT_TEXT_MAX + 1];
	char cursor_key[INPUT_CURSOR_MAX];
	char *label_eq, *label_keys, *label_rest; /* owned */
};
int input_servers_query(const struct input_param *p, size_t n,
    struct servers_query *out, struct osh_err *err);
void input_servers_query_release(struct servers_query *q);

/* Reads a cursor (base64url of ["<sort>", key text or null, id]) made for
 * sort_text; false when it is not one. key gets the key text ("" for
 * null). */
bool input_cursor_parse(const char *cursor, const char *sort_text, char *key,
    size_t keylen, int64_t *id);

/* GET /api/servers/{id}/sel: limit (1..OSH_IPMI_SEL_PAGE_MAX) and cursor
 * (a next_cursor, 1..0xfffe); sets rq->sel. offset is refused with a word
 * about cursors. */
int input_sel_query(const struct input_param *p, size_t n,
    struct osh_ipmi_request *rq, struct osh_err *err);

/* GET /internal/servers/{id}/sel (alert evidence): the entries within
 * window_s seconds of around. */
struct sel_around {
	int64_t around_s; /* epoch seconds */
	int64_t window_s; /* 1..86400, default 600 */
	unsigned limit; /* 1..100, default 20: the closest in time */
};
/* around (RFC 3339, required), window_s and limit. */
int input_sel_around(const struct input_param *p, size_t n,
    struct sel_around *out, struct osh_err *err);

/* POST /api/discovery/scans: range (required) and port, in the shapes
 * scan_targets takes (it checks them: they are only held here),
 * credentials (at most SCAN_MAX_CREDS, each as credentials_parse takes
 * it), workarounds, timeout_ms (100..10000; default_timeout_ms when not
 * given). */
struct scan_request {
	struct json_object *range, *port; /* references held; port may be
					     NULL */
	struct json_object *workarounds; /* reference held, or NULL */
	unsigned workaround_flags;
	int timeout_ms;
	struct scan_cred creds[SCAN_MAX_CREDS]; /* secrets */
	size_t ncreds;
};
int input_scan(struct json_object *body, int default_timeout_ms,
    struct scan_request *out, struct osh_err *err);
/* Puts the references and wipes the credentials; safe on a failed parse
 * and twice. */
void input_scan_release(struct scan_request *r);

/* POST /api/discovery/scans/{id}/import: an optional body {"results":
 * [ids]} (positive integers, at most 4096; none: every result) and the
 * query parameter name_prefix (1 to 32 characters: letters, digits, '-',
 * '_' and '.'; default "bmc"). */
#define INPUT_PREFIX_MAX 32
struct scan_import_request {
	char *ids_json; /* "[1,2]", new (caller frees), or NULL: all */
	char prefix[INPUT_PREFIX_MAX + 1];
};
int input_scan_import(struct json_object *body, const struct input_param *p,
    size_t n, struct scan_import_request *out, struct osh_err *err);

#endif
