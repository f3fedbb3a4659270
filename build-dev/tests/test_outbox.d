build-dev/tests/test_outbox: tests/unit/test_outbox.c include/config.h \
 include/deadline.h include/calendar.h include/text.h include/outbox.h \
 include/config.h include/provider.h include/store.h include/ticket.h \
 include/provider.h include/store.h include/util.h
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/outbox.h:
include/config.h:
include/provider.h:
include/store.h:
include/ticket.h:
include/provider.h:
include/store.h:
include/util.h:
