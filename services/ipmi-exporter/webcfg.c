/* webcfg.c - the exporter-toolkit web configuration file (libyaml):
 * reading the file, its top-level sections handed to their parsers
 * (webcfg_tls.c, webcfg_http.c, webcfg_users.c), and freeing what was
 * loaded. The YAML helpers they share are in webcfg_yaml.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <osh/crypto.h>
#include <osh/util.h>

#include "webcfg.h"
#include "webcfg_int.h"
#include "yamlwipe.h"

#define TLS10 0x0301
#define TLS13 0x0304

static int
root_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	char b[64];

	(void)arg;
	if (strcmp(key, "tls_server_config") == 0) {
		bool auth_given = false;
		if (webcfg_each_pair(
			p, v, key, 64, webcfg_tls_pair, &auth_given) != 0)
			return -1;
		return webcfg_tls_check(p, k, auth_given);
	}
	if (strcmp(key, "http_server_config") == 0)
		return webcfg_each_pair(p, v, key, 64, webcfg_http_pair, NULL);
	if (strcmp(key, "rate_limit") == 0)
		return webcfg_each_pair(p, v, key, 64, webcfg_rate_pair, NULL);
	if (strcmp(key, "basic_auth_users") == 0) {
		size_t n = webcfg_is_null(v) || v->type != YAML_MAPPING_NODE
		    ? 0
		    : (size_t)(v->data.mapping.pairs.top -
			  v->data.mapping.pairs.start);
		if (n > WEB_MAX_USERS)
			return wfail(p, v, "basic_auth_users: more than %d",
			    WEB_MAX_USERS);
		if (n > 0 &&
		    (p->w->users = calloc(n, sizeof(*p->w->users))) == NULL)
			return wfail(p, v, "out of memory");
		if (webcfg_each_pair(
			p, v, key, WEB_MAX_USERS, webcfg_user_pair, NULL) != 0)
			return -1;
		webcfg_users_check(p, webcfg_line_of(k));
		return 0;
	}
	return wfail(p, k,
	    "unknown key \"%s\" (valid: tls_server_config, "
	    "http_server_config, rate_limit, basic_auth_users)",
	    webcfg_shown(key, b, sizeof(b)));
}

void
webcfg_free(struct web_config *w)
{
	struct web_tls *t;

	if (w == NULL)
		return;
	t = &w->tls;
	free(t->cert_file);
	free(t->key_file);
	free(t->client_ca_file);
	free(t->cert);
	osh_free_secret(t->key);
	free(t->client_ca);
	free(t->ciphers);
	free(t->groups);
	for (size_t i = 0; i < t->nsans; i++)
		free(t->allowed_sans[i]);
	free(t->allowed_sans);
	for (size_t i = 0; i < w->nheaders; i++)
		free(w->headers[i].value);
	for (size_t i = 0; i < w->nusers; i++) {
		free(w->users[i].name);
		osh_free_secret(w->users[i].hash);
	}
	free(w->users);
	free(w);
}

struct web_config *
webcfg_parse(
    const char *text, size_t len, const char *dir, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct web_config *w = calloc(1, sizeof(*w));
	struct wparse p = {&doc, dir, w, err, errlen};
	yaml_node_t *root;
	int rc = -1;

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->tls.min_version = 0x0303;
	w->tls.max_version = TLS13;
	w->tls.prefer_server_ciphers = true;
	w->http2 = true;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %zu: %s",
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		yamlwipe_parser(&parser);
		yaml_parser_delete(&parser);
		webcfg_free(w);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !webcfg_is_null(root) &&
	    root->type != YAML_MAPPING_NODE) {
		wfail(&p, root, "the web configuration must be a mapping");
		goto out;
	}
	if (root != NULL &&
	    webcfg_each_pair(
		&p, root, "the web configuration", 16, root_pair, NULL) != 0)
		goto out;
	rc = 0;
out:
	/* The file may hold a private key (key:) and password hashes. */
	yamlwipe_document(&doc);
	yaml_document_delete(&doc);
	yamlwipe_parser(&parser);
	yaml_parser_delete(&parser);
	if (rc != 0) {
		webcfg_free(w);
		return NULL;
	}
	return w;
}

struct web_config *
webcfg_load(const char *path, char *err, size_t errlen)
{
	struct web_config *w;
	char *text, *dir;
	const char *slash;

	if (path == NULL || path[0] == '\0')
		return webcfg_parse("", 0, NULL, err, errlen);
	if ((text = osh_read_file(path, 1 << 20, false)) == NULL) {
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	slash = strrchr(path, '/');
	dir = slash == NULL ? strdup(".")
	    : slash == path ? strdup("/")
			    : strndup(path, (size_t)(slash - path));
	w = webcfg_parse(text, strlen(text), dir ? dir : ".", err, errlen);
	free(dir);
	osh_free_secret(text); /* it may hold a private key */
	return w;
}
