"""Section 7 (endpoint): requests/s and p99 latency of ``mlkg serve`` under 8 concurrent clients."""

from __future__ import annotations

import http.client
import importlib.util
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from typing import IO

from bench.harness import Context, Section, free_port, has_attr, mlkg_command
from bench.sections.cli import seed_build_dir

CLIENTS = 8


def _start(
    ctx: Context, build_dir: str, port: int, log: IO[bytes]
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the endpoint; its request log goes to ``log``, a file. (A pipe nobody reads fills
    after about 2,300 logged requests and then blocks the server.)"""
    if importlib.util.find_spec("mlkg.cli.serve") is not None:
        argv = [
            *mlkg_command(),
            "serve",
            "--graph",
            build_dir,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        how = "mlkg serve (CLI)"
    else:
        code = (
            "from pathlib import Path; from mlkg.serve import ServerConfig, make_server, run; "
            f"run(make_server(ServerConfig(graph_dir=Path({build_dir!r}), host='127.0.0.1', "
            f"port={port}, quiet=True)))"
        )
        argv = [sys.executable, "-c", code]
        how = "mlkg.serve.make_server (library; the serve command is not there yet)"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
    return proc, how


def _get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def run(ctx: Context, section: Section) -> None:
    """Start the endpoint on a free loopback port and hammer it with 8 client threads."""
    reason = has_attr("mlkg.serve", "make_server")
    if reason:
        section.unavailable(reason)
        return
    build_dir, kind = seed_build_dir(ctx)
    section.notes.append(f"graph: {kind}")
    from mlkg.resources import queries_dir

    query_file = queries_dir() / "roles.rq"
    query = (
        query_file.read_text()
        if query_file.is_file()
        else (
            "PREFIX mlkg: <https://w3id.org/mlkg/ontology#> SELECT ?r WHERE { ?r a mlkg:Role } "
            "ORDER BY ?r"
        )
    )
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    ctx.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=ctx.work) as log:
        _measure(ctx, section, str(build_dir), path, log)


def _measure(ctx: Context, section: Section, build_dir: str, path: str, log: IO[bytes]) -> None:
    """Start the server, wait until it answers, then run the clients for the section's time."""
    port = free_port()
    proc, how = _start(ctx, build_dir, port, log)
    section.notes.append(
        f"server: {how}, logging every request; query: the named query `roles` by GET /sparql"
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                section.unavailable(f"the server exited: {err.strip().splitlines()[-1:]}")
                return
            try:
                status, _ = _get(port, path, timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                section.unavailable("the server did not answer within 60 s")
                return
            time.sleep(0.1)
        duration = 1.0 if ctx.tiny else (5.0 if ctx.quick else 20.0)
        latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
        errors: list[dict[str, int]] = [{} for _ in range(CLIENTS)]
        stop = time.monotonic() + duration

        def client(i: int) -> None:
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    status, _ = _get(port, path)
                    kind = "" if status == 200 else f"HTTP {status}"
                except OSError as exc:  # timeouts, refused or reset connections
                    kind = type(exc).__name__
                latencies[i].append(time.perf_counter() - start)
                if kind:
                    errors[i][kind] = errors[i].get(kind, 0) + 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        every = [x * 1000 for xs in latencies for x in xs]
        failed: dict[str, int] = {}
        for per_client in errors:
            for kind, count in per_client.items():
                failed[kind] = failed.get(kind, 0) + count
        section.figure(
            f"requests/s, {CLIENTS} clients, {duration:.0f} s",
            len(every) / elapsed,
            "req/s",
            requests=len(every),
            errors=sum(failed.values()),
        )
        section.figure(f"latency, {CLIENTS} clients", every, "ms", percentiles=(50, 95, 99))
        section.figure(
            "p99 latency", sorted(every)[min(len(every) - 1, int(len(every) * 0.99))], "ms"
        )
        if failed:
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(failed.items()))
            section.notes.append(
                f"{sum(failed.values())} of {len(every)} requests failed ({kinds}; client "
                "timeout 30 s, one new connection per request)"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
