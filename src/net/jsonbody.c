/*
 * jsonbody.c — parsing untrusted JSON bodies, and ids from their content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jsonbody.h"
#include "text.h"
#include "util.h"

json_t *jsonbody_parse(const char *body, size_t len, char *why, size_t whysize)
{
	json_error_t je;
	char *fixed = text_utf8_fix(body ? body : "", body ? len : 0, NULL);
	json_t *j = json_loads(fixed, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);

	free(fixed);
	if (!j && why)
		snprintf(why, whysize, "malformed JSON (%s)", je.text);
	return j;
}

char *jsonbody_hash_id(const json_t *v)
{
	char *dump = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha256:";

	EVP_Digest(dump ? dump : "", dump ? strlen(dump) : 0, md, &n, EVP_sha256(), NULL);
	free(dump);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
	return xstrdup(hex);
}
