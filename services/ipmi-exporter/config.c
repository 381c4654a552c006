/* config.c - the exporter's YAML module file (libyaml). The keys are the
 * reference exporter's, plus cipher_suite, pass_file and sensor patterns;
 * anything else is refused with its line number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/ssl.h>
#include <yaml.h>

#include <osh/crypto.h>
#include <osh/log.h>
#include <osh/util.h>

#include "exporter.h"
#include "tls.h"
#include "webauth.h"
#include "webcfg.h"
#include "yamlerr.h"
#include "yamlwipe.h"

struct exp_config_env exp_env;

const char *const collector_names[NCOLL] = {
    [COLL_IPMI] = "ipmi",
    [COLL_BMC] = "bmc",
    [COLL_CHASSIS] = "chassis",
    [COLL_DCMI] = "dcmi",
    [COLL_SEL] = "sel",
    [COLL_FRU] = "fru",
    [COLL_SM_LAN_MODE] = "sm-lan-mode",
    [COLL_BMC_WATCHDOG] = "bmc-watchdog",
    [COLL_SEL_EVENTS] = "sel-events",
};

/* The reference exporter's defaults. */
#define DEFAULT_COLLECTORS                                                     \
	((1u << COLL_IPMI) | (1u << COLL_DCMI) | (1u << COLL_BMC) |            \
	    (1u << COLL_CHASSIS))
#define DEFAULT_TIMEOUT_MS 10000

struct parse {
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

/* Fails the parse of p at node n (NULL: no line), for `return fail(...)`. */
#define fail(p, n, ...) yamlerr((p)->err, (p)->errlen, (n), __VA_ARGS__)

static const char *
scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

static void
patterns_free(struct patterns *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		regfree(&ps->re[i]);
		free(ps->text[i]);
	}
	ps->n = 0;
}

static void
module_free(struct module *m)
{
	free(m->name);
	free(m->exclude_ids);
	free(m->allowed);
	osh_wipe(m->password, sizeof(m->password));
	patterns_free(&m->include_names);
	patterns_free(&m->exclude_names);
	patterns_free(&m->include_types);
	patterns_free(&m->exclude_types);
	selevents_free(m);
}

void
config_free(struct exp_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		module_free(&c->modules[i]);
	free(c->modules);
	free(c);
}

const struct module *
config_module(const struct exp_config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->modules[i].name, name) == 0)
			return &c->modules[i];
	return NULL;
}

/* A scalar or a sequence of scalars, one at a time. */
static int
each_item(struct parse *p, const yaml_node_t *n,
    int (*fn)(struct parse *, const yaml_node_t *, const char *, void *),
    void *arg)
{
	if (n->type == YAML_SCALAR_NODE)
		return fn(p, n, scalar(n), arg);
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, "expected a list");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		const yaml_node_t *v = yaml_document_get_node(p->doc, *it);
		if (scalar(v) == NULL)
			return fail(p, v, "list items must be plain values");
		if (fn(p, v, scalar(v), arg) != 0)
			return -1;
	}
	return 0;
}

static int
add_collector(struct parse *p, const yaml_node_t *n, const char *v, void *arg)
{
	unsigned *c = arg;

	for (int i = 0; i < NCOLL; i++) {
		if (strcmp(collector_names[i], v) == 0) {
			*c |= 1u << i;
			return 0;
		}
	}
	return fail(p, n,
	    "invalid collector \"%s\" (valid: ipmi, bmc, bmc-watchdog, "
	    "chassis, dcmi, sel, sel-events, fru, sm-lan-mode)",
	    v);
}

/* Flags the reference passes to FreeIPMI's sensor, SEL and chassis tools
 * that change how those tools read, not the session: accepted, so that its
 * files load (its own example uses discretereading), with nothing to do. */
static const char *const tool_workarounds[] = {"assumebmcowner", "assumeio",
    "assumemaxsdrrecordcount", "discretereading", "ignoreauthcode",
    "ignorescanningdisabled", "skipchecks", "spinpoll"};

static int
add_workaround(struct parse *p, const yaml_node_t *n, const char *v, void *arg)
{
	unsigned *w = arg, f;
	char bad[64];

	for (size_t i = 0; i < OSH_ARRAY_LEN(tool_workarounds); i++)
		if (strcmp(v, tool_workarounds[i]) == 0)
			return 0;
	if (!osh_ipmi_workarounds_parse(v, &f, bad, sizeof(bad)))
		return fail(p, n, "unknown workaround flag \"%s\"", bad);
	*w |= f;
	return 0;
}

static int
add_id(struct parse *p, const yaml_node_t *n, const char *v, void *arg)
{
	struct module *m = arg;
	int64_t id, *grown;

	if (!osh_parse_int(v, 0, 65535, &id))
		return fail(p, n, "sensor ids are numbers");
	if (m->nexclude >= 4096)
		return fail(p, n, "too many sensor ids");
	grown = realloc(m->exclude_ids, (m->nexclude + 1) * sizeof(*grown));
	if (grown == NULL)
		return fail(p, n, "out of memory");
	m->exclude_ids = grown;
	m->exclude_ids[m->nexclude++] = id;
	return 0;
}

static int
add_pattern(struct parse *p, const yaml_node_t *n, const char *v, void *arg)
{
	struct patterns *ps = arg;
	char anchored[600];
	int rc;

	if (ps->n == MAX_PATTERNS)
		return fail(p, n, "at most %d patterns", MAX_PATTERNS);
	if (strlen(v) > 512)
		return fail(p, n, "pattern too long");
	if (!pattern_ok(v))
		return fail(
		    p, n, "pattern \"%s\" nests too many repetitions", v);
	/* Anchored, as Prometheus' own regular expressions are. */
	snprintf(anchored, sizeof(anchored), "^(%s)$", v);
	if ((rc = regcomp(
		 &ps->re[ps->n], anchored, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[128];
		regerror(rc, &ps->re[ps->n], why, sizeof(why));
		return fail(p, n, "bad pattern \"%s\": %s", v, why);
	}
	ps->text[ps->n++] = strdup(v);
	return 0;
}

static int
add_allowed(struct parse *p, const yaml_node_t *n, const char *v, void *arg)
{
	struct module *m = arg;
	struct osh_cidr c, *grown;

	if (!osh_cidr_parse(v, &c))
		return fail(p, n,
		    "allowed_targets: \"%s\" is not an address or a range "
		    "like 10.0.0.0/8 or fd00::/8",
		    v);
	if (m->nallowed >= MAX_ALLOWED)
		return fail(
		    p, n, "allowed_targets: at most %d ranges", MAX_ALLOWED);
	grown = realloc(m->allowed, (m->nallowed + 1) * sizeof(*grown));
	if (grown == NULL)
		return fail(p, n, "out of memory");
	m->allowed = grown;
	m->allowed[m->nallowed++] = c;
	return 0;
}

static int
parse_sensors(struct parse *p, const yaml_node_t *n, struct module *m)
{
	static const char *const keys[] = {
	    "include_names", "exclude_names", "include_types", "exclude_types"};
	struct patterns *dst[] = {&m->include_names, &m->exclude_names,
	    &m->include_types, &m->exclude_types};

	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "sensors must be a mapping");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v =
		    yaml_document_get_node(p->doc, pr->value);
		size_t i;

		for (i = 0; i < OSH_ARRAY_LEN(keys); i++)
			if (scalar(k) && strcmp(scalar(k), keys[i]) == 0)
				break;
		if (i == OSH_ARRAY_LEN(keys))
			return fail(p, k,
			    "unknown key \"%s\" in sensors "
			    "(valid: include_names, exclude_names, "
			    "include_types, exclude_types)",
			    scalar(k) ? scalar(k) : "?");
		if (each_item(p, v, add_pattern, dst[i]) != 0)
			return -1;
	}
	return 0;
}

/* "10000", "10s", "500ms", "1m". */
static bool
parse_timeout(const char *v, int *ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || d <= 0)
		return false;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		;
	else if (strcmp(end, "s") == 0)
		d *= 1000;
	else if (strcmp(end, "m") == 0)
		d *= 60000;
	else
		return false;
	if (d < 100 || d > 600000)
		return false;
	*ms = (int)d;
	return true;
}

/* A module as the reference exporter starts one. */
static void
module_init(struct module *m, const char *name)
{
	m->name = strdup(name);
	m->from_server_mgmt = strcmp(name, "osh") == 0;
	m->privilege = OSH_IPMI_PRIV_ADMIN;
	m->cipher_suite = 3;
	m->timeout_ms = DEFAULT_TIMEOUT_MS;
	m->collectors = DEFAULT_COLLECTORS;
}

static int
parse_module(
    struct parse *p, const char *name, const yaml_node_t *n, struct module *m)
{
	bool osh = strcmp(name, "osh") == 0;

	module_init(m, name);
	if (n->type == YAML_SCALAR_NODE && scalar(n)[0] == '\0')
		return 0; /* "name:" with nothing: all defaults */
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "module \"%s\" must be a mapping", name);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *kn = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v =
		    yaml_document_get_node(p->doc, pr->value);
		const char *k = scalar(kn), *s = scalar(v);

		if (k == NULL)
			return fail(p, kn, "keys must be plain names");
		if (osh &&
		    (strcmp(k, "user") == 0 || strcmp(k, "pass") == 0 ||
			strcmp(k, "pass_file") == 0))
			return fail(p, kn,
			    "module osh takes credentials from "
			    "server-mgmt: \"%s\" is not allowed there",
			    k);
		if (strcmp(k, "user") == 0) {
			if (s == NULL ||
			    !osh_strlcpy(m->user, s, sizeof(m->user)))
				return fail(
				    p, v, "user must be at most 32 bytes");
		} else if (strcmp(k, "pass") == 0) {
			if (s == NULL ||
			    !osh_strlcpy(m->password, s, sizeof(m->password)))
				return fail(
				    p, v, "pass must be at most 64 bytes");
		} else if (strcmp(k, "pass_file") == 0) {
			char *pw = s ? osh_read_file(s, 256, true) : NULL;
			if (pw == NULL)
				return fail(p, v,
				    "cannot read pass_file \"%s\"", s ? s : "");
			if (!osh_strlcpy(
				m->password, pw, sizeof(m->password))) {
				osh_free_secret(pw);
				return fail(p, v,
				    "password in pass_file too "
				    "long");
			}
			osh_free_secret(pw);
		} else if (strcmp(k, "privilege") == 0) {
			if (s && strcasecmp(s, "admin") == 0)
				m->privilege = OSH_IPMI_PRIV_ADMIN;
			else if (s && strcasecmp(s, "operator") == 0)
				m->privilege = OSH_IPMI_PRIV_OPERATOR;
			else if (s && strcasecmp(s, "user") == 0)
				m->privilege = OSH_IPMI_PRIV_USER;
			else
				return fail(p, v,
				    "privilege must be admin, "
				    "operator or user");
		} else if (strcmp(k, "driver") == 0) {
			if (s && strcmp(s, "LAN_2_0") == 0)
				m->ipmi15 = false;
			else if (s && strcmp(s, "LAN") == 0)
				m->ipmi15 = true;
			else
				return fail(p, v,
				    "driver must be LAN_2_0 or LAN "
				    "(in-band drivers are not supported)");
		} else if (strcmp(k, "timeout") == 0) {
			if (s == NULL || !parse_timeout(s, &m->timeout_ms))
				return fail(p, v,
				    "timeout must be milliseconds "
				    "(100 to 600000) or a duration like 10s");
		} else if (strcmp(k, "collectors") == 0) {
			m->collectors = 0;
			if (each_item(p, v, add_collector, &m->collectors) != 0)
				return -1;
		} else if (strcmp(k, "exclude_sensor_ids") == 0) {
			if (each_item(p, v, add_id, m) != 0)
				return -1;
		} else if (strcmp(k, "workaround_flags") == 0) {
			if (each_item(p, v, add_workaround, &m->workarounds) !=
			    0)
				return -1;
		} else if (strcmp(k, "cipher_suite") == 0) {
			int64_t cs;
			if (s == NULL || !osh_parse_int(s, 0, 17, &cs))
				return fail(
				    p, v, "cipher_suite must be 0 to 17");
			m->cipher_suite = (uint8_t)cs;
		} else if (strcmp(k, "sensors") == 0) {
			if (parse_sensors(p, v, m) != 0)
				return -1;
		} else if (strcmp(k, "allowed_targets") == 0) {
			m->restrict_targets = true;
			if (s != NULL && s[0] == '\0')
				return fail(p, v,
				    "allowed_targets needs ranges (an empty "
				    "list, [], allows no target)");
			if (each_item(p, v, add_allowed, m) != 0)
				return -1;
		} else if (strcmp(k, "sel_events") == 0) {
			if (selevents_parse(p->doc, v, m, p->err, p->errlen) !=
			    0)
				return -1;
		} else if (strcmp(k, "collector_cmd") == 0) {
			/* The reference runs FreeIPMI commands; there is none
			 * to run here, so these have nothing to change. */
			m->freeipmi_keys |= FREEIPMI_COLLECTOR_CMD;
		} else if (strcmp(k, "default_args") == 0) {
			m->freeipmi_keys |= FREEIPMI_DEFAULT_ARGS;
		} else if (strcmp(k, "custom_args") == 0) {
			m->freeipmi_keys |= FREEIPMI_CUSTOM_ARGS;
		} else {
			return fail(p, kn,
			    "unknown key \"%s\" in module \"%s\" "
			    "(valid: user, pass, pass_file, privilege, driver, "
			    "timeout, collectors, exclude_sensor_ids, "
			    "workaround_flags, cipher_suite, sensors, "
			    "allowed_targets, sel_events, collector_cmd, "
			    "default_args, custom_args)",
			    k, name);
		}
	}
	return 0;
}

static struct module *
add_module(struct exp_config *c)
{
	struct module *m = realloc(c->modules, (c->n + 1) * sizeof(*m));

	if (m == NULL)
		return NULL;
	c->modules = m;
	memset(&m[c->n], 0, sizeof(*m));
	return &m[c->n++];
}

struct exp_config *
config_parse(const char *text, size_t len, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct exp_config *c = calloc(1, sizeof(*c));
	struct parse p = {&doc, err, errlen};

	if (c != NULL)
		c->refs = 1;
	yaml_node_t *root;
	int rc = -1;

	if (c == NULL)
		return NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %zu: %s",
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		yamlwipe_parser(&parser);
		yaml_parser_delete(&parser);
		free(c);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type != YAML_MAPPING_NODE) {
		fail(&p, root, "the file must be a mapping with \"modules\"");
		goto out;
	}
	for (yaml_node_pair_t *pr = root ? root->data.mapping.pairs.start
					 : NULL;
	     root != NULL && pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);

		if (scalar(k) == NULL || strcmp(scalar(k), "modules") != 0) {
			fail(&p, k, "unknown key \"%s\" (valid: modules)",
			    scalar(k) ? scalar(k) : "?");
			goto out;
		}
		if (v->type != YAML_MAPPING_NODE) {
			fail(&p, v, "modules must be a mapping of names");
			goto out;
		}
		for (yaml_node_pair_t *mp = v->data.mapping.pairs.start;
		     mp < v->data.mapping.pairs.top; mp++) {
			yaml_node_t *mk = yaml_document_get_node(&doc, mp->key);
			yaml_node_t *mv =
			    yaml_document_get_node(&doc, mp->value);
			struct module *m;

			if (scalar(mk) == NULL) {
				fail(&p, mk, "module names must be plain");
				goto out;
			}
			if (config_module(c, scalar(mk)) != NULL) {
				fail(&p, mk, "module \"%s\" defined twice",
				    scalar(mk));
				goto out;
			}
			if ((m = add_module(c)) == NULL ||
			    parse_module(&p, scalar(mk), mv, m) != 0)
				goto out;
		}
	}
	/* As in the reference, "default" exists even when not configured. */
	if (config_module(c, "default") == NULL) {
		struct module *m = add_module(c);
		if (m == NULL)
			goto out;
		module_init(m, "default");
	}
	rc = 0;
out:
	/* The modules' passwords were in there. */
	yamlwipe_document(&doc);
	yaml_document_delete(&doc);
	yamlwipe_parser(&parser);
	yaml_parser_delete(&parser);
	if (rc != 0) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct exp_config *
config_load(const char *path, char *err, size_t errlen)
{
	char *text;
	struct exp_config *c;

	if (path == NULL || path[0] == '\0')
		return config_parse("", 0, err, errlen);
	if ((text = osh_read_file(path, 1 << 20, false)) == NULL) {
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	c = config_parse(text, strlen(text), err, errlen);
	osh_free_secret(text);
	return c;
}

static bool
matches(const struct patterns *ps, const char *s)
{
	for (size_t i = 0; i < ps->n; i++)
		if (regexec(&ps->re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

bool
module_wants_sensor(
    const struct module *m, const struct osh_sensor *s, const char *type_name)
{
	for (size_t i = 0; i < m->nexclude; i++)
		if (m->exclude_ids[i] == s->record_id)
			return false;
	if (m->include_names.n > 0 && !matches(&m->include_names, s->name))
		return false;
	if (matches(&m->exclude_names, s->name))
		return false;
	if (m->include_types.n > 0 && !matches(&m->include_types, type_name))
		return false;
	return !matches(&m->exclude_types, type_name);
}

int
config_ensure_module(struct exp_config *c, const char *name)
{
	struct module *m;

	if (config_module(c, name) != NULL)
		return 0;
	if ((m = add_module(c)) == NULL)
		return -1;
	module_init(m, name);
	return 0;
}

struct exp_config *
config_ref(struct exp_config *c)
{
	c->refs++;
	return c;
}

void
config_unref(struct exp_config *c)
{
	if (c != NULL && --c->refs <= 0)
		config_free(c);
}

/* The web configuration and, when it asks for TLS, the context built from
 * it (*ctx, NULL for plain HTTP). */
static struct web_config *
web_load(const char *path, struct ssl_ctx_st **ctx, char *err, size_t errlen)
{
	struct web_config *w = webcfg_load(path, err, errlen);
	char why[300];

	*ctx = NULL;
	if (w == NULL || !w->tls.enabled)
		return w;
	if ((*ctx = tls_ctx_new(&w->tls, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: tls_server_config: %s", path, why);
		webcfg_free(w);
		return NULL;
	}
	return w;
}

bool
exporter_osh_enabled(void)
{
	return exp_env.server_mgmt_url[0] && exp_env.auth_url[0] &&
	    exp_env.service_secret_file[0];
}

/* One line for every module key of the reference's FreeIPMI commands. */
static void
warn_freeipmi_keys(const struct exp_config *c)
{
	static const char *const keys[] = {
	    "collector_cmd", "default_args", "custom_args"};
	char names[200] = "", which[64] = "", q[240];
	unsigned all = 0;
	size_t o = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->modules[i].freeipmi_keys == 0)
			continue;
		all |= c->modules[i].freeipmi_keys;
		if (o < sizeof(names))
			o += (size_t)snprintf(names + o, sizeof(names) - o,
			    "%s%s", o ? "," : "", c->modules[i].name);
	}
	if (all == 0)
		return;
	for (size_t k = 0, w = 0; k < OSH_ARRAY_LEN(keys); k++)
		if (all & (1u << k))
			w += (size_t)snprintf(which + w, sizeof(which) - w,
			    "%s%s", w ? "," : "", keys[k]);
	osh_log_warn(NULL,
	    "msg=\"module keys ignored: they configure the FreeIPMI commands "
	    "of the community exporter, and this one runs none\" keys=%s "
	    "modules=\"%s\"",
	    which, osh_log_quote(names, q, sizeof(q)));
}

/* What an operator should hear about a module that loads. */
static void
warn_modules(const struct exp_config *c)
{
	char q[160];

	warn_freeipmi_keys(c);

	for (size_t i = 0; i < c->n; i++) {
		const struct module *m = &c->modules[i];

		if (m->ipmi15)
			osh_log_warn(NULL,
			    "msg=\"module uses IPMI 1.5 (driver LAN): the "
			    "password crosses the network in the clear or "
			    "hashed with MD5/MD2, and nothing is encrypted or "
			    "protected against tampering; use LAN_2_0 where "
			    "the BMC allows\" module=\"%s\"",
			    osh_log_quote(m->name, q, sizeof(q)));
		if (m->timeout_ms > MAX_SCRAPE_MS)
			osh_log_warn(NULL,
			    "msg=\"module timeout capped\" module=\"%s\" "
			    "timeout_ms=%d cap_ms=%d",
			    osh_log_quote(m->name, q, sizeof(q)), m->timeout_ms,
			    MAX_SCRAPE_MS);
	}
}

int
exporter_reload(struct exp_app *a, char *err, size_t errlen)
{
	struct exp_config *c = config_load(exp_env.config_file, err, errlen);
	struct web_config *w = NULL;
	struct ssl_ctx_st *ctx = NULL;
	char q[500], q2[300];

	if (c != NULL && exporter_osh_enabled() &&
	    config_ensure_module(c, "osh") != 0) {
		snprintf(err, errlen, "out of memory");
		config_free(c);
		c = NULL;
	}
	if (c != NULL &&
	    (w = web_load(exp_env.web_config_file, &ctx, err, errlen)) ==
		NULL) {
		config_free(c);
		c = NULL;
	}
	if (c == NULL) {
		a->reload_failures++;
		osh_log_error(NULL,
		    "msg=\"configuration not loaded\" "
		    "error=\"%s\"",
		    osh_log_quote(err, q, sizeof(q)));
		return -1;
	}
	config_unref(a->config);
	a->config = c;
	webauth_set_config(a->webauth, w);
	/* New connections get the new context (or plain HTTP); open ones
	 * keep theirs. Before the server exists it takes svc->tls. */
	if (a->svc->http != NULL)
		osh_http_set_tls(a->svc->http, ctx);
	SSL_CTX_free(a->svc->tls);
	a->svc->tls = ctx;
	a->reloads++;
	warn_modules(c);
	for (size_t i = 0; i < w->nwarnings; i++)
		osh_log_warn(NULL, "msg=\"web configuration: %s\" file=\"%s\"",
		    osh_log_quote(w->warnings[i], q, sizeof(q)),
		    osh_log_quote(exp_env.web_config_file, q2, sizeof(q2)));
	osh_log_info(NULL,
	    "msg=\"configuration loaded\" modules=%zu basic_auth_users=%zu "
	    "tls=%s",
	    c->n, w->nusers, w->tls.enabled ? "on" : "off");
	return 0;
}
