#!/usr/bin/env python3
"""Fuzzes our NVMe controller with QEMU's libFuzzer generic-fuzz target.

make fuzz [FUZZ_MINUTES=N] [FUZZ_CONFIGS=plain,zoned]

Runs qemu-fuzz-x86_64 (scripts/build-qemu.sh fuzz) on each configuration in
tests/fuzz/*.conf (those marked "optional" only when FUZZ_CONFIGS names
them), FUZZ_MINUTES (default 10) split evenly between them,
with the seeds of tests/fuzz/seeds/make-seeds.py and the dictionary
tests/fuzz/nvme.dict. Under build/fuzz:

  corpus/<config>/     the corpus, kept across runs
  artifacts/<config>/  crash, timeout, leak and oom inputs as libFuzzer
                       wrote them
  crashes/<config>/<kind>-<function>-<file>-<line>/
                       one directory per distinct top stack frame:
                       report.txt (sanitizer report), input.bin (first
                       input), minimized.bin, reproducer.qtest (qtest
                       commands for qemu-system -qtest stdio),
                       reproducer.sh and reproducer.c (a shell one-liner
                       and a libqtest function, by QEMU's
                       scripts/oss-fuzz/output_reproducer.py), more/ (later
                       inputs with the same top frame)
  logs/<config>.log    libFuzzer's output

libFuzzer stops at the first crash; the run restarts on the same corpus
until the configuration's time is used. Afterwards every new artifact is
reproduced, minimized (FUZZ_MINIMIZE_SECONDS, default 60, per distinct
crash) and turned into a qtest reproducer, which is replayed on the fuzz
build's qemu-system-x86_64 to confirm it.

Leak checking is off while fuzzing (generic-fuzz keeps state across
inputs, which LSan's per-input check reports); FUZZ_LEAKS=1 turns it on.
The qtests under ASan (make check-asan) check leaks.

Hangs: QEMU delivers SIGALRM through its main loop, so libFuzzer's
-timeout (FUZZ_TIMEOUT, default 30 s) only fires while the main loop runs;
a timeout is filed by what the threads do when the input is replayed. A
watchdog here treats a fuzzer that used no CPU for FUZZ_STALL_SECONDS
(default 60) as deadlocked, or one still running well past its time as
looping: it saves every thread's backtrace (gdb, when installed) and
sends SIGABRT, on which libFuzzer writes the input it was running. Such
inputs are filed as "hang" (reproducer.qtest then stops where QEMU did).
Reports raised in generic-fuzz itself are filed as "harness-...".
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(REPO, "build"))
FUZZ_BUILD = os.environ.get("QEMU_BUILD_FUZZ",
                            os.path.join(BUILD, "qemu-build-fuzz"))
QEMU_TREE = os.environ.get("QEMU_SRC", os.path.join(BUILD, "qemu-src"))
FUZZER = os.path.join(FUZZ_BUILD, "qemu-fuzz-x86_64")
QEMU = os.path.join(FUZZ_BUILD, "qemu-system-x86_64")
OUT = os.path.join(BUILD, "fuzz")
CONF_DIR = os.path.join(REPO, "tests", "fuzz")
DICT = os.path.join(CONF_DIR, "nvme.dict")
# generic_fuzz_cmdline() puts these before QEMU_FUZZ_ARGS.
FUZZ_BASE_ARGS = "-display none -machine accel=qtest -m 512M"
MAX_RESTARTS = 50


def log(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


def parse_config(path):
    """Reads one tests/fuzz/*.conf file (format: see plain.conf)."""
    conf = {"name": os.path.basename(path)[:-len(".conf")], "files": [],
            "dirs": [], "args": [], "objects": [], "optional": False}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition(" ")
            if key == "file":
                name, size = rest.split()
                conf["files"].append((name, size))
            elif key == "dir":
                conf["dirs"].append(rest.strip())
            elif key == "optional":
                conf["optional"] = True
            elif key in ("args", "objects"):
                conf[key].append(rest.strip())
            else:
                sys.exit("%s: unknown keyword %s" % (path, key))
    return conf


def size_bytes(size):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if size[-1].upper() in units:
        return int(size[:-1]) * units[size[-1].upper()]
    return int(size)


def prepare_work(conf):
    """Fresh backends for each fuzzer start, so inputs replay the same."""
    work = os.path.join(OUT, "work", conf["name"])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for name, size in conf["files"]:
        with open(os.path.join(work, name), "wb") as f:
            f.truncate(size_bytes(size))
    for name in conf["dirs"]:
        os.makedirs(os.path.join(work, name))
    return work


def qemu_args(conf):
    work = os.path.join(OUT, "work", conf["name"])
    return " ".join(conf["args"]).replace("@WORK@", work)


def fuzz_env(conf, extra=None):
    env = dict(os.environ)
    env["QEMU_FUZZ_ARGS"] = qemu_args(conf)
    env["QEMU_FUZZ_OBJECTS"] = " ".join(conf["objects"])
    leaks = os.environ.get("FUZZ_LEAKS", "0")
    env["ASAN_OPTIONS"] = ("halt_on_error=1:detect_leaks=%s:print_summary=1"
                           % leaks)
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    env["LSAN_OPTIONS"] = ("suppressions=%s:print_suppressions=0" %
                           os.path.join(REPO, "scripts",
                                        "lsan-suppressions.txt"))
    env.update(extra or {})
    return env


def fuzzer_cmd(*args):
    return [FUZZER, "--fuzz-target=generic-fuzz"] + list(args)


def sha1_file(path):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def seed_corpus(conf, corpus):
    seeds = os.path.join(OUT, "seeds")
    subprocess.run([sys.executable,
                    os.path.join(CONF_DIR, "seeds", "make-seeds.py"), seeds],
                   check=True)
    os.makedirs(corpus, exist_ok=True)
    for name in sorted(os.listdir(seeds)):
        src = os.path.join(seeds, name)
        # libFuzzer names corpus files by their SHA-1, so a seed already
        # there under that name is not copied twice.
        dst = os.path.join(corpus, sha1_file(src))
        if not os.path.exists(dst):
            shutil.copyfile(src, dst)


def drop_from_corpus(corpus, artifact):
    """A corpus input that crashes would crash every restart."""
    path = os.path.join(corpus, sha1_file(artifact))
    if os.path.exists(path):
        os.unlink(path)


STATUS_RE = re.compile(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/"
                       r".*?exec/s: (\d+)")
ARTIFACT_RE = re.compile(r"Test unit written to (\S+)")


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def thread_backtraces(pid):
    if not shutil.which("gdb"):
        return ""
    try:
        return subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex",
                               "thread apply all bt 40"],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=120).stdout
    except subprocess.TimeoutExpired:
        return ""


def run_watched(cmd, env, limit, stall=None, logpath=None):
    """Runs cmd with output captured (appended to logpath if given); a run
    without CPU progress for `stall` seconds, or longer than `limit`, is
    aborted as hung. Returns (returncode, output, backtraces or None when
    it did not hang)."""
    stall = stall or int(os.environ.get("FUZZ_STALL_SECONDS", "60"))
    if logpath:
        out = open(logpath, "a+", errors="replace")
        offset = out.tell()
    else:
        out = tempfile.TemporaryFile("w+", errors="replace")
        offset = 0
    with out:
        proc = subprocess.Popen(cmd, env=env, cwd=OUT, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
        start = last_progress = time.time()
        last_cpu = 0.0
        hung = None
        while proc.poll() is None:
            time.sleep(2)
            now, cpu = time.time(), cpu_seconds(proc.pid)
            if cpu - last_cpu > 0.2:
                last_cpu, last_progress = cpu, now
            if now - last_progress > stall or now - start > limit:
                hung = thread_backtraces(proc.pid)
                proc.send_signal(signal.SIGABRT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                break
        if hung:
            out.write("\n### thread backtraces (hung)\n" + hung)
        out.seek(offset)
        return proc.returncode, out.read(), hung


def run_config(conf, seconds):
    """Fuzzes one configuration for about `seconds`; returns its stats."""
    name = conf["name"]
    corpus = os.path.join(OUT, "corpus", name)
    artifacts = os.path.join(OUT, "artifacts", name)
    os.makedirs(artifacts, exist_ok=True)
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)
    seed_corpus(conf, corpus)
    logpath = os.path.join(OUT, "logs", name + ".log")
    stats = {"config": name, "execs": 0, "cov": 0, "ft": 0, "corpus": 0,
             "runs": 0, "artifacts": [], "seconds": 0}
    start = time.time()
    deadline = start + seconds
    while stats["runs"] < MAX_RESTARTS:
        remaining = int(deadline - time.time())
        if remaining < 5:
            break
        prepare_work(conf)
        cmd = fuzzer_cmd(
            corpus, "-dict=" + DICT, "-max_total_time=%d" % remaining,
            "-max_len=8192", "-timeout=%s" %
            os.environ.get("FUZZ_TIMEOUT", "30"),
            "-rss_limit_mb=4096", "-print_final_stats=1",
            "-detect_leaks=%s" % os.environ.get("FUZZ_LEAKS", "0"),
            "-artifact_prefix=%s/" % artifacts)
        with open(logpath, "a") as logf:
            logf.write("\n### %s %s\n" % (time.ctime(), " ".join(cmd)))
        rc, output, hung = run_watched(cmd, fuzz_env(conf),
                                       remaining + 120, logpath=logpath)
        stats["runs"] += 1
        execs, found = parse_run(output, stats)
        stats["execs"] += execs
        if hung is not None:
            found = [mark_hang(a, hung) for a in found]
            sig = hang_signature(hung, output)
        else:
            sig = report_signature(output)
        for art in found:
            drop_from_corpus(corpus, art)
            stats["artifacts"].append((art, sig))
        log("%s: run %d: %d executions, cov %d, exit %s%s" % (
            name, stats["runs"], execs, stats["cov"], rc,
            "".join(", " + os.path.basename(a) for a in found)))
        if not found and "INITED" not in output:
            print(output[-3000:])
            log("%s: the fuzzer did not start (see %s)" % (name, logpath))
            stats["error"] = True
            break
        if not found:
            break
    stats["seconds"] = int(time.time() - start)
    stats["corpus"] = len(os.listdir(corpus))
    return stats


def mark_hang(artifact, backtraces):
    """The input libFuzzer wrote on our SIGABRT is a hang, not a crash."""
    hang = os.path.join(os.path.dirname(artifact),
                        "hang-" + os.path.basename(artifact).split("-")[-1])
    os.replace(artifact, hang)
    with open(hang + ".threads.txt", "w") as f:
        f.write(backtraces)
    return hang


def parse_run(output, stats):
    execs = 0
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", output)
    for line in output.splitlines():
        s = STATUS_RE.match(line)
        if s:
            execs = max(execs, int(s.group(1)))
            stats["cov"] = max(stats["cov"], int(s.group(2)))
            stats["ft"] = max(stats["ft"], int(s.group(3)))
    if m:
        execs = max(execs, int(m.group(1)))
    # slow-unit-* inputs (over 10 s) are not failures; they stay in the
    # artifacts directory.
    found = [a for a in ARTIFACT_RE.findall(output) if os.path.exists(a) and
             not os.path.basename(a).startswith("slow-unit-")]
    return execs, found


# Frames that say where a report was raised, not which code is at fault.
SKIP_FRAME = re.compile(
    r"^(__asan|__ubsan|__sanitizer|__interceptor_|___interceptor_|__lsan|"
    r"__GI_|__libc_|__assert|__pthread_kill|pthread_kill|raise$|abort$|"
    r"g_assertion_message|g_log|g_error|g_malloc|g_malloc0|g_realloc|"
    r"g_try_malloc|g_free$|g_memdup|g_strdup|malloc$|calloc$|realloc$|"
    r"free$|memcpy$|memmove$|memset$|memcmp$|fuzzer::|"
    r"__sanitizer_print_stack_trace|error_report|qemu_log)")
FRAME_RE = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ in (\S+)(?: (\S+))?")


def short_path(path):
    path = path.split("qemu-src/")[-1]
    path = re.sub(r"^(\.\./)+", "", path)
    return path.replace(REPO + "/", "")


def report_signature(output):
    """(kind, function, location, excerpt) of the first sanitizer or
    libFuzzer report in output, or None."""
    lines = output.splitlines()
    start = kind = None
    for i, line in enumerate(lines):
        m = re.search(r"ERROR: AddressSanitizer: (attempting )?([\w-]+)",
                      line)
        u = re.search(r"runtime error: (.*)", line)
        lk = "ERROR: LeakSanitizer" in line
        lf = re.search(r"ERROR: libFuzzer: ([\w-]+( signal)?)", line)
        if m:
            kind = m.group(2)
        elif u:
            kind = "ubsan-" + "-".join(
                re.sub(r"0x[0-9a-f]+|[0-9]+|'[^']*'", "", u.group(1))
                .split()[:4])
        elif lk:
            kind = "leak"
        elif lf:
            kind = lf.group(1).replace(" ", "-")
        else:
            continue
        start = i
        break
    if start is None:
        return None
    func, loc = "unknown", ""
    for line in lines[start:]:
        f = FRAME_RE.match(line)
        if not f:
            continue
        name, where = f.group(2), f.group(3) or ""
        if SKIP_FRAME.match(name) or "/libc.so" in where:
            continue
        func = name
        loc = short_path(re.sub(r":\d+$", "", where.strip("()")))
        break
    # A g_assert or assert() abort names the assertion just before.
    for line in lines[max(0, start - 5):start]:
        if "assertion failed" in line or "Assertion" in line:
            kind = "assertion"
    # generic-fuzz's own code (its DMA hook is not thread-safe: an
    # iothread's DMA races with the next operation) is not our bug.
    if loc.startswith("tests/qtest/fuzz/"):
        kind = "harness-" + kind
    excerpt = lines[max(0, start - 3):start + 40]
    return kind, func, loc, "\n".join(excerpt)


def slug(kind, func, loc):
    text = "%s-%s-%s" % (kind, func, os.path.basename(loc))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120]


def run_capture(cmd, env, timeout, input_text=None):
    try:
        p = subprocess.run(cmd, env=env, input=input_text,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=timeout,
                           cwd=OUT)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        return None, out


GDB_FRAME_RE = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*\) at "
                          r"(\S+):(\d+)")


def hang_signature(backtraces, output):
    """A hang is filed under the first hw/nvme frame of the main thread
    (then of the others) in gdb's backtraces, or else of the stack that
    libFuzzer printed on SIGABRT."""
    def thread_number(text):
        m = re.match(r"Thread (\d+)", text)
        return int(m.group(1)) if m else 0

    threads = sorted(re.split(r"\n(?=Thread \d+ )", backtraces),
                     key=thread_number)
    for text in threads:
        for line in text.splitlines():
            m = GDB_FRAME_RE.match(line)
            if m and "hw/nvme/" in m.group(2):
                return ("hang", m.group(1), short_path(m.group(2)) + ":" +
                        m.group(3), backtraces[:20000])
    for line in output.splitlines():
        f = FRAME_RE.match(line)
        if f and "hw/nvme/" in (f.group(3) or ""):
            loc = short_path(re.sub(r":\d+$", "", f.group(3)))
            return "hang", f.group(2), loc, backtraces or output[-20000:]
    sig = report_signature(output)
    if sig:
        return ("hang",) + sig[1:3] + (backtraces or sig[3],)
    return "hang", "unknown", "", backtraces or output[-20000:]


def triage(conf, artifact, sig, index):
    """Files one artifact under crashes/<config>/ by the top stack frame of
    its report (sig, from the fuzzing run); the first of each frame is
    reproduced, minimized and made a qtest reproducer."""
    name = conf["name"]
    kind = os.path.basename(artifact).split("-")[0]
    if sig is None or kind == "timeout":
        # A timeout's report shows the main loop where the alarm came:
        # look at what the threads do while the input runs instead.
        prepare_work(conf)
        limit = 20 if kind == "timeout" else 300
        _, out, hung = run_watched(fuzzer_cmd(artifact), fuzz_env(conf),
                                   limit, stall=30)
        if hung is not None:
            sig = hang_signature(hung, out)
            sig = (kind if kind == "timeout" else "hang",) + sig[1:]
        elif kind == "timeout" and sig:
            # Fast on its own: it needed the state earlier inputs left.
            sig = ("timeout-not-reproduced",) + sig[1:]
        else:
            sig = report_signature(out) or sig
    if sig is None:
        saved = artifact + ".threads.txt"
        if kind == "hang" and os.path.exists(saved):
            with open(saved) as f:
                sig = hang_signature(f.read(), "")
            sig = ("hang-not-reproduced",) + sig[1:]
        else:
            sig = (kind + "-not-reproduced", "unknown", "", "")
    kind, func, loc, excerpt = sig
    key = "%s in %s %s" % (kind, func, loc)
    crash_dir = os.path.join(OUT, "crashes", name, slug(kind, func, loc))
    if key in index:
        index[key]["count"] += 1
        more = os.path.join(crash_dir, "more")
        os.makedirs(more, exist_ok=True)
        shutil.copy(artifact, more)
        return key, False
    os.makedirs(crash_dir, exist_ok=True)
    index[key] = {"dir": os.path.relpath(crash_dir, OUT), "count": 1,
                  "kind": kind, "function": func, "location": loc}
    shutil.copy(artifact, os.path.join(crash_dir, "input.bin"))
    with open(os.path.join(crash_dir, "report.txt"), "w") as f:
        f.write(excerpt + "\n")
    minimized = minimize(conf, artifact, crash_dir, kind)
    index[key]["reproduces"] = make_reproducer(conf, minimized, crash_dir,
                                               kind, func)
    return key, True


def minimize(conf, artifact, crash_dir, kind):
    """libFuzzer's -minimize_crash; not for hangs, which it cannot see."""
    out = os.path.join(crash_dir, "minimized.bin")
    secs = int(os.environ.get("FUZZ_MINIMIZE_SECONDS", "60"))
    if secs > 0 and not kind.startswith("hang"):
        prepare_work(conf)
        run_capture(fuzzer_cmd("-minimize_crash=1",
                               "-max_total_time=%d" % secs,
                               "-exact_artifact_path=" + out, artifact),
                    fuzz_env(conf), secs + 120)
    if not os.path.exists(out):
        shutil.copy(artifact, out)
    return out


def make_reproducer(conf, input_path, crash_dir, kind, func):
    """qtest trace of the input (QTEST_LOG), reordered so DMA fills come
    before the access that triggers them, replayed on qemu-system."""
    prepare_work(conf)
    _, trace, _ = run_watched(fuzzer_cmd(input_path),
                              fuzz_env(conf, {"QTEST_LOG": "1",
                                              "FUZZ_SERIALIZE_QTEST": "1"}),
                              300, stall=30)
    raw = os.path.join(crash_dir, "qtest-log.txt")
    with open(raw, "w") as f:
        f.write(trace)
    oss = os.path.join(QEMU_TREE, "scripts", "oss-fuzz")
    qtest = os.path.join(crash_dir, "reproducer.qtest")
    with open(qtest, "w") as f:
        subprocess.run([sys.executable,
                        os.path.join(oss, "reorder_fuzzer_qtest_trace.py"),
                        raw], stdout=f, stderr=subprocess.DEVNULL)
    args = "%s %s" % (FUZZ_BASE_ARGS, qemu_args(conf))
    env = dict(os.environ, QEMU_PATH=QEMU, QEMU_ARGS=args)
    for flag, suffix in (("-bash", "sh"), ("-c", "c")):
        with open(os.path.join(crash_dir, "reproducer." + suffix), "w") as f:
            subprocess.run([sys.executable,
                            os.path.join(oss, "output_reproducer.py"), flag,
                            "-name", "test_fuzz_" + re.sub(r"\W", "_", func),
                            qtest], stdout=f, env=env,
                           stderr=subprocess.DEVNULL)
    prepare_work(conf)
    # Through a pipe, as reproducer.sh does: from a regular file, the
    # stdio chardev stops reading early.
    with open(qtest) as f:
        text = f.read()
    commands = sum(1 for line in text.splitlines() if line.strip())
    rc, out = run_capture([QEMU] + args.split() + ["-qtest", "stdio"],
                          fuzz_env(conf), 30, input_text=text)
    with open(os.path.join(crash_dir, "replay.txt"), "w") as f:
        f.write(out[-20000:])
    if kind.startswith(("hang", "timeout")):
        # QEMU waits for more commands after the last one: a hang is a
        # command that got no answer.
        answers = len(re.findall(r"^(OK|FAIL|ERR)", out, re.M))
        return rc is None and answers < commands
    sig = report_signature(out)
    return bool(sig and sig[1] == func)


def main():
    if not os.access(FUZZER, os.X_OK):
        sys.exit("%s missing: run scripts/build-qemu.sh fuzz" % FUZZER)
    names = os.environ.get("FUZZ_CONFIGS", "")
    confs = [parse_config(os.path.join(CONF_DIR, f))
             for f in sorted(os.listdir(CONF_DIR)) if f.endswith(".conf")]
    if names:
        wanted = names.replace(",", " ").split()
        confs = [c for c in confs if c["name"] in wanted]
    else:
        confs = [c for c in confs if not c["optional"]]
    if not confs:
        sys.exit("no configuration to fuzz")
    minutes = float(os.environ.get("FUZZ_MINUTES", "10"))
    per_config = max(30, int(minutes * 60 / len(confs)))
    log("fuzzing %d configurations, %d s each: %s" % (
        len(confs), per_config, " ".join(c["name"] for c in confs)))
    results = []
    for conf in confs:
        results.append((conf, run_config(conf, per_config)))

    summary = []
    for conf, stats in results:
        index_path = os.path.join(OUT, "crashes", conf["name"], "index.json")
        index = {}
        if os.path.exists(index_path):
            with open(index_path) as f:
                index = json.load(f)
        stats["new"] = []
        for art, sig in stats["artifacts"]:
            log("%s: triaging %s" % (conf["name"], os.path.basename(art)))
            key, new = triage(conf, art, sig, index)
            if new:
                stats["new"].append(key)
        os.makedirs(os.path.dirname(index_path), exist_ok=True)
        with open(index_path, "w") as f:
            json.dump(index, f, indent=1, sort_keys=True)
        summary.append((conf, stats, index))

    print("\nfuzz summary (%s)" % OUT)
    print("%-14s %6s %10s %7s %7s %7s %8s %8s" % (
        "config", "time", "execs", "cov", "ft", "corpus", "crashes",
        "distinct"))
    failed = False
    for conf, stats, index in summary:
        failed = failed or stats.get("error", False)
        print("%-14s %5ds %10d %7d %7d %7d %8d %8d" % (
            conf["name"], stats["seconds"], stats["execs"], stats["cov"],
            stats["ft"], stats["corpus"], len(stats["artifacts"]),
            len(index)))
    for conf, stats, index in summary:
        for key, info in sorted(index.items()):
            print("  %s: %s%s (x%d, %s, qtest reproducer %s)" % (
                conf["name"], key, " NEW" if key in stats["new"] else "",
                info["count"], info["dir"],
                "replays" if info.get("reproduces") else "does not replay"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
