/* jwt.c - access token signing and verification (libjwt), JWKS. */
#include <errno.h>
#include <json-c/json.h>
#include <jwt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "osh/auth.h"
#include "osh/crypto.h"
#include "osh/util.h"

#define TOKEN_MAX 4096
#define LEEWAY_S 30
#define TIME_MAX 253402300799 /* 9999-12-31T23:59:59Z: times in ms fit */
#define CACHE_SLOTS 1024

struct cache_slot {
	unsigned char key[16]; /* BLAKE2b-128 of the token; zero: empty */
	struct osh_claims claims;
};

#define PEM_BEGIN "-----BEGIN PUBLIC KEY-----"
#define PEM_END "-----END PUBLIC KEY-----"

struct osh_jwt_verifier {
	jwt_alg_t alg;
	char alg_name[8];
	unsigned char *key; /* every PEM block, as given */
	size_t nkeys;
	struct {
		const char *pem; /* into key */
		size_t len;
	} keys[OSH_JWT_KEYS_MAX];
	char *issuer;
	char *audience;
	struct cache_slot *cache;
};

struct osh_jwt_signer {
	jwt_alg_t alg;
	unsigned char *key;
	size_t keylen;
	char *issuer;
	char *audience;
};

static jwt_alg_t
alg_parse(const char *alg)
{
	if (strcmp(alg, "ES256") == 0)
		return JWT_ALG_ES256;
	if (strcmp(alg, "RS256") == 0)
		return JWT_ALG_RS256;
	return JWT_ALG_INVAL;
}

const char *
osh_token_status_str(enum osh_token_status s)
{
	switch (s) {
	case OSH_TOKEN_OK: return "ok";
	case OSH_TOKEN_MALFORMED: return "malformed token";
	case OSH_TOKEN_BAD_ALG: return "token algorithm not accepted";
	case OSH_TOKEN_BAD_SIGNATURE: return "bad token signature";
	case OSH_TOKEN_EXPIRED: return "token expired";
	case OSH_TOKEN_NOT_YET_VALID: return "token not valid yet";
	case OSH_TOKEN_BAD_ISSUER: return "wrong token issuer";
	case OSH_TOKEN_BAD_AUDIENCE: return "wrong token audience";
	case OSH_TOKEN_BAD_CLAIMS: return "token claims missing or invalid";
	}
	return "invalid token";
}

struct osh_jwt_verifier *
osh_jwt_verifier_new(
    const char *alg, const char *pem, const char *issuer, const char *audience)
{
	struct osh_jwt_verifier *v;
	jwt_t *probe = NULL;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->alg = alg_parse(alg);
	osh_strlcpy(v->alg_name, alg, sizeof(v->alg_name));
	v->key = (unsigned char *)strdup(pem);
	v->issuer = strdup(issuer);
	v->audience = strdup(audience);
	v->cache = calloc(CACHE_SLOTS, sizeof(*v->cache));
	if (v->alg == JWT_ALG_INVAL || v->key == NULL || v->issuer == NULL ||
	    v->audience == NULL || v->cache == NULL) {
		osh_jwt_verifier_free(v);
		return NULL;
	}
	/* Each "BEGIN PUBLIC KEY" block is a key, tried in order. */
	for (const char *b = (const char *)v->key, *e;
	     (b = strstr(b, PEM_BEGIN)) != NULL; b = e) {
		if ((e = strstr(b, PEM_END)) == NULL ||
		    v->nkeys == OSH_JWT_KEYS_MAX) {
			osh_jwt_verifier_free(v);
			return NULL;
		}
		e += strlen(PEM_END);
		v->keys[v->nkeys].pem = b;
		v->keys[v->nkeys++].len = (size_t)(e - b);
	}
	if (v->nkeys == 0) {
		osh_jwt_verifier_free(v);
		return NULL;
	}
	(void)probe;
	return v;
}

void
osh_jwt_verifier_free(struct osh_jwt_verifier *v)
{
	if (v == NULL)
		return;
	free(v->key);
	free(v->issuer);
	free(v->audience);
	free(v->cache);
	free(v);
}

/* Checks the header before any signature work: the algorithm must be
 * exactly the configured one, which rules out "none" and key confusion
 * (an HMAC keyed with our public key). */
static enum osh_token_status
check_header(const struct osh_jwt_verifier *v, const char *token)
{
	const char *dot = strchr(token, '.');
	char hdr[512];
	long n;
	struct json_object *h, *alg;
	enum osh_token_status st = OSH_TOKEN_OK;

	if (dot == NULL || (size_t)(dot - token) > 600)
		return OSH_TOKEN_MALFORMED;
	n = osh_b64url_decode(
	    token, (size_t)(dot - token), hdr, sizeof(hdr) - 1);
	if (n <= 0)
		return OSH_TOKEN_MALFORMED;
	hdr[n] = '\0';
	if ((h = json_tokener_parse(hdr)) == NULL)
		return OSH_TOKEN_MALFORMED;
	if (!json_object_object_get_ex(h, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string))
		st = OSH_TOKEN_MALFORMED;
	else if (strcmp(json_object_get_string(alg), v->alg_name) != 0)
		st = OSH_TOKEN_BAD_ALG;
	else if (json_object_object_get_ex(h, "crit", NULL))
		st = OSH_TOKEN_MALFORMED;
	json_object_put(h);
	return st;
}

/* A string claim that fits, in UTF-8; a required one must not be empty
 * either (an empty jti could not be told apart on the deny-list). */
static bool
copy_grant(jwt_t *jwt, const char *name, char *out, size_t len, bool required)
{
	const char *s = jwt_get_grant(jwt, name);

	if (s == NULL || s[0] == '\0') {
		out[0] = '\0';
		return !required;
	}
	return osh_strlcpy(out, s, len) && osh_utf8_valid(s, strlen(s));
}

static enum osh_token_status
read_claims(const struct osh_jwt_verifier *v, jwt_t *jwt, int64_t now,
    struct osh_claims *c)
{
	const char *iss = jwt_get_grant(jwt, "iss");
	const char *aud = jwt_get_grant(jwt, "aud");
	long nbf;

	if (iss == NULL || strcmp(iss, v->issuer) != 0)
		return OSH_TOKEN_BAD_ISSUER;
	if (aud == NULL || strcmp(aud, v->audience) != 0)
		return OSH_TOKEN_BAD_AUDIENCE;
	memset(c, 0, sizeof(*c));
	errno = 0;
	c->exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0 || c->exp <= 0 || c->exp > TIME_MAX)
		return OSH_TOKEN_BAD_CLAIMS;
	c->iat = jwt_get_grant_int(jwt, "iat");
	if (errno != 0 || c->iat <= 0 || c->iat > TIME_MAX)
		return OSH_TOKEN_BAD_CLAIMS;
	nbf = jwt_get_grant_int(jwt, "nbf");
	if (errno != 0) {
		nbf = 0;
		errno = 0;
	}
	c->iat_ms = jwt_get_grant_int(jwt, "ims");
	if (errno != 0 || c->iat_ms / 1000 != c->iat) {
		c->iat_ms = c->iat * 1000;
		errno = 0;
	}
	c->user_id = jwt_get_grant_int(jwt, "uid");
	if (errno != 0) {
		c->user_id = 0;
		errno = 0;
	}
	if (!copy_grant(jwt, "name", c->name, sizeof(c->name), true) ||
	    !copy_grant(jwt, "role", c->role, sizeof(c->role), true) ||
	    !copy_grant(jwt, "jti", c->jti, sizeof(c->jti), true) ||
	    !copy_grant(jwt, "sid", c->sid, sizeof(c->sid), false) ||
	    !osh_role_valid(c->role) ||
	    (strcmp(c->role, "service") != 0 && c->user_id <= 0))
		return OSH_TOKEN_BAD_CLAIMS;
	if (now >= c->exp)
		return OSH_TOKEN_EXPIRED;
	if (c->iat > now + LEEWAY_S || nbf > now + LEEWAY_S)
		return OSH_TOKEN_NOT_YET_VALID;
	return OSH_TOKEN_OK;
}

enum osh_token_status
osh_jwt_verify(struct osh_jwt_verifier *v, const char *token, int64_t now,
    struct osh_claims *out)
{
	unsigned char key[16];
	struct cache_slot *slot;
	enum osh_token_status st;
	size_t len = strlen(token);
	jwt_t *jwt = NULL;

	if (len == 0 || len > TOKEN_MAX)
		return OSH_TOKEN_MALFORMED;
	crypto_generichash(
	    key, sizeof(key), (const unsigned char *)token, len, NULL, 0);
	slot = &v->cache[(key[0] | (unsigned)key[1] << 8) % CACHE_SLOTS];
	if (sodium_memcmp(slot->key, key, sizeof(key)) == 0) {
		*out = slot->claims;
		if (now >= out->exp)
			return OSH_TOKEN_EXPIRED;
		return OSH_TOKEN_OK;
	}
	if ((st = check_header(v, token)) != OSH_TOKEN_OK)
		return st;
	/* The current key first: older ones only during a rotation. */
	for (size_t i = 0; i < v->nkeys && jwt == NULL; i++)
		if (jwt_decode(&jwt, token,
			(const unsigned char *)v->keys[i].pem,
			(int)v->keys[i].len) != 0)
			jwt = NULL;
	if (jwt == NULL)
		return OSH_TOKEN_BAD_SIGNATURE;
	if (jwt_get_alg(jwt) != v->alg) {
		jwt_free(jwt);
		return OSH_TOKEN_BAD_ALG;
	}
	st = read_claims(v, jwt, now, out);
	jwt_free(jwt);
	if (st == OSH_TOKEN_OK) {
		memcpy(slot->key, key, sizeof(key));
		slot->claims = *out;
	}
	return st;
}

struct osh_jwt_signer *
osh_jwt_signer_new(
    const char *alg, const char *pem, const char *issuer, const char *audience)
{
	struct osh_jwt_signer *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->alg = alg_parse(alg);
	s->keylen = strlen(pem);
	s->key = (unsigned char *)strdup(pem);
	s->issuer = strdup(issuer);
	s->audience = strdup(audience);
	if (s->alg == JWT_ALG_INVAL || s->key == NULL || s->issuer == NULL ||
	    s->audience == NULL) {
		osh_jwt_signer_free(s);
		return NULL;
	}
	return s;
}

void
osh_jwt_signer_free(struct osh_jwt_signer *s)
{
	if (s == NULL)
		return;
	if (s->key != NULL) {
		sodium_memzero(s->key, s->keylen);
		free(s->key);
	}
	free(s->issuer);
	free(s->audience);
	free(s);
}

char *
osh_jwt_sign(struct osh_jwt_signer *s, const struct osh_claims *c)
{
	char sub[OSH_NAME_MAX + 16];
	char *out = NULL;
	jwt_t *jwt;

	if (jwt_new(&jwt) != 0)
		return NULL;
	if (c->user_id > 0)
		snprintf(sub, sizeof(sub), "user:%lld", (long long)c->user_id);
	else
		snprintf(sub, sizeof(sub), "service:%s", c->name);
	if (jwt_add_grant(jwt, "iss", s->issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", s->audience) != 0 ||
	    jwt_add_grant(jwt, "sub", sub) != 0 ||
	    jwt_add_grant(jwt, "name", c->name) != 0 ||
	    jwt_add_grant(jwt, "role", c->role) != 0 ||
	    jwt_add_grant(jwt, "jti", c->jti) != 0 ||
	    (c->sid[0] != '\0' && jwt_add_grant(jwt, "sid", c->sid) != 0) ||
	    (c->user_id > 0 &&
		jwt_add_grant_int(jwt, "uid", (long)c->user_id) != 0) ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
	    (c->iat_ms > 0 &&
		jwt_add_grant_int(jwt, "ims", (long)c->iat_ms) != 0) ||
	    jwt_add_grant_int(jwt, "nbf", (long)c->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0 ||
	    jwt_set_alg(jwt, s->alg, s->key, (int)s->keylen) != 0)
		goto out_free_jwt;
	out = jwt_encode_str(jwt);
out_free_jwt:
	jwt_free(jwt);
	return out;
}

/* JWKS: the public key's parameters, read from its DER form. */

struct der {
	const unsigned char *p;
	size_t len;
};

/* Reads one TLV of the expected tag; returns its contents in *out and
 * advances d past it. */
static bool
der_next(struct der *d, unsigned char tag, struct der *out)
{
	size_t len, i = 2;

	if (d->len < 2 || d->p[0] != tag)
		return false;
	len = d->p[1];
	if (len & 0x80) {
		size_t nb = len & 0x7f;
		if (nb == 0 || nb > 3 || d->len < 2 + nb)
			return false;
		len = 0;
		for (size_t k = 0; k < nb; k++)
			len = len << 8 | d->p[2 + k];
		i += nb;
	}
	if (d->len - i < len)
		return false;
	out->p = d->p + i;
	out->len = len;
	d->p += i + len;
	d->len -= i + len;
	return true;
}

/* Turns a PEM block into DER; returns bytes or -1. */
static long
pem_to_der(const char *pem, unsigned char *out, size_t outlen)
{
	const char *b = strstr(pem, "-----BEGIN PUBLIC KEY-----");
	const char *e = strstr(pem, "-----END PUBLIC KEY-----");
	size_t n;

	if (b == NULL || e == NULL || e < b)
		return -1;
	b += strlen("-----BEGIN PUBLIC KEY-----");
	if (sodium_base642bin(out, outlen, b, (size_t)(e - b), " \r\n\t", &n,
		NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)n;
}

static void
add_b64(struct json_object *o, const char *k, const unsigned char *p, size_t n)
{
	char buf[1024];

	while (n > 1 && p[0] == 0) { /* ASN.1 integers carry a sign byte */
		p++;
		n--;
	}
	osh_b64url_encode(p, n, buf, sizeof(buf));
	json_object_object_add(o, k, json_object_new_string(buf));
}

/* The JWK of the first PEM block of 'pem', or NULL. */
static struct json_object *
jwk_of(const char *alg, const char *pem, const char *kid)
{
	unsigned char der[2048];
	struct der d, spki, algid, bits, rsa, n, e;
	struct json_object *k;
	long len;

	if ((len = pem_to_der(pem, der, sizeof(der))) <= 0)
		return NULL;
	d.p = der;
	d.len = (size_t)len;
	if (!der_next(&d, 0x30, &spki) || !der_next(&spki, 0x30, &algid) ||
	    !der_next(&spki, 0x03, &bits) || bits.len < 1)
		return NULL;
	k = json_object_new_object();
	if (strcmp(alg, "ES256") == 0) {
		/* BIT STRING: 0x00, 0x04 || X(32) || Y(32) for P-256. */
		if (bits.len != 66 || bits.p[1] != 0x04)
			goto out_put;
		json_object_object_add(k, "kty", json_object_new_string("EC"));
		json_object_object_add(
		    k, "crv", json_object_new_string("P-256"));
		add_b64(k, "x", bits.p + 2, 32);
		add_b64(k, "y", bits.p + 34, 32);
	} else if (strcmp(alg, "RS256") == 0) {
		bits.p++;
		bits.len--;
		if (!der_next(&bits, 0x30, &rsa) || !der_next(&rsa, 0x02, &n) ||
		    !der_next(&rsa, 0x02, &e))
			goto out_put;
		json_object_object_add(k, "kty", json_object_new_string("RSA"));
		add_b64(k, "n", n.p, n.len);
		add_b64(k, "e", e.p, e.len);
	} else {
		goto out_put;
	}
	json_object_object_add(k, "use", json_object_new_string("sig"));
	json_object_object_add(k, "alg", json_object_new_string(alg));
	json_object_object_add(k, "kid", json_object_new_string(kid));
	return k;
out_put:
	json_object_put(k);
	return NULL;
}

static char *
jwks_text(struct json_object *keys)
{
	struct json_object *root = json_object_new_object();
	char *out;

	json_object_object_add(root, "keys", keys);
	out = strdup(
	    json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

char *
osh_jwks_from_pem(const char *alg, const char *pem, const char *kid)
{
	struct json_object *keys, *k;

	if ((k = jwk_of(alg, pem, kid)) == NULL)
		return NULL;
	keys = json_object_new_array();
	json_object_array_add(keys, k);
	return jwks_text(keys);
}

char *
osh_jwks_from_pems(const char *alg, const char *pems)
{
	struct json_object *keys = json_object_new_array(), *k;
	char block[4096], hex[OSH_TOKEN_HASH_LEN], kid[24];
	const char *b = pems, *e;
	size_t n = 0, len;

	while ((b = strstr(b, PEM_BEGIN)) != NULL) {
		if ((e = strstr(b, PEM_END)) == NULL || n == OSH_JWT_KEYS_MAX)
			goto fail;
		e += strlen(PEM_END);
		len = (size_t)(e - b);
		if (len + 2 > sizeof(block))
			goto fail;
		/* The block as openssl writes it, newline included: a file
		 * of one key keeps the kid it always had. */
		memcpy(block, b, len);
		block[len] = '\n';
		block[len + 1] = '\0';
		osh_token_hash(block, hex);
		osh_strlcpy(kid, hex, sizeof(kid));
		if ((k = jwk_of(alg, block, kid)) == NULL)
			goto fail;
		json_object_array_add(keys, k);
		n++;
		b = e;
	}
	if (n == 0)
		goto fail;
	return jwks_text(keys);
fail:
	json_object_put(keys);
	return NULL;
}

/* Roles. Each role lists the permissions it grants; "*" grants all. */

static const char *const viewer_perms[] = {"servers:read", "clusters:read",
    "jobs:read", "alerts:read", "monitoring:read", "discovery:read", NULL};
static const char *const operator_perms[] = {"servers:read", "servers:write",
    "servers:power", "clusters:read", "clusters:write", "clusters:delete",
    "jobs:read", "jobs:write", "alerts:read", "alerts:write", "monitoring:read",
    "discovery:read", "discovery:write", NULL};
static const char *const admin_perms[] = {"*", NULL};
static const char *const service_perms[] = {"internal:read", "internal:write",
    "servers:read", "clusters:read", "jobs:read", NULL};

static const struct {
	const char *role;
	const char *const *perms;
} roles[] = {
    {"admin", admin_perms},
    {"operator", operator_perms},
    {"viewer", viewer_perms},
    {"service", service_perms},
};

bool
osh_role_valid(const char *role)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(roles); i++)
		if (strcmp(roles[i].role, role) == 0)
			return true;
	return false;
}

bool
osh_role_allows(const char *role, const char *perm)
{
	for (size_t i = 0; i < OSH_ARRAY_LEN(roles); i++) {
		if (strcmp(roles[i].role, role) != 0)
			continue;
		for (const char *const *p = roles[i].perms; *p != NULL; p++)
			if (strcmp(*p, "*") == 0 || strcmp(*p, perm) == 0)
				return true;
		return false;
	}
	return false;
}
