build-dev/obj/provider_android.o: src/provider_android.c \
 include/android.h include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/http.h include/log.h \
 include/provider.h include/util.h
include/android.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/http.h:
include/log.h:
include/provider.h:
include/util.h:
