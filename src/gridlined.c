/*
 * gridlined — the gridline daemon. Parse arguments, load the
 * configuration, hand over to the event loop (daemon.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "provider.h"

#ifndef GRIDLINE_VERSION
#define GRIDLINE_VERSION "0.1"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: gridlined [-c CONFIG] [--once] [--check-config] [--version]\n"
		   "  -c, --config PATH   configuration file (default %s)\n"
		   "      --once          poll once, process everything, send once, exit\n"
		   "      --check-config  validate the configuration and exit (0 valid, 1 not)\n"
		   "      --version       print the version and exit\n",
		CONFIG_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	enum { OPT_ONCE = 256, OPT_CHECK, OPT_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	bool once = false, check = false;
	struct config *cfg = NULL;
	struct daemon *d = NULL;
	struct diag dg = { 0 };
	char err[512];
	int c, r;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case OPT_ONCE: once = true; break;
		case OPT_CHECK: check = true; break;
		case OPT_VERSION: printf("gridlined %s\n", GRIDLINE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	log_init("gridlined");

	r = config_load(path, &cfg, &dg);
	for (size_t i = 0; i < dg.n; i++)
		fprintf(stderr, "%s\n", dg.lines[i]);
	if (r < 0 && dg.n == 0)   /* not a problem in the file: the file itself */
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
	diag_release(&dg);
	if (r < 0)
		return 1;
	if (!provider_find(cfg->provider.type, err, sizeof(err))) {
		/* the file is valid, but this installation cannot run it */
		fprintf(stderr, "%s:%d: %s\n", path, cfg->provider.line, err);
		config_free(cfg);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		config_free(cfg);
		return 0;
	}
	if (cfg->timezone && cfg->timezone[0])
		setenv("TZ", cfg->timezone, 1);
	tzset();
	log_set_level(cfg->log_level);
	log_set_mask_phones(cfg->mask_phones);

	r = daemon_new(cfg, &d);
	if (r < 0)
		return 1;
	r = daemon_run(d, once);
	daemon_free(d);
	return r < 0 ? 1 : 0;
}
