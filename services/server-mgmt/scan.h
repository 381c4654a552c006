/* scan.h - a running discovery scan: each target probed without
 * credentials, a bounded number at a time; where a BMC answers and the
 * operator gave credentials, those are tried in order, nothing else. The
 * HTTP side (discovery.c) makes scans; this runs them. */
#ifndef SM_SCAN_H
#define SM_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "scan_targets.h"
#include "sm.h"

#define SCAN_MAX_CREDS 5

/* Credentials a scan tries: secrets, wiped by whoever holds them. */
struct scan_cred {
	char user[33], pass[65];
};

/* A scan. Its creator fills the first part, takes a place among the
 * scans running (app->scans_running++) and, once the scan has its row,
 * sets id and calls scan_launch; the rest is the run's state, zero at
 * start. */
struct scan {
	struct sm_app *app;
	int64_t id;
	struct scan_target *targets; /* owned */
	size_t n; /* targets */
	int timeout_ms; /* of one probe */
	unsigned workarounds;
	struct scan_cred creds[SCAN_MAX_CREDS]; /* wiped by scan_free */
	size_t ncreds;
	/* The run. */
	size_t next, in_flight;
	size_t writes; /* findings and progress not yet written */
	int probed, found, reported;
};

/* Starts probes up to the configured concurrency (and is called again as
 * each probe and each write ends); once the last probe and the last write
 * of its findings have ended, records the scan as done, retrying for a
 * while, and frees it with scan_free. */
void scan_launch(struct scan *s);

/* Frees a scan: wipes its credentials, closes the BMC sessions its
 * targets may have opened and gives its place among the scans running
 * back. */
void scan_free(struct scan *s);

/* The additional data what a scan found is sealed for (creds_seal):
 * "scan:<id>|<host>|<port>", the address it was found at. */
void scan_ad(char *out, size_t len, int64_t scan, const char *host, int port);

#endif
