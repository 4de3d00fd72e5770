"""Shared test helpers."""

import threading


def run_in_threads(fn, count: int = 16):
    """Call fn() from `count` threads released together; return (results, errors)."""
    barrier, results, errors = threading.Barrier(count), [], []

    def work():
        barrier.wait()
        try:
            results.append(fn())
        except Exception as exc:  # collected for the caller to assert on
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
