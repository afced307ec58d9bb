"""Per-address login backoff (the per-account lock lives in the database)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class LoginThrottle:
    """After `free` failures from one address, each further failure doubles the wait before the next try.

    Kept in memory per process (bounded, least recently failed forgotten first); with several
    instances each applies its own backoff, while the account lock is shared through the database.
    """

    def __init__(
        self,
        *,
        free: int = 5,
        max_delay: float = 300.0,
        forget_after: float = 3600.0,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._free = free
        self._max_delay = max_delay
        self._forget_after = forget_after
        self._max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def _delay(self, count: int) -> float:
        if count < self._free:
            return 0.0
        return float(min(self._max_delay, 2 ** min(count - self._free, 30)))

    def retry_after(self, address: str) -> float:
        """Seconds this address must still wait before trying again (0 when it may try now)."""
        entry = self._failures.get(address)
        if entry is None:
            return 0.0
        now = self._clock()
        if now - entry.last > self._forget_after:
            del self._failures[address]
            return 0.0
        return max(0.0, entry.last + self._delay(entry.count) - now)

    def failed(self, address: str) -> None:
        entry = self._failures.pop(address, None) or _Failures(0, 0.0)
        entry.count += 1
        entry.last = self._clock()
        self._failures[address] = entry
        while len(self._failures) > self._max_addresses:
            self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
