build-dev/obj/ticket.o: src/ticket.c include/ticket.h include/util.h
include/ticket.h:
include/util.h:
