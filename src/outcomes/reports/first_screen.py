"""The dashboard's first reads, made by a child process while the front end loads.

Why: the dashboard read its numbers, its MCID rate and its alert queue on worker threads once
Textual and its own modules had loaded and the app was mounted (about 0.2 s after the command
started), and those reads, mostly Python, shared one interpreter lock with the painting of the
first frames. Threads started earlier shared it with the loading of the modules instead, and
measured no faster. A process forked by the command as soon as the file is checked makes the
same reads on the machine's other core and hands the results over a pipe; the dashboard shows
what has arrived in its first frame and reads for itself whatever has not (a child that
failed, a queue too big to hand over cheaply).

The reads are the dashboard's own (:func:`summary_reads`, ``reports.dashboard.dashboard_mcid``,
``network.queue.queue_stages``), so what it shows is the same either way. The child only
reads: it opens its own connection (never one of the parent's), and leaves with ``os._exit``
without running the parent's exit handlers. Only on Linux, and only from a process with one
thread: a fork copies no other thread, and a lock one of them held would stay held in the
child.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outcomes.store.connections import Connections

if TYPE_CHECKING:
    from outcomes.network.queue import FirstRun, Queue
    from outcomes.reports.dashboard import DashboardSummary
    from outcomes.reports.rollups import Rate
    from outcomes.store.connections import Reader

PARTIAL_AFTER_S = 0.03
"""A first part of the alert queue is worth showing before the rest only when computing it took
this much CPU (thread time): a quick queue is shown whole, in one fill (the dashboard's rule,
and the child's for what it hands over)."""

FORK_MIN_BYTES = 16 * 1024 * 1024
"""The smallest database file whose first reads are made by a child. Forking costs the parent
15-25 ms (its memory copied on write, the modules of what is handed over): on the 3 MB demo,
whose reads take ~35 ms, the first screen came 15 ms later with the child; on the 400 MB
benchmark history, whose reads take ~0.3 s to the queue's first kinds, 30-40 ms sooner. The
reads grow about 1 ms a megabyte; below this size they are left to the dashboard's workers."""

HANDOVER_LIMIT = 2_000
"""The most alerts a queue handed over may hold. Unpickling costs the parent ~14 µs an alert
(a big history's 15,778 took 0.22 s, about as long as computing them, under the same
interpreter lock as the first frame): a bigger stage is left to the dashboard's own worker,
after the first screen."""


def summary_reads(db: Reader, today: date) -> tuple[FirstRun, DashboardSummary]:
    """The first-run steps and the numbers at the top of the dashboard (without the MCID rate,
    the slowest number, read on its own)."""
    from outcomes.network.queue import first_run
    from outcomes.reports.dashboard import dashboard_summary

    return first_run(db), dashboard_summary(db, today, with_mcid=False)


class FirstScreen:
    """The parent's side: what the child has handed over so far (see the module docstring).

    Each part is None until it arrives; :meth:`wait` blocks (on a worker) until the part is
    there or the child has ended without it. A part is unpickled when first asked for, on the
    asking thread: the reader thread only takes the bytes off the pipe, so it never competes
    with the loading of the front end for the interpreter (unpickling the queue loads the
    alert rules' modules)."""

    def __init__(self, connections: Connections, today: date, version: int,
                 **parts: Any) -> None:
        self.connections = connections
        """The connections the dashboard goes on with: this thread's reader took
        ``version``."""
        self.today = today
        self.version = version
        """``PRAGMA data_version`` on the caller's read-only connection, taken before the
        child started: the dashboard's baseline for "something was written since"."""
        self.ended = threading.Event()
        """The child has ended (everything it will hand over has arrived)."""
        self._changed = threading.Condition()
        self._raw: dict[str, bytes] = {}
        """Parts as they came off the pipe, newest only, not unpickled yet."""
        self._parts: dict[str, Any] = dict(parts)
        self._pid = 0

    @property
    def summary(self) -> tuple[FirstRun, DashboardSummary] | None:
        return self._part("summary")

    @property
    def mcid(self) -> Rate | None:
        return self._part("mcid")

    @property
    def queue(self) -> Queue | None:
        """The newest stage of the alert queue handed over (``complete`` when it is whole)."""
        return self._part("queue")

    def _part(self, part: str) -> Any:
        with self._changed:
            raw = self._raw.pop(part, None)
            if raw is not None:
                self._parts[part] = pickle.loads(raw)
            return self._parts.get(part)

    def arrived(self, part: str, raw: bytes) -> None:
        """``part``'s pickled value came over the pipe (a newer stage replaces an older)."""
        with self._changed:
            self._raw[part] = raw
            self._changed.notify_all()

    def end(self) -> None:
        """Nothing more will arrive."""
        with self._changed:
            self.ended.set()
            self._changed.notify_all()

    def wait(self, part: str) -> Any:
        """``part`` ("summary", "mcid", or the newest stage of the "queue") once it has
        arrived, or None when the child ended without it (the caller reads it for itself)."""
        with self._changed:
            while part not in self._raw and part not in self._parts \
                    and not self.ended.is_set():
                self._changed.wait()
            return self._part(part)

    def stop(self) -> None:
        """The dashboard reads the rest of the queue itself: the child stops computing it."""
        with self._changed:
            # Not yet reaped (the reader thread reaps after ``ended``), so the pid is still
            # the child's.
            if not self.ended.is_set():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self._pid, signal.SIGTERM)

    def _receive(self, fd: int, pid: int) -> None:
        """The reader thread: each part's bytes as they arrive, until the child closes the
        pipe (it has ended, or died); then the child is reaped."""
        try:
            with os.fdopen(fd, "rb") as pipe:
                while True:
                    try:
                        part, raw = pickle.load(pipe)  # a name and bytes: nothing imported
                    except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                        break
                    self.arrived(part, raw)
        finally:
            self.end()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def can_fork(path: Path) -> bool:
    """Whether this process should fork the first reads of ``path``: Linux, no other thread
    running, and a file big enough to repay it (FORK_MIN_BYTES)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return (sys.platform == "linux" and threading.active_count() == 1
            and size >= FORK_MIN_BYTES)


def start_first_screen(path: Path, today: date,
                       partial_after: float = PARTIAL_AFTER_S) -> FirstScreen | None:
    """Fork the child that makes the dashboard's first reads on ``path`` (a file already
    checked and up to date); None where forking is not safe or would not pay
    (:func:`can_fork`): the dashboard then reads everything itself, as it always could. A
    first part of the queue is handed over only when it took ``partial_after`` seconds of CPU
    (the dashboard's rule for showing one)."""
    if not can_fork(path):
        return None
    from outcomes.reports.dashboard import database_version

    connections = Connections(path)
    first = FirstScreen(connections, today, database_version(connections.reader()))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read_end)
            _child(path, today, partial_after, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    first._pid = pid
    threading.Thread(target=first._receive, args=(read_end, pid), name="first-screen",
                     daemon=True).start()
    return first


def _child(path: Path, today: date, partial_after: float, fd: int) -> None:
    """Make the reads and hand each part over as soon as it is made. Any failure ends the
    child quietly: the dashboard reads what is missing itself, and reports its errors."""
    from outcomes.store.connections import open_reader

    try:
        with os.fdopen(fd, "wb") as pipe:
            conn = open_reader(path)

            def send(part: str, value: object) -> None:
                # Buffered, then flushed: the buffer writes all of it however the pipe takes it.
                raw = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.write(pickle.dumps((part, raw), protocol=pickle.HIGHEST_PROTOCOL))
                pipe.flush()

            send("summary", summary_reads(conn, today))
            from outcomes.reports.dashboard import dashboard_mcid

            send("mcid", dashboard_mcid(conn, today))
            import outcomes.network.alerts  # noqa: F401  # the rules' modules, before the clock
            from outcomes.network.queue import queue_stages

            started = time.thread_time()
            for stage in queue_stages(conn, today):
                if sum(g.count for g in stage.groups) > HANDOVER_LIMIT:
                    break
                if stage.complete or time.thread_time() - started >= partial_after:
                    send("queue", stage)
            conn.close()
    except BaseException:  # nothing to show: the parent reads for itself
        pass
