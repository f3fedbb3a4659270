build-dev/obj/route.o: src/route.c include/route.h include/config.h \
 include/deadline.h include/calendar.h include/text.h
include/route.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
