build-dev/tests/test_deadline: tests/unit/test_deadline.c \
 include/deadline.h include/calendar.h
include/deadline.h:
include/calendar.h:
