#!/usr/bin/env python3
"""Start moto's server with fixes for responses the AWS SDK for Rust cannot parse.

Fixes, all for behaviour real AWS does not have:

* moto 5.2.5 serializes GetBucketVersioning with the root element
``GetBucketVersioningResponse``; S3 (and therefore the Rust SDK, which checks the root)
uses ``VersioningConfiguration``. boto3 is lenient about this, the Rust SDK is not. The fix
lives here, in the test harness, so product code has no emulator-specific branches.
* moto 5.2.5 reads replication configurations back lossily; S3 returns what was put.
* moto 5.2.5 has no GetBucketRequestPayment route (it lists the bucket instead).
* moto 5.2.5 answers GetBucketNotificationConfiguration of a bucket without notifications
  with the root element ``GetBucketNotificationResponse`` (S3: ``NotificationConfiguration``).
* moto's KMS backend answers 500 to ScheduleKeyDeletion (and Enable/DisableKey,
  CancelKeyDeletion) given a key ARN; KMS accepts ARNs there.
* moto enforces a bucket policy's Deny on object requests ignoring its Condition, so AWS's
  TLS-only statement (on every bucket the provider creates) would block them all; S3 applies
  it only to requests without TLS (see ``_object_permission_honours_tls_only_deny``).

And two speed fixes, because moto's own overhead would otherwise dominate the performance
figures (scripts/bench.sh) that measure how well the provider overlaps its calls. Neither changes
what any request answers:

* for every request, moto's dispatcher lists its own package directory (``isdir`` on ~150
  entries) and tries every service's URL pattern to find the backend for the ``Host`` header,
  under a global lock: about 40% of a request's time. The answer depends only on the host, so it
  is memoised per host.
* every error response rebuilds the service's error lookup table (moto constructs a new
  ``ErrorLookupFactory`` each time, so its cache never hits): cached per service.

Together they roughly double moto's throughput here (about 550 instead of 250-300 S3 requests/s).

And one test double, because moto does not replicate objects: see ``replication_double``; and
CloudWatch's alarms over the protocol the Rust SDK speaks to CloudWatch (RPC v2 CBOR, which
moto does not parse): see ``cloudwatch_double``; and S3 Batch Operations replication jobs
(S3 Control ``/v20180820/jobs``, which moto does not model): see ``batch_double``.

And, for moto's CloudFormation and Lambda as real engines (``tests/engines.py``), see
``cloudformation_engine``: answers found by the stack's own ARN (moto looks in us-east-1 of the
default account), outputs resolved once the answer is in, every answer recorded, and the
function's container on the host network reaching moto on the host's loopback.

It refuses to start on any moto but the one it was written for (``MOTO_VERSION``): every fix
here replaces a moto internal, and a different moto would be patched blindly.

Usage: same arguments as ``moto_server`` (e.g. ``-H 127.0.0.1 -p 5000``).
"""
import importlib.metadata
import sys
from xml.sax.saxutils import escape

# The moto this file was written (and each patch below checked) against: the pin that
# scripts/emulator.py (next to this file) installs.
from emulator import MOTO_VERSION  # noqa: E402

_installed = importlib.metadata.version("moto")
if _installed != MOTO_VERSION:
    sys.exit(
        f"scripts/moto_server.py: written for moto {MOTO_VERSION}, found moto {_installed}: "
        f"run `bash scripts/setup.sh` (installs moto=={MOTO_VERSION} into its venv), or "
        "check every patch in this file against the new moto before changing the pin"
    )

from moto.s3.responses import S3Response  # noqa: E402


def _get_bucket_versioning(self):
    self.data["Action"] = "GetBucketVersioning"
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{escape(status)}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"{inner}</VersioningConfiguration>"
    )
    return 200, {"Content-Type": "application/xml"}, body


S3Response.get_bucket_versioning = _get_bucket_versioning

_original_get_bucket_notification = S3Response.get_bucket_notification


def _get_bucket_notification(self):
    """moto 5.2.5 answers a bucket without notifications with the root element
    ``GetBucketNotificationResponse``; S3 answers an empty ``NotificationConfiguration``."""
    if not self.backend.get_bucket_notification_configuration(self.bucket_name):
        self.data["Action"] = "GetBucketNotificationConfiguration"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
        )
        return 200, {"Content-Type": "application/xml"}, body
    return _original_get_bucket_notification(self)


S3Response.get_bucket_notification = _get_bucket_notification

_original_bucket_get = S3Response._bucket_response_get


def _bucket_response_get(self, bucket_name, querystring):
    """GetBucketRequestPayment: moto 5.2.5 has no route for it and lists the bucket instead."""
    if "requestPayment" in querystring:
        bucket = self.backend.get_bucket(bucket_name)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Payer>{escape(getattr(bucket, 'payer', 'BucketOwner'))}</Payer>"
            "</RequestPaymentConfiguration>"
        )
        return 200, {"Content-Type": "application/xml"}, body
    return _original_bucket_get(self, bucket_name, querystring)


S3Response._bucket_response_get = _bucket_response_get


def _get_bucket_replication(self):
    """moto 5.2.5 answers GetBucketReplication lossily (every Filter becomes Prefix "",
    DeleteMarkerReplication Disabled, SourceSelectionCriteria dropped). S3 returns what was
    put: serialize moto's stored copy of the PUT back as it came."""
    import xmltodict
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError

    self.data["Action"] = "GetBucketReplication"
    stored = self.backend.get_bucket_replication(self.bucket_name)
    if not stored:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    body = {k: v for k, v in stored.items() if not k.startswith("@")}
    body["@xmlns"] = "http://s3.amazonaws.com/doc/2006-03-01/"
    return 200, {"Content-Type": "application/xml"}, xmltodict.unparse({"ReplicationConfiguration": body})


S3Response.get_bucket_replication = _get_bucket_replication


def _is_tls_only_deny(statement) -> bool:
    """AWS's recommended TLS-only statement: Deny when ``aws:SecureTransport`` is false."""
    condition = statement.get("Condition") if isinstance(statement, dict) else None
    return (
        isinstance(statement, dict)
        and statement.get("Effect") == "Deny"
        and isinstance(condition, dict)
        and list(condition) == ["Bool"]
        and condition["Bool"] in ({"aws:SecureTransport": "false"}, {"aws:SecureTransport": False})
    )


def _object_permission_honours_tls_only_deny():
    """moto 5.2.5 enforces a bucket policy's Deny statements on object GET/PUT without looking
    at their Condition, so the TLS-only statement (``aws:SecureTransport`` false) that the
    provider puts on every bucket it creates would block every object request. S3 applies that
    Deny only to requests without TLS; the SDK's requests to S3 use TLS, and requests to this
    emulator stand for them (it listens on plain http only because it is local): such
    statements are left out of moto's check. Every other Deny is still enforced as moto does."""
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        doc = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        statements = doc.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        doc["Statement"] = [st for st in statements if not _is_tls_only_deny(st)]
        if not doc["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(doc)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


_object_permission_honours_tls_only_deny()


def _accept_key_arns(backend_cls, name):
    """KMS accepts a key ARN wherever it accepts a key id; moto 5.2.5's backend indexes
    some calls by raw id only and answers 500 for an ARN."""
    original = getattr(backend_cls, name)

    def patched(self, key_id, *args, **kwargs):
        if isinstance(key_id, str) and key_id.startswith("arn:") and ":key/" in key_id:
            key_id = key_id.split(":key/", 1)[1]
        return original(self, key_id, *args, **kwargs)

    setattr(backend_cls, name, patched)


from moto.kms.models import KmsBackend  # noqa: E402

for _name in ("schedule_key_deletion", "cancel_key_deletion", "disable_key", "enable_key"):
    _accept_key_arns(KmsBackend, _name)

def _memoise(cls, name, key_of):
    """Replaces the one-argument method ``cls.name`` with one that computes its answer once per
    ``key_of(argument)`` (a ``None`` key is never cached)."""
    original = getattr(cls, name)
    cache = {}

    def memoised(self, argument):
        key = key_of(argument)
        if key is None:
            return original(self, argument)
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = original(self, argument)
            return value

    setattr(cls, name, memoised)


def _speed_fixes():
    from moto.core.errors import ErrorLookupFactory
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    # The dispatcher's host → backend lookup is a pure function of the host (fixed patterns,
    # fixed package contents); moto recomputes it, filesystem scan included, per request.
    _memoise(DomainDispatcherApplication, "get_backend_for_host", lambda host: host)
    # `get_error_model` builds a fresh ErrorLookupFactory per error response, so the factory's
    # per-service cache is always empty: keep one table per service id instead.
    _memoise(ErrorLookupFactory, "for_service", lambda model: model.metadata.get("serviceId"))


_speed_fixes()

import replication_double  # noqa: E402  (next to this file)

replication_double.install()

import cloudwatch_double  # noqa: E402  (next to this file)

cloudwatch_double.install()

import batch_double  # noqa: E402  (next to this file)

batch_double.install()

import cloudformation_engine  # noqa: E402  (next to this file)

if __name__ == "__main__":
    from moto.server import main

    cloudformation_engine.install(sys.argv[1:])
    main(sys.argv[1:])
