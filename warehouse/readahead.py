"""Producing the next item in a background thread while the caller works on this one.

Worth it when the producer waits outside the GIL (zlib inflating, a socket receiving the next page
of rows) and the consumer is Numba or Arrow code that releases it too: two cores, one process."""
from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
U = TypeVar("U")
_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, produced up to `depth` ahead in a thread; its errors re-raised here.
    Closing the returned generator early stops the producer."""
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put(item)
            q.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            q.put(exc)

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():              # unblock a put() waiting on a full queue
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass


def map_ahead(fn: Callable[[T], U], items: Iterable[T], workers: int = 2) -> Iterator[U]:
    """fn(item) for each item, in order, computed by `workers` threads at most `workers` items ahead
    of the consumer (bounded memory, unlike Executor.map, which submits everything at once)."""
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="map-ahead") as pool:
        try:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
