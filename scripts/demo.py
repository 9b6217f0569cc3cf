#!/usr/bin/env python3
"""End-to-end demo of the Custom::S3Replication provider against a local AWS emulator.

    target/tools/python scripts/demo.py target/release/bootstrap [--verbose] [--workdir DIR]

Starts moto (server mode, 127.0.0.1) and a CloudFormation response receiver,
creates three accounts' worth of buckets and keys, then drives the provider
through the life of one stack resource, exactly as CloudFormation would, by
writing each request event to a file and running `bootstrap invoke <file>`:

  1. Create   replicate the source bucket (eu-west-1, account 123456789012) to a
              backup bucket in account 222222222222 (us-west-2); the provider
              creates both KMS keys and must enable versioning itself.
  2. Update   add a second destination in account 333333333333
              (ap-southeast-2) with its existing KMS key, for `logs/` only.
  3. Update   remove the first destination.
  4. Delete   remove everything the provider made (keys scheduled for deletion).

After each step it checks that exactly one response was PUT to the ResponseURL
with Status SUCCESS, prints what now exists in every account, and runs a few
checks. Exit status: 0 if every step succeeded and every check held, 1 if not,
2 if the binary is missing or cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import emulator  # noqa: E402
from emulator import DEFAULT_ACCOUNT, Cloud, MotoServer, Receiver, World, header, parse_arn, policy_sids  # noqa: E402

SOURCE_ACCOUNT = DEFAULT_ACCOUNT
SOURCE_REGION = "eu-west-1"
ACCOUNT_A, REGION_A = "222222222222", "us-west-2"
ACCOUNT_B, REGION_B = "333333333333", "ap-southeast-2"
LOGICAL_ID = "BucketReplication"
RESOURCE_TYPE = "Custom::S3Replication"
INVOKE_TIMEOUT = 240  # seconds; the provider's own budget is set lower


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------


# Objects in the source bucket before replication is configured.
EXISTING_OBJECTS = ["logs/2026-11-30.log", "reports/q3.csv"]

class Style:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def _c(self, code: str, s: str) -> str:
        return f"\033[{code}m{s}\033[0m" if self.enabled else s

    def bold(self, s: str) -> str:
        return self._c("1", s)

    def dim(self, s: str) -> str:
        return self._c("2", s)

    def green(self, s: str) -> str:
        return self._c("32", s)

    def red(self, s: str) -> str:
        return self._c("31", s)

    def yellow(self, s: str) -> str:
        return self._c("33", s)

    def cyan(self, s: str) -> str:
        return self._c("36", s)


S = Style(sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb")
OK_MARK = "✔"
BAD_MARK = "✘"
WARN_MARK = "!"


def out(line: str = "") -> None:
    print(line, flush=True)


def banner(title: str) -> None:
    width = 78
    text = f"━━━ {title} "
    out()
    out(S.bold(S.cyan(text + "━" * max(3, width - len(text)))))


def section(title: str) -> None:
    out(f"  {S.bold(title)}")


def field(name: str, value: Any, indent: int = 4) -> None:
    out(f"{' ' * indent}{S.dim(f'{name:<26}')} {value}")


def onoff(value: Any) -> str:
    if value in (True, "Enabled", "true"):
        return S.green("on")
    if value in (False, "Disabled", "false", None, ""):
        return "off"
    return str(value)


class Checks:
    """Collects check results for one step; hard failures fail the demo."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, str]] = []  # (kind, message, detail)

    def check(self, ok: bool, message: str, detail: str = "") -> bool:
        self.results.append(("ok" if ok else "fail", message, detail))
        return ok

    def expect(self, ok: bool, message: str, detail: str = "") -> bool:
        """A soft check: reported as a warning, does not fail the demo."""
        self.results.append(("ok" if ok else "warn", message, detail))
        return ok

    @property
    def failures(self) -> list[str]:
        return [m for k, m, _ in self.results if k == "fail"]

    def print(self, verbose: bool = False) -> None:
        passed = sum(1 for k, _, _ in self.results if k == "ok")
        failed = sum(1 for k, _, _ in self.results if k == "fail")
        summary = S.green(f"{passed} passed") + (", " + S.red(f"{failed} failed") if failed else "")
        section(f"Checks: {summary}" + ("" if verbose else S.dim("  (--verbose lists them all)")))
        for kind, message, detail in self.results:
            if kind == "ok" and not verbose:
                continue
            mark = {"ok": S.green(OK_MARK), "fail": S.red(BAD_MARK), "warn": S.yellow(WARN_MARK)}[kind]
            suffix = f" {S.dim('— ' + detail)}" if detail and kind != "ok" else ""
            out(f"    {mark} {message}{suffix}")


class StepFailed(Exception):
    pass


class BinaryUnusable(Exception):
    pass


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def as_list(value: Any) -> list[str]:
    """Data values may be lists or comma-separated strings."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    if isinstance(value, dict):
        return [str(v) for v in value.values() if v not in (None, "")]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def shorten(text: Any, limit: int = 300) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mentions(doc: Any, needle: str) -> bool:
    return doc is not None and needle in json.dumps(doc)


def tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def rule_prefix(rule: dict) -> str:
    flt = rule.get("Filter")
    if isinstance(flt, dict):
        if "Prefix" in flt:
            return flt.get("Prefix") or ""
        if isinstance(flt.get("And"), dict):
            return flt["And"].get("Prefix") or ""
        return ""
    return rule.get("Prefix") or ""


def status_of(obj: Any) -> str | None:
    return obj.get("Status") if isinstance(obj, dict) else None


# --------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------


class Demo:
    def __init__(self, bootstrap: str, workdir: str, verbose: bool):
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.verbose = verbose
        self.suffix = secrets.token_hex(3)
        self.source_bucket = f"demo-source-{self.suffix}"
        self.bucket_a = f"demo-backup-a-{self.suffix}"
        self.bucket_b = f"demo-backup-b-{self.suffix}"
        self.role_name = f"demo-replication-{self.suffix}"
        self.stack_id = f"arn:aws:cloudformation:{SOURCE_REGION}:{SOURCE_ACCOUNT}:stack/s3-replication-demo/{uuid.uuid4()}"
        self.service_token = f"arn:aws:lambda:{SOURCE_REGION}:{SOURCE_ACCOUNT}:function:s3-replication-provider"
        self.moto: MotoServer | None = None
        self.receiver: Receiver | None = None
        self.world: World | None = None
        self.key_b = ""
        self.topic = ""
        self.latency_topic = ""
        self.physical_id: str | None = None
        self.props: dict[str, Any] | None = None
        self.known_keys: dict[str, str] = {}  # arn -> label
        self.failures: list[str] = []

    # ---- world

    def setup_world(self) -> None:
        banner("Setting up the emulated accounts")
        self.moto = MotoServer(log_path=os.path.join(self.workdir, "moto.log")).start()
        self.receiver = Receiver().start()
        self.world = World(Cloud(self.moto.endpoint))
        w = self.world
        w.create_bucket(SOURCE_ACCOUNT, SOURCE_REGION, self.source_bucket, versioned=False)
        w.create_bucket(ACCOUNT_A, REGION_A, self.bucket_a, versioned=False)
        w.create_bucket(ACCOUNT_B, REGION_B, self.bucket_b, versioned=True)
        self.key_b = w.create_key(ACCOUNT_B, REGION_B, description="existing backup key (not managed by the stack)", alias="backup-b")
        self.known_keys[self.key_b] = "destination B, pre-existing"
        sns = w.cloud.client("sns", SOURCE_ACCOUNT, SOURCE_REGION)
        self.topic = sns.create_topic(Name=f"s3-replication-failures-{self.suffix}")["TopicArn"]
        # CloudWatch alarm actions must be in the alarm's region: the RTC latency alarm of
        # destination A lives in REGION_A, where S3 publishes ReplicationLatency.
        west = w.cloud.client("sns", SOURCE_ACCOUNT, REGION_A)
        self.latency_topic = west.create_topic(Name=f"s3-replication-alarms-{self.suffix}")["TopicArn"]
        field("moto", f"{self.moto.endpoint}  {S.dim('(log ' + self.moto.log_path + ')')}")
        field("response receiver", f"http://127.0.0.1:{self.receiver.port}/cfn-response/…")
        field("work directory", self.workdir)
        field("source", f"{self.source_bucket} · account {SOURCE_ACCOUNT} · {SOURCE_REGION} · versioning off")
        field("destination A", f"{self.bucket_a} · account {ACCOUNT_A} · {REGION_A} · versioning off")
        field("destination B", f"{self.bucket_b} · account {ACCOUNT_B} · {REGION_B} · versioning on")
        field("existing key B", self.key_b)
        field("failure topic", f"{self.topic} · SNS's default policy")
        field("alarm topic", f"{self.latency_topic} · for the alarms in {REGION_A}")
        # Objects written before any replication: only a Batch Replication job copies them.
        s3 = w.cloud.client("s3", SOURCE_ACCOUNT, SOURCE_REGION)
        for key in EXISTING_OBJECTS:
            s3.put_object(Bucket=self.source_bucket, Key=key, Body=b"written before replication")
        field("existing objects", ", ".join(EXISTING_OBJECTS))

    # ---- properties

    def base_props(self) -> dict[str, Any]:
        return {
            "ServiceToken": self.service_token,
            # CloudFormation forwards the resource's ServiceTimeout beside its properties.
            "ServiceTimeout": "600",
            "SourceBucket": self.source_bucket,
            "SourceRegion": SOURCE_REGION,
            "SourceKmsKeyArn": "Create",
            "ReplicationRoleName": self.role_name,
            "KeyRemovalPolicy": "Delete",
            "KeyDeletionWindowDays": "7",
            "TakeOverExistingReplication": "false",
            # The provider proves the permission chain (the doctor) before it answers SUCCESS.
            "Verify": "Permissions",
            # Say when replication breaks: S3's failure events to the topic, alarms per rule.
            "FailureNotification": self.topic,
            "Alarms": "true",
            "AlarmTopics": [self.latency_topic],
        }

    def dest_a(self) -> dict[str, Any]:
        return {
            "Bucket": self.bucket_a,
            "AccountId": ACCOUNT_A,
            "Region": REGION_A,
            "KmsKeyArn": "Create",
            "StorageClass": "STANDARD_IA",
            "Id": "backup-a",
            "Priority": "1",
            "DeleteMarkerReplication": "true",
            "ReplicationTimeControl": "true",
            "Metrics": "true",
            "ReplicaModifications": "true",
            "OwnerOverride": "true",
            # Copy what the source held before replication (an S3 Batch Replication job).
            "ReplicateExistingObjects": "true",
        }

    def dest_b(self) -> dict[str, Any]:
        return {
            "Bucket": self.bucket_b,
            "AccountId": ACCOUNT_B,
            "Region": REGION_B,
            "RoleArn": f"arn:aws:iam::{ACCOUNT_B}:role/S3ReplicationDestinationProvisioner",
            "ExternalId": f"demo-{self.suffix}",
            "KmsKeyArn": self.key_b,
            "StorageClass": "STANDARD",
            "Id": "backup-b-logs",
            "Priority": "2",
            "Prefix": "logs/",
            "DeleteMarkerReplication": "false",
            "ReplicateExistingObjects": "true",
        }

    # ---- invoking the provider

    def invoke(self, index: int, request_type: str, props: dict[str, Any]) -> dict[str, Any]:
        assert self.receiver and self.moto
        response_id = f"{self.stack_id.rsplit('/', 1)[-1]}|{LOGICAL_ID}|step-{index}"
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": self.service_token,
            "ResponseURL": self.receiver.url(response_id),
            "StackId": self.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": LOGICAL_ID,
            "ResourceType": RESOURCE_TYPE,
            "ResourceProperties": props,
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = self.physical_id
        if request_type == "Update":
            event["OldResourceProperties"] = self.props
        event_path = os.path.join(self.workdir, f"step-{index}-{request_type.lower()}.json")
        log_path = os.path.join(self.workdir, f"step-{index}-{request_type.lower()}.log")
        with open(event_path, "w") as f:
            json.dump(event, f, indent=2)

        env = emulator.provider_env(self.moto.endpoint, SOURCE_REGION, {"PROVIDER_TIME_BUDGET_SECONDS": "120"})
        cmd = [self.bootstrap, "invoke", event_path]
        shown = os.path.relpath(self.bootstrap) if self.bootstrap.startswith(os.getcwd() + os.sep) else self.bootstrap
        out(f"  {S.dim('$')} {shlex.quote(shown)} invoke {shlex.quote(event_path)}")
        started = time.monotonic()
        try:
            with open(log_path, "wb") as log_file:
                proc = subprocess.run(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=None if self.verbose else log_file,
                    timeout=INVOKE_TIMEOUT,
                )
        except FileNotFoundError as e:
            raise BinaryUnusable(f"bootstrap not found: {self.bootstrap} ({e})") from e
        except PermissionError as e:
            raise BinaryUnusable(f"bootstrap is not executable: {self.bootstrap} ({e})") from e
        except subprocess.TimeoutExpired as e:
            raise StepFailed(f"`bootstrap invoke` did not finish within {INVOKE_TIMEOUT}s; log: {log_path}") from e
        elapsed = time.monotonic() - started
        rc_text = S.green("exit 0") if proc.returncode == 0 else S.red(f"exit {proc.returncode}")
        out(f"    {rc_text} · {elapsed:.1f}s · log {S.dim(log_path)}")

        puts = [r for r in self.receiver.for_id(response_id) if r["method"] == "PUT"]
        others = [r for r in self.receiver.for_id(response_id) if r["method"] != "PUT"]
        if not puts:
            detail = tail(log_path) if not self.verbose else ""
            hint = "" if proc.returncode != 0 else " (does this build implement `bootstrap invoke`?)"
            raise StepFailed(
                f"`bootstrap invoke` failed: exit {proc.returncode} and no response was PUT to the ResponseURL{hint}"
                + (f"\n--- last lines of {log_path} ---\n{detail}" if detail else "")
            )

        checks = Checks()
        checks.check(proc.returncode == 0, "`bootstrap invoke` exited 0", f"exit {proc.returncode}")
        checks.check(len(puts) == 1, "exactly one response PUT to the ResponseURL", f"got {len(puts)} PUT(s)")
        checks.check(not others, "no other requests to the ResponseURL", f"got {[r['method'] for r in others]}")
        if not puts:
            checks.print(True)
            raise StepFailed("no response was delivered to the ResponseURL")
        put = puts[-1]
        body = put["json"]
        if not isinstance(body, dict):
            checks.print(True)
            raise StepFailed(f"response body is not a JSON object: {put['body'][:200]!r}")
        with open(os.path.join(self.workdir, f"step-{index}-{request_type.lower()}.response.json"), "w") as f:
            json.dump(body, f, indent=2)
        content_type = header(put["headers"], "Content-Type")
        checks.expect(not content_type, "response sent with an empty Content-Type", f"Content-Type: {content_type}")
        for k in ("StackId", "RequestId", "LogicalResourceId"):
            checks.check(body.get(k) == event[k], f"response echoes {k}", f"{body.get(k)!r}")
        try:
            stdout_doc = json.loads((proc.stdout or b"").decode() or "null")
        except ValueError:
            lines = [ln for ln in (proc.stdout or b"").decode(errors="replace").splitlines() if ln.strip()]
            try:
                stdout_doc = json.loads(lines[-1]) if lines else None
            except ValueError:
                stdout_doc = None
        checks.expect(stdout_doc == body, "stdout carries the delivered response JSON")
        status = body.get("Status")

        colour = S.green if status == "SUCCESS" else S.red
        section("Response")
        field("Status", colour(S.bold(str(status))))
        if body.get("Reason") and status != "SUCCESS" or self.verbose:
            field("Reason", shorten(body.get("Reason")))
        field("PhysicalResourceId", body.get("PhysicalResourceId"))
        for k, v in (body.get("Data") or {}).items():
            values = as_list(v) if isinstance(v, list) or (isinstance(v, str) and "," in v) else [v]
            field(f"Data.{k}", values[0] if values else S.dim("(empty)"))
            for extra in values[1:]:
                field("", extra)
        checks.check(status == "SUCCESS", f"{request_type} answered SUCCESS", f"{status}")
        checks.check(bool(body.get("PhysicalResourceId")), "PhysicalResourceId is set")
        if request_type != "Create":
            checks.check(
                body.get("PhysicalResourceId") == self.physical_id,
                "PhysicalResourceId unchanged (no replacement)",
                f"{self.physical_id!r} -> {body.get('PhysicalResourceId')!r}",
            )
        self.step_checks = checks
        if status != "SUCCESS":
            checks.print(True)
            raise StepFailed(
                f"{request_type} answered {status}: {shorten(body.get('Reason'), 600)}\n"
                f"--- last lines of {log_path} ---\n{tail(log_path, 25)}"
            )
        if request_type == "Create":
            self.physical_id = body.get("PhysicalResourceId")
        self.props = props
        return body

    # ---- state printing

    def show_state(self, data: dict[str, Any]) -> dict[str, Any]:
        """Print what exists now; returns the facts the checks use."""
        w = self.world
        assert w
        facts: dict[str, Any] = {}

        section(f"Source bucket {self.source_bucket} · {SOURCE_ACCOUNT} · {SOURCE_REGION}")
        facts["versioning"] = w.bucket_versioning(self.source_bucket)
        field("versioning", facts["versioning"] or "never enabled")
        enc = w.bucket_encryption(self.source_bucket)
        facts["encryption"] = enc
        if enc:
            key = enc.get("KmsKeyId") or ""
            field("default encryption", f"{enc.get('Algorithm')}" + (f" · {key}" if key else "") + f" · bucket key {onoff(enc.get('BucketKeyEnabled'))}")
        else:
            field("default encryption", "none")
        replication = w.bucket_replication(self.source_bucket)
        stored = w.stored_replication(self.source_bucket)
        facts["replication"] = replication
        facts["stored"] = stored
        if not replication:
            field("replication", "none")
        else:
            field("replication role", replication.get("Role"))
            stored_rules = {r.get("ID"): r for r in (stored or {}).get("Rules", [])}
            for rule in replication.get("Rules", []):
                rule = stored_rules.get(rule.get("ID"), rule)  # moto's Get drops filters; prefer what it stored
                dest = rule.get("Destination", {})
                prefix = rule_prefix(rule)
                ssc = rule.get("SourceSelectionCriteria") or {}
                field(
                    f"rule {rule.get('ID')}",
                    f"priority {rule.get('Priority')} · {rule.get('Status')} · "
                    f"{'prefix ' + repr(prefix) if prefix else 'all objects'} → {dest.get('Bucket')}",
                )
                details = [
                    f"account {dest.get('Account') or '(same)'}",
                    f"class {dest.get('StorageClass') or 'same as source'}",
                    f"owner → {(dest.get('AccessControlTranslation') or {}).get('Owner') or 'source'}",
                ]
                field("", " · ".join(details))
                field("", f"replica key {(dest.get('EncryptionConfiguration') or {}).get('ReplicaKmsKeyID') or 'none'}")
                field(
                    "",
                    f"SSE-KMS objects {onoff(status_of(ssc.get('SseKmsEncryptedObjects')))} · "
                    f"delete markers {onoff(status_of(rule.get('DeleteMarkerReplication')))} · "
                    f"RTC {onoff(status_of(dest.get('ReplicationTime')))} · "
                    f"metrics {onoff(status_of(dest.get('Metrics')))} · "
                    f"replica modifications {onoff(status_of(ssc.get('ReplicaModifications')))}",
                )

        role = w.role_info(SOURCE_ACCOUNT, self.role_name)
        facts["role"] = role
        section(f"Replication role {self.role_name} · {SOURCE_ACCOUNT}")
        if not role:
            field("role", "does not exist")
        else:
            field("arn", role["Arn"])
            principals = []
            for st in (role.get("Trust") or {}).get("Statement", []):
                p = st.get("Principal", {})
                principals += as_list(p.get("Service") if isinstance(p, dict) else p)
            field("trusted by", ", ".join(principals) or "?")
            for name, doc in role["InlinePolicies"].items():
                field(f"inline {name}", "Sids: " + ", ".join(policy_sids(doc)))
            for arn in role["AttachedPolicies"]:
                field("attached", arn)

        facts["dest"] = {}
        for label, bucket, account, region in (
            ("A", self.bucket_a, ACCOUNT_A, REGION_A),
            ("B", self.bucket_b, ACCOUNT_B, REGION_B),
        ):
            section(f"Destination {label}: {bucket} · {account} · {region}")
            versioning = w.bucket_versioning(bucket, account, region)
            policy = w.bucket_policy(bucket, account, region)
            facts["dest"][label] = {"versioning": versioning, "policy": policy}
            field("versioning", versioning or "never enabled")
            field("bucket policy", ("Sids: " + ", ".join(policy_sids(policy))) if policy else "none")

        self.show_signals(facts)

        for arn in [data.get("SourceKmsKeyArn")] + as_list(data.get("DestinationKmsKeyArns")):
            if arn and arn.startswith("arn:") and arn not in self.known_keys:
                acct = parse_arn(arn)["account"]
                self.known_keys[arn] = "source" if acct == SOURCE_ACCOUNT else f"destination in {acct}"
        facts["keys"] = {}
        section("KMS keys")
        for arn, label in self.known_keys.items():
            info = w.key_info(arn)
            facts["keys"][arn] = info
            field(label, arn)
            if info is None:
                field("", "not found")
                continue
            state = info["KeyState"]
            state_text = S.green(state) if state == "Enabled" else S.yellow(state)
            extra = f" (deletion on {str(info['DeletionDate'])[:10]})" if info.get("DeletionDate") else ""
            field("", f"{state_text}{extra} · rotation {onoff(info.get('KeyRotationEnabled'))}"
                  + (f" · aliases {', '.join(info['Aliases'])}" if info.get("Aliases") else ""))
            field("", "policy Sids: " + ", ".join(policy_sids(info.get("Policy"))))
        return facts

    def show_signals(self, facts: dict[str, Any]) -> None:
        """The source bucket's replication event notifications, the topic's policy, the alarms."""
        w = self.world
        assert w
        section(f"Failure signals of {self.source_bucket}")
        s3 = w.cloud.s3(SOURCE_ACCOUNT, SOURCE_REGION)
        config = s3.get_bucket_notification_configuration(Bucket=self.source_bucket)
        notes = [c for c in config.get("TopicConfigurations", []) + config.get("QueueConfigurations", [])]
        facts["notifications"] = notes
        if not notes:
            field("event notifications", "none")
        for n in notes:
            field(f"notification {n.get('Id')}", f"{n.get('TopicArn') or n.get('QueueArn')}")
            field("", ", ".join(e.split(":")[-1] for e in n.get("Events", [])))
        sns = w.cloud.client("sns", SOURCE_ACCOUNT, SOURCE_REGION)
        policy = json.loads(sns.get_topic_attributes(TopicArn=self.topic)["Attributes"].get("Policy") or "{}")
        facts["topic_policy"] = policy
        field("topic policy", "Sids: " + ", ".join(policy_sids(policy)))
        # Each alarm is where S3 publishes its metric: failures in the source region, RTC
        # latency in the destination's.
        alarms = []
        for region in dict.fromkeys([SOURCE_REGION, REGION_A, REGION_B]):
            cw = w.cloud.client("cloudwatch", SOURCE_ACCOUNT, region)
            found = cw.describe_alarms(AlarmNamePrefix=f"s3-replication/{self.source_bucket}/")["MetricAlarms"]
            alarms.extend((region, a) for a in found)
        facts["alarms"] = [a["AlarmName"] for _, a in alarms]
        facts["alarm_regions"] = {a["AlarmName"]: region for region, a in alarms}
        if not alarms:
            field("alarms", "none")
        for region, a in alarms:
            field("alarm", f"{a['AlarmName']} ({region}) · {a['MetricName']} {a['Statistic']} > {a['Threshold']:g} · missing data {a.get('TreatMissingData')} · actions {', '.join(a.get('AlarmActions') or []) or 'none'}")

    def check_signals(self, c: Checks, facts: dict, rules: list[tuple[str, bool]]) -> None:
        """While the resource exists with `rules` [(rule id, RTC)]."""
        ours = [n for n in facts["notifications"] if n.get("Id") == f"s3-replication-failures-{self.source_bucket}"]
        c.check(len(ours) == 1 and ours[0].get("TopicArn") == self.topic, "the source bucket notifies the topic of replication failures")
        events = set(ours[0].get("Events", [])) if ours else set()
        c.check("s3:Replication:OperationFailedReplication" in events, "… of OperationFailedReplication")
        sid = next((s for s in policy_sids(facts["topic_policy"]) if s.startswith("S3Replication")), None)
        c.check(sid is not None, "the topic policy lets S3 publish for the source bucket", ", ".join(policy_sids(facts["topic_policy"])))
        want = []
        for rule, rtc in rules:
            want.append(f"s3-replication/{self.source_bucket}/{rule}/failed-replication")
            if rtc:
                want.append(f"s3-replication/{self.source_bucket}/{rule}/replication-latency")
        c.check(sorted(facts["alarms"]) == sorted(want), f"alarms: {len(want)} (failures per rule, latency per RTC rule)", ", ".join(facts["alarms"]))
        misplaced = [
            f"{name} in {region}"
            for name, region in facts["alarm_regions"].items()
            if (region == SOURCE_REGION) != name.endswith("/failed-replication")
        ]
        c.check(not misplaced, "failure alarms in the source region, latency alarms in their destination's region", ", ".join(misplaced))

    # ---- expectations per step

    def check_existing_objects(self, c: Checks, data: dict, label: str, bucket: str, account: str, region: str, want: list[str], index: int) -> None:
        """The destination's Batch Replication job started and copied the objects it predates."""
        ids = (data.get("BatchReplicationJobIds") or "").split(",")
        job = ids[index] if index < len(ids) else ""
        s3 = self.world.cloud.client("s3", account, region)
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        keys = sorted(o["Key"] for o in listed if o["Key"] in EXISTING_OBJECTS)
        section(f"Existing objects in {label} ({bucket})")
        field("batch replication job", job or "none")
        field("objects from before replication", ", ".join(keys) or "none")
        c.check(bool(job), f"a Batch Replication job was started for {label} (Data.BatchReplicationJobIds)", data.get("BatchReplicationJobIds", ""))
        c.check(keys == sorted(want), f"{label} holds the objects written before replication: {', '.join(want)}", ", ".join(keys))

    def rules_by_bucket(self, facts: dict[str, Any]) -> dict[str, dict]:
        stored = facts.get("stored") or facts.get("replication") or {}
        return {r.get("Destination", {}).get("Bucket"): r for r in stored.get("Rules", [])}

    def check_active(self, c: Checks, facts: dict, data: dict, active: list[tuple[str, str, str]]) -> None:
        """Checks that hold while the resource exists with `active` destinations [(label, bucket, account)]."""
        role_arn = data.get("ReplicationRoleArn") or ""
        c.check(facts["versioning"] == "Enabled", "source bucket versioning Enabled", f"{facts['versioning']}")
        c.check(facts["role"] is not None, f"replication role {self.role_name} exists in {SOURCE_ACCOUNT}")
        c.check(
            bool(role_arn) and facts["role"] is not None and facts["role"]["Arn"] == role_arn,
            "Data.ReplicationRoleArn is that role",
            role_arn,
        )
        rep = facts["replication"]
        c.check(rep is not None, "source bucket has a replication configuration")
        if rep:
            c.check(rep.get("Role") == role_arn, "replication configuration uses that role", str(rep.get("Role")))
        rules = self.rules_by_bucket(facts)
        want = {f"arn:aws:s3:::{b}" for _, b, _ in active}
        c.check(set(rules) == want, f"replication rules go to exactly {', '.join(sorted(want))}", f"{sorted(rules)}")
        data_buckets = set(as_list(data.get("DestinationBucketArns")))
        c.check(data_buckets == want, "Data.DestinationBucketArns lists the destinations", f"{sorted(data_buckets)}")
        c.check(len(as_list(data.get("RuleIds"))) == len(active), "Data.RuleIds has one id per destination", f"{data.get('RuleIds')}")
        src_key = data.get("SourceKmsKeyArn") or ""
        src_info = facts["keys"].get(src_key)
        c.check(
            bool(src_key) and src_key.startswith(f"arn:aws:kms:{SOURCE_REGION}:{SOURCE_ACCOUNT}:key/") and bool(src_info) and src_info["KeyState"] == "Enabled",
            "created source key is Enabled in the source account/region",
            src_key,
        )
        data_keys = as_list(data.get("DestinationKmsKeyArns"))
        for label, bucket, account in active:
            rule = rules.get(f"arn:aws:s3:::{bucket}") or {}
            dest = rule.get("Destination", {})
            replica_key = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID") or ""
            c.check(dest.get("Account") == account, f"rule for {label} names destination account {account}", str(dest.get("Account")))
            c.check(
                replica_key.startswith("arn:aws:kms:") and parse_arn(replica_key)["account"] == account,
                f"rule for {label} encrypts replicas with a key in {account}",
                replica_key or "no ReplicaKmsKeyID",
            )
            c.check(replica_key in data_keys, f"Data.DestinationKmsKeyArns includes {label}'s key", replica_key)
            info = facts["keys"].get(replica_key) or (self.world.key_info(replica_key) if replica_key.startswith("arn:") else None)
            c.check(bool(info) and info["KeyState"] == "Enabled", f"{label}'s replica key is Enabled", str(info and info["KeyState"]))
            c.check(bool(info) and mentions(info.get("Policy"), role_arn), f"{label}'s key policy grants the replication role")
            d = facts["dest"][label]
            c.check(d["versioning"] == "Enabled", f"destination {label} versioning Enabled", str(d["versioning"]))
            c.check(mentions(d["policy"], role_arn), f"destination {label} bucket policy grants the replication role")
            if facts.get("stored") is not None:  # moto's GetBucketReplication drops SourceSelectionCriteria
                ssc = rule.get("SourceSelectionCriteria") or {}
                c.check(status_of(ssc.get("SseKmsEncryptedObjects")) == "Enabled", f"rule for {label} replicates SSE-KMS objects")
        enc = facts.get("encryption") or {}
        c.expect(
            enc.get("Algorithm") == "aws:kms" and enc.get("KmsKeyId") in (src_key, src_key.rsplit("/", 1)[-1]),
            "source default encryption uses Data.SourceKmsKeyArn",
            f"{enc.get('Algorithm')} {enc.get('KmsKeyId')}",
        )

    def check_removed_destination(self, c: Checks, facts: dict, role_arn: str, label: str, created_key: str | None) -> None:
        d = facts["dest"][label]
        c.expect(not mentions(d["policy"], role_arn), f"destination {label} bucket policy no longer grants the role")
        if created_key:
            info = facts["keys"].get(created_key)
            c.check(
                bool(info) and info["KeyState"] == "PendingDeletion",
                f"{label}'s created key is scheduled for deletion (KeyRemovalPolicy Delete)",
                str(info and info["KeyState"]),
            )

    # ---- the steps

    def run(self) -> int:
        self.setup_world()
        steps = 4

        # 1. Create
        banner(f"Step 1/{steps} · Create")
        out(f"  Replicate {self.source_bucket} → {self.bucket_a} ({ACCOUNT_A}, {REGION_A}); provider creates both KMS keys")
        props1 = {**self.base_props(), "Destinations": [self.dest_a()]}
        body = self.invoke(1, "Create", props1)
        data1 = body.get("Data") or {}
        facts = self.show_state(data1)
        c = self.step_checks
        self.check_active(c, facts, data1, [("A", self.bucket_a, ACCOUNT_A)])
        rule_a = self.rules_by_bucket(facts).get(f"arn:aws:s3:::{self.bucket_a}") or {}
        c.check(rule_a.get("ID") == "backup-a", "rule for A has Id backup-a", str(rule_a.get("ID")))
        dest_a = rule_a.get("Destination") or {}
        c.check(dest_a.get("StorageClass") == "STANDARD_IA", "rule for A uses STANDARD_IA", str(dest_a.get("StorageClass")))
        c.check(status_of(dest_a.get("ReplicationTime")) == "Enabled", "rule for A has ReplicationTimeControl on")
        c.check(status_of(dest_a.get("Metrics")) == "Enabled", "rule for A has Metrics on")
        c.check(
            (dest_a.get("AccessControlTranslation") or {}).get("Owner") == "Destination",
            "rule for A overrides the replica owner (OwnerOverride)",
        )
        if facts.get("stored") is not None:
            c.check(status_of(rule_a.get("DeleteMarkerReplication")) == "Enabled", "rule for A replicates delete markers")
            ssc_a = rule_a.get("SourceSelectionCriteria") or {}
            c.check(status_of(ssc_a.get("ReplicaModifications")) == "Enabled", "rule for A syncs replica modifications")
        key_a = ((rule_a.get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
        if key_a:
            self.known_keys[key_a] = "destination A, created"
        self.check_signals(c, facts, [("backup-a", True)])
        self.check_existing_objects(c, data1, "destination A", self.bucket_a, ACCOUNT_A, REGION_A, EXISTING_OBJECTS, 0)
        src_key = data1.get("SourceKmsKeyArn")
        if src_key in self.known_keys:
            self.known_keys[src_key] = "source, created"
        self.finish_step(c)
        role_arn = data1.get("ReplicationRoleArn") or ""

        # 2. Update: add B
        banner(f"Step 2/{steps} · Update: add destination B")
        out(f"  Also replicate logs/ → {self.bucket_b} ({ACCOUNT_B}, {REGION_B}) with its existing key")
        props2 = {**self.base_props(), "Destinations": [self.dest_a(), self.dest_b()]}
        body = self.invoke(2, "Update", props2)
        data2 = body.get("Data") or {}
        facts = self.show_state(data2)
        c = self.step_checks
        self.check_active(c, facts, data2, [("A", self.bucket_a, ACCOUNT_A), ("B", self.bucket_b, ACCOUNT_B)])
        rule_b = self.rules_by_bucket(facts).get(f"arn:aws:s3:::{self.bucket_b}") or {}
        if facts.get("stored") is not None:
            c.check(rule_prefix(rule_b) == "logs/", "rule for B filters on prefix logs/", repr(rule_prefix(rule_b)))
        key_b_in_rule = ((rule_b.get("Destination") or {}).get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
        c.check(key_b_in_rule == self.key_b, "rule for B uses B's existing key", str(key_b_in_rule))
        c.check(data2.get("SourceKmsKeyArn") == data1.get("SourceKmsKeyArn"), "source key unchanged")
        c.check(data2.get("ReplicationRoleArn") == role_arn, "replication role unchanged")
        self.check_signals(c, facts, [("backup-a", True), ("backup-b-logs", False)])
        # B joins after A replicated them (COMPLETED): its job lists those too, under logs/.
        self.check_existing_objects(c, data2, "destination B", self.bucket_b, ACCOUNT_B, REGION_B, [k for k in EXISTING_OBJECTS if k.startswith("logs/")], 1)
        c.check(as_list(data2.get("BatchReplicationJobIds"))[:1] == as_list(data1.get("BatchReplicationJobIds"))[:1], "A's job is not started again (same job id)", str(data2.get("BatchReplicationJobIds")))
        self.finish_step(c)

        # 3. Update: remove A
        banner(f"Step 3/{steps} · Update: remove destination A")
        out(f"  Keep only {self.bucket_b}; A's created key goes (KeyRemovalPolicy Delete), A's bucket stays")
        props3 = {**self.base_props(), "Destinations": [self.dest_b()]}
        body = self.invoke(3, "Update", props3)
        data3 = body.get("Data") or {}
        facts = self.show_state(data3)
        c = self.step_checks
        self.check_active(c, facts, data3, [("B", self.bucket_b, ACCOUNT_B)])
        self.check_removed_destination(c, facts, role_arn, "A", key_a)
        c.check(self.world.bucket_exists(self.bucket_a, ACCOUNT_A, REGION_A), "destination A's bucket still exists")
        self.check_signals(c, facts, [("backup-b-logs", False)])
        self.finish_step(c)

        # 4. Delete
        banner(f"Step 4/{steps} · Delete")
        out("  Stack deletion: replication, role and created keys go; existing buckets and B's key stay")
        self.invoke(4, "Delete", props3)
        facts = self.show_state({})
        c = self.step_checks
        c.check(facts["replication"] is None, "source bucket has no replication configuration")
        c.check(facts["role"] is None, f"replication role {self.role_name} is deleted")
        c.check(not facts["notifications"], "the source bucket's replication failure notification is removed")
        c.check(not any(s.startswith("S3Replication") for s in policy_sids(facts["topic_policy"])), "the topic policy no longer names the source bucket")
        c.check(not facts["alarms"], "the alarms are deleted")
        src_info = facts["keys"].get(data1.get("SourceKmsKeyArn") or "")
        c.check(bool(src_info) and src_info["KeyState"] == "PendingDeletion", "created source key is scheduled for deletion", str(src_info and src_info["KeyState"]))
        b_info = facts["keys"].get(self.key_b)
        c.check(bool(b_info) and b_info["KeyState"] == "Enabled", "B's pre-existing key is still Enabled", str(b_info and b_info["KeyState"]))
        c.expect(bool(b_info) and not mentions(b_info.get("Policy"), role_arn), "B's key policy no longer grants the role")
        self.check_removed_destination(c, facts, role_arn, "B", None)
        for bucket, account, region in (
            (self.source_bucket, SOURCE_ACCOUNT, SOURCE_REGION),
            (self.bucket_a, ACCOUNT_A, REGION_A),
            (self.bucket_b, ACCOUNT_B, REGION_B),
        ):
            c.check(self.world.bucket_exists(bucket, account, region), f"bucket {bucket} still exists")
        self.finish_step(c)
        return 0

    def finish_step(self, c: Checks) -> None:
        c.print(self.verbose)
        self.failures += c.failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstrap", help="path to the built provider binary (target/release/bootstrap)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show the provider's logs as it runs")
    parser.add_argument("--workdir", help="where to keep event files and logs (default: a new temp dir)")
    args = parser.parse_args(argv)

    emulator.install_signal_exit()
    bootstrap = os.path.abspath(args.bootstrap)
    if not os.path.isfile(bootstrap):
        print(f"demo: bootstrap not found at {bootstrap}; build it with `cargo build --release --bin bootstrap`", file=sys.stderr)
        return 2
    if not os.access(bootstrap, os.X_OK):
        print(f"demo: {bootstrap} is not executable", file=sys.stderr)
        return 2
    workdir = args.workdir or tempfile.mkdtemp(prefix="s3-replication-demo-")
    os.makedirs(workdir, exist_ok=True)

    emulator.ensure_moto(quiet=True)
    demo = Demo(bootstrap, workdir, args.verbose)
    try:
        demo.run()
    except BinaryUnusable as e:
        out(S.red(f"\n{BAD_MARK} {e}"))
        return 2
    except StepFailed as e:
        out(S.red(f"\n{BAD_MARK} {e}"))
        out(f"Event files and logs: {workdir}")
        return 1
    finally:
        if demo.receiver:
            demo.receiver.stop()
        if demo.moto:
            demo.moto.stop()

    banner("Result")
    if demo.failures:
        out(S.red(f"  {BAD_MARK} {len(demo.failures)} check(s) failed:"))
        for f in demo.failures:
            out(f"    - {f}")
        out(f"  Event files and logs: {workdir}")
        return 1
    out(S.green(f"  {OK_MARK} Create → Update → Update → Delete all answered SUCCESS and every check held."))
    out(f"  Event files and logs: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
