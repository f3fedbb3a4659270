/*
 * test_route.c — who owns a new ticket: register, address, operators;
 * the category rules and their fall-backs. Uses a real config file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "route.h"

static const char conf_text[] =
	"database = \"/tmp/unused.db\";\n"
	"provider = { type = \"spool\"; inbox = \"/tmp/in\"; outbox = \"/tmp/out\"; };\n"
	"grids = (\n"
	"  { id = \"g1\"; name = \"第一网格\"; worker = \"w01\"; leader = \"w00\";\n"
	"    addresses = [ \"解放南路281号院\", \"解放南路\" ]; },\n"
	"  { id = \"g2\"; name = \"第二网格\"; worker = \"w02\"; addresses = [ \"寇庄西路6号院\" ]; },\n"
	"  { id = \"g3\"; name = \"第三网格\"; addresses = [ \"菜园小区\" ]; }\n"
	");\n"
	"workers = (\n"
	"  { id = \"w00\"; name = \"庞丽红\"; phone = \"+8613900000009\"; role = \"leader\"; },\n"
	"  { id = \"w01\"; name = \"李娜\"; phone = \"+8613900000001\"; role = \"grid\"; },\n"
	"  { id = \"w02\"; name = \"王强\"; phone = \"+8613900000002\"; role = \"grid\"; },\n"
	"  { id = \"v01\"; name = \"广欣物业\"; phone = \"+8613900000100\"; role = \"vendor\"; },\n"
	"  { id = \"s01\"; name = \"社保员\"; phone = \"+8613900000201\"; role = \"specialist\"; }\n"
	");\n"
	"categories = (\n"
	"  { id = \"repair\"; name = \"报修\"; keywords = [ \"报修\" ]; assign = \"role\"; role = \"vendor\"; copy_grid = true; },\n"
	"  { id = \"errand\"; name = \"跑腿\"; keywords = [ \"跑腿\" ]; assign = \"grid\"; },\n"
	"  { id = \"service\"; name = \"办事\"; keywords = [ \"办事\" ]; assign = \"worker\"; worker = \"s01\"; },\n"
	"  { id = \"complaint\"; name = \"投诉\"; keywords = [ \"投诉\" ]; assign = \"operators\"; },\n"
	"  { id = \"elder\"; name = \"助老\"; keywords = [ \"助老\" ]; assign = \"role\"; role = \"operator\"; }\n"
	");\n";

static int setup(void **state)
{
	char path[] = "/tmp/test_route_XXXXXX";
	struct diag d = { 0 };
	struct config *c = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, conf_text, sizeof(conf_text) - 1), (ssize_t)sizeof(conf_text) - 1);
	close(fd);
	int r = config_load(path, &c, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	unlink(path);
	diag_release(&d);
	assert_int_equal(r, 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	config_free(*state);
	return 0;
}

static const struct {
	const char *name;
	const char *category;        /* NULL: unclassified */
	const char *reg_grid, *reg_address, *text;
	const char *grid, *assignee, *copy, *address;
	enum route_source source;
} cases[] = {
	/* register grid wins over an address in the text */
	{ "register grid", "errand", "g2", "寇庄西路6号院3单元", "菜园小区 买菜",
	  "g2", "w02", NULL, "寇庄西路6号院3单元", ROUTE_REGISTER },
	/* register without a grid: the register address gives it */
	{ "register address", "errand", "", "寇庄西路6号院1单元", "买菜",
	  "g2", "w02", NULL, "寇庄西路6号院1单元", ROUTE_REGISTER },
	/* unregistered: the address in the text */
	{ "text address", "errand", NULL, NULL, "寇庄西路6号院 买菜",
	  "g2", "w02", NULL, "寇庄西路6号院", ROUTE_ADDRESS },
	/* longest pattern wins: 解放南路281号院 over 解放南路 */
	{ "longest match", "errand", NULL, NULL, "解放南路281号院2号楼 买菜",
	  "g1", "w01", NULL, "解放南路281号院", ROUTE_ADDRESS },
	{ "shorter pattern", "errand", NULL, NULL, "解放南路路口 买菜",
	  "g1", "w01", NULL, "解放南路", ROUTE_ADDRESS },
	/* nothing known: operators' queue */
	{ "unknown", "errand", NULL, NULL, "买菜", NULL, NULL, NULL, NULL, ROUTE_NONE },
	/* repairs go to the vendor, copying the grid worker */
	{ "repair vendor + copy", "repair", NULL, NULL, "解放南路281号院 下水管堵了",
	  "g1", "v01", "w01", "解放南路281号院", ROUTE_ADDRESS },
	/* vendor even without a grid; nobody to copy */
	{ "repair no grid", "repair", NULL, NULL, "下水管堵了", NULL, "v01", NULL, NULL, ROUTE_NONE },
	/* fixed worker */
	{ "service fixed worker", "service", NULL, NULL, "寇庄西路6号院 独生子女登记",
	  "g2", "s01", NULL, "寇庄西路6号院", ROUTE_ADDRESS },
	/* grid without a worker: errand falls to the operators' queue */
	{ "grid without worker", "errand", NULL, NULL, "菜园小区 买菜",
	  "g3", NULL, NULL, "菜园小区", ROUTE_ADDRESS },
	/* explicit operators' queue */
	{ "operators rule", "complaint", NULL, NULL, "解放南路281号院 太吵",
	  "g1", NULL, NULL, "解放南路281号院", ROUTE_ADDRESS },
	/* a role nobody has: the grid worker */
	{ "role fallback", "elder", NULL, NULL, "寇庄西路6号院 陪同看病",
	  "g2", "w02", NULL, "寇庄西路6号院", ROUTE_ADDRESS },
	/* unclassified: a grid when known, never an assignee */
	{ "unclassified", NULL, NULL, NULL, "寇庄西路6号院 谢谢你们",
	  "g2", NULL, NULL, "寇庄西路6号院", ROUTE_ADDRESS },
	/* a register grid that no longer exists in the config: fall through */
	{ "stale register grid", "errand", "g9", "", "菜园小区", "g3", NULL, NULL, "菜园小区",
	  ROUTE_ADDRESS },
};

static void test_cases(void **state)
{
	const struct config *c = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct category *cat = cases[i].category ? config_category(c, cases[i].category) : NULL;
		struct route r;

		print_message("case: %s\n", cases[i].name);
		if (cases[i].category)
			assert_non_null(cat);
		route_ticket(c, cat, cases[i].reg_grid, cases[i].reg_address, cases[i].text, &r);
		if (cases[i].grid)
			assert_string_equal(r.grid ? r.grid->id : "(null)", cases[i].grid);
		else
			assert_null(r.grid);
		if (cases[i].assignee)
			assert_string_equal(r.assignee ? r.assignee->id : "(null)", cases[i].assignee);
		else
			assert_null(r.assignee);
		if (cases[i].copy)
			assert_string_equal(r.copy ? r.copy->id : "(null)", cases[i].copy);
		else
			assert_null(r.copy);
		if (cases[i].address)
			assert_string_equal(r.address ? r.address : "(null)", cases[i].address);
		else
			assert_null(r.address);
		assert_int_equal(r.source, cases[i].source);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
