/* migrate.h - applies a service's SQL migrations at start: each in its own
 * transaction, under an advisory lock, recorded in <schema>.schema_migrations,
 * so that several replicas starting at once apply each exactly once. */
#ifndef OSH_MIGRATE_H
#define OSH_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct osh_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Applies every migration newer than the schema's current version, in
 * version order. Returns 0, or -1 with the reason in err. */
int osh_migrate(PGconn *conn, const char *schema, const struct osh_migration *m,
    size_t n, char *err, size_t errlen);

#endif
