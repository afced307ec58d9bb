"""Run argostranslate's installer/downloader in a child process.

Parent side: `run()` starts `python -m translations._argos_worker` with argos's
environment (see `models.argos_environment`), sends one JSON request on stdin and
streams back one JSON event per line. Child side: `main()`. argostranslate is only
imported in the child, so the parent never pays for (or keeps) its torch/stanza stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

Event = dict[str, Any]

# The directory that contains the `translations` package, for the child's sys.path.
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class WorkerError(RuntimeError):
    """The child process failed; the message says why, `kind` what kind of failure it reported."""

    def __init__(self, message: str, kind: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.url = url


class IndexUnreachableError(RuntimeError):
    """Child side: argos could not download its package index (no network, proxy, DNS...)."""

    def __init__(self, url: str) -> None:
        super().__init__(f"could not fetch the package index {url}")
        self.url = url


def run(
    request: dict[str, Any],
    env: dict[str, str],
    on_event: Callable[[Event], None] | None = None,
) -> list[Event]:
    """Run one request in a child process; return its events (also passed to on_event)."""
    child_env = {**os.environ, **env}
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    events: list[Event] = []
    # stderr goes to a file: a pipe could fill up and block the child while we read stdout.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        with subprocess.Popen(
            [sys.executable, "-m", "translations._argos_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=child_env,
            text=True,
            encoding="utf-8",
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps(request))
            child.stdin.close()
            for line in child.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # not ours (the child routes stray output to stderr, but be safe)
                if not isinstance(event, dict):
                    continue
                events.append(event)
                if on_event is not None and event.get("stage") != "error":
                    on_event(event)
            returncode = child.wait()
        stderr.seek(0)
        errors = stderr.read()
    failure = next((e for e in events if e.get("stage") == "error"), None)
    if failure is not None or returncode != 0:
        reason = failure["message"] if failure else f"exit status {returncode}"
        tail = errors.strip().splitlines()[-5:]
        kind, url = (failure.get("kind"), failure.get("url")) if failure else (None, None)
        raise WorkerError(reason + ("\n" + "\n".join(tail) if tail and not failure else ""), kind, url)
    return events


def main() -> int:
    """Child entry point: read the request, do it, report events on stdout."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    # Anything argos, stanza or torch print must not corrupt the event stream.
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(stage: str, **fields: Any) -> None:
        protocol.write(json.dumps({"stage": stage, **fields}) + "\n")

    try:
        request = json.load(sys.stdin)
        if request["action"] == "install":
            _install([Path(f) for f in request["files"]], emit)
        elif request["action"] == "download":
            _download(request["codes"], request["target"], emit, reverse=bool(request.get("reverse")))
        else:
            raise ValueError(f"unknown action {request['action']!r}")
    except IndexUnreachableError as exc:
        emit("error", kind="index_unreachable", url=exc.url, message=str(exc))
        return 1
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    emit("done")
    return 0


def _install(files: Iterable[Path], emit: Callable[..., None]) -> None:
    import argostranslate.package

    for file in files:
        argostranslate.package.install_from_path(file)
        emit("installed", message=file.name)


def _download(codes: list[str], target: str, emit: Callable[..., None], *, reverse: bool = False) -> None:
    """Plan and install code->target for every code (and target->code too, if `reverse`)."""
    from argostranslate import package, settings

    from translations.packages import inspect_package_file, list_installed

    emit("index", message=settings.remote_package_index)
    package.update_package_index()  # logs and returns on failure, so check the result
    if not Path(settings.local_package_index).is_file():
        raise IndexUnreachableError(settings.remote_package_index)
    available = {(p.from_code, p.to_code): p for p in package.get_available_packages() if p.type == "translate"}
    have = {(m.from_code, m.to_code) for m in list_installed(Path(settings.package_data_dir))}
    plan: list[Any] = []
    directions = [(code, target, "unavailable", code) for code in codes]
    if reverse:  # follow-up questions go the other way: target->code
        directions += [(target, code, "unavailable_reverse", code) for code in codes]
    for source, destination, missing, code in directions:
        route = _plan_route(source, destination, available, have)
        if route is None:
            emit(missing, package=code, message=f"no package path {source}->{destination} in the index")
            continue
        for pair in route:
            if pair not in have and available[pair] not in plan:
                plan.append(available[pair])
    emit("plan", total=len(plan), message=", ".join(f"{p.from_code}->{p.to_code}" for p in plan))
    for step, pkg in enumerate(plan, start=1):
        name = f"{pkg.from_code}->{pkg.to_code}"
        emit("download", package=name, step=step, total=len(plan), message=" ".join(pkg.links[:1]))
        path = pkg.download()
        top, _ = inspect_package_file(path)
        emit("install", package=name, step=step, total=len(plan))
        package.install_from_path(path)
        path.unlink(missing_ok=True)
        emit("installed", package=name, step=step, total=len(plan), message=top)


def _plan_route(
    code: str, target: str, available: dict[tuple[str, str], Any], have: set[tuple[str, str]]
) -> list[tuple[str, str]] | None:
    """Direct pair if possible, else the pivot needing the fewest downloads."""
    edges = set(available) | have
    if (code, target) in edges:
        return [(code, target)]
    pivots = sorted({end for start, end in edges if start == code and (end, target) in edges})
    if not pivots:
        return None
    routes = [[(code, pivot), (pivot, target)] for pivot in pivots]
    return min(routes, key=lambda route: sum(pair not in have for pair in route))


if __name__ == "__main__":
    sys.exit(main())
