"""Lockout after wrong passwords on the team server (HTTP 429 with ``Retry-After``).

MLflow's basic-auth server answers every wrong password with 401 and lets a
client try again at once (200 guesses in 38 s were all answered). The team
server (:class:`riskmodel.server.TeamServer`) sets MLflow's
``authorization_function`` to :func:`authenticate_request_limited`, which
applies this policy in front of MLflow's own password check:

* **per user**: ``max_failures`` wrong passwords (default 5) for one user name
  within ``window_seconds`` (default 300 s) lock that user name out for
  ``lockout_seconds`` (default 900 s);
* **per address**: ``4 * max_failures`` (default 20) wrong passwords from one
  client address within the window lock that address out for as long (a
  guesser trying many user names);
* while locked out every request with that user name, or from that address,
  is answered **429 Too Many Requests** with ``Retry-After: <seconds>``,
  without checking the password (the right one included: a guesser must
  not learn it); when the lockout ends the counts start afresh, and the
  right password works again;
* a right password clears the user's count (not the address's).

The counts live in the memory of each server worker process: with
``--workers N`` a guesser gets at most N times the allowance, and a restart
clears them. Behind a reverse proxy every request comes from the proxy's
address: the per-user limit still holds; the per-address one then limits
the proxy, so raise it (``--max-failures``) or rely on the proxy's own limits.
The price of a per-user lockout: anyone can lock a user name out for
``lockout_seconds`` by guessing it wrong on purpose.

The policy comes from the environment of the server process
(``RISKMODEL_AUTH_MAX_FAILURES``, ``RISKMODEL_AUTH_FAILURE_WINDOW``,
``RISKMODEL_AUTH_LOCKOUT_SECONDS``), which ``TeamServer`` sets.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from riskmodel.errors import InputError, Problem

ENV = {
    "max_failures": "RISKMODEL_AUTH_MAX_FAILURES",
    "window_seconds": "RISKMODEL_AUTH_FAILURE_WINDOW",
    "lockout_seconds": "RISKMODEL_AUTH_LOCKOUT_SECONDS",
}
ADDRESS_FACTOR = 4
"""An address may fail this many times more often than one user name."""


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong passwords (within how many seconds) lock a user out, and for how long.

    ``lockout_seconds = 0`` turns the lockout off.
    """

    max_failures: int = 5
    window_seconds: float = 300.0
    lockout_seconds: float = 900.0

    def checked(self) -> LockoutPolicy:
        """The policy, or an InputError naming the option that is out of range."""
        problems = []
        if self.max_failures < 1:
            problems.append(Problem(f"--max-failures: must be at least 1, got {self.max_failures}"))
        if not self.window_seconds > 0:
            problems.append(Problem(f"--failure-window: must be above 0 seconds, got {self.window_seconds:g}"))
        if not self.lockout_seconds >= 0:
            problems.append(Problem(f"--lockout-seconds: must be 0 or more, got {self.lockout_seconds:g}"))
        if problems:
            raise InputError(problems)
        return self

    def env(self) -> dict[str, str]:
        """The environment variables that give this policy to a server process."""
        return {v: repr(getattr(self, k)) if isinstance(getattr(self, k), float) else str(getattr(self, k))
                for k, v in ENV.items()}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LockoutPolicy:
        """The policy from the environment (defaults for variables not set)."""
        env = os.environ if environ is None else environ
        d = cls()
        return cls(
            max_failures=int(env.get(ENV["max_failures"], d.max_failures)),
            window_seconds=float(env.get(ENV["window_seconds"], d.window_seconds)),
            lockout_seconds=float(env.get(ENV["lockout_seconds"], d.lockout_seconds)),
        )


@dataclass
class Lockout:
    """Failure counts and lockouts per key (``("user", name)`` or ``("address", ip)``), thread-safe.

    Parameters
    ----------
    policy : LockoutPolicy
    clock : callable
        Seconds (monotonic); injectable for tests.
    """

    policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    clock: Callable[[], float] = time.monotonic
    _failures: dict[Hashable, deque[float]] = field(default_factory=dict)
    _locked_until: dict[Hashable, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _limit(self, key: Hashable) -> int:
        kind = key[0] if isinstance(key, tuple) else ""
        return self.policy.max_failures * (ADDRESS_FACTOR if kind == "address" else 1)

    def retry_after(self, keys: Iterable[Hashable]) -> float:
        """Seconds until every key is unlocked (0 when none is locked)."""
        now = self.clock()
        with self._lock:
            wait = 0.0
            for k in keys:
                until = self._locked_until.get(k)
                if until is None:
                    continue
                if until <= now:
                    del self._locked_until[k]  # the lockout is over: counts start afresh
                    self._failures.pop(k, None)
                else:
                    wait = max(wait, until - now)
            return wait

    def failure(self, keys: Iterable[Hashable]) -> None:
        """Count a wrong password for each key; lock those that reach their limit."""
        if self.policy.lockout_seconds <= 0:
            return
        now = self.clock()
        with self._lock:
            for k in keys:
                q = self._failures.setdefault(k, deque())
                q.append(now)
                while q and q[0] <= now - self.policy.window_seconds:
                    q.popleft()
                if len(q) >= self._limit(k):
                    self._locked_until[k] = now + self.policy.lockout_seconds
                    q.clear()
            if len(self._failures) > 100_000:  # forget idle keys (memory bound)
                for k in [k for k, q in self._failures.items() if not q or q[-1] <= now - self.policy.window_seconds]:
                    del self._failures[k]

    def success(self, keys: Iterable[Hashable]) -> None:
        """Clear the counts of these keys (a right password)."""
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


_LOCKOUT: Lockout | None = None


def _lockout() -> Lockout:
    global _LOCKOUT  # noqa: PLW0603 - one per server worker process
    if _LOCKOUT is None:
        _LOCKOUT = Lockout(LockoutPolicy.from_env())
    return _LOCKOUT


def limited(check: Callable[[], Any], lockout: Lockout) -> Any:  # noqa: ANN401 - Flask types
    """Run a Flask basic-auth check (``check()``) under ``lockout``.

    Returns what ``check`` returns (an ``Authorization`` or a 401 response),
    or a 429 response with ``Retry-After`` when the user name or the client
    address is locked out. Must run in a Flask request context.
    """
    from flask import make_response, request

    auth = request.authorization
    if auth is None or not auth.username:
        return check()  # no credentials: MLflow's own 401 challenge, not a guess
    keys = [("user", auth.username), ("address", request.remote_addr or "unknown")]
    wait = lockout.retry_after(keys)
    if wait > 0:
        secs = max(1, math.ceil(wait))
        resp = make_response(f"Too many wrong passwords: locked out for {secs} more seconds.\n", 429)
        resp.headers["Retry-After"] = str(secs)
        return resp
    result = check()
    if getattr(result, "status_code", None) == 401:
        lockout.failure(keys)
    else:
        lockout.success(keys[:1])
    return result


def authenticate_request_limited() -> Any:  # noqa: ANN401 - Flask types
    """MLflow's basic-auth check with the lockout in front (the team server's ``authorization_function``)."""
    from mlflow.server.auth import authenticate_request_basic_auth

    return limited(authenticate_request_basic_auth, _lockout())


__all__ = ["ADDRESS_FACTOR", "Lockout", "LockoutPolicy", "authenticate_request_limited", "limited"]
