/*
 * jsonbody.h — what every HTTP adapter's decoder does to a response body
 * before it reads fields from it. Pure.
 */
#ifndef GRIDLINE_JSONBODY_H
#define GRIDLINE_JSONBODY_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parse len bytes of body (NULL: empty) as JSON: invalid UTF-8 is
 * repaired first (U+FFFD), an escaped NUL is kept (strings have lengths),
 * duplicate keys are an error. NULL and "malformed JSON (...)" in
 * why[whysize] (why may be NULL) when it is not JSON.
 */
json_t *jsonbody_parse(const char *body, size_t len, char *why, size_t whysize);

/* A stable id for a message that came without one: "sha256:" of v (keys sorted). */
char *jsonbody_hash_id(const json_t *v);

#endif
