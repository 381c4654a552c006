/* yamlwipe.c - clearing libyaml's copies of a secret file. */
#include <sodium.h>

#include "yamlwipe.h"

void
yamlwipe_document(yaml_document_t *doc)
{
	for (yaml_node_t *n = doc->nodes.start; n != NULL && n < doc->nodes.top;
	     n++)
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value != NULL)
			sodium_memzero(
			    n->data.scalar.value, n->data.scalar.length);
}

void
yamlwipe_parser(yaml_parser_t *parser)
{
	if (parser->buffer.start != NULL)
		sodium_memzero(parser->buffer.start,
		    (size_t)(parser->buffer.end - parser->buffer.start));
	if (parser->raw_buffer.start != NULL)
		sodium_memzero(parser->raw_buffer.start,
		    (size_t)(parser->raw_buffer.end -
			parser->raw_buffer.start));
	for (yaml_token_t *t = parser->tokens.head;
	     t != NULL && t < parser->tokens.tail; t++)
		if (t->type == YAML_SCALAR_TOKEN &&
		    t->data.scalar.value != NULL)
			sodium_memzero(
			    t->data.scalar.value, t->data.scalar.length);
}
