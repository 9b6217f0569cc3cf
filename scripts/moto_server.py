#!/usr/bin/env python3
"""Start moto's server with fixes for responses the AWS SDK for Rust cannot parse.

moto 5.2.5 serializes GetBucketVersioning with the root element
``GetBucketVersioningResponse``; S3 (and therefore the Rust SDK, which checks the root)
uses ``VersioningConfiguration``. boto3 is lenient about this, the Rust SDK is not. The fix
lives here, in the test harness, so product code has no emulator-specific branches.

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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
