build-dev/obj/calendar.o: src/calendar.c include/calendar.h \
 include/util.h
include/calendar.h:
include/util.h:
