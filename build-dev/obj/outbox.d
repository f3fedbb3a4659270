build-dev/obj/outbox.o: src/outbox.c include/log.h include/outbox.h \
 include/config.h include/deadline.h include/calendar.h include/text.h \
 include/provider.h include/store.h include/ticket.h include/sms.h \
 include/util.h
include/log.h:
include/outbox.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/provider.h:
include/store.h:
include/ticket.h:
include/sms.h:
include/util.h:
