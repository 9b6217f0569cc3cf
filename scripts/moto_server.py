#!/usr/bin/env python3
"""Start moto's server with fixes for responses the AWS SDK for Rust cannot parse.

Two fixes, both for behaviour real AWS does not have:

* moto 5.2.5 serializes GetBucketVersioning with the root element
``GetBucketVersioningResponse``; S3 (and therefore the Rust SDK, which checks the root)
uses ``VersioningConfiguration``. boto3 is lenient about this, the Rust SDK is not. The fix
lives here, in the test harness, so product code has no emulator-specific branches.
* moto's KMS backend answers 500 to ScheduleKeyDeletion (and Enable/DisableKey,
  CancelKeyDeletion) given a key ARN; KMS accepts ARNs there.

Usage: same arguments as ``moto_server`` (e.g. ``-H 127.0.0.1 -p 5000``).
"""
import sys
from xml.sax.saxutils import escape

from moto.s3.responses import S3Response


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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
