build-dev/tests/test_android: tests/unit/test_android.c include/android.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h include/util.h
include/android.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/util.h:
