build-dev/tests/test_config: tests/unit/test_config.c include/config.h \
 include/deadline.h include/calendar.h include/text.h include/log.h \
 include/sms.h include/text.h include/util.h
include/config.h:
include/deadline.h:
include/calendar.h:
include/text.h:
include/log.h:
include/sms.h:
include/text.h:
include/util.h:
