build-dev/obj/gwproto.o: src/gwproto.c include/gwproto.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/jsonbody.h include/util.h
include/gwproto.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/jsonbody.h:
include/util.h:
