build-dev/obj/stats.o: src/stats.c include/stats.h include/store.h \
 include/ticket.h include/util.h
include/stats.h:
include/store.h:
include/ticket.h:
include/util.h:
