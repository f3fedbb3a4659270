build-dev/obj/config.o: src/config.c include/calendar.h include/config.h \
 include/deadline.h include/calendar.h include/text.h include/log.h \
 include/sms.h include/text.h include/util.h
include/calendar.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/log.h:
include/sms.h:
include/text.h:
include/util.h:
