#!/usr/bin/env python3
"""Create -> Update -> Delete through `sam local invoke`, in Docker, against moto.

    target/tools/python scripts/lambda/sam_local_invoke.py --build-dir .aws-sam/build-x86_64 \
        --sam-python ~/.cache/s3-replication-provider-tools/sam/bin/python

Runs with the Python of the venv scripts/setup.sh makes (it has the pinned moto); SAM CLI
runs with ``--sam-python`` (its own venv). What it does:

1. Checks that a Docker engine answers; if none does, prints a line starting ``SKIP:``
   and exits 0.
2. Builds the local stand-in for ``public.ecr.aws/lambda/provided:al2023-<arch>``,
   ``s3-replication-provider/lambda-base:al2023-<arch>`` (``scripts/lambda/build-base-image.sh``),
   and invokes on it (``--invoke-image``); SAM derives its ``...:rapid-<arch>`` image from it
   (``--skip-pull-image``: nothing is pulled).
3. Starts moto (``scripts/moto_server.py``) and a CloudFormation response receiver on
   127.0.0.1 (``scripts/emulator.py``), and creates a source bucket and two destination
   buckets in three accounts and regions.
4. For each request, starting from the event ``sam local generate-event cloudformation
   create-request`` prints, runs ``sam local invoke ProviderFunction --docker-network host
   --skip-pull-image --env-vars ...`` on the built template (with
   ``scripts/lambda/sam_host_network.py``, which makes SAM CLI 1.170.0 honour ``host``),
   then checks: exit 0, exactly one SUCCESS PUT at the receiver, and the world state
   (replication present after Create, two rules after Update, nothing after Delete).

SAM passes a function only the environment variables its template declares, so the
invoke uses a copy of the built template (``template.local-invoke.json`` in the build
directory) that also declares ``AWS_ENDPOINT_URL``; ``--env-vars`` points it at moto.
Exits non-zero on any failure, printing SAM's output.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import emulator  # noqa: E402  (scripts/emulator.py)
from checks import Steps, check, docker_problem, elf_arch, run  # noqa: E402  (next to this file)

FUNCTION = "ProviderFunction"
SRC_ACCOUNT = emulator.DEFAULT_ACCOUNT
HOME_REGION = "eu-west-1"
ACCT_B, REGION_B = "222222222222", "us-west-2"
ACCT_C, REGION_C = "333333333333", "ap-southeast-2"


def log(msg: str) -> None:
    print(f"[sam-local-invoke] {msg}", file=sys.stderr, flush=True)


def sam_env(app_dir: str, empty_file: str) -> dict[str, str]:
    """SAM CLI's environment: test credentials (SAM hands them to the function), no ~/.aws,
    no telemetry, and an app directory whose last version check is now (SAM asks PyPI for a
    newer version of itself once a week per app directory otherwise)."""
    os.makedirs(app_dir, exist_ok=True)
    with open(os.path.join(app_dir, "metadata.json"), "w") as f:
        json.dump({"telemetryEnabled": False, "lastVersionCheck": time.time()}, f)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("RUST_LOG", "PROVIDER_TIME_BUDGET_SECONDS", "DESTINATION_ROLE_NAME")
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": emulator.TEST_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": emulator.TEST_SECRET_ACCESS_KEY,
            "AWS_CONFIG_FILE": empty_file,
            "AWS_SHARED_CREDENTIALS_FILE": empty_file,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAM_CLI_TELEMETRY": "0",
            "__SAM_CLI_APP_DIR": app_dir,
        }
    )
    return env


def local_invoke_template(sam_python: str, build_dir: str, env: dict[str, str]) -> str:
    """A copy of the built template whose function also declares AWS_ENDPOINT_URL."""
    source = os.path.join(build_dir, "template.yaml")
    target = os.path.join(build_dir, "template.local-invoke.json")
    code = (
        "import json, sys\n"
        "from samcli.yamlhelper import yaml_parse\n"
        "t = yaml_parse(open(sys.argv[1]).read())\n"
        f"fn = t['Resources'][{FUNCTION!r}]['Properties']\n"
        "fn.setdefault('Environment', {}).setdefault('Variables', {})['AWS_ENDPOINT_URL'] = ''\n"
        "json.dump(t, open(sys.argv[2], 'w'), indent=1)\n"
    )
    out = run([sam_python, "-c", code, source, target], env, 60)
    if out.returncode != 0:
        raise SystemExit(f"cannot derive {target} from {source}:\n{out.stderr}")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True, help="`sam build --build-dir` output (template.yaml, ProviderFunction/)")
    parser.add_argument("--sam-python", required=True, help="python of the venv that has aws-sam-cli")
    parser.add_argument("--timings", help="append `name seconds` lines to this file")
    parser.add_argument("--verbose", action="store_true", help="print SAM's output also for passing invokes")
    args = parser.parse_args()
    verbose = args.verbose
    timings: list[tuple[str, float]] = []

    problem = docker_problem()
    if problem:
        print(f"SKIP: sam local invoke: {problem}", flush=True)
        return 0

    build_dir = os.path.abspath(args.build_dir)
    bootstrap = os.path.join(build_dir, FUNCTION, "bootstrap")
    if not os.path.isfile(bootstrap):
        raise SystemExit(f"{bootstrap} not found: run `sam build` first")
    arch = elf_arch(bootstrap)
    log(f"function {bootstrap} ({arch}, {os.path.getsize(bootstrap)} bytes)")

    t0 = time.monotonic()
    image = subprocess.run(
        ["bash", os.path.join(HERE, "build-base-image.sh"), arch], check=True, capture_output=True, text=True
    ).stdout.strip()
    timings.append(("base image", time.monotonic() - t0))
    size = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image], check=True, capture_output=True, text=True
    ).stdout.strip()
    log(f"base image {image}: {int(size) / 1e6:.1f} MB")

    work = tempfile.mkdtemp(prefix="sam-local-invoke-")
    empty = os.path.join(work, "empty-aws-config")
    open(empty, "w").close()
    env = sam_env(os.path.join(work, "sam-app"), empty)
    template = local_invoke_template(args.sam_python, build_dir, env)
    host_network = os.path.join(HERE, "sam_host_network.py")

    out = run(
        [args.sam_python, "-m", "samcli", "local", "generate-event", "cloudformation", "create-request",
         "--region", HOME_REGION, "--account-id", SRC_ACCOUNT, "--stack", "sam-local-invoke"],
        env,
        120,
    )
    if out.returncode != 0:
        raise SystemExit(f"sam local generate-event failed:\n{out.stderr}")
    skeleton = json.loads(out.stdout)

    steps = Steps("sam-local-invoke")
    try:
        with emulator.MotoServer() as moto, emulator.Receiver() as receiver:
            world = emulator.World(emulator.Cloud(moto.endpoint))
            suffix = uuid.uuid4().hex[:10]
            src, dst_b, dst_c = f"sli-src-{suffix}", f"sli-dst-b-{suffix}", f"sli-dst-c-{suffix}"
            world.create_bucket(SRC_ACCOUNT, HOME_REGION, src)
            world.create_bucket(ACCT_B, REGION_B, dst_b)
            world.create_bucket(ACCT_C, REGION_C, dst_c, versioned=True)
            role_name = f"s3-replication-{src}"
            # `sam local invoke` asks STS for the account id (AWS::AccountId); without this it
            # waits for sts.<region>.amazonaws.com, unreachable here, for seconds per invoke.
            env["AWS_ENDPOINT_URL_STS"] = moto.endpoint
            # `sam local invoke` resolves no resource of the template: the permissions boundary the
            # source stack would create (ReplicationRoleBoundary) is made here, and its ARN given
            # to the function as the stack would give it.
            boundary = world.cloud.iam(SRC_ACCOUNT).create_policy(
                PolicyName=f"sli-replication-role-boundary-{suffix}",
                Path="/s3-replication/",
                PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Replicate*", "Resource": "*"}]}
                ),
            )["Policy"]["Arn"]
            env_vars = os.path.join(work, "env.json")
            with open(env_vars, "w") as f:
                json.dump(
                    {
                        FUNCTION: {
                            "AWS_ENDPOINT_URL": moto.endpoint,
                            "PROVIDER_TIME_BUDGET_SECONDS": "120",
                            "RUST_LOG": "info",
                            "PROVIDER_ALLOWED_RESPONSE_URL_PREFIXES": emulator.LOCAL_RESPONSE_URLS,
                            # sam local invoke has no CloudFormation behind its events.
                            "PROVIDER_VERIFY_STACK_EVENTS": "false",
                            # DestinationAccountIds of the provider stack.
                            "PROVIDER_DESTINATION_ACCOUNTS": f"{ACCT_B},{ACCT_C}",
                            "PROVIDER_PERMISSIONS_BOUNDARY_ARN": boundary,
                        }
                    },
                    f,
                )
            service_token = f"arn:aws:lambda:{HOME_REGION}:{SRC_ACCOUNT}:function:s3-replication-provider"
            # Verify: Permissions: the function itself reads the live state back and runs the
            # doctor before answering (the oracle: moto evaluates no policy).
            one = {"SourceBucket": src, "Verify": "Permissions", "Destinations": [{"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B}]}
            two = {
                "SourceBucket": src,
                "Verify": "Permissions",
                "Destinations": [
                    {"Bucket": dst_b, "AccountId": ACCT_B, "Region": REGION_B},
                    {"Bucket": dst_c, "AccountId": ACCT_C, "Region": REGION_C, "StorageClass": "STANDARD_IA"},
                ],
            }

            def invoke(kind: str, props: dict, physical_id: str | None = None, old: dict | None = None) -> dict:
                response_id = f"{kind.lower()}-{uuid.uuid4().hex[:8]}"
                event = dict(skeleton)
                event.update(
                    {
                        "RequestType": kind,
                        "ServiceToken": service_token,
                        "ResponseURL": receiver.url(response_id),
                        "RequestId": str(uuid.uuid4()),
                        "ResourceType": "Custom::S3Replication",
                        "LogicalResourceId": "Replication",
                        "ResourceProperties": dict(props, ServiceToken=service_token, ServiceTimeout="600"),
                    }
                )
                event.pop("PhysicalResourceId", None)
                event.pop("OldResourceProperties", None)
                if physical_id:
                    event["PhysicalResourceId"] = physical_id
                if old:
                    event["OldResourceProperties"] = dict(old, ServiceToken=service_token, ServiceTimeout="600")
                event_path = os.path.join(work, f"{kind}.json")
                with open(event_path, "w") as f:
                    json.dump(event, f)
                cmd = [
                    args.sam_python, host_network, "local", "invoke", FUNCTION,
                    "--template", template,
                    "--event", event_path,
                    "--env-vars", env_vars,
                    "--parameter-overrides", f"Architecture={arch}",
                    "--docker-network", "host",
                    "--invoke-image", image,
                    "--skip-pull-image",
                    "--region", HOME_REGION,
                ]
                started = time.monotonic()
                out = run(cmd, env, 300)
                elapsed = time.monotonic() - started
                timings.append((f"sam local invoke {kind}", elapsed))
                detail = f"\n--- sam stdout ---\n{out.stdout}\n--- sam stderr ---\n{out.stderr}"
                check(out.returncode == 0, f"{kind}: sam local invoke exited {out.returncode}{detail}")
                lines = [line for line in out.stdout.splitlines() if line.strip()]
                try:
                    result = json.loads(lines[-1]) if lines else None
                except ValueError:
                    result = None
                check(isinstance(result, dict) and result.get("Delivered") is True, f"{kind}: function result {result!r}{detail}")
                # The function answers before it returns; wait a little for any (wrong) second PUT.
                receiver.wait_for(1, timeout=10, response_id=response_id)
                time.sleep(0.3)
                puts = [r for r in receiver.for_id(response_id) if r["method"] == "PUT"]
                check(len(puts) == 1, f"{kind}: {len(puts)} PUTs at the receiver, expected exactly one{detail}")
                check(emulator.header(puts[0]["headers"], "Content-Type") in (None, ""), f"{kind}: Content-Type not empty")
                response = puts[0]["json"] or {}
                report = next((line.strip() for line in out.stderr.splitlines() if "REPORT RequestId" in line), "no REPORT line")
                log(f"{kind}: {response.get('Status')} in {elapsed:.1f}s (sam local invoke, cold container); {report}")
                if verbose:
                    print(out.stderr, file=sys.stderr)
                return response

            state: dict[str, str] = {}

            def create() -> None:
                r = invoke("Create", one)
                check(r.get("Status") == "SUCCESS", f"Create answered {r}")
                state["physical_id"] = r["PhysicalResourceId"]
                check(state["physical_id"] == f"s3-replication:{SRC_ACCOUNT}:{HOME_REGION}:{src}", f"physical id {r}")
                repl = world.bucket_replication(src)
                check(repl is not None, "no replication configuration after Create")
                buckets = sorted(rule["Destination"]["Bucket"] for rule in repl["Rules"])
                check(buckets == [f"arn:aws:s3:::{dst_b}"], f"rules after Create: {buckets}")
                role = world.role_info(SRC_ACCOUNT, role_name)
                check(role is not None, "replication role missing after Create")
                check(role["PermissionsBoundary"] == boundary, f"replication role without the boundary: {role}")
                check(world.bucket_versioning(src) == "Enabled", "source versioning not enabled")

            def update() -> None:
                r = invoke("Update", two, state["physical_id"], one)
                check(r.get("Status") == "SUCCESS", f"Update answered {r}")
                check(r.get("PhysicalResourceId") == state["physical_id"], f"physical id changed: {r}")
                repl = world.bucket_replication(src)
                check(repl is not None, "no replication configuration after Update")
                buckets = sorted(rule["Destination"]["Bucket"] for rule in repl["Rules"])
                check(buckets == sorted([f"arn:aws:s3:::{dst_b}", f"arn:aws:s3:::{dst_c}"]), f"rules after Update: {buckets}")

            def delete() -> None:
                r = invoke("Delete", two, state["physical_id"])
                check(r.get("Status") == "SUCCESS", f"Delete answered {r}")
                check(world.bucket_replication(src) is None, "replication configuration left after Delete")
                check(not world.role_exists(SRC_ACCOUNT, role_name), "replication role left after Delete")

            steps.run("sam local invoke Create: SUCCESS, replication configured", create)
            steps.run("sam local invoke Update: SUCCESS, second destination added", update)
            steps.run("sam local invoke Delete: SUCCESS, replication and role removed", delete)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for name, seconds in timings:
        log(f"timing: {name}: {seconds:.1f}s")
    if args.timings:
        with open(args.timings, "a") as f:
            for name, seconds in timings:
                f.write(f"{name}\t{seconds:.1f}\n")
    return steps.report(3)


if __name__ == "__main__":
    emulator.install_signal_exit()
    sys.exit(main())
