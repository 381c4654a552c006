/* config.h - configuration from the environment, described by a table,
 * loaded and validated once at start, read-only afterwards. */
#ifndef OSH_CONFIG_H
#define OSH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum osh_config_type {
	OSH_CONF_STRING, /* field: const char * */
	OSH_CONF_INT, /* field: int64_t, within [min, max] */
	OSH_CONF_BOOL, /* field: bool; true/false/1/0/yes/no */
};

struct osh_config_item {
	const char *env;
	enum osh_config_type type;
	void *field;
	const char *def; /* NULL: the variable is required */
	int64_t min, max;
	/* Optional extra check; writes a reason into err on failure. */
	bool (*validate)(const void *field, char *err, size_t errlen);
	const char *help;
};

/* Loads every item from the environment (or its default). On the first
 * invalid or missing value, writes "OSH_X: reason" into err and returns -1.
 * String fields point at the environment or the default; do not free. */
int osh_config_load(
    const struct osh_config_item *items, size_t n, char *err, size_t errlen);

/* Prints the effective configuration, one "NAME=value" a line. Names
 * ending in _FILE print as paths; nothing secret is ever held in items. */
void osh_config_print(const struct osh_config_item *items, size_t n, FILE *out);

#endif
