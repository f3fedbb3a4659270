/*
 * net.c — the entry point of the network module gridline-net.so: the
 * table of network adapters and the URL check that config.c asks for
 * through provider_url_problem(). Everything in src/net/ is built into
 * this module (and, for the unit tests, into a static archive); the
 * daemon loads it only when the configuration names a network provider.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "provider.h"
#include "util.h"

static const struct provider_ops *const net_ops[] = {
	&provider_http_ops,
	&provider_twilio_ops,
	&provider_android_ops,
	NULL,
};

/* See provider_url_problem() in provider.h. */
static const char *net_url_problem(const char *url, char *why, size_t size)
{
	const char *host = NULL;
	char *user = NULL, *pass = NULL;
	bool login;
	CURLUcode r;
	CURLU *u;

	if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	if (!host || !*host || *host == '/')
		return "must start with http:// or https:// and a host name";
	u = curl_url();
	if (!u)
		fatal("out of memory");
	r = curl_url_set(u, CURLUPART_URL, url, 0);
	if (r == CURLUE_OK) {
		curl_url_get(u, CURLUPART_USER, &user, 0);
		curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	}
	curl_url_cleanup(u);
	login = user || pass;
	curl_free(user);
	curl_free(pass);
	if (r != CURLUE_OK) {
		snprintf(why, size, "is not a valid URL: %s", curl_url_strerror(r));
		return why;
	}
	return login ? "must not hold a user name or password" : NULL;
}

/* Looked up by name (PROVIDER_MODULE_SYMBOL) after dlopen(). */
const struct provider_module gridline_net_module = {
	.abi = PROVIDER_MODULE_ABI,
	.ops_size = sizeof(struct provider_ops),
	.ops = net_ops,
	.url_problem = net_url_problem,
};
