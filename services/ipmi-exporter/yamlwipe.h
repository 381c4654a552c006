/* yamlwipe.h - wipes the copies libyaml keeps of a file's text: both of
 * the exporter's files may hold secrets (BMC passwords in the modules,
 * a private key and password hashes in the web configuration), and
 * libyaml frees its memory without clearing it. What it reallocated while
 * growing a long scalar was freed on the way and cannot be reached. */
#ifndef EXP_YAMLWIPE_H
#define EXP_YAMLWIPE_H

#include <yaml.h>

/* Clears every scalar's value; call it just before yaml_document_delete. */
void yamlwipe_document(yaml_document_t *doc);

/* Clears the parser's input buffers and the scalars of tokens not taken;
 * call it just before yaml_parser_delete. */
void yamlwipe_parser(yaml_parser_t *parser);

#endif
