build-dev/tests/test_stats: tests/unit/test_stats.c include/stats.h \
 include/store.h include/ticket.h include/store.h include/ticket.h
include/stats.h:
include/store.h:
include/ticket.h:
include/store.h:
include/ticket.h:
