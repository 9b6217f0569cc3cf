"""moto's CloudFormation and Lambda as real engines: corrections where moto 5.2.5 is wrong.

Installed by ``scripts/moto_server.py`` (``install(argv)``), used by ``tests/engines.py``. For
each: what AWS does, and what moto does instead.

* **An answer belongs to the stack its ResponseURL was made for.** CloudFormation's pre-signed
  URL names the stack; moto reads a custom resource's answer with the region and account of the
  request's credentials, which the PUT (rightly) has none of: us-east-1 of the default account.
  A stack in any other region or account would never complete. Here the stack is found from its
  ARN, which carries both.
* **The physical id is the one the answer gives.** moto keeps the name it generated for the
  resource; CloudFormation takes the answer's ``PhysicalResourceId`` (and sends it back with
  every later request for the resource). Set here from the answer.
* **Outputs are resolved when the stack completes.** moto resolves an output on its first read
  and keeps the value, so a ``Fn::GetAtt`` of a custom resource read while the resource waits for
  its answer stays null for good. Outputs are re-resolved here when an answer arrives.
* **Short-form intrinsics nest.** ``!ImportValue`` over a ``Fn::Sub`` map (as every example
  here imports the ServiceToken) is a mapping node under a tag; moto's YAML constructor returns
  the raw node for it (``No export named [(ScalarNode(...``). Tags are constructed deeply here;
  ``!GetAtt A.B.C`` splits at the first dot, as CloudFormation does.
* **``AWS::NoValue`` removes a list element; policy documents reach IAM as JSON.** moto leaves
  ``null`` where an ``Fn::If`` in a list (a role's policy statements) yields ``AWS::NoValue``,
  and stores an ``AWS::IAM::Role``'s inline policies as Python text (``{'Version': ...}``), so
  ``GetRolePolicy`` answers something no JSON parser, and no policy evaluator, reads. Here such
  elements are dropped and the documents serialized as JSON, as CloudFormation does.
* **Scalars reach the function as strings.** CloudFormation sends every scalar of a custom
  resource's properties as a string (``600`` → ``"600"``, ``true`` → ``"true"``); moto passes
  the template's YAML types through. Converted here before the event is built.
* **A custom resource's status is its own, and Update and Delete reach it.** CloudFormation
  sends a custom resource a request while the resource is ``CREATE_IN_PROGRESS``,
  ``UPDATE_IN_PROGRESS`` or ``DELETE_IN_PROGRESS`` and moves on when the answer arrives
  (``*_COMPLETE``, or ``*_FAILED`` after FAILED); ``DescribeStackResource`` reports that status
  (the provider checks it before acting on an event). moto reports the stack's status for every
  resource, sends a custom resource no Update (``UpdateStack`` leaves it as it was) and no Delete
  (``DeleteStack`` removes the stack at once). Here each custom resource carries its status;
  ``UpdateStack`` sends an Update (old and new properties, the physical id) when its properties
  change and the stack stays ``UPDATE_IN_PROGRESS`` until the answer; ``DeleteStack`` sends a
  Delete to each custom resource and removes the stack once every one answered SUCCESS
  (``DELETE_FAILED`` otherwise). Not modelled: rollbacks, and the Delete of a replaced resource's
  old physical id.
* **An SNS topic may be a ServiceToken.** CloudFormation publishes the request to the topic and
  waits for the answer as for a function; moto looks the token up as a function and fails. Here
  the request is published to the topic (tests read it from a queue subscribed to it).
* **What the engine sent and received is recorded.** Each answer is appended, as received, to
  the file ``$S3RP_CFN_ANSWERS`` (one JSON object per line, with the stack's account and
  region), and each custom-resource event a function is invoked with (by moto's CloudFormation,
  or by a test through Invoke) to ``$S3RP_CFN_REQUESTS``: tests assert on the event the
  function got and on the answer CloudFormation got (nothing here changes either). moto acts
  only on SUCCESS: after a FAILED answer the stack stays CREATE_IN_PROGRESS where
  CloudFormation would roll back (not modelled here).
* **Host networking.** With ``MOTO_DOCKER_NETWORK_MODE=host`` the function's container shares
  the host's network namespace, so moto is at ``127.0.0.1:<its port>``. moto writes
  ``http://host.docker.internal`` (the Docker bridge's gateway, where a moto listening on the
  loopback is not reachable) into the function's ``AWS_ENDPOINT_URL`` and the ``ResponseURL``,
  and port 5000 unless ``MOTO_PORT`` is set: both are set here from ``-H``/``-p``.
* **No image is pulled.** moto fills each function's code volume from a container of the image
  ``busybox`` (pulled from Docker Hub when missing). ``$S3RP_MOTO_VOLUME_IMAGE`` names a local
  image that has a busybox (the project's Lambda base image does) to use instead, so nothing is
  pulled and no image under someone else's name is needed.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

VOLUME_IMAGE_ENV = "S3RP_MOTO_VOLUME_IMAGE"
ANSWERS_ENV = "S3RP_CFN_ANSWERS"
REQUESTS_ENV = "S3RP_CFN_REQUESTS"

_record_lock = threading.Lock()


def _stack_of(stack_id: str):
    """The stack an ARN ``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>``
    names, from the backend of its own account and region."""
    from moto.cloudformation.models import cloudformation_backends

    parts = stack_id.split(":", 5)
    if len(parts) != 6 or parts[2] != "cloudformation":
        raise ValueError(f"not a stack ARN: {stack_id!r}")
    region, account = parts[3], parts[4]
    return cloudformation_backends[account][region].get_stack(stack_id), account, region


def _record(env: str, entry: dict[str, Any]) -> None:
    path = os.environ.get(env)
    if not path:
        return
    with _record_lock, open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def _cfnresponse(cls, request, full_url, headers):  # noqa: ARG001 (moto's route signature)
    from urllib.parse import parse_qs, urlsplit

    body = request.data if hasattr(request, "data") else request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        answer = json.loads(body or "null")
    except ValueError:
        answer = None
    stack_id = (parse_qs(urlsplit(full_url).query).get("stack") or [None])[0]
    if not stack_id and isinstance(answer, dict):
        stack_id = answer.get("StackId")
    try:
        stack, account, region = _stack_of(stack_id or "")
    except Exception as e:  # noqa: BLE001  (S3 would answer 403 to a URL it did not sign)
        return 403, {}, f"<Error><Code>AccessDenied</Code><Message>{e}</Message></Error>"
    _record(ANSWERS_ENV, {"account": account, "region": region, "answer": answer if answer is not None else body})
    if isinstance(answer, dict) and answer.get("Status") == "SUCCESS" and stack.status == "CREATE_IN_PROGRESS":
        resource = stack.get_custom_resource(answer.get("LogicalResourceId"))
        resource.resource_name = answer.get("PhysicalResourceId") or resource.resource_name
        resource.set_data(answer.get("Data") or {})
        stack.output_map = stack._create_output_map()
        stack.verify_readiness()
    elif isinstance(answer, dict) and answer.get("Status") == "SUCCESS":
        resource = stack.get_custom_resource(answer.get("LogicalResourceId"))
        resource.resource_name = answer.get("PhysicalResourceId") or resource.resource_name
        resource.set_data(answer.get("Data") or {})
    if isinstance(answer, dict) and _answered is not None:
        _answered(stack, account, region, answer)
    return 200, {}, ""


def _yaml_tag_constructor(loader, tag, node):  # type: ignore[no-untyped-def]
    import yaml

    key = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
    if tag == "!GetAtt" and isinstance(node, yaml.ScalarNode):
        return {key: node.value.split(".", 1)}
    if isinstance(node, yaml.SequenceNode):
        return {key: loader.construct_sequence(node, deep=True)}
    if isinstance(node, yaml.MappingNode):
        return {key: loader.construct_mapping(node, deep=True)}
    return {key: node.value}


def _template_semantics() -> None:
    from moto.cloudformation import models, parsing, responses, utils
    from moto.iam.models import Role

    for module in (models, responses, utils):  # each registers the name it imported
        module.yaml_tag_constructor = _yaml_tag_constructor

    original_clean = parsing.clean_json

    def clean_json(resource_json, resources_map):  # type: ignore[no-untyped-def]
        cleaned = original_clean(resource_json, resources_map)
        if isinstance(resource_json, list):
            return [c for c, raw in zip(cleaned, resource_json) if c is not None or raw is None]
        return cleaned

    parsing.clean_json = clean_json  # also what clean_json's own recursion calls

    original_role = Role.create_from_cloudformation_json.__func__

    def create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        for policy in cloudformation_json.get("Properties", {}).get("Policies") or []:
            if isinstance(policy.get("PolicyDocument"), dict):
                policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])
        return original_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Role.create_from_cloudformation_json = classmethod(create_role)


def _as_cloudformation_sends(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_cloudformation_sends(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_cloudformation_sends(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


_lifecycle_lock = threading.Lock()


def _send(resource, event: dict[str, Any]) -> None:
    """Delivers a custom-resource request to its ServiceToken: a function (invoked as moto's
    CloudFormation does, in a thread) or an SNS topic (published)."""
    token = event["ServiceToken"]
    parts = token.split(":")
    account, region = parts[4], parts[3]
    if parts[2] == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].get_topic(token).publish(json.dumps(event))
        return
    from moto.awslambda.utils import get_backend as get_lambda_backend

    fn = get_lambda_backend(account, region).get_function(token)
    threading.Thread(target=fn.invoke, args=(json.dumps(event), {}, {})).start()


def _event(resource, kind: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    from moto import settings
    from moto.moto_api._internal import mock_random

    request_id = str(mock_random.uuid4())
    resource.s3rp_pending = (request_id, kind)
    # A function in a container reaches moto where moto's settings say; a subscriber of a topic
    # is on this host, where moto listens.
    if ":sns:" in properties["ServiceToken"]:
        host = _own_address
    else:
        host = f"{settings.moto_server_host()}:{settings.moto_server_port()}"
    region = resource.s3rp_stack_id.split(":")[3]
    event = {
        "RequestType": kind,
        "ServiceToken": properties["ServiceToken"],
        "ResponseURL": f"{host}/cloudformation_{region}/cfnresponse?stack={resource.s3rp_stack_id}",
        "StackId": resource.s3rp_stack_id,
        "RequestId": request_id,
        "LogicalResourceId": resource.logical_id,
        "ResourceType": resource.s3rp_type,
        "ResourceProperties": properties,
    }
    event.update(extra)
    if ":sns:" in properties["ServiceToken"]:  # a function's invocation is recorded by _record_requests
        _record(REQUESTS_ENV, {"function": properties["ServiceToken"], "event": event})
    return event


def _custom_resources() -> None:
    """Custom resources with their own status, sent Create, Update and Delete (module doc)."""
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends
    from moto.cloudformation.responses import StackResourceDTO

    original_create = CustomModel.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        properties = _as_cloudformation_sends(cloudformation_json.get("Properties") or {})
        if ":sns:" in str(properties.get("ServiceToken", "")):
            resource = CustomModel(region_name, "", kwargs["LogicalId"], resource_name)
            stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
            stack.add_custom_resource(resource)
        else:
            cloudformation_json = dict(cloudformation_json, Properties=properties)
            resource = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        resource.s3rp_stack_id = kwargs["StackId"]
        resource.s3rp_type = kwargs["ResourceType"]
        resource.s3rp_properties = properties
        resource.s3rp_status = "CREATE_IN_PROGRESS"
        if ":sns:" in str(properties.get("ServiceToken", "")):
            _send(resource, _event(resource, "Create", properties))
        else:
            resource.s3rp_pending = (resource.request_id, "Create")
        return resource

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        resource = original_resource
        properties = _as_cloudformation_sends(cloudformation_json.get("Properties") or {})
        if properties != resource.s3rp_properties:
            old = resource.s3rp_properties
            resource.s3rp_properties = properties
            resource.s3rp_status = "UPDATE_IN_PROGRESS"
            event = _event(resource, "Update", properties, PhysicalResourceId=resource.physical_resource_id, OldResourceProperties=old)
            _send(resource, event)
        return resource

    CustomModel.create_from_cloudformation_json = classmethod(create)
    CustomModel.update_from_cloudformation_json = classmethod(update)

    def pending(stack, kind: str) -> list:
        return [r for r in stack.custom_resources.values() if getattr(r, "s3rp_pending", (None, None))[1] == kind]

    original_update = Stack.update

    def stack_update(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_update(self, *args, **kwargs)
        with _lifecycle_lock:
            if pending(self, "Update"):
                self.status = "UPDATE_IN_PROGRESS"

    Stack.update = stack_update

    original_delete = CloudFormationBackend.delete_stack

    def delete_stack(self, name_or_stack_id: str) -> None:  # type: ignore[no-untyped-def]
        try:
            stack = self.get_stack(name_or_stack_id)
        except Exception:  # noqa: BLE001 (moto's own answer for an unknown stack)
            return original_delete(self, name_or_stack_id)
        live = [r for r in stack.custom_resources.values() if getattr(r, "s3rp_status", "").endswith("_COMPLETE") and r.s3rp_status != "DELETE_COMPLETE"]
        if not live or stack.status == "DELETE_COMPLETE":
            return original_delete(self, name_or_stack_id)
        with _lifecycle_lock:
            stack.status = "DELETE_IN_PROGRESS"
            for resource in live:
                resource.s3rp_status = "DELETE_IN_PROGRESS"
                event = _event(resource, "Delete", resource.s3rp_properties, PhysicalResourceId=resource.physical_resource_id)
                _send(resource, event)
        return None

    CloudFormationBackend.delete_stack = delete_stack

    def answered(stack, account: str, region: str, answer: dict[str, Any]) -> None:
        """Moves the resource the answer is for, and its stack, on (called by ``_cfnresponse``)."""
        try:
            resource = stack.get_custom_resource(answer.get("LogicalResourceId"))
        except KeyError:
            return
        request_id, kind = getattr(resource, "s3rp_pending", (None, None))
        if kind is None or answer.get("RequestId") != request_id:
            return
        ok = answer.get("Status") == "SUCCESS"
        with _lifecycle_lock:
            resource.s3rp_pending = (None, None)
            resource.s3rp_status = f"{kind.upper()}_{'COMPLETE' if ok else 'FAILED'}"
            if kind == "Update":
                stack.status = "UPDATE_COMPLETE" if ok else "UPDATE_FAILED"
            if kind == "Delete" and not ok:
                stack.status = "DELETE_FAILED"
            finished_delete = kind == "Delete" and ok and not pending(stack, "Delete")
        if finished_delete:
            original_delete(cloudformation_backends[account][region], stack.stack_id)

    global _answered  # noqa: PLW0603 (set once, at install)
    _answered = answered

    original_dto = StackResourceDTO.__init__

    def dto(self, stack, resource):  # type: ignore[no-untyped-def]
        original_dto(self, stack, resource)
        status = getattr(resource, "s3rp_status", None)
        if status:
            self.resource_status = status

    StackResourceDTO.__init__ = dto


_answered = None


def _record_requests() -> None:
    """Records every custom-resource event a function is invoked with (moto's CloudFormation
    calls ``LambdaFunction.invoke`` with the event as JSON text)."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.invoke

    def invoke(self, body, request_headers, response_headers):  # type: ignore[no-untyped-def]
        try:
            event = json.loads(body) if isinstance(body, (str, bytes)) else None
        except ValueError:
            event = None
        if isinstance(event, dict) and "ResponseURL" in event and "RequestType" in event:
            _record(REQUESTS_ENV, {"function": self.function_arn, "event": event})
        return original(self, body, request_headers, response_headers)

    LambdaFunction.invoke = invoke


def _map_volume_image() -> None:
    image = os.environ.get(VOLUME_IMAGE_ENV)
    if not image:
        return
    import docker.models.containers as containers
    from moto.utilities.docker_utilities import DockerModel

    def mapped(name: str) -> str:
        return image if name in ("busybox", "busybox:latest") else name

    original_ensure = DockerModel.ensure_image_exists
    original_run = containers.ContainerCollection.run

    def ensure_image_exists(self, name: str) -> None:
        return original_ensure(self, mapped(name))

    def run(self, image_name, command=None, **kwargs):  # type: ignore[no-untyped-def]
        return original_run(self, mapped(image_name), command, **kwargs)

    DockerModel.ensure_image_exists = ensure_image_exists
    containers.ContainerCollection.run = run


_own_address = "http://127.0.0.1:5000"


def _host_network(argv: list[str]) -> None:
    global _own_address  # noqa: PLW0603 (set once, at install)

    def option(flag: str, default: str) -> str:
        return argv[argv.index(flag) + 1] if flag in argv[:-1] else default

    _own_address = f"http://{option('-H', '127.0.0.1')}:{option('-p', '5000')}"
    os.environ.setdefault("MOTO_PORT", option("-p", "5000"))
    if os.environ.get("MOTO_DOCKER_NETWORK_MODE") == "host":
        from moto import settings

        host = option("-H", "127.0.0.1")
        settings.moto_server_host = lambda: f"http://{host}"


def install(argv: list[str]) -> None:
    """Applies every correction above; ``argv`` are moto_server's arguments (``-H``, ``-p``)."""
    from moto.cloudformation.responses import CloudFormationResponse

    CloudFormationResponse.cfnresponse = classmethod(_cfnresponse)
    _template_semantics()
    _custom_resources()
    _record_requests()
    _map_volume_image()
    _host_network(argv)
