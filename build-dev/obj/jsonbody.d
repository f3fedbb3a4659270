build-dev/obj/jsonbody.o: src/jsonbody.c include/jsonbody.h \
 include/text.h include/util.h
include/jsonbody.h:
include/text.h:
include/util.h:
