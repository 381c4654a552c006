/* sm.h - the server-mgmt service: its context and configuration, and the
 * domain rules for servers (input validation, BMC targets, JSON of what a
 * BMC reports), shared by its files. */
#ifndef SM_SM_H
#define SM_SM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include <osh/error.h>
#include <osh/ipmi.h>
#include <osh/service.h>
#include <osh/util.h>

struct sm_config {
	const char *keys_file;
	int64_t bmc_timeout_ms;
	int64_t poll_interval_s;
	int64_t poll_concurrency;
	int64_t ipmi_threads;
	int64_t ipmi_idle_ms;
	int64_t scan_max_targets;
	int64_t scan_concurrency;
	int64_t scan_timeout_ms;
	int64_t row_cache_ms;
};

struct sm_app {
	struct osh_service *svc;
	struct sm_config cfg;
	struct osh_keyring *keys;
	struct osh_ipmi *ipmi;
	struct poller *poller;
	struct rowcache *rows; /* recently loaded servers */
	struct osh_metric *m_power_actions;
};

extern struct sm_config sm_config;

static inline struct osh_service *
sm_svc(struct sm_app *app)
{
	return app->svc;
}

/* A server as the API takes it: what a create or a patch sets. Fields not
 * given stay unset (has_* false, pointers NULL). */
struct server_in {
	const char *name;
	bool has_addr;
	char host[256];
	uint16_t port;
	const char *ipmi_version;
	const char *privilege;
	bool has_cipher;
	int cipher_suite;
	bool has_workarounds;
	char workarounds[300]; /* PostgreSQL array text: {a,b} */
	char *labels; /* JSON object text, owned */
	const char *description;
	int monitoring; /* -1 unset, 0, 1 */
	bool has_cluster;
	const char *cluster; /* NULL with has_cluster: remove */
	bool has_credentials;
	char username[33];
	char password[65];
};

/* Reads and checks a server body (create: name and bmc_address needed).
 * Strings point into obj. Fills err naming the field on failure. */
int server_in_parse(struct json_object *obj, bool create, struct server_in *out,
    struct osh_err *err);
/* Checks a {username, password} object. */
int credentials_parse(struct json_object *obj, char *user, size_t ulen,
    char *pass, size_t plen, struct osh_err *err);
void server_in_release(struct server_in *in);

/* Sealed credentials: JSON {"u","p"} under the keyring, bound to 'ad'
 * ("server:<id>"). seal returns a new string; open fills user and pass and
 * returns false when the record cannot be opened. */
char *creds_seal(
    struct osh_keyring *k, const char *user, const char *pass, const char *ad);
bool creds_open(struct osh_keyring *k, const char *sealed, const char *ad,
    char *user, size_t ulen, char *pass, size_t plen);

/* How a server is reached, as stored. */
struct server_row {
	int64_t id;
	const char *name;
	const char *host;
	int port;
	const char *ipmi_version;
	const char *privilege;
	int cipher_suite;
	const char *workarounds; /* PostgreSQL array text */
	const char *credentials; /* sealed, or NULL */
	const char *power_state;
	const char *status;
	const char *product; /* "" until the FRU was read */
};

/* Builds an IPMI target; false (err set: 409 no_credentials) when the
 * server has none or they cannot be opened. */
bool server_target(struct sm_app *app, const struct server_row *r,
    struct osh_ipmi_target *t, struct osh_err *err);

/* JSON of what a BMC reported. Callers own the objects. */
struct json_object *sensors_json(const struct osh_sensor *s, size_t n);
struct json_object *inventory_json(const struct osh_ipmi_result *r);
struct json_object *sel_entry_json(const struct osh_sel_entry *e);
struct json_object *chassis_json(const struct osh_chassis *c);

const char *power_action_name(enum osh_power_action a);
bool power_action_parse(const char *s, enum osh_power_action *out);
bool boot_device_parse(const char *s, enum osh_boot_device *out);

/* The status a poll result means: online, offline, auth_failed, error. */
const char *status_of(enum osh_ipmi_err e);

/* Vendor name for an IANA enterprise number ("" when unknown). */
const char *vendor_name(uint32_t iana);

/* Replies with the error of a BMC request. */
struct osh_req;
void reply_ipmi_error(struct osh_req *req, const struct osh_ipmi_result *r,
    const char *server_name);

#endif
