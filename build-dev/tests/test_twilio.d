build-dev/tests/test_twilio: tests/unit/test_twilio.c include/twilio.h \
 include/provider.h include/config.h include/deadline.h \
 include/calendar.h include/text.h
include/twilio.h:
include/provider.h:
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
