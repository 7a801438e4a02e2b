#
# Helpers for guest-level functional tests (see run.py).
#
# A test receives a Guest, asks it for scratch disks, and boots the test
# guest once with a device topology and an in-guest shell script:
#
#     def test_something(guest):
#         disk = guest.disk('64M')
#         r = guest.boot('''
#             check identify nvme id-ctrl /dev/nvme0
#             check write 'echo hi | dd of=/dev/nvme0n1 bs=512 count=1'
#         ''', guest.drive(disk, 'd0') +
#             ['-device', 'nvme,serial=deadbeef,drive=d0'])
#         r.assert_ok()
#         assert 'something' in r.output
#
# Inside the script, "check NAME CMD [ARGS...]" runs one check and records
# its result without stopping the script (a single CMD argument is shell
# text, run with eval); "check_fails NAME CMD..." expects failure.  Many
# checks per boot keep the suite fast under TCG.
#
# SPDX-License-Identifier: GPL-2.0-or-later

import importlib.util
import os
import re
import shutil
import tempfile
import textwrap
import time
import unittest

from unittest import SkipTest as Skip  # noqa: F401 (re-exported)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _load_runner():
    # run-guest.py is not an importable module name.
    path = os.path.join(REPO, 'scripts', 'run-guest.py')
    spec = importlib.util.spec_from_file_location('run_guest', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
GuestError = runner.GuestError

LOG_DIR = os.environ.get('FUNCTIONAL_LOG_DIR',
                         os.path.join(runner.BUILD, 'functional-logs'))
TIMEOUT = float(os.environ.get('FUNCTIONAL_TIMEOUT', 300))

PRELUDE = r'''
_failed=0
_run() {
    # Shell text runs in a subshell so that "exit" ends only the check.
    if [ $# -eq 1 ]; then (eval "$1"); else "$@"; fi
}
check() {
    _name=$1; shift
    if _run "$@"; then
        echo "CHECK-PASS $_name"
    else
        echo "CHECK-FAIL $_name (exit $?)"
        _failed=$((_failed + 1))
    fi
}
check_fails() {
    _name=$1; shift
    if _run "$@"; then
        echo "CHECK-FAIL $_name (succeeded, expected failure)"
        _failed=$((_failed + 1))
    else
        echo "CHECK-PASS $_name"
    fi
}
'''
# Without an explicit exit, a script's status says whether all checks passed.
EPILOGUE = '\n[ "$_failed" -eq 0 ]\n'

CHECK_RE = re.compile(r'^CHECK-(PASS|FAIL) (\S+)(.*)$', re.MULTILINE)


class GuestFailure(AssertionError):
    """The guest did not finish: timeout, crash or QEMU error."""


class Result:
    """What one boot produced."""

    def __init__(self, status, console, log, duration):
        self.status = status
        self.console = console
        self.output = runner.script_output(console)
        self.log = log
        self.duration = duration
        # [(name, passed, detail)] in the order the guest ran them.
        self.checks = [(m.group(2), m.group(1) == 'PASS',
                        m.group(3).strip())
                       for m in CHECK_RE.finditer(self.output)]

    @property
    def failed_checks(self):
        return [name for name, passed, _ in self.checks if not passed]

    def check_passed(self, name):
        return any(n == name and ok for n, ok, _ in self.checks)

    def tail(self, lines=40):
        return '\n'.join(self.console.rstrip('\n').split('\n')[-lines:])

    def assert_ok(self, killed=False):
        """Fails unless the script exited 0 (or, with killed, had QEMU
        killed by "HOST-KILL: now") and no check failed."""
        problems = []
        if self.failed_checks:
            problems.append('failed checks: ' + ', '.join(self.failed_checks))
        if self.status != (runner.KILLED if killed else 0):
            problems.append('guest script ended with %s' % self.status)
        if problems:
            raise AssertionError('; '.join(problems) +
                                 '\nlog: %s\n%s' % (self.log, self.tail()))


class Guest:
    """Per-test state: scratch directory, disks, console logs."""

    def __init__(self, name):
        self.name = name
        self.scratch = tempfile.mkdtemp(prefix='nvme-functional-')
        self.boots = 0

    def cleanup(self):
        shutil.rmtree(self.scratch, ignore_errors=True)

    def disk(self, size, name=None):
        """Creates a sparse raw image; size in bytes or with K/M/G suffix."""
        if isinstance(size, str):
            units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
            suffix = size[-1:].upper()
            size = (int(size[:-1]) * units[suffix] if suffix in units
                    else int(size))
        if name is None:
            name = 'disk%d.img' % len(os.listdir(self.scratch))
        path = os.path.join(self.scratch, name)
        with open(path, 'wb') as f:
            f.truncate(size)
        return path

    @staticmethod
    def drive(path, drive_id, fmt='raw', **opts):
        """-drive arguments for a backend the device refers to by id."""
        spec = 'file=%s,if=none,id=%s,format=%s' % (path, drive_id, fmt)
        for key, value in opts.items():
            spec += ',%s=%s' % (key.replace('_', '-'), value)
        return ['-drive', spec]

    def boot(self, script, qemu_args=(), timeout=None, kernel_args=''):
        """Boots once, runs script; returns a Result.

        Raises GuestFailure when the guest gives no exit status."""
        self.boots += 1
        os.makedirs(LOG_DIR, exist_ok=True)
        base = re.sub(r'[^\w.-]+', '_', self.name)
        suffix = '' if self.boots == 1 else '-%d' % self.boots
        log = os.path.join(LOG_DIR, base + suffix + '.log')
        start = time.monotonic()
        try:
            status, console = runner.run_guest(
                list(qemu_args),
                PRELUDE + textwrap.dedent(script) + EPILOGUE,
                timeout=timeout or TIMEOUT, log=log, kernel_args=kernel_args)
        except GuestError as e:
            tail = '\n'.join(e.console.rstrip('\n').split('\n')[-40:])
            raise GuestFailure('%s\nlog: %s\n%s' % (e, log, tail)) from None
        return Result(status, console, log, time.monotonic() - start)


    def boot_checks(self, script, qemu_args, checks, killed=False, **kw):
        """Boots; fails unless the script ran exactly checks checks, all
        passing (and, with killed, had QEMU killed by HOST-KILL)."""
        r = self.boot(script, qemu_args, **kw)
        r.assert_ok(killed=killed)
        assert len(r.checks) == checks, r.checks
        return r


class GuestTestCase(unittest.TestCase):
    """Base for unittest-style tests: self.guest is a fresh Guest."""

    def setUp(self):
        self.guest = Guest(self.id())
        self.addCleanup(self.guest.cleanup)


def missing_prerequisites():
    return runner.missing_prerequisites()
