build-dev/obj/provider_http.o: src/provider_http.c include/gwproto.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/http.h include/log.h \
 include/provider.h include/util.h
include/gwproto.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/http.h:
include/log.h:
include/provider.h:
include/util.h:
