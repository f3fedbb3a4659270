build-dev/tests/test_route: tests/unit/test_route.c include/config.h \
 include/deadline.h include/calendar.h include/text.h include/route.h \
 include/config.h
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/route.h:
include/config.h:
