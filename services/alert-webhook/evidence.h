/* evidence.h - SEL evidence for new alerts of a server: the server's SEL
 * entries around the alert's startsAt, read from server-mgmt's
 * GET /internal/servers/{id}/sel (service token) after the alert was
 * stored, and stored with it. The work list is the alert_evidence table
 * (rows are claimed, so replicas share it and a restart resumes it); at
 * most OSH_ALERT_EVIDENCE_CONCURRENCY fetches run at once, each retried
 * up to 3 times with a growing pause. Nothing here ever delays a
 * webhook's answer. */
#ifndef AW_EVIDENCE_H
#define AW_EVIDENCE_H

#include "aw.h"

#define EVIDENCE_ATTEMPTS 3
#define EVIDENCE_PERIOD_S 10 /* pending rows are looked for this often */

/* Starts the periodic look for work. NULL when out of memory. */
struct evidence *evidence_new(struct aw_app *app);
/* Stops claiming; fetches under way end (the token holder and the HTTP
 * client are freed after this and answer them), and the last one frees
 * what is left. */
void evidence_free(struct evidence *ev);

/* Looks for work now (new alerts were stored). */
void evidence_kick(struct evidence *ev);

#endif
