build-dev/tests/test_ticket: tests/unit/test_ticket.c include/ticket.h
include/ticket.h:
