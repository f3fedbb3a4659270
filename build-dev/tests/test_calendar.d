build-dev/tests/test_calendar: tests/unit/test_calendar.c \
 include/calendar.h include/util.h
include/calendar.h:
include/util.h:
