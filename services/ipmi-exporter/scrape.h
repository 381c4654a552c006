/* scrape.h - one /ipmi scrape: a request per collector to the BMC (they
 * queue behind each other on its one session), answered with what is done
 * when all are done or at the deadline, whichever comes first. Scrapes of
 * the same target and module at once share one set of requests. */
#ifndef EXP_SCRAPE_H
#define EXP_SCRAPE_H

#include <osh/http.h>
#include <osh/ipmi.h>

#include "exporter.h"

struct scrapes *scrapes_new(struct exp_app *app);
void scrapes_free(struct scrapes *s);

/* Answers req (and frees it) with the metrics of target under module m
 * within deadline_ms. The target is copied; t->host should be an
 * address. label names the target in logs (the target as asked for). */
void scrape_start(struct scrapes *s, struct osh_req *req,
    const struct module *m, struct exp_config *config,
    const struct osh_ipmi_target *t, const char *key, const char *label,
    int deadline_ms);

/* Answers req with every collector of m down (ipmi_up 0), as for a BMC
 * that cannot be reached, and logs why (a stable code such as
 * "dns_not_found"). Nothing is sent to any BMC. */
void scrape_answer_down(struct scrapes *s, struct osh_req *req,
    const struct module *m, const char *label, const char *why);

#endif
