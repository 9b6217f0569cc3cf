#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Lint and security-scan every CloudFormation / SAM template of the repository.
#
#   bash .ci/templates.sh
#
# Steps (any finding -> non-zero exit):
#   1. suppression audit : every checkov skip carries a `comment`, every
#                          cfn-lint ignore_checks is preceded by a
#                          "# justification: ..." YAML comment;
#   2. cfn-lint          : every template under sam/ and cloudformation/, no
#                          errors and no warnings;
#   3. sam validate      : `sam validate --lint` for every SAM template;
#   4. checkov           : `checkov -d sam` and `checkov -d cloudformation`
#                          (framework cloudformation), parse errors fail too.
#
# Tools are pinned and installed on demand into virtualenvs below
# $S3RP_TOOLS_DIR (default ~/.cache/s3-replication-provider-tools), because
# aws-sam-cli 1.170.0 and checkov 3.3.30 pin conflicting boto3 versions and
# aws-sam-cli would otherwise upgrade the system cfn-lint.
# Nothing here talks to AWS; only PyPI is reached (for the first install).
# -----------------------------------------------------------------------------
set -euo pipefail

readonly SAM_CLI_VERSION=1.170.0
readonly CHECKOV_VERSION=3.3.30
readonly CFN_LINT_VERSION=1.51.0

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

tools_dir=${S3RP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/s3-replication-provider-tools}
python_bin=${PYTHON:-python3}

log() { printf '[templates] %s\n' "$*" >&2; }

# ensure_tool <venv name> <executable> <pip requirement> <expected version>
# Creates/repairs $tools_dir/<venv> so that <executable> reports <version>.
ensure_tool() {
  local name=$1 exe=$2 req=$3 version=$4
  local venv="$tools_dir/$name"
  if [[ -x "$venv/bin/$exe" ]] && "$venv/bin/$exe" --version 2>/dev/null | grep -qF "$version"; then
    return 0
  fi
  log "installing $req into $venv"
  mkdir -p "$tools_dir"
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$req" >&2
  "$venv/bin/$exe" --version 2>/dev/null | grep -qF "$version" || {
    log "ERROR: $exe in $venv does not report version $version"
    exit 1
  }
}

# cfn-lint: reuse the one on PATH when it is the pinned version.
if command -v cfn-lint >/dev/null 2>&1 && cfn-lint --version 2>/dev/null | grep -qF "$CFN_LINT_VERSION"; then
  cfn_lint=$(command -v cfn-lint)
else
  ensure_tool cfn-lint cfn-lint "cfn-lint==$CFN_LINT_VERSION" "$CFN_LINT_VERSION"
  cfn_lint="$tools_dir/cfn-lint/bin/cfn-lint"
fi
ensure_tool sam sam "aws-sam-cli==$SAM_CLI_VERSION" "$SAM_CLI_VERSION"
ensure_tool checkov checkov "checkov==$CHECKOV_VERSION" "$CHECKOV_VERSION"
sam_bin="$tools_dir/sam/bin/sam"
checkov_bin="$tools_dir/checkov/bin/checkov"
checkov_python="$tools_dir/checkov/bin/python" # has PyYAML (checkov dependency)

# ---------------------------------------------------------------------------
# Template discovery
# ---------------------------------------------------------------------------
mapfile -t templates < <(find sam cloudformation -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.template' -o -name '*.json' \) | LC_ALL=C sort)
if [[ ${#templates[@]} -eq 0 ]]; then
  log "ERROR: no templates found under sam/ or cloudformation/"
  exit 1
fi
sam_templates=()
for t in "${templates[@]}"; do
  if grep -qE '^Transform:.*AWS::Serverless-2016-10-31|^[[:space:]]*-[[:space:]]*["'\'']?AWS::Serverless-2016-10-31' "$t"; then
    sam_templates+=("$t")
  fi
done
log "${#templates[@]} templates (${#sam_templates[@]} SAM)"

status=0
summary=()

# ---------------------------------------------------------------------------
# 1. Suppression audit
# ---------------------------------------------------------------------------
if audit_out=$("$checkov_python" - "${templates[@]}" <<'PY' 2>&1
import re
import sys

import yaml


class Loader(yaml.SafeLoader):
    """Safe loader that accepts CloudFormation short-form tags (!Ref, !Sub, ...)."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


Loader.add_multi_constructor("!", _any_tag)

problems, checkov_skips, cfn_lint_ignores = [], 0, 0
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    try:
        if path.endswith(".json"):
            import json
            doc = json.loads(text)
        else:
            doc = yaml.load(text, Loader=Loader)
    except Exception as exc:  # reported, the linters below fail on it too
        problems.append(f"{path}: cannot be parsed: {str(exc).splitlines()[0]}")
        continue
    if not isinstance(doc, dict):
        continue
    sections = [("template", doc.get("Metadata") or {})]
    for name, res in (doc.get("Resources") or {}).items():
        if isinstance(res, dict):
            sections.append((name, res.get("Metadata") or {}))
    for name, meta in sections:
        if not isinstance(meta, dict):
            continue
        for skip in ((meta.get("checkov") or {}).get("skip") or []):
            checkov_skips += 1
            comment = str((skip or {}).get("comment") or "").strip()
            if len(comment) < 20:
                problems.append(f"{path}: {name}: checkov skip {skip.get('id')!r} lacks a justification comment")
        ignores = ((meta.get("cfn-lint") or {}).get("config") or {}).get("ignore_checks") or []
        cfn_lint_ignores += len(ignores)
    # cfn-lint has no comment field: require a "# justification:" YAML comment
    # in the three lines above every ignore_checks key.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*ignore_checks\s*:", line):
            above = " ".join(lines[max(0, i - 3):i]).lower()
            if not re.search(r"#\s*justification\s*:\s*\S.{10,}", above):
                problems.append(f"{path}:{i + 1}: cfn-lint ignore_checks without a '# justification: ...' comment above it")
for p in problems:
    print(p)
print(f"{checkov_skips} checkov skips, {cfn_lint_ignores} cfn-lint ignores")
sys.exit(1 if problems else 0)
PY
); then
  summary+=("suppressions : OK   ($(tail -n1 <<<"$audit_out"), all justified)")
else
  printf '%s\n' "$audit_out"
  summary+=("suppressions : FAIL ($(tail -n1 <<<"$audit_out"))")
  status=1
fi

# ---------------------------------------------------------------------------
# 2. cfn-lint (errors AND warnings fail; lint several regions because the
#    destination template is deployed to many regions by StackSets)
# ---------------------------------------------------------------------------
cfn_lint_version=$("$cfn_lint" --version 2>&1)
if "$cfn_lint" --regions us-east-1 us-west-2 eu-west-1 ap-southeast-2 -- "${templates[@]}"; then
  summary+=("cfn-lint     : OK   (${#templates[@]} templates, $cfn_lint_version)")
else
  summary+=("cfn-lint     : FAIL ($cfn_lint_version)")
  status=1
fi

# ---------------------------------------------------------------------------
# 3. sam validate --lint
# ---------------------------------------------------------------------------
export SAM_CLI_TELEMETRY=0
sam_app_dir=$(mktemp -d)
trap 'rm -rf "$sam_app_dir"' EXIT
export __SAM_CLI_APP_DIR="$sam_app_dir"
sam_failed=0
for t in "${sam_templates[@]}"; do
  if ! "$sam_bin" validate --lint --region us-east-1 -t "$t"; then
    sam_failed=$((sam_failed + 1))
  fi
done
if [[ $sam_failed -eq 0 ]]; then
  summary+=("sam validate : OK   (${#sam_templates[@]} SAM templates, sam $SAM_CLI_VERSION)")
else
  summary+=("sam validate : FAIL ($sam_failed of ${#sam_templates[@]} SAM templates)")
  status=1
fi

# ---------------------------------------------------------------------------
# 4. checkov (offline: no platform mapping download, no update check; a
#    template checkov cannot parse is a failure, not a silent skip)
# ---------------------------------------------------------------------------
export BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true CKV_PARSE_ERROR_FAIL=true
checkov_failed=()
for dir in sam cloudformation; do
  if ! "$checkov_bin" -d "$dir" --framework cloudformation --quiet --compact --skip-download; then
    checkov_failed+=("$dir")
  fi
done
if [[ ${#checkov_failed[@]} -eq 0 ]]; then
  summary+=("checkov      : OK   (sam/ and cloudformation/, checkov $CHECKOV_VERSION)")
else
  summary+=("checkov      : FAIL (${checkov_failed[*]})")
  status=1
fi

printf '\n'
printf '%s\n' "${summary[@]}"
if [[ $status -eq 0 ]]; then
  printf 'templates: all checks passed\n'
else
  printf 'templates: FAILED\n'
fi
exit "$status"
