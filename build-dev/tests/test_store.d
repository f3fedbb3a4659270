build-dev/tests/test_store: tests/unit/test_store.c include/store.h \
 include/ticket.h include/ticket.h
include/store.h:
include/ticket.h:
include/ticket.h:
