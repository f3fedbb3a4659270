build-dev/obj/sms.o: src/sms.c include/sms.h include/text.h \
 include/util.h
include/sms.h:
include/text.h:
include/util.h:
