build-dev/obj/util.o: src/util.c include/log.h include/util.h
include/log.h:
include/util.h:
