/*
 * provider.c — finding provider adapters, loading the network module, and
 * shared helpers.
 *
 * The spool adapter is built in. The network adapters are in
 * gridline-net.so (src/net/), looked for first next to the running
 * executable (a build tree: build/gridlined beside build/gridline-net.so),
 * then in GRIDLINE_MODULEDIR (set by the Makefile, $(PREFIX)/lib/gridline).
 * Where the module's objects are linked into the executable itself (the
 * unit tests), the weak reference below finds them and nothing is loaded.
 * The module stays loaded until exit: adapters' code must outlive every
 * provider opened from it, including across SIGHUP.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "provider.h"
#include "util.h"

#ifndef GRIDLINE_MODULEDIR
#define GRIDLINE_MODULEDIR "/usr/local/lib/gridline"
#endif

/* Defined only where src/net/ is linked in statically. */
extern const struct provider_module gridline_net_module __attribute__((weak));

static const struct provider_module *net_module;
static char net_error[PATH_MAX + 256];   /* why the last attempt to load it failed */

/* dlopen path and check its export; 0 or -1 with net_error set. */
static int module_open(const char *path)
{
	const struct provider_module *m;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(net_error, sizeof(net_error), "%s", dlerror());
		return -1;
	}
	m = dlsym(h, PROVIDER_MODULE_SYMBOL);
	if (!m || m->abi != PROVIDER_MODULE_ABI || m->ops_size != sizeof(struct provider_ops)) {
		snprintf(net_error, sizeof(net_error), "%s: %s", path,
			 m ? "built for another gridlined (ABI differs)"
			   : "not a gridline network module");
		dlclose(h);
		return -1;
	}
	net_module = m;
	return 0;
}

/* The directory of the running executable into buf, or "" if unknown. */
static void exe_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= size - 1) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	else
		buf[0] = '\0';
}

static const struct provider_module *module_get(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	/* a failure is not remembered: a module installed later is found at reload */
	if (net_module)
		return net_module;
	if (&gridline_net_module) {
		net_module = &gridline_net_module;
		return net_module;
	}
	exe_dir(dir, sizeof(dir));
	if (dir[0]) {
		snprintf(path, sizeof(path), "%s/%s", dir, PROVIDER_MODULE_FILE);
		if (access(path, F_OK) == 0)
			return module_open(path) == 0 ? net_module : NULL;
	}
	module_open(GRIDLINE_MODULEDIR "/" PROVIDER_MODULE_FILE);
	return net_module;
}

const struct provider_ops *provider_find(const char *name, char *err, size_t errsize)
{
	const struct provider_module *m;

	if (strcmp(name, provider_spool_ops.name) == 0)
		return &provider_spool_ops;
	m = module_get();
	if (!m) {
		snprintf(err, errsize, "provider type '%s' needs gridline's network module: %s",
			 name, net_error);
		return NULL;
	}
	for (size_t i = 0; m->ops[i]; i++)
		if (strcmp(m->ops[i]->name, name) == 0)
			return m->ops[i];
	snprintf(err, errsize, "no provider type '%s'", name);
	return NULL;
}

const char *provider_url_problem(const char *url, char *why, size_t size)
{
	const struct provider_module *m = module_get();

	if (!m) {
		snprintf(why, size, "cannot be checked without gridline's network module: %s",
			 net_error);
		return why;
	}
	return m->url_problem(url, why, size);
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
