/* config.c - table-driven configuration from the environment. */
#include <stdlib.h>
#include <string.h>

#include "osh/config.h"
#include "osh/util.h"

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; i < OSH_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

int
osh_config_load(
    const struct osh_config_item *items, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct osh_config_item *it = &items[i];
		const char *v = getenv(it->env);

		if (v == NULL)
			v = it->def;
		if (v == NULL) {
			snprintf(
			    err, errlen, "%s: required but not set", it->env);
			return -1;
		}
		switch (it->type) {
		case OSH_CONF_STRING: *(const char **)it->field = v; break;
		case OSH_CONF_INT:
			if (!osh_parse_int(
				v, it->min, it->max, (int64_t *)it->field)) {
				snprintf(err, errlen,
				    "%s: \"%s\" is not an integer in "
				    "[%lld, %lld]",
				    it->env, v, (long long)it->min,
				    (long long)it->max);
				return -1;
			}
			break;
		case OSH_CONF_BOOL:
			if (!parse_bool(v, (bool *)it->field)) {
				snprintf(err, errlen,
				    "%s: \"%s\" is not a boolean", it->env, v);
				return -1;
			}
			break;
		}
		if (it->validate != NULL) {
			char why[200] = "invalid value";
			if (!it->validate(it->field, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", it->env, why);
				return -1;
			}
		}
	}
	return 0;
}

void
osh_config_print(const struct osh_config_item *items, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct osh_config_item *it = &items[i];

		switch (it->type) {
		case OSH_CONF_STRING:
			fprintf(
			    out, "%s=%s\n", it->env, *(const char **)it->field);
			break;
		case OSH_CONF_INT:
			fprintf(out, "%s=%lld\n", it->env,
			    (long long)*(int64_t *)it->field);
			break;
		case OSH_CONF_BOOL:
			fprintf(out, "%s=%s\n", it->env,
			    *(bool *)it->field ? "true" : "false");
			break;
		}
	}
}
