"""Giving freed memory back to the system between chunks of a bulk import.

glibc keeps the heap it grew for one chunk's big messages and reuses it badly for the next
one's, so without this a long import's resident size creeps up with the mail it has seen
(measured on linux-mips: 85 -> 154 MiB over 24,000 messages, with Python's own objects flat at
18 MiB). `malloc_trim` after each chunk keeps it flat. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def _trim() -> Callable[[int], int] | None:
    import ctypes  # here: adding one message never needs it (start-up time)

    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release() -> None:
    """Return the free parts of the heap to the system (cheap: once per chunk of mail)."""
    trim = _trim()
    if trim is not None:
        trim(0)
