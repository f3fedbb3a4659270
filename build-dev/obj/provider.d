build-dev/obj/provider.o: src/provider.c include/provider.h \
 include/config.h include/deadline.h include/calendar.h include/text.h \
 include/util.h
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/util.h:
