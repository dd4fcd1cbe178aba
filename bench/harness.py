"""Measurement helpers shared by the benchmark sections.

A :class:`Section` collects figures (each with min / median / max over repeats, and percentiles
for latencies), targets (a figure compared with a threshold) and notes. Sections never raise:
:func:`run_section` turns an unexpected exception into an ``error:`` status, and sections record
``not available: <reason>`` when the component they measure is not there yet.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PACKAGES = [
    "mlkg",
    "rdflib",
    "pyoxigraph",
    "oxrdflib",
    "networkx",
    "pyvis",
    "click",
    "pyahocorasick",
    "pyshifty",
    "pyshacl",
    "rdflib-endpoint",
    "spacy",
    "psutil",
    "pyinstrument",
    "py-spy",
]


def percentile(samples: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``samples`` by linear interpolation.

    Examples
    --------
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    data = sorted(samples)
    if not data:
        raise ValueError("no samples")
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summarize(samples: Sequence[float], percentiles: Sequence[int] = ()) -> dict[str, float]:
    """Return ``{"n", "min", "median", "max"}`` of ``samples`` plus ``p<q>`` for each percentile."""
    out: dict[str, float] = {
        "n": len(samples),
        "min": min(samples),
        "median": statistics.median(samples),
        "max": max(samples),
    }
    for q in percentiles:
        out[f"p{q}"] = percentile(samples, q)
    return out


@dataclass
class Section:
    """The results of one benchmark section (serialised into ``results.json``)."""

    name: str
    title: str
    status: str = "ok"
    figures: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    seconds: float = 0.0
    started: str = ""  # UTC time the section started (sections of one report may come from
    load_average: list[float] = field(default_factory=list)  # several --only runs)

    def figure(
        self,
        name: str,
        samples: Sequence[float] | float,
        unit: str,
        percentiles: Sequence[int] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """Record a figure from one value or a list of samples; return the record."""
        values = [samples] if isinstance(samples, int | float) else list(samples)
        record: dict[str, Any] = {"name": name, "unit": unit, **summarize(values, percentiles)}
        record.update(extra)
        self.figures.append(record)
        return record

    def missing(self, name: str, reason: str, **extra: Any) -> None:
        """Record a figure that could not be measured, and why."""
        self.figures.append({"name": name, "unit": "", "n": 0, "status": reason, **extra})

    def target(
        self, name: str, value: float | None, op: str, threshold: float, unit: str, note: str = ""
    ) -> None:
        """Record whether ``value`` meets ``op threshold`` (``op`` is ``"<="`` or ``">="``)."""
        met = None
        if value is not None:
            met = value <= threshold if op == "<=" else value >= threshold
        self.targets.append(
            {
                "name": name,
                "value": value,
                "op": op,
                "threshold": threshold,
                "unit": unit,
                "met": met,
                "note": note,
            }
        )

    def unavailable(self, reason: str) -> Section:
        """Mark the whole section as not available; return it."""
        self.status = f"not available: {reason}"
        return self


@dataclass
class Context:
    """Settings of one run, handed to every section."""

    quick: bool
    work: Path  # scratch folder, removed after the run
    cache: Path  # bench/.cache
    seed: int = 42
    tiny: bool = False  # the test suite's smoke run: smallest sizes, one repeat
    max_docs: int | None = None  # cap on synthetic corpus sizes (--max-docs)
    log: Callable[[str], None] = print
    shared: dict[str, Any] = field(default_factory=dict)

    def docs(self, size: int) -> int:
        """Return ``size`` capped by ``--max-docs``."""
        return min(size, self.max_docs) if self.max_docs else size

    def repeats(self, full: int, quick: int = 1) -> int:
        """Return how many repeats to make in this mode."""
        if self.tiny:
            return 1
        return quick if self.quick else full


def run_section(
    name: str, title: str, func: Callable[[Context, Section], None], ctx: Context
) -> Section:
    """Run one section; any exception becomes an ``error:`` status with the traceback's tail."""
    section = Section(name=name, title=title)
    section.started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with contextlib.suppress(OSError):
        section.load_average = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    try:
        func(ctx, section)
    except Exception as exc:
        section.status = f"error: {type(exc).__name__}: {exc}"[:500]
        section.notes.append(traceback.format_exc(limit=6)[-2000:])
    section.seconds = round(time.perf_counter() - start, 2)
    return section


def has_attr(module: str, attribute: str) -> str | None:
    """Return None if ``module.attribute`` can be imported, else the reason it cannot."""
    try:
        mod = importlib.import_module(module)
    except Exception as exc:
        return f"{module} cannot be imported ({type(exc).__name__}: {exc})"
    if not hasattr(mod, attribute):
        return f"{module}.{attribute} does not exist yet"
    return None


@dataclass
class ProcessResult:
    """Wall time, CPU time and peak resident memory of a finished child process."""

    wall: float
    cpu: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_process(
    argv: Sequence[str],
    timeout: float = 3600,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ProcessResult:
    """Run ``argv``; return its wall time, CPU time and peak RSS.

    The peak RSS is the largest ``VmHWM`` (the kernel's high-water mark of resident memory) of
    the process and of every process it starts, read from ``/proc`` as it runs. Not
    ``ru_maxrss`` from ``os.wait4``: on Linux that also counts the memory of the parent it was
    forked from (the benchmark process, which holds large graphs in some sections), so a small
    build read as large as the benchmark. Where ``/proc`` is missing, ``ru_maxrss`` is used.
    """
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "w+b") as out, open(f"{out_path}.err", "w+b") as err:
        start = time.perf_counter()
        # Popen returns once the child has exec'd, so its VmHWM is its own from the first read.
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, cwd=cwd, env=env)
        deadline = start + timeout
        peaks: dict[int, int] = {}
        next_sample = start
        while True:
            if time.perf_counter() >= next_sample:
                for tree_pid in (proc.pid, *_descendants(proc.pid)):
                    peaks[tree_pid] = max(peaks.get(tree_pid, 0), _peak_rss_kb(tree_pid))
                next_sample = time.perf_counter() + 0.02
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    for suffix in (".out", ".err"):
        with contextlib.suppress(OSError):
            os.unlink(f"{out_path}{suffix}")
    return ProcessResult(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_mb=(max(peaks.values(), default=0) or usage.ru_maxrss) / 1024,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def _peak_rss_kb(pid: int) -> int:
    """Return the ``VmHWM`` of process ``pid`` in KiB (0 when it is gone or not readable)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Return the processes started by ``pid``, their children and so on (via ``/proc``)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", "rb") as children:
                    kids = [int(kid) for kid in children.read().split()]
            except (OSError, ValueError):
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def show_command(argv: Sequence[str], work: Path | None = None) -> str:
    """Return ``argv`` as a readable shell command (checkout-relative, ``$WORK`` for scratch)."""
    text = " ".join(shlex.quote(a) for a in argv)
    text = text.replace(f"{VENV_BIN}/", "").replace(f"{ROOT}/", "")
    if work is not None:
        text = text.replace(str(work), "$WORK")
    return text


def first_error_line(result: ProcessResult) -> str:
    """Return the most telling line of a failed process's output."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower():
            return line.strip()[:300]
    return (lines[-1] if lines else f"exit code {result.returncode}")[:300]


def mlkg_command() -> list[str]:
    """Return the argv prefix that runs the ``mlkg`` console script of this environment."""
    script = VENV_BIN / "mlkg"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "mlkg.cli"]


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    """Time a ``with`` block; the yielded list holds the elapsed seconds afterwards."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def machine_info() -> dict[str, Any]:
    """Return the CPU model, cores, memory, OS, Python, package versions, tools and date."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    tools: dict[str, str | None] = {}
    for tool, args in {"chromium": ["--version"], "hyperfine": ["--version"]}.items():
        path = shutil.which(tool)
        tools[tool] = None
        if path:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                tools[tool] = subprocess.run(
                    [path, *args], capture_output=True, text=True, timeout=30
                ).stdout.strip()
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=10,
            ).stdout.strip()
            or None
        )
    load = None
    with contextlib.suppress(OSError):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "tools": tools,
        "git_commit": commit,
        "load_average_at_start": load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
