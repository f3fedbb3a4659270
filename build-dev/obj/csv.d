build-dev/obj/csv.o: src/csv.c include/csv.h include/util.h
include/csv.h:
include/util.h:
