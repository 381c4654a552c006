/* receiver.h - Alertmanager's webhook (receiver.c): the bearer secret
 * check, and what follows storing alerts from either source. */
#ifndef AW_RECEIVER_H
#define AW_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "aw.h"

/* The digest the secret is kept as (BLAKE2b-256): the secret itself is
 * wiped once read. */
void receiver_secret_hash(
    const char *secret, size_t len, unsigned char out[AW_SECRET_HASH_LEN]);

/* Whether an Authorization header value is "Bearer <secret>" for the
 * secret whose digest is hash; compared in constant time
 * (sodium_memcmp of the digests). NULL is false. */
bool receiver_bearer_ok(
    const char *authz, const unsigned char hash[AW_SECRET_HASH_LEN]);

/* After a poll was stored (json: store_ingest's answer): counts, publishes
 * the events and starts SEL evidence fetches, as after a webhook. */
void receiver_after_poll(struct aw_app *app, const char *json);

#endif
