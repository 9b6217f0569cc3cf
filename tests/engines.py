#!/usr/bin/env python3
"""The provider met by real engines: moto's CloudFormation deploys this repository's templates
and invokes the built function in Docker; moto's StackSets roll the destination role out to the
accounts of an organization.

    target/tools/python tests/engines.py --release-dir .aws-sam/release \
        --sam-python ~/.cache/s3-replication-provider-tools/sam/bin/python \
        --bootstrap target/release/bootstrap

Every other test drives the handler with events this project wrote and receives the answer with
a receiver this project wrote. Here nothing of the path is ours but the templates and the
function: a CloudFormation engine parses a template, resolves parameters, imports and
conditions, builds the custom-resource event, invokes the function through Lambda (a container
of ``s3-replication-provider/moto-lambda``: the built ``bootstrap`` under AWS's Runtime
Interface Emulator, on the host network), waits for the answer at its own ResponseURL and
resolves ``Fn::GetAtt`` from it. Steps, in order (each builds on the ones before):

0. an organization (moto's Organizations: the management account, an OU, three members);
1. the release's packaged source-account template (``scripts/release.sh``:
   ``sam/source-account/template.yaml`` with the function's code the release zip in S3), its zip
   of the host's architecture uploaded to a bucket under the release's name for it (the
   template's default ``CodeKey``), transformed offline by samtranslator as CloudFormation's
   ``AWS::Serverless-2016-10-31`` transform would, deployed with ``CodeBucket`` and the
   parameters README documents: function, execution role, log group and the
   permissions boundary of the roles it creates, replicas allowed into one account and the
   organization;
2. the destination-account template as a plain stack in one account, trusting that
   function's role (``ProviderRoleArn``, as README's single-provider mode);
3. ``cloudformation/examples/single-destination.yaml`` as written, parameters filled: the
   stack completes, its outputs equal the answer's ``Data``, the event carried the template's
   ``ServiceTimeout``, and the doctor passes every link of the live state;
4. the same example with a source bucket that does not exist: the engine receives FAILED, with
   a reason naming the bucket, within a bounded wait (moto then leaves the stack in progress);
5. a service-managed StackSet of the destination-account template over the OU, in two regions,
   with README's organization parameters: each member account gets the role once (only the
   ``RoleRegion`` instance creates it);
6. ``cloudformation/examples/two-destinations-created-keys.yaml`` replicating into two member
   accounts through the StackSet's roles (created keys and buckets): complete, outputs equal
   ``Data``, the doctor passes;
7. Delete of that stack: first a Delete of its resource sent to the same function through
   Lambda's Invoke while CloudFormation sends nothing (a forged event, with the provider's default
   VerifyStackEvents on): FAILED, nothing changed; then ``DeleteStack``, whose Delete request the
   corrected engine sends while the resource is ``DELETE_IN_PROGRESS``: SUCCESS, the stack
   ``DELETE_COMPLETE``, the configuration, the role and every statement gone, the created keys
   and buckets kept.

Without a Docker engine it prints a line starting ``SKIP:`` and exits 0 (``.ci/sam.sh`` fails
the run when that happens on a machine that has one). Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "scripts", "lambda"))

import emulator  # noqa: E402  (scripts/emulator.py)
from checks import Failure, Steps, check, docker_problem, elf_arch, run  # noqa: E402

SOURCE_ACCOUNT = emulator.DEFAULT_ACCOUNT
# Not us-east-1: moto looks for an answer's stack in us-east-1 (scripts/cloudformation_engine.py).
SOURCE_REGION = "eu-west-1"
ACCT_B, REGION_B = "222222222222", "us-west-2"
PROVIDER_STACK = "s3-replication-provider"
FUNCTION_NAME = "s3-replication-provider"
DESTINATION_ROLE = "S3ReplicationDestinationProvisioner"
DESTINATION_TEMPLATE = os.path.join(REPO, "sam", "destination-account", "template.yaml")
EXAMPLES = os.path.join(REPO, "cloudformation", "examples")
# How long a consumer stack may take: a cold container and a Create against moto take seconds.
STACK_WAIT_SECONDS = 240
EXPECTED_STEPS = 8


def log(msg: str) -> None:
    print(f"[engines] {msg}", file=sys.stderr, flush=True)


def wait_until(what: str, timeout: float, probe: Callable[[], Any], interval: float = 0.5) -> Any:
    """Polls `probe` until it returns something truthy; a Failure naming `what` at the bound."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise Failure(f"{what}: not within {timeout:.0f}s (last seen: {last!r})")


def read_jsonl(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def parameters(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


class Engines:
    """moto with its CloudFormation, Lambda, Organizations and StackSets, and what the steps share."""

    def __init__(self, args: argparse.Namespace, work: str):
        self.args = args
        self.work = work
        self.answers_file = os.path.join(work, "answers.jsonl")
        self.requests_file = os.path.join(work, "requests.jsonl")
        self.suffix = uuid.uuid4().hex[:8]
        self.cloud: emulator.Cloud
        self.world: emulator.World
        self.receiver: emulator.Receiver
        self.outputs: dict[str, str] = {}
        self.org: dict[str, Any] = {}
        self.org_resource: dict[str, Any] = {}

    # ---- engine access

    def cfn(self, account: str = SOURCE_ACCOUNT, region: str = SOURCE_REGION):
        return self.cloud.client("cloudformation", account, region)

    def create_stack(self, name: str, template_body: str, values: dict[str, str], account: str = SOURCE_ACCOUNT, region: str = SOURCE_REGION) -> str:
        return self.cfn(account, region).create_stack(
            StackName=name,
            TemplateBody=template_body,
            Parameters=parameters(values),
            Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_IAM"],
        )["StackId"]

    def stack(self, stack_id: str, account: str = SOURCE_ACCOUNT, region: str = SOURCE_REGION) -> dict[str, Any]:
        return self.cfn(account, region).describe_stacks(StackName=stack_id)["Stacks"][0]

    def wait_complete(self, stack_id: str) -> dict[str, Any]:
        def probe():
            s = self.stack(stack_id)
            return s if s["StackStatus"] == "CREATE_COMPLETE" else None

        try:
            return wait_until(f"stack {stack_id} CREATE_COMPLETE", STACK_WAIT_SECONDS, probe, interval=1.0)
        except Failure as e:
            raise Failure(f"{e}; answers received: {self.answers_for(stack_id)}; function log:\n{self.function_log()}")

    def answers_for(self, stack_id: str) -> list[dict[str, Any]]:
        return [a["answer"] for a in read_jsonl(self.answers_file) if isinstance(a.get("answer"), dict) and a["answer"].get("StackId") == stack_id]

    def requests_for(self, stack_id: str) -> list[dict[str, Any]]:
        return [r["event"] for r in read_jsonl(self.requests_file) if r["event"].get("StackId") == stack_id]

    def function_log(self, lines: int = 60) -> str:
        """The last lines the function wrote (moto keeps each invocation's output in Logs)."""
        logs = self.cloud.client("logs", SOURCE_ACCOUNT, SOURCE_REGION)
        group = f"/aws/lambda/{FUNCTION_NAME}"
        try:
            streams = logs.describe_log_streams(logGroupName=group).get("logStreams", [])
        except Exception as e:  # noqa: BLE001
            return f"(no log: {e})"
        out: list[str] = []
        for stream in streams:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"]).get("events", [])
            out += [e["message"] for e in events]
        return "\n".join(out[-lines:])

    def doctor(self, bucket: str, region: str) -> None:
        """The doctor (the built binary) reads the live state and must pass every link."""
        env = emulator.provider_env(self.cloud.endpoint, region)
        out = run([self.args.bootstrap, "doctor", "--source-bucket", bucket, "--region", region], env, 120)
        check(out.returncode == 0, f"doctor on {bucket} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")

    def example(self, name: str) -> str:
        with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
            return f.read()

    def check_outputs_are_data(self, stack: dict[str, Any], answer: dict[str, Any]) -> None:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        data = answer.get("Data") or {}
        check(outputs, f"stack {stack['StackName']} has no outputs")
        for key, value in outputs.items():
            check(key in data, f"output {key} is not an attribute of the answer's Data {sorted(data)}")
            check(value == data[key], f"output {key} = {value!r}, the answer's Data has {data[key]!r}")

    def only_answer(self, stack_id: str, status: str) -> dict[str, Any]:
        answers = self.answers_for(stack_id)
        check(len(answers) == 1, f"{len(answers)} answers for {stack_id}, expected exactly one: {answers}")
        answer = answers[0]
        check(answer.get("Status") == status, f"answer {answer}, expected {status}")
        return answer

    # ---- steps

    def provider_stack(self) -> None:
        s3 = self.cloud.s3(SOURCE_ACCOUNT, SOURCE_REGION)
        artifacts = f"engines-artifacts-{self.suffix}"
        s3.create_bucket(Bucket=artifacts, CreateBucketConfiguration={"LocationConstraint": SOURCE_REGION})
        arch = elf_arch(self.args.bootstrap)
        release_zip = release_zip_of(self.args.release_dir, arch)
        with open(release_zip, "rb") as f:
            s3.put_object(Bucket=artifacts, Key=os.path.basename(release_zip), Body=f.read())
        transformed = os.path.join(self.work, "source-account.json")
        # README's parameters: where replicas may go (the destination accounts of these steps;
        # step 6's member accounts are added by create_stack below once they exist), and the
        # emulator's response endpoint admitted (moto's ResponseURL is plain http on 127.0.0.1).
        values = {
            "CodeBucket": artifacts,
            "Architecture": arch,
            "DestinationAccountIds": ACCT_B,
            "DestinationOrganizationId": self.org["id"],
            "AllowedResponseUrlPrefixes": emulator.LOCAL_RESPONSE_URLS,
        }
        out = run(
            [self.args.sam_python, os.path.join(REPO, "scripts", "lambda", "sam_transform.py"),
             os.path.join(self.args.release_dir, "source-account.packaged.yaml"), transformed, "--region", SOURCE_REGION]
            + [f"--parameter={k}={v}" for k, v in values.items()],
            None,
            120,
        )
        check(out.returncode == 0, f"samtranslator failed:\n{out.stderr}")
        with open(transformed, encoding="utf-8") as f:
            stack_id = self.create_stack(PROVIDER_STACK, f.read(), values)
        stack = self.stack(stack_id)
        check(stack["StackStatus"] == "CREATE_COMPLETE", f"provider stack {stack['StackStatus']}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
        exports = {e["Name"]: e["Value"] for e in self.cfn().list_exports()["Exports"]}
        function = self.cloud.client("lambda", SOURCE_ACCOUNT, SOURCE_REGION).get_function(FunctionName=FUNCTION_NAME)["Configuration"]
        check(exports.get(f"{PROVIDER_STACK}-ServiceToken") == function["FunctionArn"], f"ServiceToken export {exports}")
        check(exports.get(f"{PROVIDER_STACK}-FunctionRoleArn") == function["Role"], f"FunctionRoleArn export {exports} vs {function['Role']}")
        check(function["Runtime"] == "provided.al2023" and function["Handler"] == "bootstrap", f"function {function}")
        check(function["Architectures"] == [arch] and function["Timeout"] == 300 and function["MemorySize"] == 256, f"function {function}")
        env = function.get("Environment", {}).get("Variables", {})
        check(
            env.get("DESTINATION_ROLE_NAME") == DESTINATION_ROLE and str(env.get("PROVIDER_TIME_BUDGET_SECONDS")) == "270" and env.get("RUST_LOG") == "info",
            f"function environment {env}",
        )
        boundary = self.outputs.get("ReplicationRoleBoundaryArn", "")
        check(
            env.get("PROVIDER_PERMISSIONS_BOUNDARY_ARN") == boundary and ":policy/s3-replication/" in boundary,
            f"boundary {boundary!r} vs function environment {env}",
        )
        # With an organization, IAM (aws:ResourceOrgID) decides which accounts are reachable: the
        # function checks no list of its own.
        check(env.get("PROVIDER_DESTINATION_ACCOUNTS") == "", f"function environment {env}")
        policy = self.cloud.iam(SOURCE_ACCOUNT).get_policy(PolicyArn=boundary)["Policy"]
        check(policy["Path"] == "/s3-replication/", f"boundary policy {policy}")
        role_name = function["Role"].rsplit("/", 1)[-1]
        check(role_name == f"S3ReplicationProvider-{SOURCE_REGION}", f"execution role {role_name}")
        role = self.world.role_info(SOURCE_ACCOUNT, role_name)
        check(role is not None, f"execution role {role_name} missing")
        check(sorted(role["InlinePolicies"]) == ["assume-roles", "batch-replication", "failure-signals", "kms-keys", "logs", "replication-roles", "source-buckets"], f"role policies {sorted(role['InlinePolicies'])}")
        write_roles = next(
            s for s in role["InlinePolicies"]["replication-roles"]["Statement"] if s.get("Sid") == "WriteBoundedReplicationRoles"
        )
        check(
            write_roles["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary,
            f"role creation not bound to the boundary: {write_roles}",
        )
        trust = role["Trust"]["Statement"]
        check(len(trust) == 1 and trust[0]["Principal"] == {"Service": "lambda.amazonaws.com"}, f"execution role trust {trust}")
        groups = self.cloud.client("logs", SOURCE_ACCOUNT, SOURCE_REGION).describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{FUNCTION_NAME}")["logGroups"]
        check([g.get("retentionInDays") for g in groups] == [90], f"log group {groups}")

    def destination_role_stack(self) -> None:
        with open(DESTINATION_TEMPLATE, encoding="utf-8") as f:
            body = f.read()
        # README's single-provider parameters: the function's role, and the designated buckets.
        # The example creates its destination bucket: ProviderAccess Provision (README).
        values = {"ProviderRoleArns": self.outputs["FunctionRoleArn"], "DestinationBucketNamePattern": "engines-dst*", "ProviderAccess": "Provision"}
        stack_id = self.create_stack("s3-replication-destination-role", body, values, ACCT_B, "us-east-1")
        status = self.stack(stack_id, ACCT_B, "us-east-1")["StackStatus"]
        check(status == "CREATE_COMPLETE", f"destination role stack {status}")
        role = self.world.role_info(ACCT_B, DESTINATION_ROLE)
        check(role is not None, f"{DESTINATION_ROLE} missing in {ACCT_B}")
        principals = [s.get("Principal") for s in role["Trust"]["Statement"]]
        check(principals == [{"AWS": [self.outputs["FunctionRoleArn"]]}], f"trust principals {principals}")
        denies = [s for p in role["InlinePolicies"].values() for s in p["Statement"] if s["Effect"] == "Deny"]
        check(
            any(s.get("Action") == "kms:ScheduleKeyDeletion" for s in denies),
            f"the default role may schedule key deletion: {denies}",
        )

    def single_destination(self) -> None:
        src, dst = f"engines-src-{self.suffix}", f"engines-dst-{self.suffix}"
        self.world.create_bucket(SOURCE_ACCOUNT, SOURCE_REGION, src)
        source_key = self.world.create_key(SOURCE_ACCOUNT, SOURCE_REGION, "engines source key")
        dest_key = self.world.create_key(ACCT_B, REGION_B, "engines replica key")
        # Existing keys: their owners opt them in, as the example's prerequisites say.
        for key in (source_key, dest_key):
            self.world.opt_in_key(key)
        stack_id = self.create_stack(
            "single-destination",
            self.example("single-destination.yaml"),
            {
                "SourceBucketName": src,
                "SourceKmsKeyArn": source_key,
                "DestinationBucketName": dst,
                "DestinationAccountId": ACCT_B,
                "DestinationRegion": REGION_B,
                "DestinationKmsKeyArn": dest_key,
            },
        )
        stack = self.wait_complete(stack_id)
        answer = self.only_answer(stack_id, "SUCCESS")
        self.check_outputs_are_data(stack, answer)
        events = self.requests_for(stack_id)
        check(len(events) == 1 and events[0]["RequestType"] == "Create", f"events {events}")
        check(events[0]["ResourceProperties"].get("ServiceTimeout") == "600", f"the event lacks the template's ServiceTimeout (as a string): {events[0]['ResourceProperties']}")
        check(answer["PhysicalResourceId"] == f"s3-replication:{SOURCE_ACCOUNT}:{SOURCE_REGION}:{src}", f"physical id {answer}")
        resources = self.cfn().describe_stack_resources(StackName=stack_id)["StackResources"]
        physical = [r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Replication"]
        check(physical == [answer["PhysicalResourceId"]], f"the engine's physical id {physical}")
        rules = (self.world.bucket_replication(src, SOURCE_ACCOUNT, SOURCE_REGION) or {}).get("Rules", [])
        check([r["Destination"]["Bucket"] for r in rules] == [f"arn:aws:s3:::{dst}"], f"rules {rules}")
        check(self.world.bucket_exists(dst, ACCT_B, REGION_B), f"destination bucket {dst} was not created")
        replication_role = self.world.role_info(SOURCE_ACCOUNT, answer["Data"]["ReplicationRoleArn"].rsplit("/", 1)[-1])
        check(
            replication_role is not None
            and replication_role["PermissionsBoundary"] == self.outputs["ReplicationRoleBoundaryArn"]
            and replication_role["Tags"].get("s3-replication:stack-id") == stack_id,
            f"the replication role lacks the boundary or the owner: {replication_role}",
        )
        self.doctor(src, SOURCE_REGION)

    def failed_answer(self) -> None:
        missing = f"engines-missing-{self.suffix}"
        stack_id = self.create_stack(
            "single-destination-missing-source",
            self.example("single-destination.yaml"),
            {
                "SourceBucketName": missing,
                "SourceKmsKeyArn": self.world.create_key(SOURCE_ACCOUNT, SOURCE_REGION),
                "DestinationBucketName": f"engines-dst2-{self.suffix}",
                "DestinationAccountId": ACCT_B,
                "DestinationRegion": REGION_B,
                "DestinationKmsKeyArn": self.world.create_key(ACCT_B, REGION_B),
            },
        )
        answers = wait_until(f"an answer for {stack_id}", STACK_WAIT_SECONDS, lambda: self.answers_for(stack_id), interval=1.0)
        check(len(answers) == 1, f"answers {answers}")
        check(answers[0]["Status"] == "FAILED" and missing in (answers[0].get("Reason") or ""), f"answer {answers[0]}")
        status = self.stack(stack_id)["StackStatus"]
        check(status == "CREATE_IN_PROGRESS", f"moto acts on FAILED now ({status}): turn this into a rollback check")

    def organization(self) -> None:
        org = self.cloud.client("organizations", SOURCE_ACCOUNT, "us-east-1")
        org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        root = org.list_roots()["Roots"][0]["Id"]
        ou = org.create_organizational_unit(ParentId=root, Name="backup")["OrganizationalUnit"]["Id"]
        members = []
        for i in range(3):
            status = org.create_account(AccountName=f"member-{i}", Email=f"member-{i}-{self.suffix}@example.com")["CreateAccountStatus"]
            account = status["AccountId"]
            org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
            members.append(account)
        self.org = {"id": org_id, "ou": ou, "members": members}
        listed = org.list_accounts_for_parent(ParentId=ou)["Accounts"]
        check(sorted(a["Id"] for a in listed) == sorted(members), f"OU {ou} holds {listed}")

    def stackset(self) -> None:
        org_id, ou, members = self.org["id"], self.org["ou"], self.org["members"]
        with open(DESTINATION_TEMPLATE, encoding="utf-8") as f:
            body = f.read()
        cfn = self.cfn(SOURCE_ACCOUNT, "us-east-1")
        name = "s3-replication-destination-role"
        # README's organization parameters (cloudformation/examples/organization/README.md): the
        # provider's account listed, the designated buckets named.
        cfn.create_stack_set(
            StackSetName=name,
            TemplateBody=body,
            PermissionModel="SERVICE_MANAGED",
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=parameters(
                {
                    "OrganizationId": org_id,
                    "ProviderAccountIds": SOURCE_ACCOUNT,
                    "ProviderRoleNamePattern": "S3ReplicationProvider-*",
                    "DestinationBucketNamePattern": "engines-*",
                    "RoleRegion": "us-east-1",
                    # two-destinations-created-keys.yaml creates buckets and keys there.
                    "ProviderAccess": "Provision",
                }
            ),
        )
        cfn.create_stack_instances(StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]}, Regions=["us-east-1", SOURCE_REGION])
        instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
        placed = sorted((i["Account"], i["Region"]) for i in instances)
        check(placed == sorted((m, r) for m in members for r in ("us-east-1", SOURCE_REGION)), f"stack instances {placed}")
        for member in members:
            role = self.world.role_info(member, DESTINATION_ROLE)
            check(role is not None, f"{DESTINATION_ROLE} missing in member account {member}")
            condition = role["Trust"]["Statement"][0].get("Condition", {}).get("StringEquals", {})
            check(
                condition.get("aws:PrincipalOrgID") == org_id and condition.get("aws:PrincipalAccount") == [SOURCE_ACCOUNT],
                f"trust in {member}: {role['Trust']}",
            )
        check(self.world.role_info(SOURCE_ACCOUNT, DESTINATION_ROLE) is None, "the management account got a role (service-managed StackSets skip it)")

    def two_destinations(self) -> None:
        src = f"engines-org-src-{self.suffix}"
        dr, analytics = f"engines-dr-{self.suffix}", f"engines-analytics-{self.suffix}"
        member_b, member_c = self.org["members"][:2]
        self.world.create_bucket(SOURCE_ACCOUNT, SOURCE_REGION, src)
        values = {
            "SourceBucketName": src,
            "DrBucketName": dr,
            "DrAccountId": member_b,
            "DrRegion": "us-west-2",
            "AnalyticsBucketName": analytics,
            "AnalyticsAccountId": member_c,
            "AnalyticsRegion": "ap-southeast-2",
        }
        stack_id = self.create_stack("two-destinations", self.example("two-destinations-created-keys.yaml"), values)
        stack = self.wait_complete(stack_id)
        answer = self.only_answer(stack_id, "SUCCESS")
        self.check_outputs_are_data(stack, answer)
        keys = answer["Data"]["DestinationKmsKeyArns"].split(",")
        check(
            [emulator.parse_arn(k)["account"] for k in keys] == [member_b, member_c],
            f"replica keys {keys} are not in the member accounts {member_b}, {member_c}",
        )
        check(self.world.bucket_exists(dr, member_b, "us-west-2") and self.world.bucket_exists(analytics, member_c, "ap-southeast-2"), "destination buckets missing")
        self.doctor(src, SOURCE_REGION)
        self.org_resource = {"stack_id": stack_id, "event": self.requests_for(stack_id)[0], "answer": answer, "source": src, "buckets": [(dr, member_b, "us-west-2"), (analytics, member_c, "ap-southeast-2")], "keys": keys}

    def delete(self) -> None:
        r = self.org_resource
        # Forged: the resource's own Delete, but CloudFormation is not deleting it now.
        event = dict(r["event"])
        response_id = f"delete-{self.suffix}"
        event.update(
            {
                "RequestType": "Delete",
                "RequestId": str(uuid.uuid4()),
                "PhysicalResourceId": r["answer"]["PhysicalResourceId"],
                "ResponseURL": self.receiver.url(response_id),
            }
        )
        lam = self.cloud.client("lambda", SOURCE_ACCOUNT, SOURCE_REGION)
        result = lam.invoke(FunctionName=FUNCTION_NAME, Payload=json.dumps(event).encode())
        payload = json.loads(result["Payload"].read() or b"null")
        check(payload == {"Status": "FAILED", "Delivered": True}, f"forged Delete: function result {payload}; log:\n{self.function_log()}")
        puts = [p for p in self.receiver.wait_for(1, timeout=10, response_id=response_id) if p["method"] == "PUT"]
        reason = (puts[0]["json"] or {}).get("Reason", "") if puts else ""
        check(len(puts) == 1 and "refused before any change" in reason and "DELETE_IN_PROGRESS" not in reason, f"forged Delete answers {puts}")
        check(self.world.bucket_replication(r["source"], SOURCE_ACCOUNT, SOURCE_REGION) is not None, "a forged Delete removed the configuration")

        # Real: CloudFormation deletes the stack and sends the Delete itself.
        self.cfn().delete_stack(StackName=r["stack_id"])

        def deleted():
            status = self.stack(r["stack_id"])["StackStatus"]
            if status == "DELETE_FAILED":
                raise Failure(f"stack DELETE_FAILED; answers {self.answers_for(r['stack_id'])}; log:\n{self.function_log()}")
            return status == "DELETE_COMPLETE"

        try:
            wait_until(f"stack {r['stack_id']} DELETE_COMPLETE", STACK_WAIT_SECONDS, deleted, interval=1.0)
        except Failure as e:
            raise Failure(f"{e}; answers {self.answers_for(r['stack_id'])}; function log:\n{self.function_log()}")
        deletes = [e for e in self.requests_for(r["stack_id"]) if e.get("RequestType") == "Delete" and e.get("ResponseURL", "").startswith("http://127.0.0.1")]
        check(len(deletes) >= 1, f"CloudFormation sent no Delete: {self.requests_for(r['stack_id'])}")
        check(self.world.bucket_replication(r["source"], SOURCE_ACCOUNT, SOURCE_REGION) is None, "replication configuration left after Delete")
        role_arn = r["answer"]["Data"]["ReplicationRoleArn"]
        check(not self.world.role_exists(SOURCE_ACCOUNT, role_arn.rsplit("/", 1)[-1]), "replication role left after Delete")
        for bucket, account, region in r["buckets"]:
            check(self.world.bucket_exists(bucket, account, region), f"Delete removed the bucket {bucket}")
            policy = self.world.bucket_policy(bucket, account, region) or {}
            check(role_arn not in json.dumps(policy), f"a statement for {role_arn} is left in {bucket}'s policy: {policy}")
        for key in r["keys"]:
            info = self.world.key_info(key)
            check(info is not None and info["KeyState"] == "Enabled", f"created key {key} not kept (KeyRemovalPolicy Retain): {info}")
            check(role_arn not in json.dumps(info["Policy"]), f"a statement for {role_arn} is left in {key}'s policy")


def release_zip_of(release_dir: str, arch: str) -> str:
    """The release's zip for `arch`, as SHA256SUMS lists it (and checked against it)."""
    with open(os.path.join(release_dir, "SHA256SUMS"), encoding="utf-8") as f:
        listed = dict(reversed(line.split()) for line in f if line.strip())
    names = [n for n in listed if n.endswith(f"-{arch}.zip")]
    if len(names) != 1:
        raise SystemExit(f"{release_dir}/SHA256SUMS lists no single zip for {arch}: {sorted(listed)}; run scripts/release.sh first")
    path = os.path.join(release_dir, names[0])
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != listed[names[0]]:
        raise SystemExit(f"{path}: SHA-256 {digest}, SHA256SUMS says {listed[names[0]]}")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release-dir", required=True, help="scripts/release.sh's output (its zip of the host's architecture is deployed)")
    parser.add_argument("--sam-python", required=True, help="python of the venv that has aws-sam-cli (samtranslator, the RIE)")
    parser.add_argument("--bootstrap", required=True, help="a host build of bootstrap, for `doctor`")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (answers, events, moto log)")
    args = parser.parse_args()
    args.release_dir = os.path.abspath(args.release_dir)
    args.bootstrap = os.path.abspath(args.bootstrap)

    problem = docker_problem()
    if problem:
        print(f"SKIP: CloudFormation and StackSets engines: {problem}", flush=True)
        return 0
    arch = elf_arch(args.bootstrap)
    release_zip_of(args.release_dir, arch)
    rie = run(
        [args.sam_python, "-c", "import os, samcli; print(os.path.dirname(samcli.__file__))"], None, 60
    ).stdout.strip() + f"/local/rapid/aws-lambda-rie-{arch}"
    image = subprocess.run(
        ["bash", os.path.join(REPO, "scripts", "lambda", "build-engine-image.sh"), rie, arch], check=True, capture_output=True, text=True
    ).stdout.strip()
    base = image.replace("/moto-lambda:", "/lambda-base:")

    work = tempfile.mkdtemp(prefix="engines-")
    steps = Steps("engines")
    engines = Engines(args, work)
    os.environ.update(
        {
            "MOTO_DOCKER_NETWORK_MODE": "host",
            "MOTO_DOCKER_LAMBDA_IMAGE": image,
            "S3RP_MOTO_VOLUME_IMAGE": base,
            "S3RP_CFN_ANSWERS": engines.answers_file,
            "S3RP_CFN_REQUESTS": engines.requests_file,
        }
    )
    moto_log = os.path.join(work, "moto.log")
    try:
        with emulator.MotoServer(log_path=moto_log) as moto, emulator.Receiver() as receiver:
            engines.cloud = emulator.Cloud(moto.endpoint)
            engines.world = emulator.World(engines.cloud)
            engines.receiver = receiver
            steps.run("an organization: management account, an OU, three member accounts", engines.organization)
            steps.run("source-account template through the SAM transform and CloudFormation: function, role, log group", engines.provider_stack)
            steps.run("destination-account template as a stack: the provisioner role trusts the function's role", engines.destination_role_stack)
            steps.run("single-destination.yaml through CloudFormation: CREATE_COMPLETE, outputs = the answer's Data, doctor passes", engines.single_destination)
            steps.run("single-destination.yaml with a missing source bucket: the engine receives FAILED naming it", engines.failed_answer)
            steps.run("StackSet of the destination-account template over the OU: one role per member account", engines.stackset)
            steps.run("two-destinations-created-keys.yaml into two member accounts through the StackSet's roles", engines.two_destinations)
            steps.run("a forged Delete refused; DeleteStack: its Delete acted on, configuration, role and statements gone, buckets and keys kept", engines.delete)
            if steps.failed:
                log(f"moto log: {moto_log}")
    finally:
        if args.keep or steps.failed:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for name, seconds in steps.timings:
        log(f"timing: {name[:60]}: {seconds:.1f}s")
    return steps.report(EXPECTED_STEPS)


if __name__ == "__main__":
    emulator.install_signal_exit()
    sys.exit(main())
