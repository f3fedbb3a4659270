/*
 * provider_twilio.c — Twilio Programmable Messaging (type "twilio").
 * Placeholder until the adapter lands: open() refuses.
 */
#include <errno.h>
#include <stdio.h>

#include "provider.h"

static int tw_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	snprintf(err, errsize, "the twilio adapter is not built into this gridlined yet");
	return -ENOTSUP;
}

const struct provider_ops provider_twilio_ops = {
	.name = "twilio",
	.open = tw_open,
};
