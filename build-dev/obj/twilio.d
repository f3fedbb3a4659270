build-dev/obj/twilio.o: src/twilio.c include/jsonbody.h include/twilio.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/util.h
include/jsonbody.h:
include/twilio.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/util.h:
