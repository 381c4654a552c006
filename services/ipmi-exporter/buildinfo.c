/* buildinfo.c - the exporter's version and ipmi_exporter_build_info. */
#include <stdio.h>

#include <osh/metrics.h>

#include "buildinfo.h"

/* The Makefile defines these for this file only (make OSH_VERSION=...
 * OSH_REVISION=... overrides them, as the container build does). */
#ifndef OSH_VERSION
#define OSH_VERSION "unknown"
#endif
#ifndef OSH_REVISION
#define OSH_REVISION "unknown"
#endif
#ifndef OSH_BRANCH
#define OSH_BRANCH "unknown"
#endif

/* GOARCH's names for the processor built for. */
#if defined(__x86_64__)
#define ARCH "amd64"
#elif defined(__aarch64__)
#define ARCH "arm64"
#elif defined(__i386__)
#define ARCH "386"
#elif defined(__arm__)
#define ARCH "arm"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define ARCH "ppc64le"
#elif defined(__s390x__)
#define ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH "riscv64"
#else
#define ARCH "unknown"
#endif

#if defined(__linux__)
#define OS "linux"
#elif defined(__FreeBSD__)
#define OS "freebsd"
#else
#define OS "unknown"
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

const char *
buildinfo_version(void)
{
	return OSH_VERSION;
}

const char *
buildinfo_revision(void)
{
	return OSH_REVISION;
}

const char *
buildinfo_branch(void)
{
	return OSH_BRANCH;
}

void
buildinfo_labels(char *buf, size_t len)
{
	char b[128], c[128], r[128], v[128];

	snprintf(buf, len,
	    "branch=\"%s\",goarch=\"" ARCH "\",goos=\"" OS "\","
	    "goversion=\"%s\",revision=\"%s\",tags=\"unknown\","
	    "version=\"%s\"",
	    osh_metrics_escape(OSH_BRANCH, b, sizeof(b)),
	    osh_metrics_escape(COMPILER, c, sizeof(c)),
	    osh_metrics_escape(OSH_REVISION, r, sizeof(r)),
	    osh_metrics_escape(OSH_VERSION, v, sizeof(v)));
}

void
buildinfo_register(struct osh_metrics *m)
{
	struct osh_metric *f;
	char labels[512];

	f = osh_metric_new(m, "ipmi_exporter_build_info",
	    "A metric with a constant '1' value labeled by version, revision, "
	    "branch, goversion from which ipmi_exporter was built, and the "
	    "goos and goarch for the build.",
	    OSH_GAUGE, NULL, 0);
	buildinfo_labels(labels, sizeof(labels));
	osh_metric_set(f, labels, 1);
}
