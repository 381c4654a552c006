/* fuzz_server_mgmt_bodies.c - libFuzzer target: server-mgmt's own request
 * input against its real field tables, exactly as the handlers run it:
 * server create and patch bodies (server_in_parse, labels, workarounds and
 * credentials inside), PUT credentials (credentials_parse), JSON bulk
 * import (import_json, then every row as a create), power, boot device
 * and identify bodies, discovery scan bodies and their import, and the
 * query parameters of the servers list and of the SEL (input.c).
 *
 * Input: byte 0 picks the parser. For bodies the rest is the body as it
 * comes (no NUL terminator). For the import of a scan and the queries, the
 * rest is "<query>\n<body>": the query split at '&' and at the first '='
 * of each pair (the router's decoding is fuzz_router's: here a key or
 * value is any valid UTF-8 without NUL, as the router hands them over).
 *
 * Invariants: a parse that succeeds gives values within the documented
 * limits (names and clusters valid UTF-8 without control characters, a
 * host that osh_ipmi_parse_address gives back unchanged and that is an
 * address or a host name, labels at most 32 with label names and short
 * text values, credentials that fit IPMI, an ORDER BY from the table, ids
 * that are positive integers), and the same values come out when they are
 * written back as a body and parsed again; a parse that fails is a 400
 * (or a 503) with a message, naming a field unless the body is not an
 * object; passwords read back as zeros once released; nothing leaks. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/util.h>

#include "server-mgmt/import.h"
#include "server-mgmt/input.h"
#include "server-mgmt/sm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum which {
	CREATE,
	PATCH,
	CREDENTIALS,
	IMPORT_JSON,
	POWER,
	BOOT,
	IDENTIFY,
	SCAN,
	SCAN_IMPORT,
	LIST_QUERY,
	SEL_QUERY,
	NWHICH
};

static void
check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_server_mgmt_bodies: %s\n", what);
	abort();
}

static bool
utf8(const char *s)
{
	return s != NULL && osh_utf8_valid(s, strlen(s));
}

static bool
zeroed(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != 0)
			return false;
	return true;
}

static bool
has_empty_member(struct json_object *o)
{
	return json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "", NULL);
}

/* Whether a refusal may name no field: the body is no object, or the
 * member or parameter it is about is named "", or there are too many
 * parameters. */
static bool
body_unnamed(struct json_object *body)
{
	return !json_object_is_type(body, json_type_object) ||
	    has_empty_member(body);
}

static bool
params_unnamed(const struct input_param *p, size_t n)
{
	if (n > INPUT_MAX_PARAMS)
		return true;
	for (size_t i = 0; i < n; i++)
		if (p[i].key[0] == '\0')
			return true;
	return false;
}

/* A refusal: 400 (or 503 out of memory) with a message, naming a field
 * unless unnamed allows none. */
static void
check_refusal(const struct osh_err *err, bool unnamed, const char *what)
{
	check(err->status == 400 || err->status == 503, what);
	check(err->message[0] != '\0' && utf8(err->message), what);
	check(utf8(err->field), what);
	if (err->status == 400 && err->field[0] == '\0')
		check(unnamed, what);
}

/* A name as the API documents it, checked here on its own (not with
 * osh_name_ok): valid UTF-8, not empty, no control character (U+0000
 * to U+001F, U+007F to U+009F), no '/', no space at either end. */
static bool
name_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	if (len == 0 || !utf8(s) || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	while (*p) {
		unsigned cp;
		size_t n;

		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = ((unsigned)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
			n = 2;
		} else {
			cp = 0x800; /* beyond every control character */
			n = (*p & 0xf0) == 0xe0 ? 3 : 4;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == '/')
			return false;
		p += n;
	}
	return true;
}

static bool
label_name_ok(const char *k)
{
	size_t len = strlen(k);

	if (len == 0 || len > 63 ||
	    !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

static void
check_labels(const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	size_t n = 0;

	check(json_object_is_type(o, json_type_object), "labels: no object");
	json_object_object_foreach(o, k, v)
	{
		n++;
		check(label_name_ok(k), "labels: a bad name");
		check(json_object_is_type(v, json_type_string),
		    "labels: a value that is no string");
		check(strlen(json_object_get_string(v)) <= 256 &&
			utf8(json_object_get_string(v)),
		    "labels: a bad value");
	}
	check(n <= 32, "labels: more than 32");
	json_object_put(o);
}

/* A C string within a fixed buffer: terminated, of at most max bytes. */
static bool
fits(const char *buf, size_t size, size_t max)
{
	return memchr(buf, '\0', size) != NULL && strlen(buf) <= max &&
	    utf8(buf);
}

static void
check_server_in(const struct server_in *in, bool create)
{
	if (create)
		check(in->name != NULL && in->has_addr, "create: no name");
	if (in->name != NULL)
		check(name_valid(in->name) &&
			osh_utf8_len(in->name, strlen(in->name)) <= 128,
		    "a bad name");
	if (in->has_addr) {
		char addr[300], host[256];
		uint16_t port;

		check(fits(in->host, sizeof(in->host), 255) &&
			in->host[0] != '\0' && in->port != 0,
		    "a bad host");
		check(osh_host_valid(in->host), "a host that is none");
		snprintf(addr, sizeof(addr),
		    strchr(in->host, ':') ? "[%s]:%u" : "%s:%u", in->host,
		    in->port);
		check(osh_ipmi_parse_address(addr, host, sizeof(host), &port) &&
			strcmp(host, in->host) == 0 && port == in->port,
		    "the address does not parse back");
	}
	if (in->ipmi_version != NULL)
		check(strcmp(in->ipmi_version, "2.0") == 0 ||
			strcmp(in->ipmi_version, "1.5") == 0,
		    "a bad version");
	if (in->privilege != NULL)
		check(strcmp(in->privilege, "user") == 0 ||
			strcmp(in->privilege, "operator") == 0 ||
			strcmp(in->privilege, "admin") == 0,
		    "a bad privilege");
	if (in->has_cipher)
		check(in->cipher_suite >= 0 && in->cipher_suite <= 17,
		    "a bad cipher suite");
	if (in->has_workarounds) {
		char list[sizeof(in->workarounds)], bad[64];
		size_t len = strlen(in->workarounds);
		unsigned flags;

		check(fits(in->workarounds, sizeof(in->workarounds), 299) &&
			len >= 2 && in->workarounds[0] == '{' &&
			in->workarounds[len - 1] == '}',
		    "workarounds: not an array text");
		memcpy(list, in->workarounds + 1, len - 2);
		list[len - 2] = '\0';
		check(
		    osh_ipmi_workarounds_parse(list, &flags, bad, sizeof(bad)),
		    "workarounds: do not parse back");
	}
	if (in->labels != NULL)
		check_labels(in->labels);
	if (in->description != NULL)
		check(utf8(in->description) &&
			osh_utf8_len(
			    in->description, strlen(in->description)) <= 1024,
		    "a bad description");
	check(in->monitoring >= -1 && in->monitoring <= 1, "a bad monitoring");
	if (in->has_cluster && in->cluster != NULL)
		check(name_valid(in->cluster) &&
			osh_utf8_len(in->cluster, strlen(in->cluster)) <= 64,
		    "a bad cluster");
	if (in->has_credentials)
		check(fits(in->username, sizeof(in->username), 16) &&
			in->username[0] != '\0' &&
			fits(in->password, sizeof(in->password), 20),
		    "bad credentials");
}

/* The body a parsed server gives when written back. */
static struct json_object *
server_body(const struct server_in *in)
{
	struct json_object *o = json_object_new_object(), *c;
	char addr[300], list[300];

	if (in->name != NULL)
		json_object_object_add(
		    o, "name", json_object_new_string(in->name));
	if (in->has_addr) {
		snprintf(addr, sizeof(addr),
		    strchr(in->host, ':') ? "[%s]:%u" : "%s:%u", in->host,
		    in->port);
		json_object_object_add(
		    o, "bmc_address", json_object_new_string(addr));
	}
	if (in->ipmi_version != NULL)
		json_object_object_add(o, "ipmi_version",
		    json_object_new_string(in->ipmi_version));
	if (in->privilege != NULL)
		json_object_object_add(
		    o, "privilege", json_object_new_string(in->privilege));
	if (in->has_cipher)
		json_object_object_add(
		    o, "cipher_suite", json_object_new_int(in->cipher_suite));
	if (in->has_workarounds) {
		struct json_object *a = json_object_new_array();
		char *save = NULL, *tok;
		osh_strlcpy(list, in->workarounds + 1, sizeof(list));
		list[strlen(list) - 1] = '\0';
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save))
			json_object_array_add(a, json_object_new_string(tok));
		json_object_object_add(o, "workarounds", a);
	}
	if (in->labels != NULL)
		json_object_object_add(
		    o, "labels", json_tokener_parse(in->labels));
	if (in->description != NULL)
		json_object_object_add(
		    o, "description", json_object_new_string(in->description));
	if (in->monitoring >= 0)
		json_object_object_add(o, "monitoring",
		    json_object_new_boolean(in->monitoring == 1));
	if (in->has_cluster)
		json_object_object_add(o, "cluster",
		    in->cluster ? json_object_new_string(in->cluster) : NULL);
	if (in->has_credentials) {
		c = json_object_new_object();
		json_object_object_add(
		    c, "username", json_object_new_string(in->username));
		json_object_object_add(
		    c, "password", json_object_new_string(in->password));
		json_object_object_add(o, "credentials", c);
	}
	return o;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
same_server(const struct server_in *a, const struct server_in *b)
{
	return same_str(a->name, b->name) && a->has_addr == b->has_addr &&
	    (!a->has_addr ||
		(strcmp(a->host, b->host) == 0 && a->port == b->port)) &&
	    same_str(a->ipmi_version, b->ipmi_version) &&
	    same_str(a->privilege, b->privilege) &&
	    a->has_cipher == b->has_cipher &&
	    a->cipher_suite == b->cipher_suite &&
	    a->has_workarounds == b->has_workarounds &&
	    strcmp(a->workarounds, b->workarounds) == 0 &&
	    same_str(a->labels, b->labels) &&
	    same_str(a->description, b->description) &&
	    a->monitoring == b->monitoring &&
	    a->has_cluster == b->has_cluster &&
	    same_str(a->cluster, b->cluster) &&
	    a->has_credentials == b->has_credentials &&
	    strcmp(a->username, b->username) == 0 &&
	    strcmp(a->password, b->password) == 0;
}

static void
released(struct server_in *in)
{
	server_in_release(in);
	check(in->labels == NULL && zeroed(in->password, sizeof(in->password)),
	    "a server's password is not wiped");
}

/* server_in_parse on one body, its checks and round trip. */
static void
server(struct json_object *body, bool create)
{
	struct server_in in, again;
	struct osh_err err;
	struct json_object *back;

	memset(&err, 0, sizeof(err));
	if (server_in_parse(body, create, &in, &err) != 0) {
		check_refusal(
		    &err, body_unnamed(body), "server: a bad refusal");
		released(&in);
		return;
	}
	check_server_in(&in, create);
	back = server_body(&in);
	memset(&err, 0, sizeof(err));
	if (server_in_parse(back, create, &again, &err) != 0) {
		fprintf(stderr, "written back: %s: %s\n",
		    json_object_to_json_string(back), err.message);
		check(false, "server: written back, refused");
	}
	check(same_server(&in, &again), "server: written back, differs");
	released(&again);
	osh_json_wipe_named(back, "password");
	json_object_put(back);
	released(&in);
}

static void
credentials(struct json_object *body)
{
	char user[33], pass[65];
	struct osh_err err;

	memset(&err, 0, sizeof(err));
	memset(user, 'u', sizeof(user));
	memset(pass, 'p', sizeof(pass));
	if (credentials_parse(
		body, user, sizeof(user), pass, sizeof(pass), &err) != 0) {
		check_refusal(&err, false, "credentials: a bad refusal");
		check(strncmp(err.field, "credentials", 11) == 0 ||
			err.status != 400,
		    "credentials: the field is not named within them");
		return;
	}
	check(fits(user, sizeof(user), 16) && user[0] != '\0' &&
		fits(pass, sizeof(pass), 20),
	    "credentials: do not fit IPMI");
	osh_wipe(pass, sizeof(pass));
}

static void
import_rows(const char *text, size_t len)
{
	struct osh_err err;
	struct json_object *rows;

	memset(&err, 0, sizeof(err));
	if ((rows = import_json(text, len, &err)) == NULL) {
		check(err.status == 400 || err.status == 503,
		    "import: a bad refusal");
		check(err.message[0] != '\0', "import: no message");
		return;
	}
	check(json_object_is_type(rows, json_type_array) &&
		json_object_array_length(rows) <= IMPORT_MAX_ROWS,
	    "import: too many rows");
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		server(json_object_array_get_idx(rows, i), true);
	osh_json_wipe_named(rows, "password");
	json_object_put(rows);
}

static void
action(enum which w, struct json_object *body)
{
	struct osh_ipmi_request rq;
	struct osh_err err;
	int rc;

	memset(&rq, 0, sizeof(rq));
	memset(&err, 0, sizeof(err));
	rc = w == POWER ? input_power(body, &rq, &err)
	    : w == BOOT ? input_boot(body, &rq, &err)
			: input_identify(body, &rq, &err);
	if (rc != 0) {
		check_refusal(
		    &err, body_unnamed(body), "action: a bad refusal");
		return;
	}
	if (w == POWER)
		check(strcmp(power_action_name(rq.power), "unknown") != 0,
		    "power: an unknown action");
	if (w == BOOT)
		check(rq.boot.device == OSH_BOOT_PXE ||
			rq.boot.device == OSH_BOOT_DISK ||
			rq.boot.device == OSH_BOOT_CDROM ||
			rq.boot.device == OSH_BOOT_BIOS ||
			rq.boot.device == OSH_BOOT_NONE,
		    "boot: an unknown device");
	if (w == IDENTIFY)
		check((rq.identify.seconds >= 1 && rq.identify.seconds <= 255 &&
			  !rq.identify.force) ||
			(rq.identify.seconds == 0),
		    "identify: a bad mode");
}

static void
scan(struct json_object *body)
{
	struct scan_request r;
	struct osh_err err;

	memset(&err, 0, sizeof(err));
	if (input_scan(body, 1000, &r, &err) != 0) {
		check_refusal(&err, body_unnamed(body), "scan: a bad refusal");
	} else {
		check(r.range != NULL, "scan: no range");
		check(r.timeout_ms >= 100 && r.timeout_ms <= 10000,
		    "scan: a bad timeout");
		check(r.ncreds <= SCAN_MAX_CREDS, "scan: too many credentials");
		for (size_t i = 0; i < r.ncreds; i++)
			check(fits(r.creds[i].user, sizeof(r.creds[i].user),
				  16) &&
				r.creds[i].user[0] != '\0' &&
				fits(r.creds[i].pass, sizeof(r.creds[i].pass),
				    20),
			    "scan: credentials do not fit IPMI");
	}
	input_scan_release(&r);
	check(r.range == NULL && r.port == NULL && r.workarounds == NULL &&
		zeroed(r.creds, sizeof(r.creds)),
	    "scan: not released");
}

/* Splits "k=v&k2=v2" (s is modified) into at most max parameters. */
static size_t
split_query(char *s, struct input_param *p, size_t max)
{
	size_t n = 0;
	char *save = NULL, *pair;

	if (*s == '\0')
		return 0;
	for (pair = strtok_r(s, "&", &save); pair != NULL && n < max;
	     pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		p[n].key = pair;
		p[n].value = "";
		if (eq != NULL) {
			*eq = '\0';
			p[n].value = eq + 1;
		}
		n++;
	}
	return n;
}

static const char *const sorts[] = {"id", "-id", "name", "-name", "status",
    "-status", "power_state", "-power_state", "last_seen", "-last_seen",
    "created_at", "-created_at", NULL};

static bool
one_of(const char *s, const char *const *set)
{
	for (const char *const *k = set; *k != NULL; k++)
		if (strcmp(s, *k) == 0)
			return true;
	return false;
}

static void
list_query(const struct input_param *p, size_t n)
{
	static const char *const statuses[] = {
	    "unknown", "online", "offline", "auth_failed", "error", NULL};
	static const char *const powers[] = {"on", "off", "unknown", NULL};
	static const char *const bools[] = {"true", "false", NULL};
	struct servers_query q;
	struct osh_err err;

	memset(&err, 0, sizeof(err));
	if (input_servers_query(p, n, &q, &err) != 0) {
		check_refusal(
		    &err, params_unnamed(p, n), "list: a bad refusal");
		input_servers_query_release(&q);
		return;
	}
	check(n <= INPUT_MAX_PARAMS, "list: too many parameters taken");
	check(q.limit >= 1 && q.limit <= 1000 && q.offset >= 0 &&
		q.offset <= 100000000,
	    "list: bad paging");
	check(
	    one_of(q.page.sort_text, sorts), "list: a sort not from the table");
	check(q.page.limit == q.limit && q.page.offset == q.offset,
	    "list: the page differs from the query");
	check(q.f.status == NULL || one_of(q.f.status, statuses),
	    "list: a bad status");
	check(q.f.power_state == NULL || one_of(q.f.power_state, powers),
	    "list: a bad power state");
	check(q.f.monitoring == NULL || one_of(q.f.monitoring, bools),
	    "list: a bad monitoring");
	{
		const char *texts[] = {q.f.cluster, q.f.manufacturer};
		const char *likes[] = {q.f.q, q.f.name};
		for (size_t i = 0; i < OSH_ARRAY_LEN(texts); i++)
			check(texts[i] == NULL ||
				(strlen(texts[i]) <= 256 && utf8(texts[i])),
			    "list: a bad text filter");
		/* LIKE text: \ % _ escaped, so at most twice as long. */
		for (size_t i = 0; i < OSH_ARRAY_LEN(likes); i++)
			check(likes[i] == NULL ||
				(strlen(likes[i]) <= 512 && utf8(likes[i])),
			    "list: a bad search text");
	}
	if (q.f.label_eq != NULL) {
		struct json_object *o = json_tokener_parse(q.f.label_eq);
		check(json_object_is_type(o, json_type_object) &&
			json_object_object_length(o) >= 1 && utf8(q.f.label_eq),
		    "list: a label filter that is no object");
		check_labels(q.f.label_eq);
		json_object_put(o);
	}
	input_servers_query_release(&q);
	/* Given twice: refused. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			check(strcmp(p[i].key, p[j].key) != 0,
			    "list: a parameter taken twice");
}

static void
sel_query(const struct input_param *p, size_t n)
{
	struct osh_ipmi_request rq;
	struct osh_err err;

	memset(&rq, 0, sizeof(rq));
	memset(&err, 0, sizeof(err));
	if (input_sel_query(p, n, &rq, &err) != 0) {
		check_refusal(&err, params_unnamed(p, n), "sel: a bad refusal");
		return;
	}
	check(rq.sel.limit >= 1 && rq.sel.limit <= OSH_IPMI_SEL_PAGE_MAX,
	    "sel: a bad limit");
	check(rq.sel.start != 0xffff, "sel: a cursor that is no record");
}

static void
scan_import(struct json_object *body, const struct input_param *p, size_t n)
{
	struct scan_import_request r;
	struct osh_err err;
	struct json_object *ids;

	memset(&err, 0, sizeof(err));
	if (input_scan_import(body, p, n, &r, &err) != 0) {
		check_refusal(&err, body_unnamed(body) || params_unnamed(p, n),
		    "scan import: a bad refusal");
		free(r.ids_json);
		return;
	}
	check(strlen(r.prefix) >= 1 && strlen(r.prefix) <= INPUT_PREFIX_MAX &&
		name_valid(r.prefix),
	    "scan import: a bad prefix");
	if (r.ids_json != NULL) {
		ids = json_tokener_parse(r.ids_json);
		check(json_object_is_type(ids, json_type_array) &&
			json_object_array_length(ids) >= 1 &&
			json_object_array_length(ids) <= 4096,
		    "scan import: ids are no array");
		for (size_t i = 0; i < json_object_array_length(ids); i++) {
			int64_t id;
			check(osh_parse_int(
				  json_object_to_json_string(
				      json_object_array_get_idx(ids, i)),
				  1, INT64_MAX, &id),
			    "scan import: an id that is none");
		}
		json_object_put(ids);
	}
	free(r.ids_json);
}

/* The body as the handler reads it; an empty body is {} where the
 * handler says so. NULL when it is not JSON (osh_json_parse is fuzzed on
 * its own: its refusal is only checked for a message). */
static struct json_object *
parse_body(const char *text, size_t len, bool empty_is_object)
{
	struct osh_err err;
	struct json_object *o;

	if (len == 0 && empty_is_object)
		return json_object_new_object();
	memset(&err, 0, sizeof(err));
	o = osh_json_parse(text, len, OSH_JSON_MAX_DEPTH, &err);
	if (o == NULL)
		check(err.status == 400 && err.message[0] != '\0',
		    "a body refused without a message");
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	enum which w;
	char *copy, *query = NULL, *nl;
	const char *body;
	size_t blen;
	struct input_param p[40];
	size_t n = 0;
	struct json_object *o;

	if (!once) {
		osh_log_init("fuzz", OSH_LOG_ERROR);
		once = true;
	}
	if (size < 1)
		return 0;
	w = (enum which)(data[0] % NWHICH);
	data++;
	size--;
	/* Exactly the input's bytes, on the heap: a read past them is
	 * caught. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	body = copy;
	blen = size;
	if (w == SCAN_IMPORT || w == LIST_QUERY || w == SEL_QUERY) {
		size_t qlen = (nl = memchr(copy, '\n', size)) != NULL
		    ? (size_t)(nl - copy)
		    : size;
		/* What the router hands over: UTF-8 without NUL. */
		if (memchr(copy, '\0', qlen) != NULL ||
		    !osh_utf8_valid(copy, qlen) ||
		    (query = malloc(qlen + 1)) == NULL) {
			free(copy);
			return 0;
		}
		memcpy(query, copy, qlen);
		query[qlen] = '\0';
		/* As the handler collects them: one more than taken. */
		n = split_query(query, p, INPUT_MAX_PARAMS + 1);
		body = nl != NULL ? nl + 1 : copy + size;
		blen = nl != NULL ? size - qlen - 1 : 0;
	}
	switch (w) {
	case CREATE:
	case PATCH:
		if ((o = parse_body(body, blen, false)) != NULL)
			server(o, w == CREATE);
		break;
	case CREDENTIALS:
		if ((o = parse_body(body, blen, false)) != NULL)
			credentials(o);
		break;
	case IMPORT_JSON:
		o = NULL;
		import_rows(body, blen);
		break;
	case POWER:
	case BOOT:
	case IDENTIFY:
		if ((o = parse_body(body, blen, true)) != NULL)
			action(w, o);
		break;
	case SCAN:
		if ((o = parse_body(body, blen, false)) != NULL)
			scan(o);
		break;
	case SCAN_IMPORT:
		if ((o = parse_body(body, blen, true)) != NULL)
			scan_import(o, p, n);
		break;
	case LIST_QUERY:
		o = NULL;
		list_query(p, n);
		break;
	default:
		o = NULL;
		sel_query(p, n);
		break;
	}
	if (o != NULL) {
		osh_json_wipe_named(o, "password");
		json_object_put(o);
	}
	free(query);
	free(copy);
	return 0;
}
