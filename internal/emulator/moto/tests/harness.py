"""Shared fixture for the patch tests: two moto servers started through
launcher.py on free 127.0.0.1 ports, one patched and one --unpatched.

Every test module calls ``servers()`` from setUpModule; the servers are
started once per test process and stopped at exit. Tests isolate themselves by
using fresh account ids (``new_account()``) instead of resetting state.
"""

from __future__ import annotations

import atexit
import itertools
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(os.path.dirname(HERE), "launcher.py")

_started: dict[str, str] = {}
_procs: list[subprocess.Popen[bytes]] = []
_counter = itertools.count(1)
_base = random.randint(100000, 899999)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(extra: list[str]) -> str:
    port = _free_port()
    env = dict(os.environ, TZ="UTC")
    env.pop("MOTO_ACCOUNT_ID", None)
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "-H", "127.0.0.1", "-p", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _procs.append(proc)
    return f"http://127.0.0.1:{port}"


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server at {url} did not start")


def _stop() -> None:
    for proc in _procs:
        proc.terminate()
    for proc in _procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def servers() -> dict[str, str]:
    """{"patched": url, "unpatched": url}; starts them on first use."""
    if not _started:
        patched = _start([])
        unpatched = _start(["--unpatched"])
        atexit.register(_stop)
        _wait(patched)
        _wait(unpatched)
        _started.update(patched=patched, unpatched=unpatched)
    return _started


def new_account() -> str:
    """A fresh 12-digit account id, unique within this test run."""
    return f"{_base:06d}{next(_counter):06d}"


def client(which: str, service: str, account: str, region: str = "us-east-1", validate: bool = True) -> Any:
    """A boto3 client for the patched or unpatched server acting as
    ``account`` (moto's x-moto-account-id header). No retries: a 500 from an
    unimplemented action must fail at once. validate=False turns botocore's
    client-side parameter checks off, so that a request AWS refuses reaches
    the server (the strict layer's tests)."""
    c = boto3.client(
        service,
        region_name=region,
        endpoint_url=servers()[which],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=validate),
    )

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", add_header)
    return c


def assumed_client(which: str, service: str, account: str, region: str = "us-east-1") -> Any:
    """Like client(), but acting as ``account`` the way the Go code does: with
    keys minted by sts:AssumeRole of a role in that account."""
    sts = boto3.client(
        "sts",
        region_name=region,
        endpoint_url=servers()[which],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/trailwarden-test", RoleSessionName="test"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=servers()[which],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
