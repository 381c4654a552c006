/* exporter.h - osh-ipmi-exporter: a drop-in for the Prometheus community
 * ipmi_exporter. Its modules (the same YAML file), the collectors, and
 * the pieces of the service. */
#ifndef EXP_EXPORTER_H
#define EXP_EXPORTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osh/ipmi.h>
#include <osh/service.h>
#include <osh/util.h>

#include <osh/proxy.h>

enum collector {
	COLL_IPMI,
	COLL_BMC,
	COLL_CHASSIS,
	COLL_DCMI,
	COLL_SEL,
	COLL_FRU,
	COLL_SM_LAN_MODE, /* accepted for compatibility; never up */
	COLL_BMC_WATCHDOG,
	COLL_SEL_EVENTS,
	NCOLL,
};

extern const char *const collector_names[NCOLL];

#define MAX_PATTERNS 16
#define MAX_ALLOWED 1024
/* No scrape waits longer, whatever a client or a module asks. */
#define MAX_SCRAPE_MS 60000

struct patterns {
	regex_t re[MAX_PATTERNS];
	char *text[MAX_PATTERNS];
	size_t n;
};

/* sel_events: a name and the regular expression that SEL events' text is
 * searched with (unanchored, as the reference searches). */
#define MAX_SEL_EVENTS 64
struct sel_event_rule {
	char *name;
	char *text;
	regex_t re;
};

/* Module keys that configure the reference's FreeIPMI commands:
 * accepted, ignored, named in one warning line. */
enum {
	FREEIPMI_COLLECTOR_CMD = 1 << 0,
	FREEIPMI_DEFAULT_ARGS = 1 << 1,
	FREEIPMI_CUSTOM_ARGS = 1 << 2,
};

struct module {
	char *name;
	bool from_server_mgmt; /* module "osh": credentials per target */
	char user[33];
	char password[65];
	bool ipmi15;
	uint8_t privilege;
	uint8_t cipher_suite;
	unsigned workarounds;
	int timeout_ms; /* as configured; scrapes take at most MAX_SCRAPE_MS */
	unsigned collectors; /* 1 << enum collector */
	/* allowed_targets: when set, only targets whose every address is in
	 * one of these ranges are scraped (none when the list is empty). */
	bool restrict_targets;
	struct osh_cidr *allowed;
	size_t nallowed;
	int64_t *exclude_ids;
	size_t nexclude;
	struct patterns include_names, exclude_names;
	struct patterns include_types, exclude_types;
	struct sel_event_rule *sel_events;
	size_t nsel_events;
	unsigned freeipmi_keys; /* FREEIPMI_*: present, ignored */
};

struct exp_config {
	struct module *modules;
	size_t n;
	int refs; /* scrapes still using this configuration, plus one */
};

/* Loads the YAML module file. On failure returns NULL and writes "line N:
 * reason" into err. A module "default" without credentials always exists,
 * as in the reference exporter. */
struct exp_config *config_load(const char *path, char *err, size_t errlen);
struct exp_config *config_parse(
    const char *text, size_t len, char *err, size_t errlen);
void config_free(struct exp_config *c);
/* Adds a module with the reference defaults when it is missing. */
int config_ensure_module(struct exp_config *c, const char *name);
/* Reference counting: scrapes hold the configuration they started with. */
struct exp_config *config_ref(struct exp_config *c);
void config_unref(struct exp_config *c);
const struct module *config_module(
    const struct exp_config *c, const char *name);

/* pattern.c: whether glibc can compile a regular expression in reasonable time and
 * space (repetitions of repetitions grow exponentially there). */
bool pattern_ok(const char *re);

/* selevents.c: parses a module's sel_events list (a YAML sequence of
 * {name, regex}) into m; -1 with "line N: reason" in err. */
struct yaml_document_s;
struct yaml_node_s;
int selevents_parse(struct yaml_document_s *doc, const struct yaml_node_s *n,
    struct module *m, char *err, size_t errlen);
void selevents_free(struct module *m);

/* What the sel-events collector counts over the whole SEL. */
enum {
	SEL_STATE_NOMINAL,
	SEL_STATE_WARNING,
	SEL_STATE_CRITICAL,
	SEL_STATE_NA,
	SEL_NSTATES
};
struct sel_tally {
	unsigned by_state[SEL_NSTATES];
	unsigned *count; /* per rule of the module */
	int64_t *latest; /* per rule: epoch seconds, 0 when none */
	size_t n;
};

/* Counts entries (as the engine gives them) by state and by m's rules
 * into t, allocating t's arrays; -1 when out of memory. */
int selevents_tally(const struct module *m, const struct osh_sel_entry *e,
    size_t n, struct sel_tally *t);
void selevents_tally_free(struct sel_tally *t);

/* Whether a sensor passes a module's id and pattern filters. */
bool module_wants_sensor(
    const struct module *m, const struct osh_sensor *s, const char *type_name);

struct exp_config_env {
	const char *config_file;
	const char *web_config_file;
	const char *dns_servers;
	int64_t margin_ms;
	int64_t ipmi_threads;
	int64_t ipmi_queue_max;
	int64_t idle_ms;
	const char *server_mgmt_url;
	const char *auth_url;
	const char *service_secret_file;
	int64_t creds_ttl_s;
	int64_t creds_max;
};

extern struct exp_config_env exp_env;

/* What one scrape gathered, collector by collector. */
struct scrape_data {
	unsigned done; /* 1 << collector: finished and up */
	struct osh_sensor *sensors;
	size_t nsensors;
	struct osh_device_id device;
	char system_firmware[64];
	char bmc_url[256];
	struct osh_chassis chassis;
	double dcmi_watts;
	bool dcmi_active;
	struct osh_sel_info sel;
	struct osh_fru fru;
	struct osh_watchdog watchdog;
	struct sel_tally sel_events;
};

/* Renders a scrape in the reference exporter's metric names, labels and
 * conventions (plus ipmi_fru_info). Returns how many duplicate series
 * were left out. */
unsigned render_scrape(struct osh_buf *out, const struct module *m,
    const struct scrape_data *d, double seconds);

struct creds;
struct scrapes;
struct webauth;
struct osh_resolver;

struct exp_app {
	struct osh_service *svc;
	struct exp_config *config; /* replaced whole on reload */
	struct webauth *webauth; /* holds the web configuration */
	struct osh_ipmi *ipmi;
	struct osh_resolver *resolver;
	struct creds *creds; /* NULL without server-mgmt */
	struct scrapes *scrapes;
	struct osh_metric *m_scrape_seconds;
	struct osh_metric *m_scrapes;
	struct osh_metric *m_shared;
	struct osh_metric *m_skipped;
	struct osh_metric *m_refused;
	unsigned long reloads, reload_failures;
	bool stopping; /* late callbacks answer 503 */
};

/* Reloads the module file and the web configuration file; keeps both old
 * ones when either new one does not load. Returns 0 or -1 with the reason
 * in err. */
int exporter_reload(struct exp_app *app, char *err, size_t errlen);

/* Whether module osh is set up (server-mgmt, auth and the secret). */
bool exporter_osh_enabled(void);

#endif
