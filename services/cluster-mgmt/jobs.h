/* jobs.h - the jobs handlers (jobs.c) and their mapping of store
 * outcomes to results. */
#ifndef CM_JOBS_H
#define CM_JOBS_H

#include <osh/db.h>
#include <osh/http.h>

#include "cm.h"
#include "jobstate.h"

void h_jobs_create(struct osh_req *req);
void h_jobs_list(struct osh_req *req);
void h_jobs_get(struct osh_req *req);
void h_jobs_tasks(struct osh_req *req);
void h_jobs_cancel(struct osh_req *req);
void h_jobs_pause(struct osh_req *req);
void h_jobs_resume(struct osh_req *req);
void h_jobs_retry(struct osh_req *req);
/* Server-Sent Events of a job (jobsse.c). */
void h_jobs_events_ticket(struct osh_req *req);
void h_jobs_events(struct osh_req *req);

/* The result of a jobs statement: not found is the path's job, OSJ0x
 * refusals (jobstore.h) their own results. */
enum cm_result jobs_result_of(enum osh_db_status st, const char *sqlstate);

#endif
