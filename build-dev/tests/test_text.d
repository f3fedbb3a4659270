build-dev/tests/test_text: tests/unit/test_text.c include/text.h \
 include/util.h
include/text.h:
include/util.h:
