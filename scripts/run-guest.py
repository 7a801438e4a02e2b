#!/usr/bin/env python3
#
# Boots the test guest built by scripts/guest-image.sh under QEMU, runs a
# shell script inside it and reports the script's exit status.
#
# The script travels as a second initramfs (a tiny cpio holding /test.sh)
# appended to the base one; the guest's /init runs it, prints
# "GUEST-EXIT-STATUS=<rc>" and powers off.
#
# Usage:
#   scripts/run-guest.py [--timeout S] [--log FILE]
#                        [--script FILE | --command 'sh text'] [--interactive]
#                        [-- <extra qemu args>]
#
# Environment: QEMU (binary), ACCEL=kvm (use KVM instead of TCG), GUEST_DIR,
# GUEST_FIRMWARE=seabios (default qboot: it boots faster and, unlike
# SeaBIOS, probes no disks, so the NVMe controller is first touched by Linux).
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD', os.path.join(REPO, 'build'))
GUEST_DIR = os.environ.get('GUEST_DIR', os.path.join(BUILD, 'guest'))
QEMU_BUILD = os.environ.get('QEMU_BUILD', os.path.join(BUILD, 'qemu-build'))
FIRMWARE_DIRS = ['/usr/share/seabios', '/usr/share/qemu']
KERNEL_ARGS = 'console=ttyS0 quiet panic=-1'

STATUS_RE = re.compile(r'^GUEST-EXIT-STATUS=(\d+)\s*$', re.MULTILINE)
# A guest script asks the host to run a monitor command (hot-plug, ...) by
# printing this, e.g. 'echo "HOST-HMP: device_del nvme1"', or a QMP command:
# 'echo "HOST-QMP: {\"execute\": \"nvme-power-cycle\", ...}"'.
# 'echo "HOST-KILL: now"' kills QEMU with SIGKILL (crash-consistency tests).
HMP_RE = re.compile(rb'HOST-(HMP|QMP|KILL): ([^\r\n]*)[\r\n]')
# The status run_guest reports for a guest that asked to be killed
KILLED = 'killed'
BEGIN_MARKER = 'GUEST-SCRIPT-BEGIN'
# Terminal control sequences SeaBIOS and the shell emit; noise in logs.
ESCAPE_RE = re.compile(r'\x1b(\[[0-9;?]*[A-Za-z]|[()][A-Z0-9]|[A-Za-z])')


class GuestError(Exception):
    """The guest did not report an exit status (timeout, crash, QEMU error).

    console holds everything captured so far."""

    def __init__(self, message, console='', timed_out=False):
        super().__init__(message)
        self.console = console
        self.timed_out = timed_out


def qemu_binary():
    return os.environ.get('QEMU',
                          os.path.join(QEMU_BUILD, 'qemu-system-x86_64'))


def guest_files():
    return (os.path.join(GUEST_DIR, 'vmlinuz'),
            os.path.join(GUEST_DIR, 'initrd.img'))


def missing_prerequisites():
    """Returns why the guest cannot be booted, or None if it can."""
    qemu = qemu_binary()
    if not os.access(qemu, os.X_OK):
        return 'no QEMU binary at %s' % qemu
    for path in guest_files():
        if not os.path.exists(path):
            return 'no %s (run scripts/guest-image.sh)' % path
    return None


def _cpio_newc(files):
    """Builds an uncompressed newc cpio archive from {name: (mode, bytes)}."""
    out = bytearray()

    def entry(ino, name, mode, data):
        name_b = name.encode() + b'\0'
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0,
                  len(name_b), 0)
        out.extend(b'070701' + b''.join(b'%08X' % f for f in fields))
        out.extend(name_b)
        out.extend(b'\0' * (-len(out) % 4))
        out.extend(data)
        out.extend(b'\0' * (-len(out) % 4))

    for ino, (name, (mode, data)) in enumerate(sorted(files.items()), 1):
        entry(ino, name, mode, data)
    entry(0, 'TRAILER!!!', 0, b'')
    return bytes(out)


def _make_initrd(path, script):
    """Writes the base initrd plus a cpio carrying /test.sh to path."""
    with open(path, 'wb') as out:
        with open(guest_files()[1], 'rb') as base:
            shutil.copyfileobj(base, out, 1 << 20)
        # The kernel only looks for a following archive at 4-byte
        # alignment; zero padding between archives is skipped.
        out.write(b'\0' * (-out.tell() % 512))
        out.write(_cpio_newc({'test.sh': (0o100755, script.encode())}))


def qemu_command(qemu_args=(), initrd=None, kernel_args=''):
    """Returns the QEMU command line for booting the guest."""
    kernel, base_initrd = guest_files()
    if os.environ.get('ACCEL') == 'kvm':
        accel = ['-accel', 'kvm', '-cpu', 'host']
    else:
        accel = ['-accel', 'tcg,thread=multi', '-cpu', 'max']
    cmd = [qemu_binary()]
    for d in FIRMWARE_DIRS:
        cmd += ['-L', d]
    if os.environ.get('GUEST_FIRMWARE', 'qboot') == 'qboot':
        # SeaBIOS would probe (and initialise) every disk and NVMe
        # controller before Linux sees it, and is slower.
        cmd += ['-bios', 'qboot.rom']
    # -nodefaults drops the VGA card (its option ROM is slow under TCG), the
    # NIC and the CD-ROM; -nographic alone would keep them.
    cmd += ['-machine', 'q35', '-m', '1G', '-smp', '2', '-nodefaults',
            '-nographic', '-serial', 'mon:stdio', '-no-reboot'] + accel
    cmd += ['-kernel', kernel, '-initrd', initrd or base_initrd,
            '-append', (KERNEL_ARGS + ' ' + kernel_args).strip()]
    return cmd + list(qemu_args)


class _Monitor:
    """HMP over a unix socket, for the commands a guest script asks for."""

    def __init__(self, path):
        self.path = path
        self.sock = None

    def run(self, command):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(self.path)
            self._until_prompt()
        self.sock.sendall(command.encode() + b'\n')
        return self._until_prompt()

    def _until_prompt(self):
        data = b''
        while not data.endswith(b'(qemu) '):
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.decode(errors='replace')

    def close(self):
        if self.sock:
            self.sock.close()


class _Qmp:
    """QMP over a unix socket: 'HOST-QMP: {"execute": ...}' lines."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.f = None

    def _reply(self):
        while True:
            line = self.f.readline()
            if not line:
                return 'QMP connection closed'
            msg = json.loads(line)
            if 'return' in msg or 'error' in msg:
                return json.dumps(msg)

    def run(self, command):
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(self.path)
            self.f = self.sock.makefile('r')
            self.f.readline()                   # greeting
            self.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            self._reply()
        self.sock.sendall(command.encode() + b'\n')
        return self._reply()

    def close(self):
        if self.sock:
            self.sock.close()


def _clean(raw):
    text = raw.decode('utf-8', errors='replace').replace('\r', '')
    return ESCAPE_RE.sub('', text)


def script_output(console):
    """The part of the console text written by the in-guest script."""
    start = console.find(BEGIN_MARKER + '\n')
    if start < 0:
        return ''
    text = console[start + len(BEGIN_MARKER) + 1:]
    m = None
    for m in STATUS_RE.finditer(text):
        pass
    if m:
        # /init prints an empty line before the status marker.
        text = text[:m.start()]
        if text.endswith('\n\n'):
            text = text[:-1]
    return text


def run_guest(qemu_args, script, timeout=300, log=None, kernel_args='',
              echo=False):
    """Boots the guest, runs script inside it.

    script is shell text, or a pathlib.Path (any os.PathLike) to read it
    from.  Returns (status, console_text).  Raises GuestError when the guest
    gives no status within timeout seconds or QEMU fails.  log, when given,
    is a file path that receives the console as it goes; echo copies it to
    stdout as well."""
    if isinstance(script, os.PathLike):
        with open(script) as f:
            script = f.read()
    if not script.endswith('\n'):
        script += '\n'
    with tempfile.TemporaryDirectory(prefix='run-guest-') as tmp:
        initrd = os.path.join(tmp, 'initrd.img')
        _make_initrd(initrd, script)
        hmp_path = os.path.join(tmp, 'hmp.sock')
        cmd = qemu_command(qemu_args, initrd, kernel_args)
        cmd += ['-monitor', 'unix:%s,server=on,wait=off' % hmp_path]
        qmp_path = os.path.join(tmp, 'qmp.sock')
        cmd += ['-qmp', 'unix:%s,server=on,wait=off' % qmp_path]
        monitors = {b'HMP': _Monitor(hmp_path), b'QMP': _Qmp(qmp_path)}
        killed = []
        logf = open(log, 'wb') if log else None
        chunks = []
        try:
            if logf:
                logf.write(('# %s\n' % ' '.join(cmd)).encode())
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)

            def reader():
                pending = b''
                while True:
                    data = proc.stdout.read1(65536)
                    if not data:
                        break
                    chunks.append(data)
                    pending += data
                    done = 0
                    for m in HMP_RE.finditer(pending):
                        kind, command = m.group(1), m.group(2).decode()
                        if kind == b'KILL':
                            killed.append(True)
                            proc.kill()
                            break
                        reply = monitors[kind].run(command)
                        done = m.end()
                        if logf:
                            # The monitor echoes the command line first.
                            reply = ESCAPE_RE.sub('', reply).replace('\r', '')
                            if kind == b'HMP':
                                reply = reply.split('\n', 1)[-1]
                            logf.write(('\n# %s %s\n%s\n' % (
                                kind.decode(), command, reply)).encode())
                    pending = pending[max(done,
                                          pending.rfind(b'\n') + 1):]
                    if logf:
                        logf.write(data)
                        logf.flush()
                    if echo:
                        sys.stdout.buffer.write(data)
                        sys.stdout.flush()

            thread = threading.Thread(target=reader, daemon=True)
            thread.start()
            try:
                rc = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
                timed_out = True
            thread.join(10)
            console = _clean(b''.join(chunks))
            if logf:
                note = ('\n# timed out after %ss\n' % timeout if timed_out
                        else '\n# qemu exit code %d\n' % rc)
                logf.write(note.encode())
        finally:
            for m in monitors.values():
                m.close()
            if logf:
                logf.close()
    if timed_out:
        raise GuestError('guest timed out after %ss' % timeout, console,
                         timed_out=True)
    if killed:
        return KILLED, console
    matches = STATUS_RE.findall(console)
    if rc != 0:
        raise GuestError('QEMU exited with code %d' % rc, console)
    if not matches:
        raise GuestError('guest powered off without an exit status',
                         console)
    return int(matches[-1]), console


def run_interactive(qemu_args, log=None, kernel_args=''):
    """Boots the guest to a shell with the console on this terminal."""
    cmd = qemu_command(qemu_args, kernel_args=kernel_args)
    if log:
        # A muxed stdio chardev with a logfile keeps Ctrl-A for the monitor.
        i = cmd.index('-serial')
        cmd[i:i + 2] = ['-chardev',
                        'stdio,id=con0,mux=on,signal=off,logfile=%s' % log,
                        '-serial', 'chardev:con0', '-mon', 'chardev=con0']
    return subprocess.call(cmd)


def main():
    parser = argparse.ArgumentParser(
        description='Boot the NVMe test guest and run a script in it.',
        epilog='Exit status: the script\'s, or 124 on timeout, 125 when '
               'the guest reported no status.')
    parser.add_argument('--timeout', type=float, default=300,
                        help='seconds before QEMU is killed (default 300)')
    parser.add_argument('--log', help='write the console to this file')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--script', help='shell script file to run')
    group.add_argument('--command', help='shell text to run')
    parser.add_argument('--interactive', action='store_true',
                        help='console on this terminal, shell in the guest '
                             '(default when stdin is a tty and no script)')
    parser.add_argument('--append', default='',
                        help='extra kernel command line (e.g. nvme_wait=0)')
    parser.add_argument('qemu_args', nargs='*',
                        help='extra QEMU arguments (after --)')
    args = parser.parse_args()

    why = missing_prerequisites()
    if why:
        parser.exit(2, 'run-guest: %s\n' % why)
    if args.script:
        with open(args.script) as f:
            script = f.read()
    else:
        script = args.command
    if script is None:
        if args.interactive or sys.stdin.isatty():
            return run_interactive(args.qemu_args, args.log, args.append)
        parser.error('no --script or --command (and stdin is not a tty)')
    elif args.interactive:
        parser.error('--interactive conflicts with --script/--command')

    start = time.monotonic()
    try:
        status, _ = run_guest(args.qemu_args, script, args.timeout,
                              args.log, args.append, echo=True)
    except GuestError as e:
        print('\nrun-guest: %s' % e, file=sys.stderr)
        return 124 if e.timed_out else 125
    if status == KILLED:
        status = 128 + 9
    print('\nrun-guest: status %d in %.1fs' %
          (status, time.monotonic() - start), file=sys.stderr)
    return status


if __name__ == '__main__':
    sys.exit(main())
