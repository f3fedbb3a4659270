build-dev/obj/log.o: src/log.c include/log.h include/text.h \
 include/util.h
include/log.h:
include/text.h:
include/util.h:
