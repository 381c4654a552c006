/* ipmi.h - talking to BMCs over IPMI (libfreeipmi underneath).
 *
 * One engine per process keeps one open session per BMC (per set of
 * credentials), reused across requests, with one request in flight per BMC
 * and the rest queued behind it. libfreeipmi blocks, so each request runs on
 * a worker thread and its result comes back on the event loop. Every
 * request has a deadline: its callback runs by then at the latest, with
 * OSH_IPMI_TIMEOUT if the BMC has not answered. Idle sessions are closed
 * before the BMC would drop them; a failed session is reopened on the next
 * request. SDRs are cached per BMC and revalidated with one Get SDR
 * Repository Info. A BMC may be named by host name: the engine looks the
 * name up on the loop (osh/resolve.h) each time it opens a session to it,
 * within the request's deadline, and FreeIPMI only ever gets the address,
 * so no worker thread waits on DNS. */
#ifndef OSH_IPMI_H
#define OSH_IPMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct osh_work_pool;
struct osh_ipmi;
struct osh_metrics;
struct osh_resolver;

enum osh_ipmi_err {
	OSH_IPMI_OK,
	OSH_IPMI_UNREACHABLE, /* no such host (the name does not resolve),
			       * or nothing answers there */
	OSH_IPMI_TIMEOUT, /* no answer within the deadline */
	OSH_IPMI_AUTH_FAILED, /* wrong user name or password */
	OSH_IPMI_PRIVILEGE, /* the user lacks the privilege needed */
	OSH_IPMI_UNSUPPORTED, /* the BMC does not implement this */
	OSH_IPMI_BAD_RESPONSE, /* an answer we cannot use */
	OSH_IPMI_BUSY, /* too many requests queued for this BMC */
	OSH_IPMI_INTERNAL,
};

/* "bmc_timeout", "bmc_auth_failed", ... (stable, for API error codes). */
const char *osh_ipmi_err_code(enum osh_ipmi_err e);
/* 504 for unreachable/timeout, 502 for auth/privilege/bad response,
 * 501 unsupported, 503 busy. */
int osh_ipmi_err_status(enum osh_ipmi_err e);

/* Workaround flags, named as FreeIPMI names them. */
enum {
	OSH_IPMI_WA_AUTHCAP = 1 << 0,
	OSH_IPMI_WA_IDZERO = 1 << 1,
	OSH_IPMI_WA_UNEXPECTEDAUTH = 1 << 2,
	OSH_IPMI_WA_FORCEPERMSG = 1 << 3,
	OSH_IPMI_WA_ENDIANSEQ = 1 << 4,
	OSH_IPMI_WA_NOAUTHCODECHECK = 1 << 5,
	OSH_IPMI_WA_NOCHECKSUMCHECK = 1 << 6,
	OSH_IPMI_WA_INTEL20 = 1 << 7,
	OSH_IPMI_WA_SUPERMICRO20 = 1 << 8,
	OSH_IPMI_WA_SUN20 = 1 << 9,
	OSH_IPMI_WA_OPENSESSPRIV = 1 << 10,
	OSH_IPMI_WA_INTEGRITYCHECKVALUE = 1 << 11,
};

/* Parses "opensesspriv,intel20" (also space separated); false with the
 * offending name in bad when one is unknown. */
bool osh_ipmi_workarounds_parse(
    const char *s, unsigned *out, char *bad, size_t badlen);
/* Writes the flags back as a comma list. */
void osh_ipmi_workarounds_format(unsigned flags, char *out, size_t len);

#define OSH_IPMI_PRIV_USER 2
#define OSH_IPMI_PRIV_OPERATOR 3
#define OSH_IPMI_PRIV_ADMIN 4

/* Where a BMC is and how to talk to it. The password is a secret: wipe
 * targets with osh_ipmi_target_wipe when done. */
struct osh_ipmi_target {
	char host[256]; /* name or address; IPv6 without brackets. Sessions
			 * are kept by the host as given (a name stays a
			 * name), whatever it resolves to. */
	uint16_t port; /* 623 by default */
	char user[33];
	char password[65];
	bool ipmi15; /* IPMI 1.5 (LAN) instead of 2.0 (RMCP+) */
	uint8_t privilege; /* OSH_IPMI_PRIV_* */
	uint8_t cipher_suite;
	unsigned workarounds;
};

void osh_ipmi_target_wipe(struct osh_ipmi_target *t);

/* Parses "host", "host:port", "[v6addr]:port" or "v6addr". */
bool osh_ipmi_parse_address(
    const char *s, char *host, size_t hostlen, uint16_t *port);

/*
 * What a request asks for: any combination of these, done in this order in
 * one trip to the BMC. A failed part does not stop the others unless the
 * session itself is lost.
 */
enum osh_ipmi_want {
	OSH_IPMI_WANT_DEVICE_ID = 1 << 0,
	OSH_IPMI_WANT_CHASSIS = 1 << 1,
	OSH_IPMI_WANT_CONTROL = 1 << 2, /* power action */
	OSH_IPMI_WANT_BOOT = 1 << 3, /* set boot device */
	OSH_IPMI_WANT_IDENTIFY = 1 << 4,
	OSH_IPMI_WANT_SENSORS = 1 << 5,
	OSH_IPMI_WANT_FRU = 1 << 6,
	OSH_IPMI_WANT_SEL_INFO = 1 << 7,
	OSH_IPMI_WANT_SEL = 1 << 8, /* entries */
	OSH_IPMI_WANT_SEL_CLEAR = 1 << 9,
	OSH_IPMI_WANT_DCMI_POWER = 1 << 10,
	OSH_IPMI_WANT_WATCHDOG = 1 << 11, /* Get Watchdog Timer */
};
#define OSH_IPMI_NPARTS 12
/* The parts that change something at the BMC: sent on a session that
 * never resends (no_resend below), so that a BMC slow to answer does not
 * carry one out twice. */
#define OSH_IPMI_WANT_CHANGES                                                  \
	(OSH_IPMI_WANT_CONTROL | OSH_IPMI_WANT_BOOT | OSH_IPMI_WANT_IDENTIFY | \
	    OSH_IPMI_WANT_SEL_CLEAR)

enum osh_power_action {
	OSH_POWER_OFF = 0x00,
	OSH_POWER_ON = 0x01,
	OSH_POWER_CYCLE = 0x02,
	OSH_POWER_RESET = 0x03,
	OSH_POWER_DIAG = 0x04,
	OSH_POWER_SOFT = 0x05,
};

enum osh_boot_device {
	OSH_BOOT_NONE = 0x00,
	OSH_BOOT_PXE = 0x01,
	OSH_BOOT_DISK = 0x02,
	OSH_BOOT_CDROM = 0x05,
	OSH_BOOT_BIOS = 0x06,
};

struct osh_ipmi_request {
	unsigned want; /* OSH_IPMI_WANT_* */
	/* When a session is to be opened, the BMC is probed first (one RMCP
	 * ping, answered in milliseconds by any BMC that is there): it gets
	 * this long to answer, the rest of the deadline going to the
	 * session; 0: the whole deadline. A poller asking a BMC that never
	 * answered gives it a fraction, so that one that is not there costs
	 * that, not the deadline. */
	int probe_ms;
	/* With OSH_IPMI_WANT_DEVICE_ID: the BMC URL too (Get System Info,
	 * one command more; skipped when the BMC has no Get System Info). */
	bool bmc_url;
	/* On a session that never resends an unanswered request (a BMC
	 * cannot tell a resent one from a second: ipmi_link.c). Always so
	 * with OSH_IPMI_WANT_CHANGES; set for a read just before a power
	 * action, so that the action finds its session open. */
	bool no_resend;
	enum osh_power_action power;
	struct {
		enum osh_boot_device device;
		bool persistent;
		bool efi;
	} boot;
	struct {
		int seconds; /* 0: off */
		bool force; /* on until turned off */
	} identify;
	/* OSH_IPMI_WANT_SEL: one page of the log, newest first. The engine
	 * keeps the log's records per session and reads only what was added
	 * since (the log is a forward-only chain of record ids). */
	struct {
		unsigned limit; /* entries; 0: 100; at most
				 * OSH_IPMI_SEL_PAGE_MAX */
		uint16_t start; /* record id of the page's newest entry (a
				 * sel_next from an earlier page); 0: the
				 * newest in the log */
		bool all; /* every entry the engine keeps (the newest
			   * OSH_IPMI_SEL_KEPT), whatever limit says */
	} sel;
};

#define OSH_IPMI_SEL_PAGE_DEFAULT 100
#define OSH_IPMI_SEL_PAGE_MAX 1000
/* The most SEL records the engine keeps per BMC: beyond, the oldest go. */
#define OSH_IPMI_SEL_KEPT 4096

struct osh_device_id {
	uint8_t device_id, device_revision;
	uint8_t fw_major, fw_minor; /* minor is BCD as sent */
	char firmware[16]; /* "2.10" */
	uint8_t ipmi_major, ipmi_minor;
	uint32_t manufacturer_id;
	uint16_t product_id;
	uint8_t aux[4];
	bool has_aux;
};

/* Get Watchdog Timer, as the BMC sends it. */
struct osh_watchdog {
	uint8_t use; /* 1 BIOS FRB2, 2 BIOS/POST, 3 OS load, 4 SMS/OS,
		      * 5 OEM; 0, 6, 7 reserved */
	bool running;
	bool logging; /* the "don't log" bit clear */
	uint8_t action; /* 0 none, 1 hard reset, 2 power down, 3 power
			 * cycle; 4-7 reserved */
	uint8_t pretimeout_interrupt; /* 0 none, 1 SMI, 2 NMI, 3 messaging
				       * interrupt; 4-7 reserved */
	uint8_t pretimeout_s; /* seconds */
	uint8_t expired; /* timer use expiration flags, bit per use */
	uint16_t initial_ds, present_ds; /* countdowns, 100 ms units */
	bool has_present; /* the BMC sent the present countdown */
};

struct osh_chassis {
	bool power_on;
	bool power_overload, interlock, power_fault, control_fault;
	uint8_t restore_policy; /* 0 off, 1 previous, 2 on, 3 unknown */
	bool intrusion, front_panel_lockout, drive_fault, cooling_fault;
	uint8_t identify; /* 0 off, 1 timed, 2 on, 3 unknown */
};

enum osh_sensor_state {
	OSH_SENSOR_NOMINAL,
	OSH_SENSOR_WARNING,
	OSH_SENSOR_CRITICAL,
	OSH_SENSOR_UNKNOWN,
};

enum {
	OSH_TH_LNR,
	OSH_TH_LC,
	OSH_TH_LNC,
	OSH_TH_UNC,
	OSH_TH_UC,
	OSH_TH_UNR
};

struct osh_sensor {
	uint16_t record_id;
	uint8_t number;
	uint8_t owner, lun;
	char name[64]; /* valid UTF-8 */
	uint8_t type; /* IPMI sensor type */
	uint8_t reading_type; /* event/reading type code */
	uint8_t base_unit; /* IPMI unit code; 0 for discrete */
	bool percentage; /* the SDR's percentage flag: a reading in % */
	bool threshold; /* reading type 0x01: analog with thresholds */
	bool has_value;
	double value;
	bool has_th[6];
	double th[6];
	uint16_t events; /* asserted states (threshold bits or discrete) */
	enum osh_sensor_state state;
	bool unavailable; /* reading unavailable or scanning disabled */
	bool readable; /* false: event-only, nothing to read */
};

struct osh_fru {
	char chassis_type[32], chassis_part[64], chassis_serial[64];
	char board_mfg[64], board_product[64], board_serial[64], board_part[64];
	int64_t board_mfg_time; /* epoch seconds, -1 unknown */
	char product_mfg[64], product_name[64], product_part[64],
	    product_version[64], product_serial[64], product_asset[64];
};

struct osh_sel_info {
	uint8_t version;
	uint16_t entries;
	uint16_t free_bytes;
	uint32_t last_add, last_erase;
};

struct osh_sel_entry {
	uint16_t id;
	uint8_t record_type;
	int64_t timestamp; /* epoch seconds; -1 when relative to init */
	uint32_t raw_timestamp;
	uint8_t sensor_type, sensor_number, event_type;
	bool deassertion;
	uint8_t offset;
	uint8_t data[3];
	char sensor[64]; /* the sensor's name when the SDR knows it */
	char type_name[48]; /* "Temperature" */
	char description[160]; /* "Upper Critical - going high" */
	/* What FreeIPMI's ipmi-sel prints in its Event column: the event,
	 * then its data ("Upper Critical - going high ; Sensor Reading =
	 * 96.00 C ; Threshold = 95.00 C"), for matching as the community
	 * exporter's sel-events collector matches. */
	char event[160];
	enum osh_sensor_state severity;
	uint8_t raw[16];
};

/* The answer to one request. Everything is owned by the engine and valid
 * only during the callback. */
struct osh_ipmi_result {
	enum osh_ipmi_err err; /* the first error, or OK */
	char message[160];
	unsigned done; /* parts that succeeded (OSH_IPMI_WANT_*) */
	enum osh_ipmi_err part_err[OSH_IPMI_NPARTS];
	struct osh_device_id device;
	char system_firmware[64]; /* Get System Info; "" when unsupported */
	char bmc_url[256]; /* rq.bmc_url: Get System Info's; "" when none */
	struct osh_watchdog watchdog;
	struct osh_chassis chassis;
	struct osh_sensor *sensors;
	size_t nsensors;
	unsigned skipped_records; /* duplicate or malformed SDRs */
	bool sdr_cached; /* the SDR cache was valid */
	struct osh_fru fru;
	struct osh_sel_info sel_info;
	struct osh_sel_entry *sel; /* the page asked for, newest first */
	size_t nsel;
	size_t sel_total; /* entries in the log */
	uint16_t sel_next; /* record id the next (older) page starts at; 0:
			    * this page holds the oldest */
	bool sel_start_gone; /* rq.sel.start is not in the log (any more) */
	unsigned sel_read; /* SEL records read from the BMC for this */
	double dcmi_watts;
	/* The BMC says power measurement is active (a short answer without
	 * the state byte counts as active). */
	bool dcmi_active;
	double elapsed_s;
	bool new_session; /* a session was opened for this request */
};

typedef void (*osh_ipmi_cb)(const struct osh_ipmi_result *res, void *arg);

struct osh_ipmi_options {
	int threads; /* worker threads for BMC I/O */
	int idle_timeout_ms; /* close sessions unused for this long */
	size_t max_queue_per_bmc;
	size_t max_sessions;
	/* Requests (and session closes) that may wait for a worker thread,
	 * all BMCs together (0: 256): beyond, a request is answered
	 * OSH_IPMI_BUSY (503) at once. Waits, depth and refusals show as
	 * osh_pool_*{pool="ipmi"} (osh_ipmi_metrics). */
	size_t max_waiting;
	/* Looks up BMC host names; borrowed: it must outlive the engine.
	 * NULL: the engine makes one of its own on the same event_base
	 * (answers kept OSH_IPMI_RESOLVE_TTL_S), asking nameservers
	 * ("ip[:port],...", as osh_resolver_options says; NULL:
	 * /etc/resolv.conf's), and frees it in osh_ipmi_free. */
	struct osh_resolver *resolver;
	const char *nameservers;
};

#define OSH_IPMI_RESOLVE_TTL_S 30

/* NULL when out of memory or when its own resolver cannot be made (a bad
 * nameservers list, say). */
struct osh_ipmi *osh_ipmi_new(
    struct event_base *base, const struct osh_ipmi_options *opt);
/* Answers every queued, resolving or probing request (OSH_IPMI_INTERNAL)
 * and frees its own resolver (which turns the loop without blocking until
 * evdns has let go of the lookups cancelled), closes every session
 * (briefly blocking) and joins the threads. Requests on workers end first
 * (their callbacks run here); when some worker is stuck on a silent BMC
 * for more than 3 s, everything is left to the process's exit. A borrowed
 * resolver is freed after this. */
void osh_ipmi_free(struct osh_ipmi *m);

/* Runs a request against a target within deadline_ms. The target is
 * copied. cb always runs exactly once, later, on the loop, by the
 * deadline, from a turn of the loop of its own (never inside another
 * engine call, so it may submit and forget freely, but not free the
 * engine) (with what the worker read by then when it stops short: the
 * parts not done fail with OSH_IPMI_TIMEOUT). Before a session is opened
 * a host name is looked up (OSH_IPMI_UNREACHABLE, naming the DNS error,
 * when it does not resolve by the deadline; the requests queued behind
 * fail with it), then the BMC is asked over RMCP, on the loop, whether it
 * is there; a lookup or probe still waiting at the deadline is cancelled
 * (no thread is involved in either). A
 * BMC that stops answering on its session (it was reset, say) costs one
 * worker thread until FreeIPMI gives up on it; meanwhile the BMC gets a
 * new session and the pool a thread more. Returns -1 (cb never runs) when
 * out of memory, when every session is busy, or once osh_ipmi_free has
 * begun. */
int osh_ipmi_submit(struct osh_ipmi *m, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, int deadline_ms, osh_ipmi_cb cb,
    void *arg);

/* Drops the session(s) and SDR cache of a host:port, host as given to
 * osh_ipmi_submit (credentials changed, server deleted). */
void osh_ipmi_forget(struct osh_ipmi *m, const char *host, uint16_t port);

/* Sessions the engine holds now: open, opening, closing or set aside
 * (for tests and leak checks). */
size_t osh_ipmi_session_count(const struct osh_ipmi *m);

/* Publishes the engine's counters on reg's /metrics (osh_ipmi_*). */
void osh_ipmi_metrics(struct osh_ipmi *m, struct osh_metrics *reg);

#endif
