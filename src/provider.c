/*
 * provider.c — the table of provider adapters and shared helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "util.h"

static const struct provider_ops *const providers[] = {
	&provider_spool_ops,
	&provider_http_ops,
	&provider_twilio_ops,
	&provider_android_ops,
	NULL,
};

const struct provider_ops *provider_find(const char *name)
{
	for (size_t i = 0; providers[i]; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

void provider_batch_free(struct provider_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->msgs[i].id);
		free(b->msgs[i].from);
		free(b->msgs[i].body);
		free(b->msgs[i].error);
		free(b->msgs[i].priv);
	}
	free(b->msgs);
	free(b->cursor);
	free(b);
}
