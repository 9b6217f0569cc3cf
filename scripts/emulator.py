#!/usr/bin/env python3
"""Local AWS emulator for the S3 replication custom resource.

Everything here runs on 127.0.0.1 only: AWS is never contacted.

* ``ensure_moto()``     installs the pinned moto (server mode) into the virtual
                        environment it runs in if it is missing or has another
                        version (scripts/setup.sh makes that environment).
* ``MotoServer``        starts ``moto_server`` on a free port, waits until it
                        answers, and kills it on exit.
* ``Receiver``          a CloudFormation response receiver: records every PUT
                        made to a pre-signed-looking ResponseURL and answers 200.
* ``Cloud``             boto3 sessions/clients per (account, region); accounts
                        other than the default one are reached through
                        ``sts:AssumeRole`` against moto.
* ``World``             creates buckets and KMS keys per account/region and
                        reads back what exists (versioning, encryption,
                        replication, policies, key state, roles).
* ``provider_env()``    the environment to run ``bootstrap invoke`` against
                        the emulator.

Command line::

    target/tools/python scripts/emulator.py ensure-moto   # install pinned moto (in a venv)
    target/tools/python scripts/emulator.py serve [--port N] [--world spec.json]
    target/tools/python scripts/emulator.py selftest
    target/tools/python scripts/emulator.py moto [--log FILE]

``moto`` is how the Rust tests (tests/support/emulator.rs) start moto: ``MotoServer`` as
here, one line ``ready <endpoint>`` on stdout once it answers, stopped when stdin closes.

``serve`` keeps moto and a receiver running and prints the environment to point
``bootstrap invoke`` at them; a world spec is
``{"buckets": [{"account", "region", "name", "versioned"}],
   "keys": [{"account", "region", "alias", "rotation"}]}``.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import http.server
import importlib
import importlib.metadata
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable

MOTO_VERSION = "5.2.5"
MOTO_EXTRAS = ("s3", "iam", "kms", "sts", "server")
MOTO_REQUIREMENT = f"moto[{','.join(MOTO_EXTRAS)}]=={MOTO_VERSION}"

DEFAULT_ACCOUNT = "123456789012"
TEST_ACCESS_KEY_ID = "testing"
TEST_SECRET_ACCESS_KEY = "testing"
HOST = "127.0.0.1"
ADMIN_ROLE_NAME = "emulator-admin"
# The function answers only CloudFormation's own (https, S3) ResponseURLs, plus URLs under the
# prefixes its PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES setting admits: the local receivers'.
LOCAL_RESPONSE_URLS = f"http://{HOST}:"


def log(msg: str) -> None:
    print(f"[emulator] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# moto installation
# --------------------------------------------------------------------------


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def moto_problem() -> str | None:
    """Why the installed moto is not usable, or None if it is."""
    version = _dist_version("moto")
    if version is None:
        return "moto is not installed"
    if version != MOTO_VERSION:
        return f"moto {version} is installed, {MOTO_VERSION} is pinned"
    wanted = {f'extra == "{e}"' for e in MOTO_EXTRAS}
    for req in importlib.metadata.requires("moto") or []:
        if ";" not in req:
            name_part, marker = req, ""
        else:
            name_part, marker = req.split(";", 1)
        if marker and not any(w in marker for w in wanted):
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name_part)
        if m and _dist_version(m.group(1)) is None:
            return f"moto dependency {m.group(1)} is missing"
    return None


def ensure_moto(quiet: bool = False) -> None:
    """Install the pinned moto (with its server extras) unless it is present; only ever into a
    virtual environment (scripts/setup.sh makes one), never into the machine's or the user's
    Python."""
    problem = moto_problem()
    if problem is None:
        if not quiet:
            log(f"moto {MOTO_VERSION} is installed")
        return
    if sys.prefix == sys.base_prefix:
        raise SystemExit(
            f"{problem} for {sys.executable}. Run `bash scripts/setup.sh`, which installs "
            f"{MOTO_REQUIREMENT} into its own virtual environment, and run the scripts with the "
            "interpreter it prints (target/tools/python)."
        )
    log(f"{problem}; installing {MOTO_REQUIREMENT}")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    rc = subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", MOTO_REQUIREMENT], env=env)
    if rc != 0:
        raise SystemExit(f"pip install {MOTO_REQUIREMENT} failed (exit {rc})")
    importlib.invalidate_caches()
    problem = moto_problem()
    if problem is not None:
        raise SystemExit(f"moto still not usable after install: {problem}")
    log(f"installed moto {MOTO_VERSION}")


def moto_server_command() -> list[str]:
    """The command that runs moto's server (without -H/-p)."""
    explicit = os.environ.get("MOTO_SERVER")
    if explicit:
        return [explicit]
    # This interpreter (where ensure_moto installed moto), through the wrapper that fixes
    # two moto bugs the Rust SDK trips over (see scripts/moto_server.py).
    return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py")]


# --------------------------------------------------------------------------
# processes and ports
# --------------------------------------------------------------------------


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM the child when this process dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:  # not Linux, or no libc: atexit still kills it
        pass


def install_signal_exit() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so atexit cleanup runs."""

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):
            pass


class MotoServer:
    """moto in server mode on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self, port: int | None = None, log_path: str | None = None):
        self.requested_port = port
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.log_path = log_path
        self._log_file = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server not started")
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> "MotoServer":
        ensure_moto(quiet=True)
        if self.log_path is None:
            fd, self.log_path = tempfile.mkstemp(prefix="moto-", suffix=".log")
            os.close(fd)
        last_error = ""
        for _attempt in range(3):
            port = self.requested_port or free_port()
            self._log_file = open(self.log_path, "ab")
            cmd = moto_server_command() + ["-H", HOST, "-p", str(port)]
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
            self.port = port
            atexit.register(self.stop)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_error = f"moto exited with {self.proc.returncode}"
                    break
                try:
                    with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2) as r:
                        if r.status < 500 and self.proc.poll() is None:
                            return self
                except (urllib.error.URLError, OSError) as e:
                    last_error = str(e)
                time.sleep(0.1)
            else:
                last_error = f"moto did not answer within {timeout:.0f}s ({last_error})"
            self.stop()
            if self.requested_port:
                break
        raise RuntimeError(f"could not start moto: {last_error}; log: {self.log_path}\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path or "", "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "MotoServer":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------
# CloudFormation response receiver
# --------------------------------------------------------------------------


class _ReceiverHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline().strip()
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        status = receiver._record(self.command, self.path, list(self.headers.items()), body)
        payload = b"" if status < 400 else b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        if status < 400:
            self.send_header("ETag", '"d41d8cd98f00b204e9800998ecf8427e"')
        self.send_header("Connection", "close")
        self.end_headers()
        if payload:
            self.wfile.write(payload)
        self.close_connection = True

    do_PUT = do_POST = do_GET = do_DELETE = _handle

    def log_message(self, *_args) -> None:
        pass


class Receiver:
    """Records CloudFormation responses PUT to its URLs; answers 200 (or a configured status)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.requests: list[dict[str, Any]] = []
        self._fail: list[int] = []
        self.server: http.server.ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> "Receiver":
        self.server = http.server.ThreadingHTTPServer((HOST, 0), _ReceiverHandler)
        self.server.daemon_threads = True
        self.server.receiver = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, name="cfn-receiver", daemon=True)
        self.thread.start()
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start() if self.server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self.server is not None, "receiver not started"
        return self.server.server_address[1]

    def url(self, response_id: str | None = None) -> str:
        """A ResponseURL that looks like CloudFormation's pre-signed S3 URL."""
        response_id = response_id or secrets.token_hex(8)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        query = urllib.parse.urlencode(
            [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Date", stamp),
                ("X-Amz-SignedHeaders", "host"),
                ("X-Amz-Expires", "7200"),
                ("X-Amz-Credential", f"AKIAIOSFODNN7EXAMPLE/{stamp[:8]}/us-east-1/s3/aws4_request"),
                ("X-Amz-Signature", secrets.token_hex(32)),
            ]
        )
        path = urllib.parse.quote(response_id, safe="")
        return f"http://{HOST}:{self.port}/cfn-response/{path}?{query}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer `status` to the next `count` requests (to test retries)."""
        with self._lock:
            self._fail.extend([status] * count)

    def _record(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> int:
        parsed = urllib.parse.urlsplit(path)
        text = body.decode("utf-8", errors="replace")
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        with self._cond:
            status = self._fail.pop(0) if self._fail else 200
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "response_id": urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1]),
                    "query": dict(urllib.parse.parse_qsl(parsed.query)),
                    "headers": headers,
                    "body": text,
                    "json": doc,
                    "status": status,
                }
            )
            self._cond.notify_all()
        return status

    def for_id(self, response_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["response_id"] == response_id]

    def responses(self) -> list[Any]:
        with self._lock:
            return [r["json"] for r in self.requests if r["method"] == "PUT"]

    def wait_for(self, count: int, timeout: float = 10.0, response_id: str | None = None) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.requests if response_id is None or r["response_id"] == response_id]
                remaining = deadline - time.monotonic()
                if len(got) >= count or remaining <= 0:
                    return got
                self._cond.wait(remaining)


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


# --------------------------------------------------------------------------
# boto3 sessions per (account, region)
# --------------------------------------------------------------------------


def _boto3():
    ensure_moto(quiet=True)  # pulls in boto3
    import boto3  # noqa: WPS433
    from botocore.config import Config

    return boto3, Config


class Cloud:
    """boto3 sessions and clients against moto, per (account, region)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._sessions: dict[tuple[str, str], Any] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}

    def base_session(self, region: str = "us-east-1"):
        boto3, _ = _boto3()
        return boto3.Session(
            aws_access_key_id=TEST_ACCESS_KEY_ID,
            aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
            region_name=region,
        )

    def session(self, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1"):
        key = (account, region)
        if key not in self._sessions:
            if account == DEFAULT_ACCOUNT:
                self._sessions[key] = self.base_session(region)
            else:
                boto3, _ = _boto3()
                sts = self.base_session(region).client("sts", endpoint_url=self.endpoint)
                creds = sts.assume_role(
                    RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE_NAME}",
                    RoleSessionName="emulator",
                )["Credentials"]
                self._sessions[key] = boto3.Session(
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                    region_name=region,
                )
        return self._sessions[key]

    def client(self, service: str, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1"):
        if service == "iam":
            region = "us-east-1"
        key = (service, account, region)
        if key not in self._clients:
            _, Config = _boto3()
            cfg = Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            )
            self._clients[key] = self.session(account, region).client(service, endpoint_url=self.endpoint, config=cfg)
        return self._clients[key]

    def s3(self, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1"):
        return self.client("s3", account, region)

    def kms(self, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1"):
        return self.client("kms", account, region)

    def iam(self, account: str = DEFAULT_ACCOUNT):
        return self.client("iam", account, "us-east-1")

    def caller_account(self, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1") -> str:
        return self.client("sts", account, region).get_caller_identity()["Account"]


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def parse_arn(arn: str) -> dict[str, str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return {"partition": parts[1], "service": parts[2], "region": parts[3], "account": parts[4], "resource": parts[5]}


def policy_sids(doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return []
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return [s.get("Sid") or "(no Sid)" for s in statements if isinstance(s, dict)]


# --------------------------------------------------------------------------
# World: buckets and keys across accounts/regions, and what exists
# --------------------------------------------------------------------------


class World:
    def __init__(self, cloud: Cloud):
        self.cloud = cloud
        self.buckets: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, tuple[str, str]] = {}

    # ---- creation

    def create_bucket(self, account: str, region: str, name: str, versioned: bool = False) -> str:
        s3 = self.cloud.s3(account, region)
        kwargs: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        if versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.buckets[name] = (account, region)
        return f"arn:aws:s3:::{name}"

    def create_key(
        self, account: str, region: str, description: str = "", alias: str | None = None, rotation: bool = False
    ) -> str:
        kms = self.cloud.kms(account, region)
        meta = kms.create_key(Description=description or f"test key in {account}/{region}")["KeyMetadata"]
        if alias:
            kms.create_alias(AliasName=alias if alias.startswith("alias/") else f"alias/{alias}", TargetKeyId=meta["KeyId"])
        if rotation:
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        self.keys[meta["Arn"]] = (account, region)
        return meta["Arn"]

    def opt_in_key(self, key_arn: str) -> None:
        """The key owner's opt-in: the provider may edit this key's policy (tag
        ``s3-replication:provider-may-edit-policy=true``; README "Security model")."""
        arn = parse_arn(key_arn)
        self.cloud.kms(arn["account"], arn["region"]).tag_resource(
            KeyId=key_arn, Tags=[{"TagKey": "s3-replication:provider-may-edit-policy", "TagValue": "true"}]
        )

    def setup(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Create {"buckets": [...], "keys": [...]}; returns {"buckets": [arns], "keys": [arns]}."""
        out: dict[str, list[str]] = {"buckets": [], "keys": []}
        for b in spec.get("buckets", []):
            out["buckets"].append(
                self.create_bucket(b.get("account", DEFAULT_ACCOUNT), b.get("region", "us-east-1"), b["name"], bool(b.get("versioned")))
            )
        for k in spec.get("keys", []):
            out["keys"].append(
                self.create_key(
                    k.get("account", DEFAULT_ACCOUNT),
                    k.get("region", "us-east-1"),
                    k.get("description", ""),
                    k.get("alias"),
                    bool(k.get("rotation")),
                )
            )
        return out

    # ---- inspection

    def _bucket_s3(self, bucket: str, account: str | None, region: str | None):
        known = self.buckets.get(bucket)
        account = account or (known[0] if known else DEFAULT_ACCOUNT)
        region = region or (known[1] if known else "us-east-1")
        return self.cloud.s3(account, region)

    def bucket_exists(self, bucket: str, account: str | None = None, region: str | None = None) -> bool:
        try:
            self._bucket_s3(bucket, account, region).head_bucket(Bucket=bucket)
            return True
        except Exception as e:  # noqa: BLE001
            if error_code(e) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def bucket_versioning(self, bucket: str, account: str | None = None, region: str | None = None) -> str | None:
        out = self._bucket_s3(bucket, account, region).get_bucket_versioning(Bucket=bucket)
        return out.get("Status")

    def bucket_encryption(self, bucket: str, account: str | None = None, region: str | None = None) -> dict | None:
        try:
            out = self._bucket_s3(bucket, account, region).get_bucket_encryption(Bucket=bucket)
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "ServerSideEncryptionConfigurationNotFoundError":
                return None
            raise
        rules = out.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if not rules:
            return None
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
        return {
            "Algorithm": default.get("SSEAlgorithm"),
            "KmsKeyId": default.get("KMSMasterKeyID"),
            "BucketKeyEnabled": rules[0].get("BucketKeyEnabled"),
        }

    def bucket_replication(self, bucket: str, account: str | None = None, region: str | None = None) -> dict | None:
        try:
            out = self._bucket_s3(bucket, account, region).get_bucket_replication(Bucket=bucket)
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "ReplicationConfigurationNotFoundError":
                return None
            raise
        return out.get("ReplicationConfiguration")

    def stored_replication(self, bucket: str) -> dict | None:
        """The replication configuration exactly as moto stored it (from /moto-api/data.json).

        moto 5.2.5's GetBucketReplication answers every rule with
        ``Filter: {Prefix: ""}`` and ``DeleteMarkerReplication: Disabled`` and
        drops SourceSelectionCriteria; the stored copy keeps what was PUT.
        Shape: {"Role", "Rules": [{"ID", "Priority" (int), "Status", "Filter",
        "DeleteMarkerReplication", "SourceSelectionCriteria", "Destination"}]}.
        None if the bucket has none, or if data.json is unavailable.
        """
        try:
            with urllib.request.urlopen(f"{self.cloud.endpoint}/moto-api/data.json", timeout=30) as r:
                data = json.load(r)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        for b in data.get("s3", {}).get("FakeBucket", []):
            if b.get("name") != bucket:
                continue
            stored = b.get("replication")
            if not stored:
                return None
            rules = stored.get("Rule") or []
            if isinstance(rules, dict):
                rules = [rules]
            out_rules = []
            for rule in rules:
                rule = {k: v for k, v in rule.items() if not k.startswith("@")}
                try:
                    rule["Priority"] = int(rule.get("Priority", 0))
                except (TypeError, ValueError):
                    pass
                flt = rule.get("Filter")
                if isinstance(flt, dict) and isinstance(flt.get("And"), dict) and "Tag" in flt["And"]:
                    tags = flt["And"].pop("Tag")
                    flt["And"]["Tags"] = tags if isinstance(tags, list) else [tags]
                out_rules.append(rule)
            return {"Role": stored.get("Role"), "Rules": out_rules}
        return None

    def bucket_policy(self, bucket: str, account: str | None = None, region: str | None = None) -> dict | None:
        try:
            out = self._bucket_s3(bucket, account, region).get_bucket_policy(Bucket=bucket)
        except Exception as e:  # noqa: BLE001
            if error_code(e) in ("NoSuchBucketPolicy", "NoSuchBucket"):
                return None
            raise
        return json.loads(out["Policy"])

    def key_info(self, key_arn: str) -> dict | None:
        """State, rotation, policy and aliases of a key, read in its own account/region."""
        arn = parse_arn(key_arn)
        kms = self.cloud.kms(arn["account"], arn["region"])
        try:
            meta = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "NotFoundException":
                return None
            raise
        info: dict[str, Any] = {
            "Arn": meta["Arn"],
            "KeyId": meta["KeyId"],
            "KeyState": meta.get("KeyState"),
            "Enabled": meta.get("Enabled"),
            "Description": meta.get("Description"),
            "DeletionDate": meta.get("DeletionDate"),
        }
        try:
            info["KeyRotationEnabled"] = kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"]
        except Exception:  # noqa: BLE001  (not allowed for keys pending deletion in real KMS)
            info["KeyRotationEnabled"] = None
        try:
            info["Policy"] = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
        except Exception:  # noqa: BLE001
            info["Policy"] = None
        try:
            aliases = kms.list_aliases(KeyId=meta["KeyId"]).get("Aliases", [])
            info["Aliases"] = [a["AliasName"] for a in aliases]
        except Exception:  # noqa: BLE001
            info["Aliases"] = []
        try:
            tags = kms.list_resource_tags(KeyId=meta["KeyId"]).get("Tags", [])
            info["Tags"] = {t["TagKey"]: t["TagValue"] for t in tags}
        except Exception:  # noqa: BLE001
            info["Tags"] = {}
        return info

    def role_info(self, account: str, role_name: str) -> dict | None:
        iam = self.cloud.iam(account)
        try:
            role = iam.get_role(RoleName=role_name)["Role"]
        except Exception as e:  # noqa: BLE001
            if error_code(e) == "NoSuchEntity":
                return None
            raise
        inline = {}
        for name in iam.list_role_policies(RoleName=role_name).get("PolicyNames", []):
            doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(urllib.parse.unquote(doc))
            inline[name] = doc
        attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", [])]
        trust = role.get("AssumeRolePolicyDocument")
        if isinstance(trust, str):
            trust = json.loads(urllib.parse.unquote(trust))
        return {
            "Arn": role["Arn"],
            "Trust": trust,
            "InlinePolicies": inline,
            "AttachedPolicies": attached,
            "PermissionsBoundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "Tags": {t["Key"]: t["Value"] for t in role.get("Tags", [])},
        }

    def role_exists(self, account: str, role_name: str) -> bool:
        return self.role_info(account, role_name) is not None


# --------------------------------------------------------------------------
# running the provider binary
# --------------------------------------------------------------------------


def provider_env(endpoint: str, region: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for `bootstrap invoke`: emulator endpoint, test credentials, nothing from ~/.aws."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and not k.startswith("_LAMBDA") and not k.startswith("LAMBDA_")
    }
    # An empty config/credentials file: nothing from ~/.aws leaks in, and the SDK has nothing to warn about.
    empty = os.path.join(tempfile.gettempdir(), "s3-replication-provider-empty-aws-config")
    if not os.path.exists(empty):
        with open(empty, "w"):
            pass
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": empty,
            "AWS_SHARED_CREDENTIALS_FILE": empty,
            "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES": LOCAL_RESPONSE_URLS,
            # The events sent here name stacks no CloudFormation runs (README "Settings").
            "PROVIDER_VERIFY_STACK_EVENTS": "false",
        }
    )
    env.update(extra or {})
    return env


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def _cmd_ensure(_args) -> int:
    ensure_moto()
    return 0


def _cmd_serve(args) -> int:
    install_signal_exit()
    moto = MotoServer(port=args.port).start()
    receiver = Receiver().start()
    cloud = Cloud(moto.endpoint)
    if args.world:
        with open(args.world) as f:
            created = World(cloud).setup(json.load(f))
        print(json.dumps(created, indent=2))
    print(f"moto:     {moto.endpoint}   (log {moto.log_path})")
    print(f"receiver: {receiver.url('example')}")
    print("environment for `bootstrap invoke`:")
    for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        print(f"  export {k}={provider_env(moto.endpoint, args.region)[k]}")
    print("Ctrl-C to stop; responses received are printed below.", flush=True)
    seen = 0
    try:
        while True:
            got = receiver.wait_for(seen + 1, timeout=1.0)
            for r in got[seen:]:
                print(f"{r['method']} {r['path']}\n{json.dumps(r['json'] or r['body'], indent=2)}", flush=True)
            seen = len(got)
    except KeyboardInterrupt:
        return 0


def _cmd_moto(args) -> int:
    """One moto for another program (the Rust tests): started as everything here starts it,
    announced on stdout, stopped when the caller closes our stdin (or exits)."""
    install_signal_exit()
    with MotoServer(log_path=args.log) as moto:
        print(f"ready {moto.endpoint}", flush=True)
        sys.stdin.read()
    return 0


def _cmd_selftest(_args) -> int:
    with MotoServer() as moto, Receiver() as receiver:
        cloud = Cloud(moto.endpoint)
        world = World(cloud)
        for account, region in ((DEFAULT_ACCOUNT, "eu-west-1"), ("222222222222", "us-west-2"), ("333333333333", "ap-southeast-2")):
            assert cloud.caller_account(account, region) == account, account
            name = f"selftest-{account}-{secrets.token_hex(3)}"
            world.create_bucket(account, region, name, versioned=True)
            assert world.bucket_versioning(name) == "Enabled"
            key = world.create_key(account, region, alias=f"selftest-{account}")
            info = world.key_info(key)
            assert info and info["KeyState"] == "Enabled" and parse_arn(key)["account"] == account, info
            print(f"ok  {account} {region}: bucket {name}, key {key}")
        url = receiver.url("selftest")
        req = urllib.request.Request(url, data=b'{"Status":"SUCCESS"}', method="PUT", headers={"Content-Type": ""})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
        got = receiver.wait_for(1, response_id="selftest")
        assert got and got[0]["json"] == {"Status": "SUCCESS"}, got
        print(f"ok  receiver recorded PUT {got[0]['path'][:60]}...")
        moto.reset()
        assert not world.bucket_exists(name), "reset did not clear state"
        print("ok  moto reset")
    print("selftest passed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ensure-moto", help=f"install {MOTO_REQUIREMENT} if needed").set_defaults(fn=_cmd_ensure)
    serve = sub.add_parser("serve", help="run moto + a response receiver until Ctrl-C")
    serve.add_argument("--port", type=int, default=None, help="moto port (default: a free one)")
    serve.add_argument("--region", default="eu-west-1", help="AWS_REGION to print for the provider")
    serve.add_argument("--world", help="JSON world spec to create after start")
    serve.set_defaults(fn=_cmd_serve)
    moto = sub.add_parser("moto", help="run moto alone: print `ready <endpoint>`, stop when stdin closes")
    moto.add_argument("--log", help="moto's log file (default: a temporary file)")
    moto.set_defaults(fn=_cmd_moto)
    sub.add_parser("selftest", help="start everything, create a 3-account world, check it").set_defaults(fn=_cmd_selftest)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
