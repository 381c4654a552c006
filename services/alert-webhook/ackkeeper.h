/* ackkeeper.h - keeps the silences of acks (ackkeeper.c): every
 * OSH_ALERT_ACK_CHECK_S, the silence of an ack whose alert resolved is
 * expired (the ack "expired"), an ack whose end passed is "ended" (its
 * silence ended with it), and a silence ending within half of
 * OSH_ALERT_ACK_EXTEND_S while its alert fires is extended (the id
 * Alertmanager answers is kept). Replicas share the work: each claims
 * the acks it keeps (ackstore_due). */
#ifndef AW_ACKKEEPER_H
#define AW_ACKKEEPER_H

#include "aw.h"

struct ackkeeper *ackkeeper_new(struct aw_app *app);
/* Stops the timer; work under way ends by itself and frees the rest. */
void ackkeeper_free(struct ackkeeper *k);

#endif
