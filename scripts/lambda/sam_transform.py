#!/usr/bin/env python3
"""Transform a SAM template into plain CloudFormation offline, as CloudFormation's
``AWS::Serverless-2016-10-31`` transform does on deployment.

    <python with aws-sam-cli> scripts/lambda/sam_transform.py TEMPLATE OUT.json \
        [--code-uri s3://BUCKET/KEY] [--parameter KEY=VALUE]... [--region R]

Runs with the Python of the SAM CLI's virtual environment (``samtranslator`` ships with
aws-sam-cli). ``--code-uri`` replaces every ``AWS::Serverless::Function``'s ``CodeUri`` (a
local path in the repository's template) by an S3 location, which is what ``sam package``
does before ``sam deploy``. Parameters are the deployment's, for the transform's own
intrinsic resolution (CloudFormation still resolves the rest).

No AWS call is made: the template names no managed policy for the transform to look up (the
function's role is the template's own ``FunctionRole``), so the policy loader is a stub that
refuses to be used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


class _NoManagedPolicies:
    """samtranslator's managed-policy loader, for templates that name no managed policy."""

    def load(self):  # noqa: D401
        raise SystemExit("sam_transform.py: the template names AWS managed policies; looking them up needs IAM")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("template")
    parser.add_argument("out")
    parser.add_argument("--code-uri", help="s3://bucket/key of the function's zip")
    parser.add_argument("--parameter", action="append", default=[], help="KEY=VALUE")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", args.region)

    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    with open(args.template, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    if args.code_uri:
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") == "AWS::Serverless::Function":
                resource.setdefault("Properties", {})["CodeUri"] = args.code_uri
    parameters = dict(p.split("=", 1) for p in args.parameter)
    out = transform(template, parameters, _NoManagedPolicies())
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
