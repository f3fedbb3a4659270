build-dev/obj/provider_spool.o: src/provider_spool.c include/log.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/text.h include/util.h
include/log.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/text.h:
include/util.h:
