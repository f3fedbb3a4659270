build-dev/obj/gridlined.o: src/gridlined.c include/config.h \
 include/deadline.h include/calendar.h include/text.h include/daemon.h \
 include/config.h include/log.h include/provider.h
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/daemon.h:
include/config.h:
include/log.h:
include/provider.h:
