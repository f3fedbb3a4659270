build-dev/obj/daemon.o: src/daemon.c include/calendar.h include/daemon.h \
 include/config.h include/deadline.h include/calendar.h include/text.h \
 include/intake.h include/provider.h include/store.h include/ticket.h \
 include/log.h include/outbox.h include/provider.h include/store.h \
 include/util.h
include/calendar.h:
include/daemon.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/intake.h:
include/provider.h:
include/store.h:
include/ticket.h:
include/log.h:
include/outbox.h:
include/provider.h:
include/store.h:
include/util.h:
