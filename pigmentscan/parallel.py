"""How many workers, and how many tasks in flight: the same bounds for local processes and a Dask cluster.

:func:`worker_count` caps a requested number of worker processes at the cores this process may
use and at the number of tasks. :func:`bounded` runs tasks on any executor with at most
``limit`` of them submitted and not yet collected, so memory stays flat however many photos a
manifest lists, and nothing piles up in a queue that an interruption would have to unwind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

__all__ = ["available_cores", "worker_count", "bounded"]


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity where the system has one (a container's or
    ``taskset``'s limit counts), else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, n_tasks: int) -> int:
    """Worker processes to start: ``jobs`` (``None``: every core) capped at the cores and at the tasks.

    A worker beyond the cores only competes for them, and one beyond the photos only costs its
    start-up and memory: ``--jobs 1000`` for 3 photos started about 970 processes and filled
    24 GB in issue #36; it now starts 2 workers on a 2-core machine.

    Raises
    ------
    ValueError
        If ``jobs`` is less than 1.

    Examples
    --------
    >>> worker_count(1000, 3) <= min(3, available_cores())
    True
    >>> worker_count(None, 1)
    1
    """
    if jobs is not None and (isinstance(jobs, bool) or int(jobs) != jobs or jobs < 1):
        raise ValueError(f"jobs must be a whole number, 1 or more (or None for every core), not {jobs!r}")
    return max(1, min(available_cores() if jobs is None else int(jobs), available_cores(), n_tasks))


def bounded(tasks: Iterable, submit: Callable, wait_any: Callable, limit: int) -> Iterator[tuple]:
    """Run ``tasks`` with at most ``limit`` in flight; yield ``(task, future)`` as each finishes.

    Parameters
    ----------
    tasks : iterable
        Consumed lazily: a task is taken only when there is room for it.
    submit : callable
        ``submit(task) -> future``.
    wait_any : callable
        ``wait_any(futures) -> set of finished futures`` (at least one, or none on a timeout:
        the caller may then check on its workers; the loop just waits again).
    limit : int or callable
        Most tasks submitted and not yet yielded (at least 1); a callable is asked again
        before each refill (a cluster's workers may come and go).

    Examples
    --------
    >>> from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
    >>> with ThreadPoolExecutor(2) as pool:
    ...     done = [f.result() for _, f in bounded(range(5), lambda t: pool.submit(pow, t, 2),
    ...                                            lambda fs: wait(fs, return_when=FIRST_COMPLETED).done, 2)]
    >>> sorted(done)
    [0, 1, 4, 9, 16]
    """
    waiting, running = iter(tasks), {}
    while True:
        room = max(1, int(limit() if callable(limit) else limit))
        while len(running) < room:
            task = next(waiting, _END)
            if task is _END:
                break
            running[submit(task)] = task
        if not running:
            return
        for future in wait_any(list(running)):
            yield running.pop(future), future


_END = object()
