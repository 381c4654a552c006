/* serverknown.h - whether server-mgmt knows a server, asked beside
 * Prometheus when a server's metrics are looked up so that an id no
 * server has is a 404, not an empty answer. One GET
 * /internal/servers?after=<id-1>&limit=1 with the service token; when
 * server-mgmt cannot say (down, slow, no token), the answer is
 * SERVER_UNSURE and the caller goes on: metrics never depend on
 * server-mgmt being up, and the caller's deadline bounds the wait. */
#ifndef AW_SERVERKNOWN_H
#define AW_SERVERKNOWN_H

#include <stdint.h>

#include "aw.h"

#define SERVER_KNOWN_TIMEOUT_MS 2000

enum server_known {
	SERVER_KNOWN,
	SERVER_UNKNOWN,
	SERVER_UNSURE
};

typedef void (*server_known_cb)(enum server_known k, void *arg);

/* cb runs later, exactly once (SERVER_UNSURE at once when out of
 * memory). */
void server_known(
    struct aw_app *app, int64_t id, server_known_cb cb, void *arg);

#endif
