/* ipmi_link.h - private to the IPMI module: one BMC connection as the
 * worker threads see it. A link is used by one thread at a time (the
 * engine runs one request per BMC at once). The engine (ipmi.c) uses the
 * first part; the second is what the link's own files share. */
#ifndef OSH_IPMI_LINK_H
#define OSH_IPMI_LINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osh/ipmi.h"
#include "osh/ipmi_parse.h"

struct sdr_cache {
	bool valid;
	uint8_t stamp[8]; /* last addition and erase times */
	uint16_t count;
	struct osh_sdr *records;
	size_t nrecords;
	unsigned skipped;
};

/* The SEL's records, oldest first, as far as walked: Get SEL Entry only
 * walks forward, so a page of the newest needs the whole chain. Kept while
 * the BMC's SEL info says nothing was erased; new entries are read from
 * where the last walk ended. */
struct sel_rec {
	uint16_t id;
	uint8_t raw[16];
	uint8_t severity; /* FreeIPMI's reading (enum osh_sensor_state)
			   * + 1, once made; 0: not yet */
};

/* Event texts made lately, by what they depend on (the record's bytes 2
 * to 15 but its id and, unless it is an OEM record without one, its
 * time): FreeIPMI takes tens of microseconds a record to write one, and
 * logs repeat their events. Made with the SDR whose stamp they keep;
 * another SDR empties them. */
#define SEL_TEXTS 32
struct sel_text {
	bool used;
	uint8_t key[14];
	char event[160];
};

struct sel_cache {
	bool valid;
	uint32_t last_add, last_erase; /* as of the last complete walk */
	uint16_t entries; /* what the BMC counted then */
	size_t walked; /* and the records known then */
	bool entries_valid; /* a walk was completed */
	uint16_t next; /* record id to read next; 0xffff: walked to the end */
	struct sel_rec *recs;
	size_t n, cap;
	size_t dropped; /* oldest records let go to stay within bounds */
	struct sel_text *texts; /* SEL_TEXTS of them; NULL until a page */
	uint8_t texts_sdr[8]; /* the SDR stamp they were made with */
};

struct bmc_link {
	void *ctx; /* ipmi_ctx_t, NULL when no session is open */
	/* Where sessions are opened: the address the engine looked the
	 * target's host up to, on the loop, before the run that opens one
	 * (set while no worker has the link). Never a name: FreeIPMI would
	 * look it up with getaddrinfo, blocking the worker. */
	char addr[INET6_ADDRSTRLEN];
	struct sdr_cache sdr;
	struct sel_cache sel;
	/* When the request on the link must stop (set by ipmi_link_run):
	 * no command is sent after it, and late says one was refused. */
	uint64_t deadline_us;
	bool late;
	unsigned long setups; /* sessions opened over the link's life */
	/* The open session resends a request left unanswered for a while
	 * (FreeIPMI's retransmission, fixed when the session opens, with a
	 * new sequence number each time, so a BMC cannot tell it from a new
	 * request). Power actions go on a session that does not. */
	bool resends;
	/* FreeIPMI's session timeout is both how long it waits for an
	 * answer and how long a session may sit silent: longer than the
	 * engine lets sessions idle between keepalives. */
	unsigned session_timeout_ms;
};

/* Runs rq on the link's session (opening it first when needed, to
 * l->addr and t's port; a session lost on the way is reopened there once),
 * filling res. Stops at the deadline between commands, the session kept:
 * the part cut short and those after it fail with OSH_IPMI_TIMEOUT, with
 * what was read so far (SDR, SEL and FRU loops included). One command on
 * a session the BMC has forgotten blocks until FreeIPMI's session
 * timeout, which the engine works around (see STUCK_GRACE_MS in ipmi_engine.h).
 */
void ipmi_link_run(struct bmc_link *l, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, uint64_t deadline_us,
    struct osh_ipmi_result *res);

/* One Get Chassis Status on the open session, so the BMC keeps it; on
 * failure the session is dropped (no reopening: nobody is waiting). */
void ipmi_link_keepalive(struct bmc_link *l, struct osh_ipmi_result *res);

/* Closes the session and frees the SDR and SEL caches. FreeIPMI always
 * sends Close Session and waits up to one retransmission for the answer,
 * so with a session open this belongs on a worker thread. */
void ipmi_link_close(struct bmc_link *l);

/* Frees what a result holds (sensors, SEL entries), not the result. */
void ipmi_result_release(struct osh_ipmi_result *res);

/*
 * Between the link's files: ipmi_link.c (the session, raw commands, a
 * request run part by part), ipmi_link_cmd.c (the parts that are plain
 * commands), ipmi_link_sdr.c (the SDR cache and sensors), ipmi_link_sel.c
 * (the SEL cache and its pages) and ipmi_link_interpret.c (FreeIPMI's
 * reading of states).
 */

#define NETFN_CHASSIS 0x00
#define NETFN_SENSOR 0x04
#define NETFN_APP 0x06
#define NETFN_STORAGE 0x0a
#define NETFN_DCMI 0x2c

/* Sends one raw command on the link's session. On success returns 0 with
 * the bytes after the completion code in rs (n of them, at most rscap);
 * on failure fills res (ipmi_link_fail) and returns -1, cc set when the
 * BMC answered with an error code. Past the link's deadline nothing is
 * sent: it fails with OSH_IPMI_TIMEOUT and sets l->late, so that every
 * loop stops there. */
int ipmi_link_raw(struct bmc_link *l, uint8_t netfn, const uint8_t *rq,
    size_t rqlen, uint8_t *rs, size_t rscap, size_t *n, uint8_t *cc,
    struct osh_ipmi_result *res);
/* Records an error and its message in res, unless res holds one already:
 * the first is kept. */
void ipmi_link_fail(struct osh_ipmi_result *res, enum osh_ipmi_err e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Errors after which the session cannot be trusted any more. */
bool ipmi_link_session_lost(enum osh_ipmi_err e);
/* Doubles an array of *cap elements of 'size' bytes, to max at most;
 * returns -1, the array as it was, at max or out of memory. */
int ipmi_link_grow(void **a, size_t *cap, size_t max, size_t size);

/* The parts of a request, run by ipmi_link_run for each bit of rq->want:
 * each fills its fields of res and sets its bit in res->done when it
 * succeeded; on failure res->err and res->message say why. */
void ipmi_link_cmd_device_id(struct bmc_link *l,
    const struct osh_ipmi_request *rq, struct osh_ipmi_result *res);
void ipmi_link_cmd_chassis(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_cmd_control(struct bmc_link *l,
    const struct osh_ipmi_request *rq, struct osh_ipmi_result *res);
void ipmi_link_cmd_boot(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res);
void ipmi_link_cmd_identify(struct bmc_link *l,
    const struct osh_ipmi_request *rq, struct osh_ipmi_result *res);
void ipmi_link_cmd_fru(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_cmd_dcmi(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_cmd_watchdog(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_sdr_sensors(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_sel_info(struct bmc_link *l, struct osh_ipmi_result *res);
void ipmi_link_sel_read(struct bmc_link *l, const struct osh_ipmi_request *rq,
    struct osh_ipmi_result *res);
void ipmi_link_sel_clear(struct bmc_link *l, struct osh_ipmi_result *res);

/* Makes sure the link's SDR cache is current: one Get SDR Repository
 * Info when it is (res->sdr_cached), a full read when it is not. 0, or -1
 * with res->err set and the cache as it was. */
int ipmi_link_sdr_refresh(struct bmc_link *l, struct osh_ipmi_result *res);
/* Frees an SDR cache's records and empties it. */
void ipmi_link_sdr_free(struct sdr_cache *c);
/* Frees a SEL cache's records and empties it: the next read walks the
 * whole log again. */
void ipmi_link_sel_reset(struct sel_cache *c);

/* FreeIPMI's reading of a discrete sensor's state bits and of a SEL
 * record (16 bytes): nominal, warning, critical or unknown. Safe from
 * any thread (one at a time inside). */
enum osh_sensor_state ipmi_link_interpret_sensor(
    uint8_t reading_type, uint8_t type, uint16_t bits);
enum osh_sensor_state ipmi_link_interpret_sel(const uint8_t *rec);
/* The Event column of FreeIPMI's ipmi-sel for a SEL record (16 bytes)
 * into out: FreeIPMI's text, with a threshold event's reading and
 * threshold converted through sdr (the sensor's record; NULL: unknown,
 * left raw as FreeIPMI leaves them without one). */
void ipmi_link_interpret_sel_event(
    const uint8_t *rec, const struct osh_sdr *sdr, char *out, size_t outlen);

#endif
