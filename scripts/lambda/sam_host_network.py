#!/usr/bin/env python3
"""Run the SAM CLI so that ``--docker-network host`` really uses Docker's host network.

Usage (with the Python that has aws-sam-cli installed)::

    python scripts/lambda/sam_host_network.py local invoke ... --docker-network host

Why: SAM CLI 1.170.0 treats the network name ``host`` only as "do not connect the
container to a named network" (``samcli/local/docker/container.py``: ``if
self.network_id and self.network_id != "host": network.connect(...)``) and never sets
the container's network mode, so the function container stays on Docker's default
bridge, where ``127.0.0.1`` is the container itself: a local emulator and a response
receiver listening on the host's loopback are unreachable.

What this wrapper changes, only for containers whose network is ``host``:

* the container is created with ``network_mode="host"`` and without port publishing
  (Docker discards published ports in host mode anyway);
* the Runtime Interface Emulator in the container is told to listen on
  ``127.0.0.1:<the port SAM picked for it>`` (SAM otherwise reaches it through the
  published port 8080) and to serve the Runtime API on a free loopback port (its default
  ``127.0.0.1:9001`` would be shared with every other process of the host).

Everything else is the unmodified SAM CLI (``samcli.cli.main.cli``). Nothing here is
used by the product; it exists for ``scripts/lambda/sam_local_invoke.py``.
"""

from __future__ import annotations

import socket
import sys

import docker.models.containers as docker_containers
import samcli
from samcli.local.docker.container import Container

TESTED_SAM_VERSION = "1.170.0"
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_original_create = Container.create


def _create(self: Container, context):  # type: ignore[no-untyped-def]
    if self.network_id == "host":
        for attribute in ("_container_opts", "_entrypoint", "rapid_port_host"):
            if not hasattr(self, attribute):
                raise SystemExit(
                    f"sam_host_network.py: SAM CLI {samcli.__version__} has no Container.{attribute}; "
                    f"this wrapper was written for {TESTED_SAM_VERSION}"
                )
        self._container_opts = dict(self._container_opts or {}, network_mode="host")
        entrypoint = list(self._entrypoint or [])
        if entrypoint and entrypoint[0].endswith("aws-lambda-rie"):
            entrypoint += [
                "--runtime-interface-emulator-address",
                f"{HOST}:{self.rapid_port_host}",
                "--runtime-api-address",
                f"{HOST}:{_free_port()}",
            ]
            self._entrypoint = entrypoint
    return _original_create(self, context)


_original_collection_create = docker_containers.ContainerCollection.create


def _collection_create(self, image, command=None, **kwargs):  # type: ignore[no-untyped-def]
    if kwargs.get("network_mode") == "host":
        kwargs.pop("ports", None)
    return _original_collection_create(self, image, command, **kwargs)


Container.create = _create  # type: ignore[method-assign]
docker_containers.ContainerCollection.create = _collection_create  # type: ignore[method-assign]

if __name__ == "__main__":
    if samcli.__version__ != TESTED_SAM_VERSION:
        print(
            f"sam_host_network.py: warning: written for SAM CLI {TESTED_SAM_VERSION}, running {samcli.__version__}",
            file=sys.stderr,
        )
    from samcli.cli.main import cli

    sys.exit(cli(prog_name="sam"))
