/* power_worker.c - the consumer of osh:power-requests.
 *
 * The stream is read by libcommon's consumer loop (stream_consumer.h) on
 * a Redis connection of the worker's own (XREADGROUP ... BLOCK), at most
 * OSH_POWER_CONCURRENCY requests at once; results, acknowledgements and
 * dead letters go over the service's connection, so a blocking read
 * holds up none of them. Every OSH_POWER_CLAIM_IDLE_MS / 4 the loop
 * claims entries idle that long in any consumer's pending list
 * (XAUTOCLAIM: a replica that died, or this one's own entries whose
 * result could not be written) with their delivery counts; one
 * delivered more than OSH_POWER_MAX_DELIVERIES times is not run: it is
 * answered worker_lost and copied to osh:power-requests:dead.
 *
 * A request's life: recorded, run, result stored, result written,
 * acknowledged. The record (table power_requests) is what makes a
 * redelivered request harmless:
 * - a request_id recorded 'done' is never sent again: its stored result
 *   is written again with duplicate=1;
 * - the row is written 'sending' BEFORE the command goes to the BMC, so
 *   a worker dying between the two leaves 'sending' behind: the command
 *   may or may not have reached the BMC. On, off, soft, status, boot
 *   device and identify do the same run twice: they are simply run
 *   again. cycle, reset and diag are not repeated: they are answered
 *   outcome_unknown (never retried by cluster-mgmt), because running a
 *   cycle twice is the one thing that must not happen. To make that
 *   window as short as it can be, a non-repeatable request first reads
 *   the chassis status (which opens the BMC session, queues behind
 *   anything else for that BMC, and answers a dead BMC's errors without
 *   recording anything) and waits out the per-BMC gap, and only then is
 *   recorded, with the command submitted the moment the database
 *   answers: what remains is one packet on an open session.
 * - Recording something not sent yet is the right side to err on: the
 *   opposite order (send, then record) would run a cycle twice whenever
 *   a worker died after the BMC took it.
 *
 * The per-BMC gap (OSH_BMC_MIN_GAP_MS) is kept between the commands this
 * process sends to one server, by server id, from the later of the
 * previous command's submission and its answer; reads do not count. */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <osh/audit.h>
#include <osh/db.h>
#include <osh/json.h>
#include <osh/log.h>
#include <osh/metrics.h>
#include <osh/redis.h>
#include <osh/stream.h>
#include <osh/stream_consumer.h>
#include <osh/util.h>

#include "bmc.h"
#include "power_request.h"
#include "power_worker.h"
#include "sm.h"
#include "store.h"

#define BLOCK_MS 1000
#define RETRY_MS 500
#define MAX_FIELDS 32
#define GAP_BUCKETS 1024
#define PRUNE_EVERY_MS (10 * 60 * 1000)
#define STREAM_MAXLEN 1000000

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST((head));                                      \
	     (var) && ((tvar) = TAILQ_NEXT((var), field), 1); (var) = (tvar))
#endif

struct gap {
	struct gap *next;
	int64_t server_id;
	uint64_t last_ms; /* monotonic */
};

struct pjob;
TAILQ_HEAD(pjob_list, pjob);

struct power_worker {
	struct sm_app *app;
	struct osh_stream_consumer *sc; /* reads, claims, acks, dead letters */
	struct osh_redis *r; /* the service's: results */
	char consumer[160];
	struct event *tick;
	bool closing;
	bool in_close; /* power_worker_close is running: it releases */
	struct pjob_list jobs;
	size_t njobs, max_jobs;
	int64_t claim_idle_ms, max_deliveries, gap_ms;
	struct gap *gaps[GAP_BUCKETS];
	uint64_t last_prune_ms;
	struct osh_metric *m_requests, *m_inflight, *m_reclaimed, *m_dead,
	    *m_dup;
};

enum step {
	STEP_FINISH, /* store the result in the record */
	STEP_PUBLISH, /* XADD osh:power-results */
	STEP_ACK, /* (dead letter and) XACK: the loop's */
};

struct pjob {
	TAILQ_ENTRY(pjob) next;
	struct power_worker *w;
	struct osh_stream_msg *m; /* the entry, until it is settled */
	char stream_id[48];
	long long deliveries;
	enum power_parse parsed;
	const char *parse_code;
	char why[160];
	struct power_request req;
	struct event *timer;
	void (*on_timer)(struct pjob *j);
	bool recorded; /* our row exists: the result goes there first */
	bool sent; /* the command went to the engine */
	enum step step;
	/* The result. */
	bool ok;
	const char *error; /* static, "" when ok */
	char message[200];
	char power_state[8];
	char executed_ms[24];
	bool duplicate;
	bool dead;
	char dead_reason[192];
};

static void advance(struct pjob *j);
static void wait_gap(struct pjob *j);

/*
 * The per-BMC gap.
 */

static uint64_t
now_ms(void)
{
	return osh_now_us() / 1000u;
}

static struct gap **
gap_slot(struct power_worker *w, int64_t id)
{
	struct gap **g = &w->gaps[(uint64_t)id % GAP_BUCKETS];

	while (*g != NULL && (*g)->server_id != id)
		g = &(*g)->next;
	return g;
}

/* Milliseconds until a command may go to server id. */
static int64_t
gap_left(struct power_worker *w, int64_t id)
{
	struct gap *g = *gap_slot(w, id);
	uint64_t now = now_ms();

	if (g == NULL || w->gap_ms == 0 ||
	    now >= g->last_ms + (uint64_t)w->gap_ms)
		return 0;
	return (int64_t)(g->last_ms + (uint64_t)w->gap_ms - now);
}

static void
gap_note(struct power_worker *w, int64_t id)
{
	struct gap **slot = gap_slot(w, id);

	if (w->gap_ms == 0)
		return;
	if (*slot == NULL) {
		if ((*slot = calloc(1, sizeof(**slot))) == NULL)
			return;
		(*slot)->server_id = id;
	}
	(*slot)->last_ms = now_ms();
}

/* Forgets servers whose gap has passed: the table holds only those
 * commanded within the last gap. */
static void
gap_prune(struct power_worker *w, bool all)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < GAP_BUCKETS; i++) {
		struct gap **g = &w->gaps[i];
		while (*g != NULL) {
			if (all || now >= (*g)->last_ms + (uint64_t)w->gap_ms) {
				struct gap *x = *g;
				*g = x->next;
				free(x);
			} else {
				g = &(*g)->next;
			}
		}
	}
}

/*
 * Jobs.
 */

static void
maybe_release(struct power_worker *w)
{
	if (!w->closing || w->in_close || w->njobs > 0 || w->sc != NULL)
		return;
	gap_prune(w, true);
	free(w);
}

/* Frees a job; its entry, if not settled, stays pending (to be claimed
 * again after the idle time). */
static void
job_free(struct pjob *j)
{
	struct power_worker *w = j->w;
	struct osh_stream_msg *m = j->m;

	TAILQ_REMOVE(&w->jobs, j, next);
	w->njobs--;
	if (j->timer != NULL)
		event_free(j->timer);
	free(j);
	if (m != NULL) /* last: the worker may go with it */
		osh_stream_consumer_done(w->sc, m, OSH_STREAM_LEAVE);
}

static void
on_job_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pjob *j = arg;

	(void)fd;
	(void)what;
	j->on_timer(j);
}

static void
job_later(struct pjob *j, int64_t ms, void (*fn)(struct pjob *j))
{
	struct timeval tv = {
	    (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (j->w->closing) {
		/* Nothing more is started: the entry stays pending. */
		job_free(j);
		return;
	}
	if (j->timer == NULL &&
	    (j->timer = evtimer_new(
		 sm_svc(j->w->app)->base, on_job_timer, j)) == NULL) {
		job_free(j);
		return;
	}
	j->on_timer = fn;
	evtimer_add(j->timer, &tv);
}

/* A job for a stream entry, its fields read. */
static struct pjob *
job_new(struct power_worker *w, struct osh_stream_msg *m)
{
	struct power_field f[MAX_FIELDS];
	struct pjob *j = calloc(1, sizeof(*j));
	size_t n = 0;

	if (j == NULL)
		return NULL;
	j->w = w;
	j->m = m;
	j->deliveries = m->deliveries;
	j->error = "";
	osh_strlcpy(j->power_state, "unknown", sizeof(j->power_state));
	osh_strlcpy(j->stream_id, m->id, sizeof(j->stream_id));
	for (size_t i = 0; i < m->nfields && n < MAX_FIELDS; i++) {
		f[n].name = m->fields[i].name;
		f[n].value = m->fields[i].value;
		f[n].len = m->lens[i];
		n++;
	}
	j->parsed = power_request_parse(
	    f, n, &j->req, &j->parse_code, j->why, sizeof(j->why));
	TAILQ_INSERT_TAIL(&w->jobs, j, next);
	w->njobs++;
	return j;
}

/* Sets the job's result to an error and moves it on to storing and
 * publishing it. */
static void fail(struct pjob *j, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct pjob *j, const char *code, const char *fmt, ...)
{
	va_list ap;

	j->ok = false;
	j->error = code;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
	j->step = STEP_FINISH;
	advance(j);
}

/*
 * After the run: store, publish, then the loop dead-letters and
 * acknowledges.
 */

static void
retry_step(struct pjob *j)
{
	advance(j);
}

static void
step_done(struct pjob *j, bool ok, const char *what)
{
	if (!ok) {
		if (j->w->closing) {
			job_free(j);
			return;
		}
		osh_log_warn(NULL,
		    "msg=\"power request: %s failed, will retry\" "
		    "request_id=\"%s\"",
		    what, j->req.request_id);
		job_later(j, RETRY_MS, retry_step);
		return;
	}
	j->step++;
	advance(j);
}

static void
on_finished(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct pjob *j = arg;

	(void)sqlstate;
	if (st == OSH_DB_OK && json != NULL)
		osh_strlcpy(j->executed_ms, json, sizeof(j->executed_ms));
	step_done(j, st == OSH_DB_OK, "storing the result");
}

static void
on_published(redisReply *reply, void *arg)
{
	struct pjob *j = arg;
	bool ok = reply != NULL && reply->type != REDIS_REPLY_ERROR;

	if (ok) {
		char labels[64];
		snprintf(labels, sizeof(labels), "result=\"%s\"",
		    j->ok ? "ok" : j->error);
		osh_metric_add(j->w->m_requests, labels, 1);
		if (j->duplicate)
			osh_metric_add(j->w->m_dup, "", 1);
	}
	step_done(j, ok, "writing the result");
}

static void
publish(struct pjob *j)
{
	char job[24], task[24], attempt[24], server[24];
	struct osh_stream_field f[] = {
	    {"v", "1"},
	    {"request_id", j->req.request_id},
	    {"job_id", job},
	    {"task_id", task},
	    {"attempt", attempt},
	    {"server_id", server},
	    {"action", j->req.action},
	    {"result", j->ok ? "ok" : "error"},
	    {"error", j->ok ? "" : j->error},
	    {"message", j->message},
	    {"power_state", j->power_state},
	    {"executed_at", j->executed_ms},
	    {"duplicate", j->duplicate ? "1" : "0"},
	};

	snprintf(job, sizeof(job), "%lld", (long long)j->req.job_id);
	snprintf(task, sizeof(task), "%lld", (long long)j->req.task_id);
	snprintf(attempt, sizeof(attempt), "%lld", (long long)j->req.attempt);
	snprintf(server, sizeof(server), "%lld", (long long)j->req.server_id);
	if (j->executed_ms[0] == '\0')
		snprintf(j->executed_ms, sizeof(j->executed_ms), "%lld",
		    (long long)osh_wall_ms());
	osh_stream_add(j->w->r, POWER_RESULTS_STREAM, STREAM_MAXLEN, f,
	    OSH_ARRAY_LEN(f), on_published, j);
}

/* Hands the entry back to the loop: dead-lettered (the entry as it
 * came, with why it is here) or acknowledged. The job goes first. */
static void
settle(struct pjob *j)
{
	struct osh_stream_consumer *sc = j->w->sc;
	struct osh_stream_msg *m = j->m;
	char reason[sizeof(j->dead_reason)];
	bool dead = j->dead;

	if (dead)
		osh_log_warn(NULL,
		    "msg=\"power request dead-lettered\" stream_id=%s "
		    "request_id=\"%s\" reason=\"%s\"",
		    j->stream_id, j->req.request_id, j->dead_reason);
	osh_strlcpy(reason, j->dead_reason, sizeof(reason));
	j->m = NULL;
	job_free(j);
	if (dead)
		osh_stream_consumer_dead(sc, m, reason);
	else
		osh_stream_consumer_done(sc, m, OSH_STREAM_STORED);
}

static void
advance(struct pjob *j)
{
	for (;; j->step++) {
		switch (j->step) {
		case STEP_FINISH:
			if (!j->recorded)
				break;
			store_power_finish(sm_svc(j->w->app)->db,
			    j->req.request_id, j->ok ? "ok" : "error", j->error,
			    j->message, j->power_state, on_finished, j);
			return;
		case STEP_PUBLISH:
			if (j->req.request_id[0] == '\0')
				break;
			publish(j);
			return;
		case STEP_ACK: settle(j); return;
		}
	}
}

/*
 * The run.
 */

static void
audit_run(struct pjob *j)
{
	struct osh_audit_entry e = {0};
	struct json_object *d;
	char target[32];
	const char *action;

	if (j->req.rq.want & OSH_IPMI_WANT_CONTROL)
		action = "server.power";
	else if (j->req.rq.want & OSH_IPMI_WANT_BOOT)
		action = "server.boot_device";
	else if (j->req.rq.want & OSH_IPMI_WANT_IDENTIFY)
		action = "server.identify";
	else
		return; /* reads are not audited */
	d = json_object_new_object();
	json_object_object_add(
	    d, "action", json_object_new_string(j->req.action));
	json_object_object_add(
	    d, "job_id", json_object_new_int64(j->req.job_id));
	json_object_object_add(
	    d, "task_id", json_object_new_int64(j->req.task_id));
	json_object_object_add(
	    d, "attempt", json_object_new_int64(j->req.attempt));
	json_object_object_add(
	    d, "power_request", json_object_new_string(j->req.request_id));
	snprintf(
	    target, sizeof(target), "server:%lld", (long long)j->req.server_id);
	e.actor = j->req.requested_by;
	e.action = action;
	e.target = target;
	e.result = j->ok ? "success" : "failure";
	e.request_id = j->req.trace;
	e.details = d;
	osh_audit_emit(sm_svc(j->w->app)->audit, &e);
}

/* Turns a bmc_call's answer into the job's result. */
static void
take_result(struct pjob *j, const struct bmc_call_result *res)
{
	unsigned main = j->req.rq.want &
	    (OSH_IPMI_WANT_CONTROL | OSH_IPMI_WANT_BOOT |
		OSH_IPMI_WANT_IDENTIFY | OSH_IPMI_WANT_CHASSIS);
	const struct osh_ipmi_result *r = res->r;

	if (main &
	    (OSH_IPMI_WANT_CONTROL | OSH_IPMI_WANT_BOOT |
		OSH_IPMI_WANT_IDENTIFY))
		main &= ~(unsigned)OSH_IPMI_WANT_CHASSIS;
	j->ok = false;
	j->message[0] = '\0';
	switch (res->st) {
	case BMC_CALL_NOT_FOUND:
		j->error = "not_found";
		snprintf(j->message, sizeof(j->message), "no server %lld",
		    (long long)j->req.server_id);
		return;
	case BMC_CALL_DB:
		j->error = "internal";
		osh_strlcpy(
		    j->message, "database unavailable", sizeof(j->message));
		return;
	case BMC_CALL_TARGET:
		j->error = "no_credentials";
		osh_strlcpy(j->message, res->err->message, sizeof(j->message));
		return;
	case BMC_CALL_BUSY:
		j->error = "bmc_busy";
		osh_strlcpy(j->message, "BMC engine busy", sizeof(j->message));
		return;
	case BMC_CALL_OK: break;
	}
	if (r->done & OSH_IPMI_WANT_CHASSIS)
		osh_strlcpy(j->power_state, r->chassis.power_on ? "on" : "off",
		    sizeof(j->power_state));
	if ((r->done & main) == main) {
		j->ok = true;
		j->error = "";
		if ((main & OSH_IPMI_WANT_CONTROL) &&
		    j->req.rq.power == OSH_POWER_ON)
			osh_strlcpy(
			    j->power_state, "on", sizeof(j->power_state));
		else if ((main & OSH_IPMI_WANT_CONTROL) &&
		    j->req.rq.power == OSH_POWER_OFF)
			osh_strlcpy(
			    j->power_state, "off", sizeof(j->power_state));
		else if (main & OSH_IPMI_WANT_CONTROL)
			osh_strlcpy(
			    j->power_state, "unknown", sizeof(j->power_state));
		return;
	}
	for (size_t i = 0; i < OSH_IPMI_NPARTS; i++)
		if ((main & (1u << i)) && r->part_err[i] != OSH_IPMI_OK) {
			j->error = power_error_code(r->part_err[i]);
			break;
		}
	if (j->error[0] == '\0')
		j->error = power_error_code(
		    r->err != OSH_IPMI_OK ? r->err : OSH_IPMI_INTERNAL);
	/* A cycle, reset or diag sent and not answered in time may have
	 * been run all the same (a BMC slow to answer): not a timeout, which
	 * cluster-mgmt would retry, but outcome_unknown, which it does not;
	 * a later attempt of the task is answered from this record. */
	if (!j->req.idempotent && j->sent &&
	    strcmp(j->error, "bmc_timeout") == 0) {
		j->error = "outcome_unknown";
		snprintf(j->message, sizeof(j->message),
		    "BMC of \"%s\" did not answer in time: it may or may not "
		    "have run it",
		    res->name);
		return;
	}
	snprintf(j->message, sizeof(j->message), "BMC of \"%s\": %s", res->name,
	    r->message[0] ? r->message : j->error);
}

/* Whether the request changes something at the BMC (a status read does
 * not): only those keep the per-BMC gap. */
static bool
is_command(const struct pjob *j)
{
	return (j->req.rq.want &
		   (OSH_IPMI_WANT_CONTROL | OSH_IPMI_WANT_BOOT |
		       OSH_IPMI_WANT_IDENTIFY)) != 0;
}

/* The deadline the engine gets: the BMC deadline, or less when the
 * request's own comes sooner. 0 when it has passed. */
static int
deadline_left(const struct pjob *j)
{
	int64_t ms = j->w->app->cfg.bmc_timeout_ms;
	int64_t left;

	if (j->req.deadline_ms == 0)
		return (int)ms;
	left = j->req.deadline_ms - osh_wall_ms();
	if (left <= 0)
		return 0;
	return (int)(left < ms ? left : ms);
}

static void
on_called(const struct bmc_call_result *res, void *arg)
{
	struct pjob *j = arg;

	take_result(j, res);
	/* The gap runs from the answer too: the command may have reached
	 * the BMC well after it was submitted (a session opened first). */
	if (is_command(j))
		gap_note(j->w, j->req.server_id);
	if (res->st == BMC_CALL_OK)
		audit_run(j);
	j->step = STEP_FINISH;
	advance(j);
}

static void
submit(struct pjob *j)
{
	struct osh_ipmi_request rq = j->req.rq;
	int left = deadline_left(j);

	if (left == 0) {
		fail(j, "bmc_timeout",
		    "deadline passed before the command was sent");
		return;
	}
	/* Boot device and identify leave the power as it is: the state read
	 * with them (before) is the state after. */
	if (rq.want & (OSH_IPMI_WANT_BOOT | OSH_IPMI_WANT_IDENTIFY))
		rq.want |= OSH_IPMI_WANT_CHASSIS;
	if (is_command(j))
		gap_note(j->w, j->req.server_id);
	j->sent = true;
	bmc_call(j->w->app, j->req.server_id, &rq, left, true, on_called, j);
}

/* A recorded row's state, replayed or acted on. */
static void
take_row(struct pjob *j, struct json_object *row)
{
	const char *state = osh_json_str(row, "state", "");

	if (strcmp(state, "done") == 0) {
		j->duplicate = true;
		j->recorded = false; /* nothing to store again */
		j->ok = strcmp(osh_json_str(row, "result", ""), "ok") == 0;
		/* A static code of ours, as the record holds it. */
		j->error = "";
		if (!j->ok) {
			static const char *const codes[] = {"bmc_timeout",
			    "bmc_unreachable", "auth_failed", "privilege",
			    "unsupported", "bmc_busy", "no_credentials",
			    "not_found", "worker_lost", "outcome_unknown",
			    "internal"};
			const char *e = osh_json_str(row, "error", "");
			j->error = "internal";
			for (size_t i = 0; i < OSH_ARRAY_LEN(codes); i++)
				if (strcmp(e, codes[i]) == 0)
					j->error = codes[i];
		}
		osh_strlcpy(j->message, osh_json_str(row, "message", ""),
		    sizeof(j->message));
		osh_strlcpy(j->power_state,
		    osh_json_str(row, "power_state", "unknown"),
		    sizeof(j->power_state));
		snprintf(j->executed_ms, sizeof(j->executed_ms), "%lld",
		    (long long)osh_json_int(row, "executed_ms", 0));
		j->step = STEP_PUBLISH;
		advance(j);
		return;
	}
	/* 'sending': a worker died between recording and finishing. */
	j->recorded = true;
	if (j->req.idempotent) {
		wait_gap(j);
		return;
	}
	fail(j, "outcome_unknown",
	    "interrupted while being sent to the BMC: not sent again, the "
	    "BMC may or may not have run it");
}

static void
on_begun(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct pjob *j = arg;
	struct json_object *o;

	(void)sqlstate;
	if (st != OSH_DB_OK || json == NULL ||
	    (o = json_tokener_parse(json)) == NULL) {
		/* Not recorded, not sent: it stays pending, to be claimed
		 * again after the idle time. */
		osh_log_warn(NULL,
		    "msg=\"power request not recorded, left pending\" "
		    "request_id=\"%s\"",
		    j->req.request_id);
		job_free(j);
		return;
	}
	if (osh_json_bool(o, "new", false)) {
		j->recorded = true;
		json_object_put(o);
		if (j->req.idempotent)
			wait_gap(j);
		else
			submit(j); /* the session is open, the gap kept */
		return;
	}
	take_row(j, o);
	json_object_put(o);
}

static void
begin(struct pjob *j)
{
	store_power_begin(sm_svc(j->w->app)->db, &j->req, j->stream_id,
	    j->w->consumer, on_begun, j);
}

static void
gap_then(struct pjob *j)
{
	int64_t left = is_command(j) ? gap_left(j->w, j->req.server_id) : 0;
	int64_t deadline;

	if (left == 0) {
		/* Taken now, so that no other request passes while this one
		 * is recorded. */
		if (is_command(j))
			gap_note(j->w, j->req.server_id);
		if (j->req.idempotent)
			submit(j);
		else
			begin(j);
		return;
	}
	deadline =
	    j->req.deadline_ms == 0 ? 0 : j->req.deadline_ms - osh_wall_ms();
	if (j->req.deadline_ms != 0 && deadline <= left) {
		fail(j, "bmc_timeout",
		    "deadline passes before the minimum gap between commands "
		    "to this BMC (OSH_BMC_MIN_GAP_MS)");
		return;
	}
	job_later(j, left, gap_then);
}

static void
wait_gap(struct pjob *j)
{
	gap_then(j);
}

static void
on_warm(const struct bmc_call_result *res, void *arg)
{
	struct pjob *j = arg;

	if (res->st != BMC_CALL_OK || !(res->r->done & OSH_IPMI_WANT_CHASSIS)) {
		/* Nothing was sent, nothing recorded: answered as it is. */
		take_result(j, res);
		if (res->st == BMC_CALL_OK && j->error[0] == '\0')
			j->error = "internal";
		j->step = STEP_PUBLISH;
		advance(j);
		return;
	}
	wait_gap(j);
}

static void
on_looked_up(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct pjob *j = arg;
	/* The action's own session: see ipmi_link.c. */
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_CHASSIS, .no_resend = true};
	struct json_object *o;
	int left;

	(void)sqlstate;
	if (st == OSH_DB_OK && json != NULL &&
	    (o = json_tokener_parse(json)) != NULL) {
		take_row(j, o);
		json_object_put(o);
		return;
	}
	if (st != OSH_DB_NOT_FOUND) {
		osh_log_warn(NULL,
		    "msg=\"power request not looked up, left pending\" "
		    "request_id=\"%s\"",
		    j->req.request_id);
		job_free(j);
		return;
	}
	if ((left = deadline_left(j)) == 0) {
		fail(j, "bmc_timeout", "deadline passed before it was run");
		return;
	}
	bmc_call(j->w->app, j->req.server_id, &rq, left, true, on_warm, j);
}

/* An entry delivered too often is not run; what its record says still
 * counts: a result stored is written again, and a cycle recorded as being
 * sent is not called lost (which cluster-mgmt would retry). */
static void
on_poison_row(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	struct pjob *j = arg;
	struct json_object *o = NULL;

	(void)sqlstate;
	if (st != OSH_DB_OK && st != OSH_DB_NOT_FOUND) {
		job_free(j); /* stays pending: looked at again later */
		return;
	}
	if (st == OSH_DB_OK && json != NULL)
		o = json_tokener_parse(json);
	if (o != NULL && strcmp(osh_json_str(o, "state", ""), "done") == 0) {
		take_row(j, o);
		json_object_put(o);
		return;
	}
	if (o != NULL) {
		j->recorded = true;
		json_object_put(o);
		if (!j->req.idempotent) {
			fail(j, "outcome_unknown",
			    "delivered %lld times; recorded as being sent "
			    "to the BMC: not sent again, the BMC may or may "
			    "not have run it",
			    j->deliveries);
			return;
		}
	}
	fail(j, "worker_lost",
	    "delivered %lld times without an answer "
	    "(OSH_POWER_MAX_DELIVERIES %lld): not run",
	    j->deliveries, (long long)j->w->max_deliveries);
}

static void
job_start(struct pjob *j)
{
	struct power_worker *w = j->w;

	if (j->parsed == POWER_PARSE_NO_ID) {
		j->dead = true;
		osh_strlcpy(j->dead_reason, "no valid request_id",
		    sizeof(j->dead_reason));
		j->step = STEP_ACK;
		advance(j);
		return;
	}
	if (j->parsed == POWER_PARSE_OK && j->deliveries > w->max_deliveries) {
		j->dead = true;
		snprintf(j->dead_reason, sizeof(j->dead_reason),
		    "delivered %lld times", j->deliveries);
		store_power_get(sm_svc(w->app)->db, &j->req, on_poison_row, j);
		return;
	}
	if (j->parsed == POWER_PARSE_INVALID) {
		j->dead = true;
		snprintf(j->dead_reason, sizeof(j->dead_reason), "invalid: %s",
		    j->why);
		fail(j, j->parse_code, "%s", j->why);
		return;
	}
	if (j->req.idempotent)
		begin(j);
	else
		store_power_get(sm_svc(w->app)->db, &j->req, on_looked_up, j);
}

/*
 * Entries from the loop.
 */

/* An entry, or one delivered too often (job_start sees its count and
 * does not run it). */
static void
on_entry(struct osh_stream_msg *m, void *arg)
{
	struct power_worker *w = arg;
	struct pjob *j;

	if ((j = job_new(w, m)) != NULL)
		job_start(j);
	else
		osh_stream_consumer_done(w->sc, m, OSH_STREAM_LEAVE);
}

static void
on_consumer_gone(void *arg)
{
	struct power_worker *w = arg;

	w->sc = NULL;
	maybe_release(w);
}

static void
on_pruned(
    enum osh_db_status st, const char *json, const char *sqlstate, void *arg)
{
	(void)arg;
	(void)sqlstate;
	if (st == OSH_DB_OK && json != NULL && strcmp(json, "0") != 0)
		osh_log_info(NULL,
		    "msg=\"power request records pruned\" count=%s", json);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct power_worker *w = arg;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	gap_prune(w, false);
	if (now - w->last_prune_ms >= PRUNE_EVERY_MS) {
		w->last_prune_ms = now;
		store_power_prune(sm_svc(w->app)->db,
		    (int)w->app->cfg.power_record_days, on_pruned, NULL);
	}
}

static void
on_collect(struct osh_metrics *m, void *arg)
{
	struct power_worker *w = arg;

	(void)m;
	osh_metric_set(w->m_inflight, "",
	    (double)(w->sc != NULL ? osh_stream_consumer_inflight(w->sc)
				   : w->njobs));
}

static void
metrics_init(struct power_worker *w, struct osh_metrics *m)
{
	static const char *const results[] = {"ok", "bmc_timeout",
	    "bmc_unreachable", "auth_failed", "privilege", "unsupported",
	    "bmc_busy", "no_credentials", "not_found", "worker_lost",
	    "outcome_unknown", "internal"};

	w->m_requests = osh_metric_new(m, "osh_power_requests_total",
	    "Power requests answered from osh:power-requests, by result "
	    "(ok or the error code)",
	    OSH_COUNTER, NULL, 0);
	w->m_inflight = osh_metric_new(m, "osh_power_requests_in_flight",
	    "Power requests taken and not acknowledged yet", OSH_GAUGE, NULL,
	    0);
	w->m_reclaimed = osh_metric_new(m, "osh_power_requests_reclaimed_total",
	    "Power requests claimed from other (dead) consumers' pending "
	    "lists",
	    OSH_COUNTER, NULL, 0);
	w->m_dead = osh_metric_new(m, "osh_power_requests_dead_lettered_total",
	    "Power requests copied to osh:power-requests:dead", OSH_COUNTER,
	    NULL, 0);
	w->m_dup = osh_metric_new(m, "osh_power_requests_duplicates_total",
	    "Power requests already run, answered from their record",
	    OSH_COUNTER, NULL, 0);
	for (size_t i = 0; i < OSH_ARRAY_LEN(results); i++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
		osh_metric_add(w->m_requests, labels, 0);
	}
	osh_metric_add(w->m_reclaimed, "", 0);
	osh_metric_add(w->m_dead, "", 0);
	osh_metric_add(w->m_dup, "", 0);
}

struct power_worker *
power_worker_new(struct sm_app *app)
{
	struct osh_service *svc = sm_svc(app);
	struct power_worker *w;
	struct timeval tv;
	int64_t every;
	char host[64] = "host";
	struct osh_stream_consumer_config cfg = {
	    .stream = POWER_REQUESTS_STREAM,
	    .group = POWER_GROUP,
	    .what = "power requests",
	    .block_ms = BLOCK_MS,
	    .dead_stream = POWER_DEAD_STREAM,
	    .dead_maxlen = STREAM_MAXLEN,
	    .retry_ms = RETRY_MS,
	};
	static const struct osh_stream_consumer_ops ops = {
	    .entry = on_entry,
	    .dead = on_entry,
	    .released = on_consumer_gone,
	};

	if (svc->redis == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->app = app;
	w->r = svc->redis;
	w->max_jobs = (size_t)app->cfg.power_concurrency;
	w->claim_idle_ms = app->cfg.power_claim_idle_ms;
	w->max_deliveries = app->cfg.power_max_deliveries;
	w->gap_ms = app->cfg.bmc_min_gap_ms;
	w->last_prune_ms = now_ms() - PRUNE_EVERY_MS + 60000;
	TAILQ_INIT(&w->jobs);
	gethostname(host, sizeof(host) - 1);
	snprintf(
	    w->consumer, sizeof(w->consumer), "%s:%ld", host, (long)getpid());
	every = w->claim_idle_ms / 4;
	if (every < 100)
		every = 100;
	if (every > 5000)
		every = 5000;
	tv.tv_sec = (time_t)(every / 1000);
	tv.tv_usec = (suseconds_t)(every % 1000) * 1000;
	metrics_init(w, svc->metrics);
	cfg.consumer = w->consumer;
	cfg.count = w->max_jobs;
	cfg.claim_idle_ms = w->claim_idle_ms;
	cfg.max_deliveries = w->max_deliveries;
	cfg.reclaimed = w->m_reclaimed;
	cfg.dead_lettered = w->m_dead;
	w->tick = event_new(svc->base, -1, EV_PERSIST, on_tick, w);
	if (w->tick == NULL ||
	    (w->sc = osh_stream_consumer_new(svc->base,
		 osh_service_redis_new(svc, BLOCK_MS), w->r, &cfg, &ops, w)) ==
		NULL) {
		if (w->tick != NULL)
			event_free(w->tick);
		free(w);
		return NULL;
	}
	event_add(w->tick, &tv);
	osh_metrics_on_collect(svc->metrics, on_collect, w);
	osh_log_info(NULL,
	    "msg=\"power worker started\" consumer=\"%s\" concurrency=%zu",
	    w->consumer, w->max_jobs);
	return w;
}

void
power_worker_close(struct power_worker *w)
{
	struct pjob *j, *tmp;

	if (w == NULL)
		return;
	w->closing = true;
	w->in_close = true;
	event_free(w->tick);
	w->tick = NULL;
	/* No more reads or claims; the loop goes with the last entry. */
	osh_stream_consumer_close(w->sc);
	/* Waiting on a timer (their turn at a BMC, or a retry): the loop
	 * will not run them again. Their entries stay pending for another
	 * replica; one that was sent but whose result could not be stored
	 * is answered outcome_unknown there (or run again if that does no
	 * harm). */
	TAILQ_FOREACH_SAFE(j, &w->jobs, next, tmp)
	if (j->timer != NULL && evtimer_pending(j->timer, NULL))
		job_free(j);
	w->in_close = false;
	maybe_release(w);
}
