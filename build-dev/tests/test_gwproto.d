build-dev/tests/test_gwproto: tests/unit/test_gwproto.c include/gwproto.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h
include/gwproto.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
