build-dev/obj/http.o: src/http.c include/http.h include/log.h \
 include/util.h
include/http.h:
include/log.h:
include/util.h:
