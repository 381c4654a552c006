/* main.c - osh-auth: users, roles, login, tokens and the audit log. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osh/audit.h>
#include <osh/crypto.h>
#include <osh/log.h>
#include <osh/service.h>

#include "auth.h"
#include "consumer.h"
#include "inflight.h"
#include "routes.h"
#include "store.h"

extern const struct osh_migration auth_migrations[];
extern const size_t auth_nmigrations;

struct auth_config auth_config;

/* The first admin's name follows the rules of every other name. */
static bool
valid_username(const void *field, char *err, size_t len)
{
	if (auth_username_valid(*(const char *const *)field))
		return true;
	snprintf(err, len, "must be 1-%d of ASCII letters, digits and . _ - @",
	    AUTH_USERNAME_MAX);
	return false;
}

static const struct osh_config_item auth_items[] = {
    {"OSH_JWT_PRIVATE_KEY_FILE", OSH_CONF_STRING, &auth_config.private_key_file,
	NULL, 0, 0, NULL, "PEM private key signing access tokens"},
    {"OSH_SERVICE_SECRET_FILE", OSH_CONF_STRING,
	&auth_config.service_secret_file, NULL, 0, 0, NULL,
	"shared secret services exchange for service tokens"},
    {"OSH_BOOTSTRAP_ADMIN_USER", OSH_CONF_STRING, &auth_config.bootstrap_user,
	"admin", 0, 0, valid_username, "name of the first admin"},
    {"OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE", OSH_CONF_STRING,
	&auth_config.bootstrap_password_file, "", 0, 0, NULL,
	"file with the first admin's password, used when no user exists"},
    {"OSH_ACCESS_TTL_S", OSH_CONF_INT, &auth_config.access_ttl_s, "900", 30,
	86400, NULL, "access token lifetime"},
    {"OSH_REFRESH_TTL_S", OSH_CONF_INT, &auth_config.refresh_ttl_s, "604800",
	60, 31536000, NULL, "refresh token lifetime"},
    {"OSH_LOGIN_MAX_FAILURES", OSH_CONF_INT, &auth_config.login_max_failures,
	"5", 1, 1000, NULL, "failed logins per username within the window"},
    {"OSH_LOGIN_MAX_FAILURES_ADDR", OSH_CONF_INT,
	&auth_config.login_max_failures_addr, "20", 1, 100000, NULL,
	"failed logins per client address within the window"},
    {"OSH_LOGIN_WINDOW_S", OSH_CONF_INT, &auth_config.login_window_s, "900", 1,
	86400, NULL, "throttling window"},
    {"OSH_LOGIN_INFLIGHT_ADDR", OSH_CONF_INT, &auth_config.login_inflight_addr,
	"2", 1, 1000, NULL,
	"password checks one client address may have running at once (429)"},
    {"OSH_HASH_QUEUE_MAX", OSH_CONF_INT, &auth_config.hash_queue_max, "32", 1,
	1000, NULL, "password hashing jobs queued or running at most (503)"},
};

static struct auth_app app;

/* The first admin is tried again this often, a second apart, when the
 * database is not up yet (a loaded machine: the pool's connections may
 * still be coming up after the migrations). */
#define BOOTSTRAP_TRIES 30
static int bootstrap_tries;

static int bootstrap(struct osh_service *svc);

static void
on_bootstrap_again(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (bootstrap(arg) != 0)
		osh_log_error(NULL, "msg=\"first admin not created\"");
}

static void
on_bootstrap(enum store_status st, const char *json, void *arg)
{
	struct osh_service *svc = arg;
	struct osh_audit_entry e = {
	    .actor = "system",
	    .action = "user.bootstrap",
	    .result = "success",
	};

	(void)json;
	if (st == STORE_NOT_FOUND)
		return; /* users exist already */
	if (st != STORE_OK) {
		static const struct timeval again = {1, 0};

		if (++bootstrap_tries < BOOTSTRAP_TRIES &&
		    event_base_once(svc->base, -1, EV_TIMEOUT,
			on_bootstrap_again, svc, &again) == 0) {
			osh_log_warn(NULL,
			    "msg=\"first admin not created yet, trying "
			    "again\" try=%d",
			    bootstrap_tries);
			return;
		}
		osh_log_error(NULL, "msg=\"first admin not created\"");
		return;
	}
	osh_log_info(NULL, "msg=\"first admin created\" username=\"%s\"",
	    app.cfg.bootstrap_user);
	osh_audit_emit(svc->audit, &e);
}

/* Creates the first admin when the database holds no user yet. */
static int
bootstrap(struct osh_service *svc)
{
	char hash[OSH_PWHASH_LEN], key[AUTH_USERNAME_KEY_LEN];
	struct osh_err err;
	char *pw;

	if (app.cfg.bootstrap_password_file[0] == '\0')
		return 0;
	if ((pw = osh_read_file(app.cfg.bootstrap_password_file, 1024, true)) ==
	    NULL) {
		osh_log_error(NULL, "msg=\"cannot read bootstrap password\"");
		return -1;
	}
	/* The first admin meets the password rules every other user does. */
	if (!auth_password_acceptable(pw, app.cfg.bootstrap_user,
		"OSH_BOOTSTRAP_ADMIN_PASSWORD_FILE", &err)) {
		osh_log_error(NULL,
		    "msg=\"bootstrap password refused\" error=\"%s\"",
		    err.message);
		osh_free_secret(pw);
		return -1;
	}
	if (osh_password_hash(pw, hash) != 0) {
		osh_free_secret(pw);
		return -1;
	}
	osh_free_secret(pw);
	auth_username_key(app.cfg.bootstrap_user, key, sizeof(key));
	store_user_bootstrap(
	    svc->db, app.cfg.bootstrap_user, key, hash, on_bootstrap, svc);
	osh_wipe(hash, sizeof(hash));
	return 0;
}

static int
start(struct osh_service *svc)
{
	char *pem, *pub;

	app.svc = svc;
	app.cfg = auth_config;
	if ((pem = osh_read_file(app.cfg.private_key_file, 16384, false)) ==
	    NULL) {
		osh_log_error(NULL,
		    "msg=\"cannot read private key\" path=\"%s\"",
		    app.cfg.private_key_file);
		return -1;
	}
	app.signer = osh_jwt_signer_new(
	    svc->cfg.jwt_alg, pem, svc->cfg.jwt_issuer, svc->cfg.jwt_audience);
	osh_free_secret(pem);
	pub = osh_read_file(svc->cfg.jwt_public_key_file, 16384, false);
	if (app.signer == NULL || pub == NULL) {
		free(pub);
		osh_log_error(NULL, "msg=\"cannot load signing keys\"");
		return -1;
	}
	/* Every public key in the file is published (a rotation shows the
	 * new key and the old one); each key id is a digest of its key,
	 * stable across restarts. */
	app.jwks = osh_jwks_from_pems(svc->cfg.jwt_alg, pub);
	free(pub);
	if (app.jwks == NULL) {
		osh_log_error(NULL,
		    "msg=\"public key does not match "
		    "OSH_JWT_ALG\"");
		return -1;
	}
	app.service_secret =
	    osh_read_file(app.cfg.service_secret_file, 1024, true);
	if (app.service_secret == NULL || strlen(app.service_secret) < 16) {
		osh_log_error(NULL,
		    "msg=\"service secret missing or shorter "
		    "than 16 bytes\"");
		return -1;
	}
	app.consumer = audit_consumer_new(svc);
	app.inflight = inflight_new((int)app.cfg.login_inflight_addr);
	if (app.consumer == NULL || app.inflight == NULL)
		return -1;
	svc->app = &app;
	return bootstrap(svc);
}

static void
stop(struct osh_service *svc)
{
	(void)svc;
	audit_consumer_free(app.consumer);
	/* Checks cut off by the shutdown deadline still end (their done
	 * callbacks run when the workers stop) and leave the table. */
	if (app.inflight != NULL && inflight_addresses(app.inflight) == 0) {
		inflight_free(app.inflight);
		app.inflight = NULL;
	}
	osh_jwt_signer_free(app.signer);
	free(app.jwks);
	osh_free_secret(app.service_secret);
}

static const struct osh_service_def auth_service = {
    .name = "auth",
    .default_port = 8101,
    .schema = "auth",
    .routes = auth_routes,
    .config = auth_items,
    .nconfig = sizeof(auth_items) / sizeof(auth_items[0]),
    .migrations = auth_migrations,
    .start = start,
    .stop = stop,
};

int
main(int argc, char **argv)
{
	struct osh_service_def def = auth_service;

	def.nroutes = auth_nroutes;
	def.nmigrations = auth_nmigrations;
	return osh_service_main(&def, argc, argv);
}
