build-dev/obj/deadline.o: src/deadline.c include/deadline.h \
 include/calendar.h
include/deadline.h:
include/calendar.h:
