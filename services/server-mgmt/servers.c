/* servers.c - rules for servers that need no I/O: checking input,
 * sealing credentials for a BMC endpoint, building BMC targets, and the
 * JSON of what BMCs report. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/http.h>
#include <osh/ipmi_parse.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/selector.h>
#include <osh/util.h>

#include "sm.h"

static const char *const versions[] = {"2.0", "1.5", NULL};
static const char *const privileges[] = {"user", "operator", "admin", NULL};

static const struct osh_field server_fields[] = {
    {"name", OSH_FIELD_STRING, false, false, 1, 128, NULL},
    {"bmc_address", OSH_FIELD_STRING, false, false, 1, 300, NULL},
    {"ipmi_version", OSH_FIELD_ENUM, false, false, 0, 0, versions},
    {"privilege", OSH_FIELD_ENUM, false, false, 0, 0, privileges},
    {"cipher_suite", OSH_FIELD_INT, false, false, 0, 17, NULL},
    {"workarounds", OSH_FIELD_ARRAY, false, false, 0, 12, NULL},
    {"labels", OSH_FIELD_OBJECT, false, false, 0, 0, NULL},
    {"description", OSH_FIELD_STRING, false, false, 0, 1024, NULL},
    {"monitoring", OSH_FIELD_BOOL, false, false, 0, 0, NULL},
    {"cluster", OSH_FIELD_STRING, false, true, 1, 64, NULL},
    {"credentials", OSH_FIELD_OBJECT, false, false, 0, 0, NULL},
};

static int
parse_labels(
    struct json_object *labels, struct server_in *out, struct osh_err *err)
{
	size_t n = 0;

	json_object_object_foreach(labels, k, v)
	{
		size_t klen = strlen(k);
		const char *val;

		if (++n > 32)
			return osh_err_set(err, 400, "validation_failed",
			    "labels", "at most 32 labels");
		if (!osh_selector_key_ok(k, klen))
			goto bad_key;
		if (!json_object_is_type(v, json_type_string))
			return osh_err_set(err, 400, "validation_failed",
			    "labels", "label \"%s\" must be a string", k);
		val = json_object_get_string(v);
		if (strlen(val) > 256 || !osh_utf8_valid(val, strlen(val)))
			return osh_err_set(err, 400, "validation_failed",
			    "labels",
			    "label \"%s\" must be valid text of at "
			    "most 256 bytes",
			    k);
	}
	free(out->labels);
	out->labels = strdup(
	    json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN));
	if (out->labels == NULL)
		return osh_err_set(err, 503, NULL, NULL, "out of memory");
	return 0;
bad_key:
	return osh_err_set(err, 400, "validation_failed", "labels",
	    "label names are letters, digits and _ (1 to 63, not starting "
	    "with a digit)");
}

static int
parse_workarounds(
    struct json_object *arr, struct server_in *out, struct osh_err *err)
{
	unsigned flags = 0;
	char list[256] = "", bad[64];

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		unsigned f;

		if (!json_object_is_type(v, json_type_string) ||
		    !osh_ipmi_workarounds_parse(
			json_object_get_string(v), &f, bad, sizeof(bad)))
			return osh_err_set(err, 400, "validation_failed",
			    "workarounds",
			    "unknown workaround flag; known: "
			    "authcap, idzero, unexpectedauth, forcepermsg, "
			    "endianseq, noauthcodecheck, nochecksumcheck, "
			    "intel20, supermicro20, sun20, opensesspriv, "
			    "integritycheckvalue");
		flags |= f;
	}
	osh_ipmi_workarounds_format(flags, list, sizeof(list));
	snprintf(out->workarounds, sizeof(out->workarounds), "{%s}", list);
	out->has_workarounds = true;
	return 0;
}

int
credentials_parse(struct json_object *obj, char *user, size_t ulen, char *pass,
    size_t plen, struct osh_err *err)
{
	static const struct osh_field f[] = {
	    {"username", OSH_FIELD_STRING, true, false, 1, 16, NULL},
	    {"password", OSH_FIELD_STRING | OSH_FIELD_SECRET, true, false, 0,
		20, NULL},
	};
	const char *u, *p;

	if (osh_json_check(obj, f, OSH_ARRAY_LEN(f), err) != 0) {
		/* Named within the body that holds them. */
		char field[OSH_ERR_FIELD_MAX + 16];
		snprintf(field, sizeof(field), "credentials%s%s",
		    err->field[0] ? "." : "", err->field);
		osh_utf8_copy(err->field, field, sizeof(err->field));
		return -1;
	}
	u = osh_json_str(obj, "username", "");
	p = osh_json_str(obj, "password", "");
	/* IPMI 2.0 allows 16-byte user names and 20-byte passwords. */
	if (strlen(u) > 16)
		return osh_err_set(err, 400, "validation_failed",
		    "credentials.username",
		    "username must be at most 16 bytes");
	if (strlen(p) > 20)
		return osh_err_set(err, 400, "validation_failed",
		    "credentials.password",
		    "password must be at most 20 bytes");
	osh_strlcpy(user, u, ulen);
	osh_strlcpy(pass, p, plen);
	return 0;
}

int
server_in_parse(struct json_object *obj, bool create, struct server_in *out,
    struct osh_err *err)
{
	struct json_object *v;

	memset(out, 0, sizeof(*out));
	out->monitoring = -1;
	if (osh_json_check(
		obj, server_fields, OSH_ARRAY_LEN(server_fields), err) != 0)
		return -1;
	out->name = osh_json_str(obj, "name", NULL);
	if (out->name != NULL && !osh_name_ok(out->name))
		return osh_err_set(err, 400, "validation_failed", "name",
		    "name must not hold control characters, slashes or "
		    "surrounding spaces");
	if (json_object_object_get_ex(obj, "bmc_address", &v)) {
		if (!osh_ipmi_parse_address(json_object_get_string(v),
			out->host, sizeof(out->host), &out->port))
			return osh_err_set(err, 400, "validation_failed",
			    "bmc_address",
			    "bmc_address must be host, host:port, "
			    "IPv4, IPv6 or [IPv6]:port");
		out->has_addr = true;
	}
	if (create && out->name == NULL)
		return osh_err_set(
		    err, 400, "validation_failed", "name", "name is required");
	if (create && !out->has_addr)
		return osh_err_set(err, 400, "validation_failed", "bmc_address",
		    "bmc_address is required");
	out->ipmi_version = osh_json_str(obj, "ipmi_version", NULL);
	out->privilege = osh_json_str(obj, "privilege", NULL);
	if (osh_json_has(obj, "cipher_suite")) {
		out->has_cipher = true;
		out->cipher_suite = (int)osh_json_int(obj, "cipher_suite", 3);
	}
	if (json_object_object_get_ex(obj, "workarounds", &v) &&
	    parse_workarounds(v, out, err) != 0)
		return -1;
	if (json_object_object_get_ex(obj, "labels", &v) &&
	    parse_labels(v, out, err) != 0)
		return -1;
	out->description = osh_json_str(obj, "description", NULL);
	if (osh_json_has(obj, "monitoring"))
		out->monitoring = osh_json_bool(obj, "monitoring", true);
	if (osh_json_has(obj, "cluster")) {
		out->has_cluster = true;
		out->cluster = osh_json_str(obj, "cluster", NULL);
		if (out->cluster != NULL && !osh_name_ok(out->cluster))
			return osh_err_set(err, 400, "validation_failed",
			    "cluster",
			    "cluster must not hold control characters, "
			    "slashes or surrounding spaces");
	}
	if (json_object_object_get_ex(obj, "credentials", &v)) {
		if (credentials_parse(v, out->username, sizeof(out->username),
			out->password, sizeof(out->password), err) != 0)
			return -1;
		out->has_credentials = true;
	}
	return 0;
}

void
server_in_release(struct server_in *in)
{
	free(in->labels);
	in->labels = NULL;
	osh_wipe(in->password, sizeof(in->password));
}

char *
creds_seal(
    struct osh_keyring *k, const char *user, const char *pass, const char *ad)
{
	struct json_object *o = json_object_new_object();
	struct json_object *p = json_object_new_string(pass);
	const char *text;
	char *sealed;

	json_object_object_add(o, "u", json_object_new_string(user));
	json_object_object_add(o, "p", p);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	sealed = osh_seal(k, text, strlen(text), ad);
	/* The text is the object's print buffer; both go with the put. */
	osh_wipe((void *)(uintptr_t)text, strlen(text));
	osh_json_wipe_all(o);
	json_object_put(o);
	return sealed;
}

bool
creds_open(struct osh_keyring *k, const char *sealed, const char *ad,
    char *user, size_t ulen, char *pass, size_t plen)
{
	struct json_object *o, *u = NULL, *p = NULL;
	char *plain;
	bool ok;

	osh_wipe(user, ulen);
	osh_wipe(pass, plen);
	if (sealed == NULL || (plain = osh_open(k, sealed, ad, NULL)) == NULL)
		return false;
	o = json_tokener_parse(plain);
	osh_free_secret(plain);
	ok = json_object_object_get_ex(o, "u", &u) &&
	    json_object_object_get_ex(o, "p", &p) &&
	    json_object_is_type(u, json_type_string) &&
	    json_object_is_type(p, json_type_string) &&
	    osh_strlcpy(user, json_object_get_string(u), ulen) &&
	    osh_strlcpy(pass, json_object_get_string(p), plen);
	if (!ok) {
		osh_wipe(user, ulen);
		osh_wipe(pass, plen);
	}
	osh_json_wipe_all(o);
	json_object_put(o);
	return ok;
}

/* The canonical form of a host: an address as inet_ntop writes it, a name
 * in lower case. */
static void
host_canonical(const char *host, char *out, size_t len)
{
	unsigned char a[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, a) == 1 &&
	    inet_ntop(AF_INET, a, out, (socklen_t)len) != NULL)
		return;
	if (inet_pton(AF_INET6, host, a) == 1 &&
	    inet_ntop(AF_INET6, a, out, (socklen_t)len) != NULL)
		return;
	osh_strlcpy(out, host, len);
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

void
creds_ad(char *out, size_t len, int64_t id, const struct bmc_endpoint *e)
{
	char host[sizeof(e->host)];

	/* Unambiguous: the id, port and version hold no '|', so the host
	 * is what lies between the first and the last two. */
	host_canonical(e->host, host, sizeof(host));
	snprintf(out, len, "server:%lld|%s|%d|%s", (long long)id, host, e->port,
	    e->ipmi_version);
}

bool
endpoint_same(const struct bmc_endpoint *a, const struct bmc_endpoint *b)
{
	char ha[sizeof(a->host)], hb[sizeof(b->host)];

	host_canonical(a->host, ha, sizeof(ha));
	host_canonical(b->host, hb, sizeof(hb));
	return strcmp(ha, hb) == 0 && a->port == b->port &&
	    strcmp(a->ipmi_version, b->ipmi_version) == 0;
}

void
endpoint_text(const struct bmc_endpoint *e, char *out, size_t len)
{
	snprintf(out, len,
	    strchr(e->host, ':') != NULL ? "[%s]:%d (IPMI %s)"
					 : "%s:%d (IPMI %s)",
	    e->host, e->port, e->ipmi_version);
}

void
endpoint_of_row(const struct server_row *r, struct bmc_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	osh_strlcpy(e->host, r->host ? r->host : "", sizeof(e->host));
	e->port = r->port;
	osh_strlcpy(e->ipmi_version, r->ipmi_version ? r->ipmi_version : "",
	    sizeof(e->ipmi_version));
}

/* Credentials bound to the server id only open for whatever endpoint the
 * row names, so only reseal.c's start-up pass opens them: here they are
 * refused, and each refusal is logged. */
static bool
refuse_bound_to_id(
    struct sm_app *app, const struct server_row *r, struct osh_err *err)
{
	char name[160];

	osh_log_quote(r->name, name, sizeof(name));
	if (!app->legacy_pass_done) {
		osh_log_info(NULL,
		    "msg=\"credentials bound to the server id only not "
		    "opened before the start-up re-seal\" server=%lld "
		    "name=\"%s\"",
		    (long long)r->id, name);
		osh_err_set(err, 409, "credentials_unreadable", NULL,
		    "the BMC credentials of server \"%s\" are being re-sealed "
		    "for its BMC endpoint: try again in a moment",
		    r->name);
		return false;
	}
	osh_log_warn(NULL,
	    "msg=\"credentials bound to the server id only refused\" "
	    "server=%lld name=\"%s\"",
	    (long long)r->id, name);
	osh_err_set(err, 409, "credentials_unreadable", NULL,
	    "the BMC credentials of server \"%s\" are bound to its id "
	    "only, not to its BMC endpoint, and are not opened: set them "
	    "again",
	    r->name);
	return false;
}

bool
server_target(struct sm_app *app, const struct server_row *r,
    struct osh_ipmi_target *t, struct osh_err *err)
{
	char ad[CREDS_AD_MAX], bad[64];
	struct bmc_endpoint e;
	unsigned wa = 0;
	char list[300];

	memset(t, 0, sizeof(t[0]));
	if (r->credentials == NULL) {
		osh_err_set(err, 409, "no_credentials", NULL,
		    "server \"%s\" has no BMC credentials", r->name);
		return false;
	}
	if (r->credentials_binding != CREDS_BOUND_TO_ENDPOINT)
		return refuse_bound_to_id(app, r, err);
	endpoint_of_row(r, &e);
	creds_ad(ad, sizeof(ad), r->id, &e);
	if (!creds_open(app->keys, r->credentials, ad, t->user, sizeof(t->user),
		t->password, sizeof(t->password))) {
		osh_err_set(err, 409, "credentials_unreadable", NULL,
		    "the BMC credentials of server \"%s\" cannot be opened "
		    "for its BMC endpoint (sealed for another endpoint or "
		    "with a missing key): set them again",
		    r->name);
		return false;
	}
	osh_strlcpy(t->host, r->host, sizeof(t->host));
	t->port = (uint16_t)r->port;
	t->ipmi15 = strcmp(r->ipmi_version, "1.5") == 0;
	t->privilege = strcmp(r->privilege, "user") == 0 ? OSH_IPMI_PRIV_USER
	    : strcmp(r->privilege, "operator") == 0 ? OSH_IPMI_PRIV_OPERATOR
						    : OSH_IPMI_PRIV_ADMIN;
	t->cipher_suite = (uint8_t)r->cipher_suite;
	/* "{a,b}" from PostgreSQL. */
	osh_strlcpy(list, r->workarounds ? r->workarounds : "", sizeof(list));
	for (char *c = list; *c; c++)
		if (*c == '{' || *c == '}')
			*c = ' ';
	if (osh_ipmi_workarounds_parse(list, &wa, bad, sizeof(bad)))
		t->workarounds = wa;
	return true;
}

static const char *
state_name(enum osh_sensor_state s)
{
	switch (s) {
	case OSH_SENSOR_NOMINAL: return "nominal";
	case OSH_SENSOR_WARNING: return "warning";
	case OSH_SENSOR_CRITICAL: return "critical";
	default: return "unknown";
	}
}

struct json_object *
sensors_json(const struct osh_sensor *s, size_t n)
{
	static const char *const th_names[6] = {
	    [OSH_TH_LNR] = "lower_non_recoverable",
	    [OSH_TH_LC] = "lower_critical",
	    [OSH_TH_LNC] = "lower_non_critical",
	    [OSH_TH_UNC] = "upper_non_critical",
	    [OSH_TH_UC] = "upper_critical",
	    [OSH_TH_UNR] = "upper_non_recoverable",
	};
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *th = json_object_new_object();
		const char *unit = osh_sensor_unit(&s[i]);

		json_object_object_add(
		    o, "id", json_object_new_int(s[i].record_id));
		json_object_object_add(
		    o, "number", json_object_new_int(s[i].number));
		json_object_object_add(
		    o, "name", json_object_new_string(s[i].name));
		json_object_object_add(o, "type",
		    json_object_new_string(osh_sensor_type_name(s[i].type)));
		json_object_object_add(o, "value",
		    s[i].has_value ? json_object_new_double(s[i].value) : NULL);
		json_object_object_add(
		    o, "unit", unit ? json_object_new_string(unit) : NULL);
		json_object_object_add(
		    o, "state", json_object_new_string(state_name(s[i].state)));
		json_object_object_add(
		    o, "event_bits", json_object_new_int(s[i].events));
		for (int k = 0; k < 6; k++)
			if (s[i].has_th[k])
				json_object_object_add(th, th_names[k],
				    json_object_new_double(s[i].th[k]));
		json_object_object_add(o, "thresholds", th);
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

struct json_object *
inventory_json(const struct osh_ipmi_result *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *bmc = json_object_new_object();
	struct json_object *fru = json_object_new_object();
	struct json_object *ch = json_object_new_object();
	struct json_object *bd = json_object_new_object();
	struct json_object *pr = json_object_new_object();
	char ipmi[8];
	const struct osh_fru *f = &r->fru;

	snprintf(ipmi, sizeof(ipmi), "%u.%u", r->device.ipmi_major,
	    r->device.ipmi_minor);
	json_object_object_add(
	    bmc, "device_id", json_object_new_int(r->device.device_id));
	json_object_object_add(bmc, "device_revision",
	    json_object_new_int(r->device.device_revision));
	add_str(bmc, "firmware_revision", r->device.firmware);
	add_str(bmc, "ipmi_version", ipmi);
	json_object_object_add(bmc, "manufacturer_id",
	    json_object_new_int64(r->device.manufacturer_id));
	add_str(bmc, "manufacturer", vendor_name(r->device.manufacturer_id));
	json_object_object_add(
	    bmc, "product_id", json_object_new_int(r->device.product_id));
	json_object_object_add(o, "bmc", bmc);
	add_str(ch, "type", f->chassis_type);
	add_str(ch, "part_number", f->chassis_part);
	add_str(ch, "serial", f->chassis_serial);
	add_str(bd, "manufacturer", f->board_mfg);
	add_str(bd, "product", f->board_product);
	add_str(bd, "serial", f->board_serial);
	add_str(bd, "part_number", f->board_part);
	osh_json_add_time(bd, "manufactured_at",
	    f->board_mfg_time >= 0 ? f->board_mfg_time * 1000 : -1);
	add_str(pr, "manufacturer", f->product_mfg);
	add_str(pr, "name", f->product_name);
	add_str(pr, "part_number", f->product_part);
	add_str(pr, "version", f->product_version);
	add_str(pr, "serial", f->product_serial);
	add_str(pr, "asset_tag", f->product_asset);
	json_object_object_add(fru, "chassis", ch);
	json_object_object_add(fru, "board", bd);
	json_object_object_add(fru, "product", pr);
	json_object_object_add(o, "fru",
	    (r->done & OSH_IPMI_WANT_FRU) ? fru : (json_object_put(fru), NULL));
	return o;
}

struct json_object *
sel_entry_json(const struct osh_sel_entry *e)
{
	struct json_object *o = json_object_new_object();
	char raw[40];

	json_object_object_add(o, "id", json_object_new_int(e->id));
	osh_json_add_time(
	    o, "timestamp", e->timestamp >= 0 ? e->timestamp * 1000 : -1);
	json_object_object_add(o, "seconds_since_init",
	    e->timestamp < 0 && e->record_type < 0xe0
		? json_object_new_int64(e->raw_timestamp)
		: NULL);
	json_object_object_add(
	    o, "record_type", json_object_new_int(e->record_type));
	add_str(o, "sensor", e->sensor);
	add_str(o, "sensor_type", e->type_name);
	json_object_object_add(
	    o, "sensor_number", json_object_new_int(e->sensor_number));
	add_str(o, "direction", e->deassertion ? "deassertion" : "assertion");
	add_str(o, "description", e->description);
	add_str(o, "severity", state_name(e->severity));
	for (int i = 0; i < 16; i++)
		snprintf(raw + i * 2, 3, "%02x", e->raw[i]);
	add_str(o, "raw", raw);
	return o;
}

struct json_object *
chassis_json(const struct osh_chassis *c)
{
	static const char *const policies[] = {
	    "always_off", "previous", "always_on", "unknown"};
	struct json_object *o = json_object_new_object();

	add_str(o, "power_state", c->power_on ? "on" : "off");
	json_object_object_add(
	    o, "power_fault", json_object_new_boolean(c->power_fault));
	json_object_object_add(
	    o, "power_overload", json_object_new_boolean(c->power_overload));
	json_object_object_add(
	    o, "interlock", json_object_new_boolean(c->interlock));
	json_object_object_add(
	    o, "intrusion", json_object_new_boolean(c->intrusion));
	json_object_object_add(
	    o, "drive_fault", json_object_new_boolean(c->drive_fault));
	json_object_object_add(
	    o, "cooling_fault", json_object_new_boolean(c->cooling_fault));
	add_str(o, "restore_policy", policies[c->restore_policy & 3]);
	return o;
}

static const struct {
	const char *name;
	enum osh_power_action action;
} actions[] = {
    {"off", OSH_POWER_OFF},
    {"on", OSH_POWER_ON},
    {"cycle", OSH_POWER_CYCLE},
    {"reset", OSH_POWER_RESET},
    {"diag", OSH_POWER_DIAG},
    {"soft", OSH_POWER_SOFT},
};

const char *
power_action_name(enum osh_power_action a)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(actions); i++)
		if (actions[i].action == a)
			return actions[i].name;
	return "unknown";
}

bool
power_action_parse(const char *s, enum osh_power_action *out)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(actions); i++) {
		if (strcmp(actions[i].name, s) == 0) {
			*out = actions[i].action;
			return true;
		}
	}
	return false;
}

bool
boot_device_parse(const char *s, enum osh_boot_device *out)
{
	static const struct {
		const char *name;
		enum osh_boot_device dev;
	} devs[] = {
	    {"pxe", OSH_BOOT_PXE},
	    {"disk", OSH_BOOT_DISK},
	    {"cdrom", OSH_BOOT_CDROM},
	    {"bios", OSH_BOOT_BIOS},
	    {"none", OSH_BOOT_NONE},
	};

	for (size_t i = 0; i < OSH_ARRAY_LEN(devs); i++) {
		if (strcmp(devs[i].name, s) == 0) {
			*out = devs[i].dev;
			return true;
		}
	}
	return false;
}

const char *
status_of(enum osh_ipmi_err e)
{
	switch (e) {
	case OSH_IPMI_OK: return "online";
	case OSH_IPMI_UNREACHABLE:
	case OSH_IPMI_TIMEOUT: return "offline";
	case OSH_IPMI_AUTH_FAILED:
	case OSH_IPMI_PRIVILEGE: return "auth_failed";
	default: return "error";
	}
}

const char *
vendor_name(uint32_t iana)
{
	static const struct {
		uint32_t id;
		const char *name;
	} vendors[] = {
	    {2, "IBM"},
	    {11, "HPE"},
	    {343, "Intel"},
	    {674, "Dell"},
	    {2011, "Huawei"},
	    {4413, "Openwave"},
	    {5771, "Cisco"},
	    {10368, "Fujitsu"},
	    {10876, "Supermicro"},
	    {19046, "Lenovo"},
	    {20301, "IBM"},
	    {42385, "Sugon"},
	    {47196, "Inspur"},
	    {49769, "Quanta"},
	    {0x9f, "OpenIPMI"},
	};

	for (size_t i = 0; i < OSH_ARRAY_LEN(vendors); i++)
		if (vendors[i].id == iana)
			return vendors[i].name;
	return "";
}

void
reply_ipmi_error(struct osh_req *req, const struct osh_ipmi_result *r,
    const char *server_name)
{
	osh_reply_error(req, osh_ipmi_err_status(r->err),
	    osh_ipmi_err_code(r->err), NULL, "BMC of \"%s\": %s", server_name,
	    r->message[0] ? r->message : osh_ipmi_err_code(r->err));
}
