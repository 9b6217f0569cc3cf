#!/usr/bin/env python3
"""The release's files from built binaries (called by scripts/release.sh; plain Python 3.11).

    python3 scripts/release_package.py build --version V --out DIR arm64=PATH x86_64=PATH
    python3 scripts/release_package.py check --version V DIR

Writes into DIR:

* ``s3-replication-provider-V-ARCH.zip``: ``bootstrap`` alone at the root, mode 0755, deflate
  level 9, time 1980-01-01 00:00 (a zip's earliest): the same binary always gives the same bytes;
* ``SHA256SUMS`` (``sha256sum -c`` format, sorted by name);
* ``source-account.packaged.yaml``: ``sam/source-account/template.yaml`` with the function's
  ``CodeUri`` the zip in S3 (parameters ``CodeBucket``, and ``CodeKey`` defaulting to the zip
  of the chosen ``Architecture``) and ``Metadata.S3ReplicationProvider::Release``: the version,
  and each zip's key and SHA-256. The template's text is kept (comments included): what a
  reviewer reads in the repository is what is deployed;
* ``destination-account.yaml``: ``sam/destination-account/template.yaml`` unchanged;
* ``LICENSE`` and ``README.md`` (the packaged template's ``AWS::ServerlessRepo::Application``
  names them beside it).

Each binary is checked first: an ELF executable of the architecture it is given as. ``check``
reads a release back as a user would receive it: each zip holds ``bootstrap`` alone, at its root,
executable, an ELF of its architecture, within Lambda's size limits (50 MiB zipped for a direct
upload, 250 MiB unzipped); ``SHA256SUMS`` matches the zips and the packaged template's Metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import stat
import sys
import zipfile

NAME = "s3-replication-provider"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_TEMPLATE = os.path.join(REPO, "sam", "source-account", "template.yaml")
DESTINATION_TEMPLATE = os.path.join(REPO, "sam", "destination-account", "template.yaml")
ELF_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def die(msg: str) -> None:
    raise SystemExit(f"release_package.py: {msg}")


def zip_name(version: str, arch: str) -> str:
    return f"{NAME}-{version}-{arch}.zip"


def check_elf(what: str, data: bytes, arch: str) -> None:
    """`data` starts an ELF file for `arch`."""
    if data[:4] != b"\x7fELF":
        die(f"{what} is not an ELF file")
    machine = int.from_bytes(data[18:20], "little")
    if machine != ELF_MACHINES[arch]:
        die(f"{what} is ELF machine {machine:#x}, not {arch} ({ELF_MACHINES[arch]:#x})")


def check_binary(arch: str, path: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    check_elf(path, data, arch)
    if not os.stat(path).st_mode & stat.S_IXUSR:
        die(f"{path} is not executable")
    return data


def write_zip(path: str, binary: bytes) -> None:
    """``bootstrap`` alone, as Lambda's provided runtimes want it, byte-for-byte reproducible."""
    info = zipfile.ZipInfo("bootstrap", date_time=ZIP_TIME)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.create_system = 3  # Unix: the mode above is read
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, binary, compresslevel=9)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def packaged_template(text: str, version: str, digests: dict[str, str]) -> str:
    """The source template, its function's code taken from the release zip in S3."""

    def replace_once(pattern: str, replacement: str, what: str) -> None:
        nonlocal text
        text, n = re.subn(pattern, lambda _m: replacement, text, count=1, flags=re.MULTILINE)
        if n != 1:
            die(f"sam/source-account/template.yaml: {what} not found where the release expects it")

    default_key = f"{NAME}-{version}-${{Architecture}}.zip"
    replace_once(
        r"^      CodeUri: \.\./\.\.$",
        "      CodeUri:\n"
        "        Bucket: !Ref CodeBucket\n"
        f"        Key: !If [CodeKeyIsDefault, !Sub \"{default_key}\", !Ref CodeKey]",
        "the function's `CodeUri: ../..`",
    )
    replace_once(
        r"^Parameters:$",
        "Parameters:\n"
        "  CodeBucket:\n"
        "    Type: String\n"
        "    AllowedPattern: \"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$\"\n"
        "    Description: >-\n"
        "      S3 bucket holding the release zip, in the region of this stack (Lambda reads the\n"
        "      code from there when the function is created or updated).\n"
        "  CodeKey:\n"
        "    Type: String\n"
        "    Default: \"\"\n"
        "    Description: >-\n"
        f"      Key of the release zip in CodeBucket. Empty: {NAME}-{version}-<Architecture>.zip,\n"
        "      the name the release gives it. Its SHA-256 is in this template's Metadata.",
        "top-level `Parameters:`",
    )
    conditions = "  CodeKeyIsDefault: !Equals [!Ref CodeKey, \"\"]"
    if re.search(r"^Conditions:$", text, flags=re.MULTILINE):
        replace_once(r"^Conditions:$", "Conditions:\n" + conditions, "top-level `Conditions:`")
    else:
        replace_once(r"^Resources:$", "Conditions:\n" + conditions + "\n\nResources:", "top-level `Resources:`")
    replace_once(
        r"^    ParameterGroups:$",
        "    ParameterGroups:\n"
        "      - Label: { default: Code (the release zip) }\n"
        "        Parameters:\n"
        "          - CodeBucket\n"
        "          - CodeKey",
        "`ParameterGroups:`",
    )
    artifacts = "".join(
        f"      - Architecture: {arch}\n        Key: {zip_name(version, arch)}\n        Sha256: {digests[arch]}\n"
        for arch in sorted(digests)
    )
    replace_once(
        r"^Metadata:$",
        "Metadata:\n"
        "  S3ReplicationProvider::Release:\n"
        f"    Version: {version}\n"
        "    Artifacts:\n" + artifacts.rstrip("\n"),
        "top-level `Metadata:`",
    )
    # SAR's LicenseUrl and ReadmeUrl name files next to the template (copied into the release).
    text = text.replace("LicenseUrl: ../../LICENSE", "LicenseUrl: LICENSE")
    text = text.replace("ReadmeUrl: ../../README.md", "ReadmeUrl: README.md")
    header = (
        f"# Packaged by scripts/release.sh ({NAME} {version}): the function's code is the release\n"
        "# zip in S3 (CodeBucket, CodeKey); everything else is sam/source-account/template.yaml.\n"
    )
    return header + text


# Lambda's deployment package quotas: 50 MB zipped (direct upload), 250 MB unzipped.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024


def check_release(version: str, out: str) -> None:
    sums = {}
    with open(os.path.join(out, "SHA256SUMS"), encoding="utf-8") as f:
        for line in f:
            digest, name = line.split()
            sums[name] = digest
    with open(os.path.join(out, "source-account.packaged.yaml"), encoding="utf-8") as f:
        template = f.read()
    for arch in sorted(ELF_MACHINES):
        name = zip_name(version, arch)
        path = os.path.join(out, name)
        if sums.get(name) != sha256(path):
            die(f"{name}: SHA256SUMS says {sums.get(name)}, the file is {sha256(path)}")
        if f"Key: {name}\n        Sha256: {sums[name]}" not in template:
            die(f"source-account.packaged.yaml does not record {name} with SHA-256 {sums[name]}")
        if os.path.getsize(path) > MAX_ZIPPED:
            die(f"{name} is {os.path.getsize(path)} bytes, over Lambda's 50 MB for a direct upload")
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if [i.filename for i in infos] != ["bootstrap"]:
                die(f"{name} holds {[i.filename for i in infos]}, not `bootstrap` alone at its root")
            info = infos[0]
            if not (info.external_attr >> 16) & stat.S_IXUSR:
                die(f"{name}: bootstrap is not executable (mode {info.external_attr >> 16:o})")
            if info.file_size > MAX_UNZIPPED:
                die(f"{name}: bootstrap is {info.file_size} bytes, over Lambda's 250 MB unzipped")
            check_elf(f"{name}: bootstrap", z.read("bootstrap")[:20], arch)
        print(f"ok  {name}: {os.path.getsize(path)} bytes, bootstrap {info.file_size} bytes, {arch} ELF, mode {info.external_attr >> 16:o}")


def build_release(version: str, out: str, binaries: dict[str, str]) -> None:
    if sorted(binaries) != sorted(ELF_MACHINES):
        die(f"need one binary per architecture {sorted(ELF_MACHINES)}, got {sorted(binaries)}")
    os.makedirs(out, exist_ok=True)
    digests = {}
    for arch, path in sorted(binaries.items()):
        zip_path = os.path.join(out, zip_name(version, arch))
        write_zip(zip_path, check_binary(arch, path))
        digests[arch] = sha256(zip_path)
    shutil.copyfile(DESTINATION_TEMPLATE, os.path.join(out, "destination-account.yaml"))
    for name in ("LICENSE", "README.md"):
        shutil.copyfile(os.path.join(REPO, name), os.path.join(out, name))
    with open(SOURCE_TEMPLATE, encoding="utf-8") as f:
        packaged = packaged_template(f.read(), version, digests)
    with open(os.path.join(out, "source-account.packaged.yaml"), "w", encoding="utf-8") as f:
        f.write(packaged)
    with open(os.path.join(out, "SHA256SUMS"), "w", encoding="utf-8") as f:
        for arch in sorted(digests):
            f.write(f"{digests[arch]}  {zip_name(version, arch)}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    build = sub.add_parser("build", help="write the release's files")
    build.add_argument("--version", required=True)
    build.add_argument("--out", required=True)
    build.add_argument("binaries", nargs="+", help="ARCH=PATH, one per architecture")
    check = sub.add_parser("check", help="read a release back and check it")
    check.add_argument("--version", required=True)
    check.add_argument("out")
    args = parser.parse_args()
    if args.cmd == "build":
        build_release(args.version, args.out, dict(b.split("=", 1) for b in args.binaries))
    else:
        check_release(args.version, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
