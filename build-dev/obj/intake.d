build-dev/obj/intake.o: src/intake.c include/intake.h include/config.h \
 include/deadline.h include/calendar.h include/text.h include/provider.h \
 include/store.h include/ticket.h include/log.h include/route.h \
 include/sms.h include/text.h include/ticket.h include/util.h
include/intake.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/provider.h:
include/store.h:
include/ticket.h:
include/log.h:
include/route.h:
include/sms.h:
include/text.h:
include/ticket.h:
include/util.h:
