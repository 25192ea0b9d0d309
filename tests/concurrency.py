"""Racing real threads, each with its own database connection, as separate requests would."""

import threading

from django.db import connection


def race(count, attempt, *, prepare=None):
    """Run `attempt(index, prepared)` in `count` threads released at the same moment; return their results.

    `prepare(index)` runs in the thread before the start line (load the thread's own objects there). An
    exception becomes that thread's result, so the caller's assertions report it.
    """
    barrier = threading.Barrier(count, timeout=60)
    results = [None] * count

    def run(index):
        try:
            prepared = prepare(index) if prepare is not None else None
            barrier.wait()
            results[index] = attempt(index, prepared)
        except BaseException as error:  # noqa: BLE001 - reported by the caller's assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results
