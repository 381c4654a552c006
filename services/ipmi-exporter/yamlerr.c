/* yamlerr.c - error messages of the exporter's YAML files. */
#include <stdarg.h>
#include <stdio.h>

#include "yamlerr.h"

int
yamlerr(char *err, size_t errlen, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		snprintf(
		    err, errlen, "line %zu: %s", n->start_mark.line + 1, msg);
	else
		snprintf(err, errlen, "%s", msg);
	return -1;
}
