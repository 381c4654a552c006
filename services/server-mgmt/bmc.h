/* bmc.h - one request to a server's BMC, made the same way by every
 * caller: the server is loaded (recently loaded rows first), its target
 * built from its sealed credentials, the request run within a deadline,
 * and what it changed recorded (a power on/off as the state asked for, a
 * read when it saw news). hardware.c (the HTTP API) and power_worker.c
 * (the osh:power-requests stream) both go through it. */
#ifndef SM_BMC_H
#define SM_BMC_H

#include <stdbool.h>
#include <stdint.h>

#include <osh/error.h>
#include <osh/ipmi.h>

struct sm_app;

enum bmc_call_status {
	BMC_CALL_OK, /* the request ran: see r (it may have failed) */
	BMC_CALL_NOT_FOUND, /* no such server */
	BMC_CALL_DB, /* the database did not answer */
	BMC_CALL_TARGET, /* no usable credentials: err says why, nothing
			  * was sent */
	BMC_CALL_BUSY, /* the engine refused the request: nothing sent */
};

/* What the callback gets; everything lives only during it. */
struct bmc_call_result {
	enum bmc_call_status st;
	const char *name; /* the server's name ("" unless loaded) */
	const struct osh_ipmi_request *rq;
	const struct osh_ipmi_result *r; /* BMC_CALL_OK only */
	const struct osh_err *err; /* BMC_CALL_TARGET only */
};

typedef void (*bmc_call_cb)(const struct bmc_call_result *res, void *arg);

/* Runs rq against server id's BMC within deadline_ms (the engine's
 * deadline; the database lookup before it has its own). With record, a
 * power on/off is recorded as the state asked for and a read that saw
 * news is recorded; without, the caller records (a refresh does, to
 * answer with the stored row). rq is copied. cb runs exactly once,
 * possibly before bmc_call returns (a cached row, a refusal). */
void bmc_call(struct sm_app *app, int64_t id, const struct osh_ipmi_request *rq,
    int deadline_ms, bool record, bmc_call_cb cb, void *arg);

#endif
