/* webcfg.h - the web configuration file (--web.config.file) in the
 * Prometheus exporter-toolkit format, so that a file written for the
 * community ipmi_exporter works as it is: tls_server_config,
 * http_server_config, rate_limit and basic_auth_users (bcrypt hashes).
 * Unknown keys, duplicate keys and bad values are refused with their line
 * number. What loads but weakens the configuration (settings
 * exporter-toolkit accepts, kept so that its files work) comes back as
 * warnings, which the caller logs. */
#ifndef EXP_WEBCFG_H
#define EXP_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* client_auth_type, named as Go's crypto/tls names them. */
enum web_client_auth {
	WEB_NO_CLIENT_CERT,
	WEB_REQUEST_CLIENT_CERT, /* asked for, not verified */
	WEB_REQUIRE_ANY_CLIENT_CERT, /* required, not verified */
	WEB_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEB_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

#define WEB_MAX_USERS 1000
#define WEB_MAX_SANS 256
#define WEB_NHEADERS 5
#define WEB_MAX_WARNINGS 4

struct web_tls {
	bool enabled; /* any TLS setting given: serve HTTPS */
	/* Files, relative ones taken from the web config file's directory;
	 * or the PEM text itself (cert, key, client_ca). NULL: not set. */
	char *cert_file, *key_file, *client_ca_file;
	char *cert, *key, *client_ca; /* key is a secret: wiped on free */
	enum web_client_auth client_auth;
	int min_version, max_version; /* 0x0301 (TLS 1.0) to 0x0304 */
	char *ciphers; /* OpenSSL cipher list for TLS <= 1.2, or NULL */
	char *groups; /* OpenSSL group list ("X25519:P-256"), or NULL */
	bool prefer_server_ciphers;
	char **allowed_sans; /* client_allowed_sans, exact matches */
	size_t nsans;
	/* Where client_auth_type, client_allowed_sans and the client CA were
	 * given (line numbers, 0: not given), for messages. */
	size_t auth_line, sans_line, ca_line;
	char auth_name[32]; /* client_auth_type as written */
};

struct web_user {
	char *name;
	char *hash; /* bcrypt: $2a$, $2b$ or $2y$ */
};

struct web_header {
	const char *name; /* one of the five exporter-toolkit allows */
	char *value;
};

struct web_config {
	struct web_tls tls;
	bool http2; /* accepted; only HTTP/1.1 is served */
	struct web_header headers[WEB_NHEADERS];
	size_t nheaders;
	int64_t rate_interval_us; /* 0: no rate limit */
	int64_t rate_burst;
	struct web_user *users; /* none: no authentication */
	size_t nusers;
	/* "line N: what is weak and what to write instead", one a line. */
	char warnings[WEB_MAX_WARNINGS][400];
	size_t nwarnings;
};

/* Parses the text of a web config file; dir is where relative file names
 * point (the file's own directory). NULL with "line N: reason" in err. An
 * empty text is a valid configuration with nothing in it. */
struct web_config *webcfg_parse(
    const char *text, size_t len, const char *dir, char *err, size_t errlen);

/* Reads and parses path. An empty path gives an empty configuration. */
struct web_config *webcfg_load(const char *path, char *err, size_t errlen);

/* Wipes the secrets and frees. NULL is fine. */
void webcfg_free(struct web_config *w);

/* Whether s is a bcrypt hash that libxcrypt verifies: $2a$, $2b$ or $2y$,
 * a cost of 04 to 31, 53 characters of salt and hash. */
bool webcfg_bcrypt_hash_valid(const char *s);

/* The cost of such a hash (4 to 31), or -1 when s is not one. */
int webcfg_bcrypt_cost(const char *s);

#endif
