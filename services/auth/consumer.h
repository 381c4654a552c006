/* consumer.h - moves audit entries from the osh:audit stream into the
 * audit_log table: consumer group "auth", acknowledged only once stored,
 * entries of dead consumers reclaimed. */
#ifndef AUTH_CONSUMER_H
#define AUTH_CONSUMER_H

struct osh_service;
struct audit_consumer;

struct audit_consumer *audit_consumer_new(struct osh_service *svc);
/* Stops reading at once; a batch still with the database keeps the
 * consumer until the pool answers it (osh_db_free answers everything). */
void audit_consumer_free(struct audit_consumer *c);

#endif
