/*
 * provider_android.c — SMS Gateway for Android, local server (type "android").
 * Placeholder until the adapter lands: open() refuses.
 */
#include <errno.h>
#include <stdio.h>

#include "provider.h"

static int an_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	snprintf(err, errsize, "the android adapter is not built into this gridlined yet");
	return -ENOTSUP;
}

const struct provider_ops provider_android_ops = {
	.name = "android",
	.open = an_open,
};
