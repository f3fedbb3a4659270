build-dev/obj/android.o: src/android.c include/android.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/jsonbody.h include/util.h
include/android.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/jsonbody.h:
include/util.h:
