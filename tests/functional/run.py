#!/usr/bin/env python3
#
# Runs the guest-level functional tests and prints TAP.
#
# Discovers tests/functional/test_*.py.  A test is a module-level function
# named test_* (taking no argument, or one: a guest.Guest) or a method of a
# unittest.TestCase (typically guest.GuestTestCase).  Each test normally
# boots the guest once.  raise guest.Skip('why') (unittest.SkipTest) skips.
#
# Usage: tests/functional/run.py [-k SUBSTRING] [--list] [FILE...]
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import glob
import importlib.util
import inspect
import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import guest  # noqa: E402


class Test:
    def __init__(self, name, run):
        self.name = name
        self.run = run     # returns None, or raises


def _function_test(name, fn):
    def run():
        if not inspect.signature(fn).parameters:
            return fn()
        g = guest.Guest(name)
        try:
            fn(g)
        finally:
            g.cleanup()
    return Test(name, run)


def _unittest_test(name, case):
    def run():
        result = unittest.TestResult()
        case.run(result)
        if result.skipped:
            raise unittest.SkipTest(result.skipped[0][1])
        problems = result.failures + result.errors
        if problems:
            raise _Reported(problems[0][1])
    return Test(name, run)


class _Reported(Exception):
    """A failure whose text (a formatted traceback) is already known."""


def load_tests(path):
    """Returns the tests in one file, or a failing pseudo-test."""
    modname = os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
    except Exception:
        text = traceback.format_exc()

        def fail():
            raise _Reported(text)
        return [Test(modname + ' (import)', fail)]

    tests = []
    loader = unittest.TestLoader()
    # Definition order, so files read top-down like the run.
    for attr, obj in list(vars(module).items()):
        if getattr(obj, '__module__', None) != modname:
            continue
        if inspect.isfunction(obj) and attr.startswith('test'):
            tests.append(_function_test('%s.%s' % (modname, attr), obj))
        elif inspect.isclass(obj) and issubclass(obj, unittest.TestCase):
            for case in loader.loadTestsFromTestCase(obj):
                tests.append(_unittest_test(
                    '%s.%s.%s' % (modname, attr, case._testMethodName),
                    case))
    return tests


def diag(text):
    for line in str(text).rstrip('\n').split('\n'):
        print('# ' + line if line else '#')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('-k', dest='pattern',
                        help='only tests whose name contains this')
    parser.add_argument('--list', action='store_true',
                        help='list the tests and exit')
    parser.add_argument('files', nargs='*',
                        help='test files (default: all test_*.py here)')
    args = parser.parse_args()

    files = args.files or sorted(glob.glob(os.path.join(HERE, 'test_*.py')))
    tests = [t for f in files for t in load_tests(f)
             if not args.pattern or args.pattern in t.name]
    if args.list:
        for t in tests:
            print(t.name)
        return 0

    missing = guest.missing_prerequisites()
    passed = failed = skipped = 0
    print('1..%d' % len(tests))
    sys.stdout.flush()
    for n, t in enumerate(tests, 1):
        start = time.monotonic()
        try:
            if missing:
                raise unittest.SkipTest(missing)
            t.run()
        except unittest.SkipTest as e:
            skipped += 1
            print('ok %d - %s # SKIP %s' % (n, t.name, e))
        except _Reported as e:
            failed += 1
            print('not ok %d - %s' % (n, t.name))
            diag(str(e))
        except AssertionError as e:
            failed += 1
            print('not ok %d - %s' % (n, t.name))
            diag(str(e) or traceback.format_exc())
        except Exception:
            failed += 1
            print('not ok %d - %s' % (n, t.name))
            diag(traceback.format_exc())
        else:
            passed += 1
            print('ok %d - %s' % (n, t.name))
            diag('%.1fs' % (time.monotonic() - start))
        sys.stdout.flush()
    print('functional: %d passed, %d failed, %d skipped'
          % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
