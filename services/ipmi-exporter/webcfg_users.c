/* webcfg_users.c - the web configuration's basic_auth_users: user names
 * and their bcrypt hashes, checked the way libxcrypt reads them. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "webcfg.h"
#include "webcfg_int.h"

int
webcfg_bcrypt_cost(const char *s)
{
	return webcfg_bcrypt_hash_valid(s) ? (s[4] - '0') * 10 + (s[5] - '0')
					   : -1;
}

bool
webcfg_bcrypt_hash_valid(const char *s)
{
	static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(s) != 60 || s[0] != '$' || s[1] != '2' ||
	    (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' ||
	    s[4] < '0' || s[4] > '3' || s[5] < '0' || s[5] > '9' || s[6] != '$')
		return false;
	cost = (s[4] - '0') * 10 + (s[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	for (size_t i = 7; i < 60; i++)
		if (strchr(b64, s[i]) == NULL)
			return false;
	return true;
}

int
webcfg_user_pair(struct wparse *p, const yaml_node_t *k, const char *key,
    const yaml_node_t *v, void *arg)
{
	struct web_config *w = p->w;
	const char *s = webcfg_scalar_of(v);
	struct web_user *u;
	char b[64];

	(void)arg;
	if (strlen(key) > 255 || strchr(key, ':') != NULL)
		return wfail(p, k,
		    "user name \"%s\" is too long or holds a colon",
		    webcfg_shown(key, b, sizeof(b)));
	if (s == NULL || !webcfg_bcrypt_hash_valid(s))
		return wfail(p, v,
		    "the password of user \"%s\" must be a bcrypt hash "
		    "($2y$, $2b$ or $2a$, cost 04 to 31)",
		    webcfg_shown(key, b, sizeof(b)));
	u = &w->users[w->nusers];
	u->name = strdup(key);
	u->hash = strdup(s);
	w->nusers++; /* freed with w even when half made */
	if (u->name == NULL || u->hash == NULL)
		return wfail(p, v, "out of memory");
	return 0;
}

/* An unknown user's password is checked at the largest cost configured
 * (webauth.c), so that it takes as long as the slowest user's: a user
 * with a lower cost answers sooner, and so can be told from an unknown
 * one. */
void
webcfg_users_check(struct wparse *p, size_t line)
{
	const struct web_config *w = p->w;
	int lo = 99, hi = -1;

	for (size_t i = 0; i < w->nusers; i++) {
		int c = webcfg_bcrypt_cost(w->users[i].hash);
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	if (hi > lo)
		webcfg_warn(p, line,
		    "basic_auth_users have bcrypt costs from %02d to %02d: "
		    "unknown users are checked at cost %02d, so a user with a "
		    "lower cost can be told from an unknown user by how soon "
		    "the answer comes; give every user the same cost",
		    lo, hi, hi);
}
