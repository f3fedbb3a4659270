build-dev/obj/store.o: src/store.c include/store.h include/ticket.h \
 include/util.h
include/store.h:
include/ticket.h:
include/util.h:
