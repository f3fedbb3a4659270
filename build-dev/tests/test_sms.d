build-dev/tests/test_sms: tests/unit/test_sms.c include/sms.h \
 include/text.h include/util.h
include/sms.h:
include/text.h:
include/util.h:
