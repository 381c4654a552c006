/* scan.c - a running discovery scan. Each target is probed without
 * credentials (Get Channel Authentication Capabilities over RMCP), a
 * bounded number at a time; where a BMC answers and the operator gave
 * credentials, it tries those, in order, and reads the device identity.
 * Progress and findings go to the database as they come. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/crypto.h>
#include <osh/log.h>
#include <osh/rmcp.h>

#include "scan.h"
#include "sm.h"
#include "store.h"

#define FINISH_RETRY_S 5
#define FINISH_ATTEMPTS 120 /* ten minutes */

struct probe {
	struct scan *scan;
	size_t index;
	struct osh_rmcp_caps caps;
	size_t cred; /* the one being tried */
	struct osh_ipmi_target target;
};

static void
ignore(enum osh_db_status st, const char *json, const char *state, void *arg)
{
	(void)st;
	(void)json;
	(void)state;
	(void)arg;
}

void
scan_free(struct scan *s)
{
	s->app->scans_running--;
	for (size_t i = 0; i < s->n; i++)
		osh_ipmi_forget(
		    s->app->ipmi, s->targets[i].host, s->targets[i].port);
	osh_wipe(s->creds, sizeof(s->creds));
	free(s->targets);
	free(s);
}

/* A write of the run (a finding or its progress) has ended. The scan
 * is recorded as done only once every write before it has ended, so a
 * client that sees "done" sees every result too. */
static void
on_written(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct scan *s = arg;

	(void)json;
	(void)state;
	if (st != OSH_DB_OK && st != OSH_DB_NOT_FOUND)
		osh_log_warn(NULL, "msg=\"scan write failed\" scan=%lld",
		    (long long)s->id);
	s->writes--;
	scan_launch(s);
}

static void
probe_done(struct probe *p)
{
	struct scan *s = p->scan;

	osh_ipmi_target_wipe(&p->target);
	free(p);
	s->probed++;
	s->in_flight--;
	if (s->probed - s->reported >= 25) {
		s->reported = s->probed;
		s->writes++;
		store_scan_progress(sm_svc(s->app)->db, s->id, s->probed,
		    s->found, "running", on_written, s);
	}
	scan_launch(s);
}

void
scan_ad(char *out, size_t len, int64_t scan, const char *host, int port)
{
	snprintf(out, len, "scan:%lld|%s|%d", (long long)scan, host, port);
}

static void
record(struct probe *p, const struct osh_ipmi_result *r, bool creds_ok)
{
	struct scan *s = p->scan;
	struct scan_target *t = &s->targets[p->index];
	struct scan_found f = {0};
	char auth[80] = "{", ad[CREDS_AD_MAX], *sealed = NULL;

	if (p->caps.auth_none)
		strncat(auth, "none,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_md2)
		strncat(auth, "md2,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_md5)
		strncat(auth, "md5,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_straight)
		strncat(auth, "straight,", sizeof(auth) - strlen(auth) - 1);
	if (p->caps.auth_oem)
		strncat(auth, "oem,", sizeof(auth) - strlen(auth) - 1);
	if (auth[strlen(auth) - 1] == ',')
		auth[strlen(auth) - 1] = '\0';
	strncat(auth, "}", sizeof(auth) - strlen(auth) - 1);
	f.host = t->host;
	f.port = t->port;
	f.ipmi15 = p->caps.ipmi15;
	f.ipmi20 = p->caps.ipmi20;
	f.auth_types = auth;
	f.credentials_ok = creds_ok;
	f.manufacturer_id = p->caps.oem_id ? (int64_t)p->caps.oem_id : -1;
	if (creds_ok) {
		scan_ad(ad, sizeof(ad), s->id, t->host, t->port);
		sealed = creds_seal(s->app->keys, s->creds[p->cred].user,
		    s->creds[p->cred].pass, ad);
		f.sealed = sealed;
	}
	if (r != NULL && (r->done & OSH_IPMI_WANT_DEVICE_ID)) {
		f.manufacturer_id = r->device.manufacturer_id;
		f.manufacturer = vendor_name(r->device.manufacturer_id);
		f.firmware = r->device.firmware;
	}
	if (r != NULL && (r->done & OSH_IPMI_WANT_FRU)) {
		if (r->fru.product_mfg[0])
			f.manufacturer = r->fru.product_mfg;
		f.product = r->fru.product_name;
		f.serial = r->fru.product_serial;
	}
	if (r != NULL && r->err != OSH_IPMI_OK && !creds_ok)
		f.error = r->message;
	s->found++;
	s->writes++;
	store_scan_result(sm_svc(s->app)->db, s->id, &f, on_written, s);
	osh_free_secret(sealed);
}

static void try_creds(struct probe *p);

static void
on_login(const struct osh_ipmi_result *r, void *arg)
{
	struct probe *p = arg;
	bool ok = (r->done & OSH_IPMI_WANT_DEVICE_ID) != 0;

	if (ok || p->cred + 1 >= p->scan->ncreds ||
	    (r->err != OSH_IPMI_AUTH_FAILED && r->err != OSH_IPMI_PRIVILEGE)) {
		record(p, r, ok);
		probe_done(p);
		return;
	}
	p->cred++;
	try_creds(p);
}

static void
try_creds(struct probe *p)
{
	struct scan *s = p->scan;
	struct scan_target *t = &s->targets[p->index];
	struct osh_ipmi_request rq = {
	    .want = OSH_IPMI_WANT_DEVICE_ID | OSH_IPMI_WANT_FRU};

	memset(&p->target, 0, sizeof(p->target));
	osh_strlcpy(p->target.host, t->host, sizeof(p->target.host));
	p->target.port = t->port;
	osh_strlcpy(
	    p->target.user, s->creds[p->cred].user, sizeof(p->target.user));
	osh_strlcpy(p->target.password, s->creds[p->cred].pass,
	    sizeof(p->target.password));
	p->target.ipmi15 = !p->caps.ipmi20;
	p->target.privilege = OSH_IPMI_PRIV_ADMIN;
	p->target.cipher_suite = 3;
	p->target.workarounds = s->workarounds;
	if (osh_ipmi_submit(s->app->ipmi, &p->target, &rq,
		(int)s->app->cfg.bmc_timeout_ms, on_login, p) != 0) {
		record(p, NULL, false);
		probe_done(p);
	}
}

static void
on_caps(const struct osh_rmcp_caps *caps, void *arg)
{
	struct probe *p = arg;

	p->caps = *caps;
	if (!caps->answered) {
		probe_done(p);
		return;
	}
	if (p->scan->ncreds == 0) {
		record(p, NULL, false);
		probe_done(p);
		return;
	}
	try_creds(p);
}

/* The last word on a scan. It must reach the database: a row left
 * 'running' keeps its user from starting another scan (until the next
 * start of the service), so a failed write is retried for a while. */
struct finish {
	struct sm_app *app;
	int64_t id;
	int probed, found, attempts;
};

static void finish_write(struct finish *f);

static void
on_finish_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish_write(arg);
}

static void
on_finished(
    enum osh_db_status st, const char *json, const char *state, void *arg)
{
	struct finish *f = arg;
	struct timeval tv = {FINISH_RETRY_S, 0};

	(void)json;
	(void)state;
	if (st == OSH_DB_OK || st == OSH_DB_NOT_FOUND ||
	    ++f->attempts >= FINISH_ATTEMPTS || sm_svc(f->app)->stopping ||
	    event_base_once(sm_svc(f->app)->base, -1, EV_TIMEOUT,
		on_finish_retry, f, &tv) != 0) {
		if (st != OSH_DB_OK && st != OSH_DB_NOT_FOUND)
			osh_log_warn(NULL,
			    "msg=\"scan result not recorded\" scan=%lld",
			    (long long)f->id);
		free(f);
	}
}

static void
finish_write(struct finish *f)
{
	store_scan_progress(sm_svc(f->app)->db, f->id, f->probed, f->found,
	    "done", on_finished, f);
}

static void
scan_finish(struct sm_app *app, int64_t id, int probed, int found)
{
	struct finish *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		store_scan_progress(
		    sm_svc(app)->db, id, probed, found, "done", ignore, NULL);
		return;
	}
	f->app = app;
	f->id = id;
	f->probed = probed;
	f->found = found;
	finish_write(f);
}

void
scan_launch(struct scan *s)
{
	while (s->next < s->n &&
	    s->in_flight < (size_t)s->app->cfg.scan_concurrency) {
		struct probe *p = calloc(1, sizeof(*p));
		struct scan_target *t = &s->targets[s->next];

		if (p == NULL)
			break;
		p->scan = s;
		p->index = s->next++;
		s->in_flight++;
		if (osh_rmcp_probe(sm_svc(s->app)->base, t->host, t->port,
			s->timeout_ms, on_caps, p) != 0) {
			probe_done(p);
			return; /* probe_done launched the rest */
		}
	}
	if (s->next >= s->n && s->in_flight == 0 && s->writes == 0) {
		osh_log_info(NULL,
		    "msg=\"scan finished\" scan=%lld probed=%d "
		    "found=%d",
		    (long long)s->id, s->probed, s->found);
		scan_finish(s->app, s->id, s->probed, s->found);
		scan_free(s);
	}
}
