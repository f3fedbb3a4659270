build-dev/obj/gridlinectl.o: src/gridlinectl.c include/config.h \
 include/deadline.h include/calendar.h include/text.h include/csv.h \
 include/intake.h include/config.h include/provider.h include/store.h \
 include/ticket.h include/log.h include/stats.h include/store.h \
 include/text.h include/ticket.h include/util.h
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/csv.h:
include/intake.h:
include/config.h:
include/provider.h:
include/store.h:
include/ticket.h:
include/log.h:
include/stats.h:
include/store.h:
include/text.h:
include/ticket.h:
include/util.h:
