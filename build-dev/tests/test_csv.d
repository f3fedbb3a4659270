build-dev/tests/test_csv: tests/unit/test_csv.c include/csv.h \
 include/util.h
include/csv.h:
include/util.h:
