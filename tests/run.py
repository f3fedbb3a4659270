#!/usr/bin/env python3
"""Run every gridline test and end with one line: "N passed, N failed".

Unit tests are the cmocka binaries build/tests/test_*; integration tests
are the Python unittest modules tests/integration/test_*.py, which start
the real binaries. Options: --unit, --integration, -k PATTERN (integration
test name filter). VALGRIND=1 runs the unit binaries under valgrind.
"""
import os
import re
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))


def run_unit():
    passed = failed = 0
    tdir = os.path.join(BUILD, "tests")
    bins = sorted(f for f in os.listdir(tdir) if f.startswith("test_") and not f.endswith(".d")) \
        if os.path.isdir(tdir) else []
    for b in bins:
        cmd = [os.path.join(tdir, b)]
        if os.environ.get("VALGRIND"):
            cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite"] + cmd
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout")
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        out = p.stdout + p.stderr
        ok = re.search(r"\[  PASSED  \] (\d+) test", out)
        bad = re.search(r"\[  FAILED  \] (\d+) test", out)
        np = int(ok.group(1)) if ok else 0
        nf = int(bad.group(1)) if bad else 0
        if p.returncode != 0 and nf == 0:
            nf = 1  # crashed, or valgrind found errors
        passed += np
        failed += nf
        status = "ok" if nf == 0 else "FAILED"
        print(f"unit {b}: {np} passed, {nf} failed ({status})")
        if nf:
            sys.stdout.write(out[-6000:])
    return passed, failed


def run_integration(pattern):
    idir = os.path.join(ROOT, "tests", "integration")
    sys.path.insert(0, idir)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [pattern if "*" in pattern else "*%s*" % pattern]
    suite = loader.discover(idir, pattern="test_*.py", top_level_dir=idir)
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    nfail = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    return res.testsRun - nfail - len(res.skipped), nfail


def main():
    args = sys.argv[1:]
    pattern = None
    if "-k" in args:
        pattern = args[args.index("-k") + 1]
    do_unit = "--integration" not in args
    do_int = "--unit" not in args
    passed = failed = 0
    if do_unit:
        p, f = run_unit()
        passed += p
        failed += f
    if do_int:
        p, f = run_integration(pattern)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
