build-dev/obj/text.o: src/text.c include/text.h include/util.h
include/text.h:
include/util.h:
