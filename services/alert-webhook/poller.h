/* poller.h - what alert-webhook does on its own clock: polls
 * Alertmanager's GET /api/v2/alerts every OSH_ALERT_POLL_INTERVAL_S (when
 * OSH_ALERTMANAGER_URL is set), so that silenced and inhibited alerts,
 * which never reach a webhook, are stored too; and deletes resolved
 * alerts older than OSH_ALERT_RETENTION_DAYS every
 * OSH_ALERT_PRUNE_INTERVAL_S. One poll and one prune at a time. */
#ifndef AW_POLLER_H
#define AW_POLLER_H

#include "aw.h"

/* NULL when out of memory. */
struct poller *poller_new(struct aw_app *app);
/* Stops the timers; a poll or prune under way ends on its own (its
 * callbacks come when the HTTP client and the pool are freed), and the
 * last one frees what is left. */
void poller_free(struct poller *p);

#endif
