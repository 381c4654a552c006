/* ipmi_link.h - private to the IPMI module: one BMC connection as the
 * worker threads see it. A link is used by one thread at a time (the
 * engine runs one request per BMC at once). */
#ifndef OSH_IPMI_LINK_H
#define OSH_IPMI_LINK_H

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
};

struct bmc_link {
	void *ctx; /* ipmi_ctx_t, NULL when no session is open */
	struct sdr_cache sdr;
	struct sel_cache sel;
	/* When the request on the link must stop (set by ipmi_link_run):
	 * no command is sent after it, and late says one was refused. */
	uint64_t deadline_us;
	bool late;
	unsigned long setups; /* sessions opened over the link's life */
	/* FreeIPMI's session timeout is both how long it waits for an
	 * answer and how long a session may sit silent: longer than the
	 * engine lets sessions idle between keepalives. */
	unsigned session_timeout_ms;
};

/* Runs rq on the link's session (opening it first when needed), filling
 * res. Stops at the deadline between commands, the session kept: the part
 * cut short and those after it fail with OSH_IPMI_TIMEOUT, with what was
 * read so far (SDR, SEL and FRU loops included). One command on a session
 * the BMC has forgotten blocks until FreeIPMI's session timeout, which
 * the engine works around (see STUCK_GRACE_MS in ipmi.c). */
void ipmi_link_run(struct bmc_link *l, const struct osh_ipmi_target *t,
    const struct osh_ipmi_request *rq, uint64_t deadline_us,
    struct osh_ipmi_result *res);

/* One Get Chassis Status on the open session, so the BMC keeps it; on
 * failure the session is dropped (no reopening: nobody is waiting). */
void ipmi_link_keepalive(struct bmc_link *l, struct osh_ipmi_result *res);

/* Closes the session and frees the SDR and SEL caches. FreeIPMI always sends Close
 * Session and waits up to one retransmission for the answer, so with a
 * session open this belongs on a worker thread. */
void ipmi_link_close(struct bmc_link *l);

void ipmi_result_release(struct osh_ipmi_result *res);

#endif
