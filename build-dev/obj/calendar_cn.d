build-dev/obj/calendar_cn.o: src/calendar_cn.c include/calendar.h
include/calendar.h:
