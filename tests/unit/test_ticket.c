/*
 * test_ticket.c — the ticket state machine and authority rules, as tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ticket.h"

#define NO (-1)

/* Every (state, action) pair and the state it leads to, or NO. */
static const struct {
	enum ticket_status from;
	enum ticket_action act;
	int to;
} transitions[] = {
	{ TS_NEW, TA_ASSIGN, TS_ASSIGNED },       { TS_NEW, TA_ACCEPT, NO },
	{ TS_NEW, TA_DONE, NO },                  { TS_NEW, TA_CANCEL, TS_CANCELLED },
	{ TS_NEW, TA_RATE_OK, NO },               { TS_NEW, TA_RATE_BAD, NO },
	{ TS_NEW, TA_CLOSE, TS_CLOSED },          { TS_NEW, TA_REOPEN, NO },
	{ TS_NEW, TA_DECLINE, NO },               { TS_NEW, TA_TRANSFER, TS_ASSIGNED },
	{ TS_ASSIGNED, TA_ASSIGN, TS_ASSIGNED },  { TS_ASSIGNED, TA_ACCEPT, TS_ACCEPTED },
	{ TS_ASSIGNED, TA_DONE, TS_DONE },        { TS_ASSIGNED, TA_CANCEL, TS_CANCELLED },
	{ TS_ASSIGNED, TA_RATE_OK, NO },          { TS_ASSIGNED, TA_RATE_BAD, NO },
	{ TS_ASSIGNED, TA_CLOSE, TS_CLOSED },     { TS_ASSIGNED, TA_REOPEN, NO },
	{ TS_ASSIGNED, TA_DECLINE, TS_NEW },      { TS_ASSIGNED, TA_TRANSFER, TS_ASSIGNED },
	{ TS_ACCEPTED, TA_ASSIGN, TS_ASSIGNED },  { TS_ACCEPTED, TA_ACCEPT, NO },
	{ TS_ACCEPTED, TA_DONE, TS_DONE },        { TS_ACCEPTED, TA_CANCEL, TS_CANCELLED },
	{ TS_ACCEPTED, TA_RATE_OK, NO },          { TS_ACCEPTED, TA_RATE_BAD, NO },
	{ TS_ACCEPTED, TA_CLOSE, TS_CLOSED },     { TS_ACCEPTED, TA_REOPEN, NO },
	{ TS_ACCEPTED, TA_DECLINE, TS_NEW },      { TS_ACCEPTED, TA_TRANSFER, TS_ASSIGNED },
	{ TS_DONE, TA_ASSIGN, NO },               { TS_DONE, TA_ACCEPT, NO },
	{ TS_DONE, TA_DONE, NO },                 { TS_DONE, TA_CANCEL, NO },
	{ TS_DONE, TA_RATE_OK, TS_CLOSED },       { TS_DONE, TA_RATE_BAD, TS_ASSIGNED },
	{ TS_DONE, TA_CLOSE, TS_CLOSED },         { TS_DONE, TA_REOPEN, TS_ASSIGNED },
	{ TS_DONE, TA_DECLINE, NO },              { TS_DONE, TA_TRANSFER, NO },
	{ TS_CLOSED, TA_ASSIGN, NO },             { TS_CLOSED, TA_ACCEPT, NO },
	{ TS_CLOSED, TA_DONE, NO },               { TS_CLOSED, TA_CANCEL, NO },
	{ TS_CLOSED, TA_RATE_OK, NO },            { TS_CLOSED, TA_RATE_BAD, NO },
	{ TS_CLOSED, TA_CLOSE, NO },              { TS_CLOSED, TA_REOPEN, TS_ASSIGNED },
	{ TS_CLOSED, TA_DECLINE, NO },            { TS_CLOSED, TA_TRANSFER, NO },
	{ TS_CANCELLED, TA_ASSIGN, NO },          { TS_CANCELLED, TA_ACCEPT, NO },
	{ TS_CANCELLED, TA_DONE, NO },            { TS_CANCELLED, TA_CANCEL, NO },
	{ TS_CANCELLED, TA_RATE_OK, NO },         { TS_CANCELLED, TA_RATE_BAD, NO },
	{ TS_CANCELLED, TA_CLOSE, NO },           { TS_CANCELLED, TA_REOPEN, NO },
	{ TS_CANCELLED, TA_DECLINE, NO },         { TS_CANCELLED, TA_TRANSFER, NO },
};

static void test_transitions(void **state)
{
	assert_int_equal(sizeof(transitions) / sizeof(transitions[0]), _TS_MAX * _TA_MAX);
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++) {
		enum ticket_status to = _TS_MAX;
		int r = ticket_next(transitions[i].from, transitions[i].act, &to);

		if (transitions[i].to == NO) {
			assert_int_equal(r, -EPERM);
			assert_int_equal(to, _TS_MAX);   /* untouched on failure */
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(to, transitions[i].to);
		}
	}
}

static void test_names(void **state)
{
	for (int s = 0; s < _TS_MAX; s++)
		assert_int_equal(ticket_status_from_name(ticket_status_name(s)), s);
	assert_int_equal(ticket_status_from_name("bogus"), -EINVAL);
	assert_string_equal(ticket_status_name(TS_ACCEPTED), "accepted");
	assert_string_equal(ticket_status_label(TS_DONE), "已完成");
	assert_true(ticket_status_open(TS_DONE));
	assert_false(ticket_status_open(TS_CLOSED));
	assert_false(ticket_status_open(TS_CANCELLED));
}

static const char *const g1[] = { "g1" };

static const struct actor resident = { ACTOR_RESIDENT, "+8613800000001", NULL, NULL, 0 };
static const struct actor other_resident = { ACTOR_RESIDENT, "+8613800000002", NULL, NULL, 0 };
static const struct actor w01 = { ACTOR_WORKER, "+8613900000001", "w01", NULL, 0 };
static const struct actor w02 = { ACTOR_WORKER, "+8613900000002", "w02", NULL, 0 };
static const struct actor leader = { ACTOR_LEADER, "+8613900000009", "w00", g1, 1 };
static const struct actor op = { ACTOR_OPERATOR, "+8613900000099", "op1", NULL, 0 };

static const struct {
	const struct actor *actor;
	const char *grid;
	enum ticket_action act;
	int expect;
} authority[] = {
	{ &resident, "g1", TA_CANCEL, 0 },
	{ &resident, "g1", TA_RATE_OK, 0 },
	{ &resident, "g1", TA_RATE_BAD, 0 },
	{ &resident, "g1", TA_ACCEPT, -EACCES },       /* residents cannot act as workers */
	{ &other_resident, "g1", TA_CANCEL, -EACCES }, /* someone else's ticket */
	{ &other_resident, "g1", TA_RATE_OK, -EACCES },
	{ &w01, "g1", TA_ACCEPT, 0 },                  /* the assignee */
	{ &w01, "g1", TA_DONE, 0 },
	{ &w01, "g1", TA_DECLINE, 0 },
	{ &w01, "g1", TA_TRANSFER, 0 },
	{ &w01, "g1", TA_CANCEL, -EACCES },            /* resident's action */
	{ &w01, "g1", TA_CLOSE, -EACCES },
	{ &w02, "g1", TA_ACCEPT, -EACCES },            /* not their ticket */
	{ &w02, "g1", TA_DONE, -EACCES },
	{ &leader, "g1", TA_DONE, 0 },                 /* leader of the ticket's grid */
	{ &leader, "g1", TA_CLOSE, 0 },
	{ &leader, "g1", TA_RATE_OK, -EACCES },
	{ &leader, "g2", TA_DONE, -EACCES },           /* another grid */
	{ &op, "g2", TA_ASSIGN, 0 },
	{ &op, "g2", TA_DONE, 0 },
	{ &op, "g2", TA_CANCEL, -EACCES },
};

static void test_authority(void **state)
{
	for (size_t i = 0; i < sizeof(authority) / sizeof(authority[0]); i++) {
		struct ticket_ref t = { TS_ASSIGNED, "+8613800000001", authority[i].grid, "w01" };

		assert_int_equal(ticket_authorize(authority[i].actor, &t, authority[i].act),
				 authority[i].expect);
	}
}

static void test_unassigned(void **state)
{
	/* a worker cannot take a ticket that has no assignee by SMS */
	struct ticket_ref t = { TS_NEW, "+8613800000001", NULL, NULL };

	assert_int_equal(ticket_authorize(&w01, &t, TA_ACCEPT), -EACCES);
	assert_int_equal(ticket_authorize(&op, &t, TA_ASSIGN), 0);
	assert_int_equal(ticket_authorize(&resident, &t, TA_CANCEL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_authority),
		cmocka_unit_test(test_unassigned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
