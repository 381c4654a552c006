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
	int64_t poll_failing_concurrency; /* of those, for failing BMCs */
	int64_t poll_backoff_max_s; /* longest a failing BMC sits out */
	int64_t ipmi_threads;
	int64_t ipmi_queue_max;
	int64_t ipmi_idle_ms;
	int64_t scan_max_targets;
	int64_t scan_concurrency;
	int64_t scan_timeout_ms;
	int64_t scan_max_running;
	const char *scan_allow; /* OSH_SCAN_ALLOW: CIDRs scans may reach */
	int64_t row_cache_ms;
	int64_t list_cache_ms; /* OSH_LIST_CACHE_MS, pagecache.h */
	/* OSH_CREDENTIALS_LEGACY_RESEAL: whether the start-up pass may open
	 * credentials bound to server ids only (reseal.c). */
	bool legacy_reseal;
	/* The power worker (power_worker.h, README "Power requests"). */
	bool power_worker;
	int64_t power_concurrency;
	int64_t power_claim_idle_ms;
	int64_t power_max_deliveries;
	int64_t power_record_days;
	int64_t bmc_min_gap_ms;
	/* Where the clusters of each server come from, for Prometheus
	 * service discovery (clustermap.c); "" (url or secret): nowhere. */
	const char *cluster_mgmt_url;
	const char *auth_url;
	const char *service_secret_file;
};

struct sm_app {
	struct osh_service *svc;
	struct sm_config cfg;
	struct osh_keyring *keys;
	struct osh_ipmi *ipmi;
	struct poller *poller;
	struct rowcache *rows; /* recently loaded servers */
	struct pagecache *pages; /* recent list pages and statistics */
	struct pagecache *items; /* recent single servers */
	struct watch *watch; /* server events drop items (watch.c) */
	size_t scans_running; /* discovery scans of this process */
	/* The start-up pass over credentials bound to server ids only has
	 * ended (reseal.c): any such row met now is refused for good. */
	bool legacy_pass_done;
	struct osh_metric *m_power_actions;
	/* osh_power_action_requested_timestamp_seconds{server_id}: when a
	 * power change was last sent to each server's BMC (bmc.c), so that
	 * alert rules tell a power-off asked for from an unexpected one. */
	struct osh_metric *m_power_requested;
	struct power_worker *power; /* NULL when off */
	struct clustermap *clusters; /* clusters of servers, cached */
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
 * (creds_ad, or "scan:<id>|<host>|<port>" for what a scan found). seal
 * returns a new string (free with osh_free_secret); open fills user and
 * pass and returns false (both left zeroed) when the record cannot be
 * opened: wrong key, altered, or sealed for other additional data.
 * Neither leaves a copy of the password in freed memory. */
char *creds_seal(
    struct osh_keyring *k, const char *user, const char *pass, const char *ad);
bool creds_open(struct osh_keyring *k, const char *sealed, const char *ad,
    char *user, size_t ulen, char *pass, size_t plen);

/* Where a server's credentials may be sent: its BMC endpoint. host is the
 * text as stored; comparisons and additional data use its canonical form
 * (an address as inet_ntop writes it, a name in lower case). */
struct bmc_endpoint {
	char host[256];
	int port;
	char ipmi_version[4];
};

/* How a row's credentials were sealed (servers.credentials_binding). */
enum creds_binding {
	CREDS_BOUND_TO_ID = 1, /* before endpoints were bound: "server:<id>" */
	CREDS_BOUND_TO_ENDPOINT = 2,
};

#define CREDS_AD_MAX 320
/* The additional data binding server id's credentials to endpoint e:
 * "server:<id>|<canonical host>|<port>|<ipmi version>". Credentials sealed
 * with it open for that server at that endpoint only. */
void creds_ad(char *out, size_t len, int64_t id, const struct bmc_endpoint *e);
bool endpoint_same(const struct bmc_endpoint *a, const struct bmc_endpoint *b);
/* "host:port (IPMI v)" for people: audit details, messages. */
void endpoint_text(const struct bmc_endpoint *e, char *out, size_t len);

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
	int credentials_binding; /* enum creds_binding */
	const char *power_state;
	const char *status;
	const char *product; /* "" until the FRU was read */
};

void endpoint_of_row(const struct server_row *r, struct bmc_endpoint *e);

/* Builds an IPMI target; false with err set when the server has no
 * credentials (409 no_credentials) or they cannot be opened for its
 * endpoint (409 credentials_unreadable: another key, or sealed for
 * another server or endpoint; nothing is sent then). Credentials still
 * bound to the id only (binding 1) are never opened here, whatever the
 * row says: refused the same way (409 credentials_unreadable) and
 * logged. Only the start-up pass of reseal.c opens those. */
bool server_target(struct sm_app *app, const struct server_row *r,
    struct osh_ipmi_target *t, struct osh_err *err);

/* The start-up pass over credentials bound to server ids only (sealed
 * before the endpoint binding): while the deployment holds no record of
 * it having run to its end (a marker sealed under the credential keys),
 * opens each such row with "server:<id>", re-seals it for the endpoint
 * its row names (audited with that endpoint), then writes the marker;
 * afterwards, and when cfg.legacy_reseal is off, such rows are only
 * logged as refused. Retries on database errors; sets
 * app->legacy_pass_done when it has ended. Called once at start. */
void reseal_start(struct sm_app *app);

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
