/* buildinfo.h - what this exporter was built from: the project's version,
 * the git revision and branch (the Makefile passes them; "unknown" when
 * it could not tell), and ipmi_exporter_build_info, the series upstream
 * exposes on its own /metrics through the Prometheus client's version
 * collector, with the same name, labels and help. */
#ifndef EXP_BUILDINFO_H
#define EXP_BUILDINFO_H

#include <stddef.h>

struct osh_metrics;

const char *buildinfo_version(void);
const char *buildinfo_revision(void);
const char *buildinfo_branch(void);

/* Writes the series' labels, escaped and in the order the Prometheus
 * client writes them (sorted): branch, goarch, goos, goversion (the C
 * compiler: there is no Go), revision, tags, version. */
void buildinfo_labels(char *buf, size_t len);

/* Registers ipmi_exporter_build_info (a gauge, 1) with m. */
void buildinfo_register(struct osh_metrics *m);

#endif
