/* readmodel.h - cluster-mgmt's copy of server-mgmt's servers (table
 * servers of its own schema): rebuilt in full from server-mgmt's
 * GET /internal/servers (paged by id, with a service token) at start,
 * after every (re)connection of its event subscription (events may have
 * been missed meanwhile), after an event it could not queue, and every
 * OSH_CLUSTER_RESYNC_S; kept current in between by server.created,
 * server.updated, server.deleted, server.power_changed and
 * server.status_changed on osh:events,
 * applied one at a time in the order received. Membership changes that
 * events cause are published as cluster.members_changed. */
#ifndef CM_READMODEL_H
#define CM_READMODEL_H

#include <stdbool.h>

struct cm_app;
struct readmodel;

/* Subscribes to osh:events (a Redis connection of its own) and schedules
 * the first rebuild. NULL when out of memory. */
struct readmodel *readmodel_new(struct cm_app *app);
/* Stops the timers and the subscription. Operations still under way (a
 * query, a request to server-mgmt) end with their pools; the memory goes
 * with the last of them. */
void readmodel_free(struct readmodel *rm);

/* Asks for a full rebuild: now, or right after the one under way. */
void readmodel_rebuild(struct readmodel *rm);

/* Whether a full rebuild has completed since start. */
bool readmodel_synced(const struct readmodel *rm);

#endif
