"""The team server's lockout after wrong passwords (riskmodel.server.lockout), with a fake clock."""

from __future__ import annotations

import base64

import pytest
from flask import Flask, Response
from werkzeug.datastructures import Authorization

from riskmodel.errors import InputError
from riskmodel.server.lockout import Lockout, LockoutPolicy, limited

RIGHT = {"alice": "alice-password-1", "bob": "bob-password-12"}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _check() -> Authorization | Response:
    """A stand-in for MLflow's basic-auth check: 401 unless the password is right."""
    from flask import request

    a = request.authorization
    if a is not None and RIGHT.get(a.username) == a.password:
        return a
    return Response("denied", 401)


def _try(app: Flask, lockout: Lockout, user: str, password: str, addr: str = "10.0.0.1") -> int | str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    with app.test_request_context("/api/2.0/mlflow/experiments/search", headers={"Authorization": f"Basic {token}"},
                                  environ_base={"REMOTE_ADDR": addr}):
        r = limited(_check, lockout)
    if isinstance(r, Authorization):
        return 200
    return r.status_code if r.status_code != 429 else f"429 Retry-After {r.headers['Retry-After']}"


def test_five_wrong_passwords_lock_the_user_for_fifteen_minutes_then_the_right_one_works():
    app, clock = Flask("t"), Clock()
    lock = Lockout(LockoutPolicy(max_failures=5, window_seconds=300, lockout_seconds=900), clock=clock)
    assert [_try(app, lock, "alice", f"guess-{i}") for i in range(5)] == [401] * 5
    assert _try(app, lock, "alice", "guess-5") == "429 Retry-After 900"
    assert _try(app, lock, "alice", RIGHT["alice"]) == "429 Retry-After 900"  # not even the right one
    assert _try(app, lock, "alice", RIGHT["alice"], addr="10.9.9.9") == "429 Retry-After 900"  # per user
    assert _try(app, lock, "bob", RIGHT["bob"]) == 200  # another user from the same address
    clock.t += 600
    assert _try(app, lock, "alice", RIGHT["alice"]) == "429 Retry-After 300"
    clock.t += 300
    assert _try(app, lock, "alice", RIGHT["alice"]) == 200  # lockout over
    assert _try(app, lock, "alice", "wrong") == 401  # counts start afresh


def test_failures_outside_the_window_do_not_add_up_and_success_clears_the_count():
    app, clock = Flask("t"), Clock()
    lock = Lockout(LockoutPolicy(max_failures=5, window_seconds=300, lockout_seconds=900), clock=clock)
    for _ in range(4):
        assert _try(app, lock, "alice", "wrong") == 401
    clock.t += 301  # the four fall out of the window
    for _ in range(4):
        assert _try(app, lock, "alice", "wrong") == 401
    assert _try(app, lock, "alice", RIGHT["alice"]) == 200  # clears alice's count
    for _ in range(4):
        assert _try(app, lock, "alice", "wrong") == 401
    assert _try(app, lock, "alice", "wrong") == 401  # the 5th locks (answered 401 still)
    assert _try(app, lock, "alice", "wrong") == "429 Retry-After 900"


def test_one_address_guessing_many_user_names_is_locked_at_four_times_the_limit():
    app, clock = Flask("t"), Clock()
    lock = Lockout(LockoutPolicy(max_failures=5), clock=clock)
    codes = [_try(app, lock, f"user{i}", "x", addr="10.6.6.6") for i in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == "429 Retry-After 900"
    assert _try(app, lock, "bob", RIGHT["bob"], addr="10.6.6.6") == "429 Retry-After 900"
    assert _try(app, lock, "bob", RIGHT["bob"], addr="10.0.0.2") == 200


def test_requests_without_credentials_get_mlflows_challenge_and_are_not_counted():
    app, clock = Flask("t"), Clock()
    lock = Lockout(LockoutPolicy(max_failures=1), clock=clock)
    for _ in range(3):
        with app.test_request_context("/api/2.0/mlflow/experiments/search"):
            assert limited(_check, lock).status_code == 401
    assert _try(app, lock, "alice", RIGHT["alice"]) == 200


def test_policy_round_trips_through_the_environment_and_refuses_bad_values():
    p = LockoutPolicy(max_failures=3, window_seconds=60.0, lockout_seconds=120.0)
    assert LockoutPolicy.from_env(p.env()) == p
    assert LockoutPolicy.from_env({}) == LockoutPolicy()
    with pytest.raises(InputError, match="--max-failures"):
        LockoutPolicy(max_failures=0).checked()
    with pytest.raises(InputError, match="--lockout-seconds"):
        LockoutPolicy(lockout_seconds=-1).checked()
