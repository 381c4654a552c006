/* import.h - bulk import input: CSV (with a header row) or a JSON array,
 * turned into the request bodies POST /api/servers takes, one per row. */
#ifndef SM_IMPORT_H
#define SM_IMPORT_H

#include <json-c/json.h>
#include <stddef.h>

#include <osh/error.h>

#define IMPORT_MAX_ROWS 5000
#define IMPORT_MAX_COLUMNS 32
#define IMPORT_MAX_HEADER 64 /* bytes of a header field */
#define IMPORT_MAX_FIELD 2048 /* bytes of a value */

/* Pure: no I/O. Returns a JSON array of row objects (the caller puts it,
 * after osh_json_wipe_named(rows, "password"): rows hold BMC passwords), or NULL with err
 * set (a bad header or structure; bad values are left for each row's own
 * check). No copy of a password is left in freed memory, on any path. */
struct json_object *import_csv(
    const char *text, size_t len, struct osh_err *err);
struct json_object *import_json(
    const char *text, size_t len, struct osh_err *err);

/* The CSV template: the header and one example row. */
const char *import_template(void);

#endif
