/* yamlerr.h - error messages of the exporter's YAML files, naming the
 * line of the node at fault. */
#ifndef EXP_YAMLERR_H
#define EXP_YAMLERR_H

#include <stddef.h>
#include <yaml.h>

/* Writes "line N: <message>" (or the message alone when n is NULL) into
 * err[0..errlen) and returns -1, for `return yamlerr(...)`. */
int yamlerr(char *err, size_t errlen, const yaml_node_t *n, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

#endif
