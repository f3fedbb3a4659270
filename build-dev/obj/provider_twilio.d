build-dev/obj/provider_twilio.o: src/provider_twilio.c include/http.h \
 include/log.h include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/twilio.h include/provider.h \
 include/util.h
include/http.h:
include/log.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/twilio.h:
include/provider.h:
include/util.h:
