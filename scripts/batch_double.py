"""A test double for S3 Batch Operations replication jobs (S3 Control ``/v20180820/jobs``),
which moto 5.2.5 does not model (it answers 404 HTML there).

It answers, in S3 Control's REST-XML, the three job operations a Batch Replication needs:

* ``CreateJob`` (``POST /v20180820/jobs``) of an ``S3ReplicateObject`` job with a
  ``ManifestGenerator``. It checks what S3 checks: the account of ``x-amz-account-id`` is the
  caller's own (the account moto derives from the access key; S3 only creates jobs in the
  caller's account), the source bucket exists in it, is versioned and has a replication
  configuration, the report and manifest-output buckets exist, ``ExpectedBucketOwner`` /
  ``ExpectedManifestBucketOwner`` hold, ``RoleArn`` is a role of the account, and the report
  settings. The same ``ClientRequestToken`` (per account and region) returns the same job id
  and starts nothing.
* ``DescribeJob`` (``GET /v20180820/jobs/{id}``) and ``ListJobs`` (``GET /v20180820/jobs``,
  ``jobStatuses`` filter, newest first, ``maxResults``/``nextToken`` paging) over the jobs of
  the request's account and region (the region from the SigV4 credential scope).

A job runs at once, inside CreateJob, and ends ``Complete`` (or ``Failed``):

* the generated manifest is every version in the source bucket, current and noncurrent, delete
  markers left out, that passes the ``Filter``: ``EligibleForReplication`` (when true: some
  rule of the bucket's configuration would replicate it, as ``replication_double`` chooses
  rules: enabled, prefix and tags match, SSE-KMS objects only under ``SseKmsEncryptedObjects``),
  ``ObjectReplicationStatuses`` (a version never replicated counts as ``NONE``),
  ``KeyNameConstraint`` (``MatchAnyPrefix``/``Suffix``/``Substring``), ``CreatedAfter``/
  ``CreatedBefore``, ``ObjectSizeGreaterThanBytes``/``LessThanBytes``, ``MatchAnyStorageClass``;
* each task replicates its version synchronously through ``replication_double._replicate``
  (every matching destination; the double's destination tags apply); it succeeds when the
  version's replication status is ``COMPLETED`` afterwards, otherwise it fails;
* the completion report (when ``Report.Enabled``) is written like S3's, into the report bucket
  through moto's ``put_object``: ``{Prefix}/job-{id}/manifest.json`` naming one
  ``{Prefix}/job-{id}/results/{sha1}.csv`` per task status (``succeeded``/``failed``) with the
  tasks ``ReportScope`` includes, lines ``bucket,key,versionId,TaskStatus,ErrorCode,
  HTTPStatusCode,ResultMessage`` (key URL-encoded, as S3 does); no ``{Prefix}/`` when the prefix
  is empty, and a trailing ``/`` of it is not doubled;
* with ``EnableManifestOutput`` the generated manifest is written to
  ``{ManifestPrefix}/job-{id}/manifest.json`` (S3 Inventory style, naming its data file) and
  ``{ManifestPrefix}/job-{id}/data/{md5}.csv`` (``bucket,key,versionId`` lines), and
  DescribeJob names the manifest.json in ``GeneratedManifestDescriptor``;
* ``ConfirmationRequired`` true leaves the job ``Suspended`` (awaiting confirmation, tasks
  counted, none run), as S3 does until ``UpdateJobStatus``, which this double does not model.

NOT modelled: other operations (explicit ``Manifest`` CSVs, any operation but
``S3ReplicateObject``), UpdateJobStatus/UpdateJobPriority/job tagging (answered 400
``InvalidRequest`` naming the double), ``MatchAnyObjectEncryption``, the role's permissions
(neither moto nor the replication double evaluates policies), the job-level failure threshold,
asynchronous states (``New``, ``Preparing``, ``Active``). Jobs vanish with moto's reset.

Errors use S3 Control's wrapped XML (``<ErrorResponse><Error><Code/><Message/></Error>``), which
the Rust SDK parses: 400 ``InvalidRequest``, 403 ``AccessDenied``, 404 ``NoSuchBucket``, 404
``NotFoundException`` (unknown job), 400 ``InvalidNextTokenException``.

To exercise a failing job, tag the SOURCE bucket ``batch-double`` = ``fail``: the job is created
and ends ``Failed`` with zero tasks, one FailureReason (``ManifestGenerationFailed``) and no
report.
"""
import csv
import datetime
import hashlib
import io
import itertools
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import replication_double

PATH = re.compile(r"^/v20180820/jobs(?:/([^/]+))?(/.*)?$")
SCOPE = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/")
NS = "http://awss3control.amazonaws.com/doc/2018-08-20/"
CONTROL_TAG = "batch-double"
OPERATION = "S3ReplicateObject"
REPORT_FORMAT = "Report_CSV_20180820"
REPORT_SCOPES = {"AllTasks", "FailedTasksOnly"}
REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"
MANIFEST_FORMAT = "S3InventoryReport_CSV_20211130"
TERMINAL = {"Complete", "Failed", "Cancelled"}

_jobs = {}  # (account, region, job id) -> job (a dict)
_tokens = {}  # (account, region, ClientRequestToken) -> job id
_lock = threading.Lock()
_sequence = itertools.count()  # orders jobs created within one clock tick


class _Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _invalid(message):
    return _Error(400, "InvalidRequest", message)


# --- XML in ------------------------------------------------------------------------------


def _strip_namespaces(root):
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


def _find(el, *path):
    for name in path:
        if el is None:
            return None
        el = el.find(name)
    return el


def _text(el, *path, default=None):
    found = _find(el, *path)
    return default if found is None else (found.text or "").strip()


def _items(el, *path):
    """The texts of a list's items, whatever each item element is called (``member``)."""
    found = _find(el, *path)
    return [] if found is None else [(item.text or "").strip() for item in found]


def _bool(value):
    return (value or "").strip().lower() == "true"


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(f"{name} must be an integer, got {value!r}") from None


def _time(value, name):
    """An ISO 8601 timestamp as a naive UTC datetime (moto stores ``last_modified`` so)."""
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"{name} is not a timestamp: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _bucket_name(arn, field):
    if not arn or not arn.startswith("arn:") or ":::" not in arn:
        raise _invalid(f"{field} must be a bucket ARN (arn:aws:s3:::name), got {arn!r}")
    return arn.split(":::", 1)[1]


def _operation(root):
    op = _find(root, "Operation")
    names = [child.tag for child in op] if op is not None else []
    if names != [OPERATION]:
        raise _invalid(f"batch_double models only the {OPERATION} operation, not {names or 'none'}")


def _optional(f, name, parse):
    value = _text(f, name)
    return parse(value, name) if value else None


def _filter(f):
    if _find(f, "MatchAnyObjectEncryption") is not None:
        raise _invalid("batch_double does not model MatchAnyObjectEncryption")
    return {
        "eligible": _bool(_text(f, "EligibleForReplication")),
        "statuses": set(_items(f, "ObjectReplicationStatuses")) or None,
        "prefixes": _items(f, "KeyNameConstraint", "MatchAnyPrefix"),
        "suffixes": _items(f, "KeyNameConstraint", "MatchAnySuffix"),
        "substrings": _items(f, "KeyNameConstraint", "MatchAnySubstring"),
        "storage_classes": set(_items(f, "MatchAnyStorageClass")) or None,
        "after": _optional(f, "CreatedAfter", _time),
        "before": _optional(f, "CreatedBefore", _time),
        "larger": _optional(f, "ObjectSizeGreaterThanBytes", _int),
        "smaller": _optional(f, "ObjectSizeLessThanBytes", _int),
    }


def _manifest_output(generator):
    if not _bool(_text(generator, "EnableManifestOutput")):
        return None
    location = _find(generator, "ManifestOutputLocation")
    if location is None:
        raise _invalid("EnableManifestOutput needs a ManifestOutputLocation")
    fmt = _text(location, "ManifestFormat")
    if fmt != MANIFEST_FORMAT:
        raise _invalid(f"ManifestFormat must be {MANIFEST_FORMAT}, got {fmt!r}")
    return {
        "bucket": _bucket_name(_text(location, "Bucket"), "ManifestOutputLocation.Bucket"),
        "prefix": _text(location, "ManifestPrefix", default=""),
        "owner": _text(location, "ExpectedManifestBucketOwner"),
    }


def _report(root):
    report = _find(root, "Report")
    if report is None:
        raise _invalid("Report is required")
    if not _bool(_text(report, "Enabled")):
        return {"enabled": False}
    fmt, scope = _text(report, "Format"), _text(report, "ReportScope", default="AllTasks")
    if fmt != REPORT_FORMAT:
        raise _invalid(f"Report.Format must be {REPORT_FORMAT}, got {fmt!r}")
    if scope not in REPORT_SCOPES:
        raise _invalid(f"Report.ReportScope must be one of {sorted(REPORT_SCOPES)}, got {scope!r}")
    return {
        "enabled": True,
        "bucket": _bucket_name(_text(report, "Bucket"), "Report.Bucket"),
        "bucket_arn": _text(report, "Bucket"),
        "format": fmt,
        "prefix": _text(report, "Prefix", default=""),
        "scope": scope,
        "owner": _text(report, "ExpectedBucketOwner"),
    }


def _parse_create(body):
    """The job a CreateJob body asks for (validated as far as the body alone allows)."""
    try:
        root = _strip_namespaces(ElementTree.fromstring(body))
    except ElementTree.ParseError as e:
        raise _Error(400, "MalformedXML", f"CreateJob body is not XML: {e}") from None
    _operation(root)
    if _find(root, "Manifest") is not None:
        raise _invalid("batch_double models only a ManifestGenerator, not a Manifest")
    generator = _find(root, "ManifestGenerator", "S3JobManifestGenerator")
    if generator is None:
        raise _invalid("ManifestGenerator.S3JobManifestGenerator is required")
    priority = _int(_text(root, "Priority"), "Priority")
    if not 0 <= priority <= 2147483647:
        raise _invalid(f"Priority must be 0 to 2147483647, got {priority}")
    role_arn = _text(root, "RoleArn")
    if not role_arn:
        raise _invalid("RoleArn is required")
    return {
        "token": _text(root, "ClientRequestToken") or str(uuid.uuid4()),
        "confirmation": _bool(_text(root, "ConfirmationRequired")),
        "description": _text(root, "Description", default=""),
        "priority": priority,
        "role_arn": role_arn,
        "source": _bucket_name(_text(generator, "SourceBucket"), "SourceBucket"),
        "source_owner": _text(generator, "ExpectedBucketOwner"),
        "filter": _filter(_find(generator, "Filter")),
        "manifest_output": _manifest_output(generator),
        "generator_xml": ElementTree.tostring(_find(root, "ManifestGenerator"), encoding="unicode"),
        "report": _report(root),
    }


# --- checks against moto -----------------------------------------------------------------


def _caller(environ):
    """(account, region, partition) of a signed request for its own account."""
    from moto.iam.models import get_account_id_from
    from moto.utilities.utils import get_partition

    match = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        raise _Error(403, "AccessDenied", "request is not signed")
    access_key, region = match.groups()
    account = environ.get("HTTP_X_AMZ_ACCOUNT_ID", "")
    if account != get_account_id_from(access_key):
        raise _Error(403, "AccessDenied", f"the caller cannot manage jobs of account {account}")
    return account, region, get_partition(region)


def _existing_bucket(name, expected_owner):
    """(backend, bucket) of any account's bucket; 404 NoSuchBucket, 403 on an owner mismatch."""
    backend, bucket = replication_double._backend_of(name)
    if bucket is None:
        raise _Error(404, "NoSuchBucket", f"The specified bucket does not exist: {name}")
    if expected_owner and expected_owner != backend.account_id:
        raise _Error(403, "AccessDenied", f"bucket {name} is not owned by {expected_owner}")
    return backend, bucket


def _source(account, spec):
    backend, bucket = _existing_bucket(spec["source"], spec["source_owner"])
    if backend.account_id != account:
        raise _Error(403, "AccessDenied", f"bucket {spec['source']} is not owned by {account}")
    if not bucket.is_versioned:
        raise _invalid(f"Batch Replication needs a versioned source bucket; {bucket.name} is not")
    if not getattr(bucket, "replication", None):
        raise _invalid(
            f"Batch Replication needs a replication configuration on the source bucket; "
            f"{bucket.name} has none"
        )
    return backend, bucket


def _check_role(account, partition, role_arn):
    from moto.iam.models import iam_backends

    try:
        iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:
        raise _invalid(f"RoleArn {role_arn} is not a role of account {account}") from None


# --- running a job -----------------------------------------------------------------------


def _replication_status(version):
    return version.replication_status or "NONE"


def _eligible(config, tagger, version):
    tags = tagger.get_tag_dict_for_resource(version.arn)
    return bool(replication_double._chosen_rules(config, version, tags))


def _selected(f, config, tagger, version):
    name = version.name
    return (
        (not f["prefixes"] or any(name.startswith(p) for p in f["prefixes"]))
        and (not f["suffixes"] or any(name.endswith(s) for s in f["suffixes"]))
        and (not f["substrings"] or any(s in name for s in f["substrings"]))
        and (f["statuses"] is None or _replication_status(version) in f["statuses"])
        and (f["storage_classes"] is None or version.storage_class in f["storage_classes"])
        and (f["after"] is None or version.last_modified > f["after"])
        and (f["before"] is None or version.last_modified < f["before"])
        and (f["larger"] is None or version.size > f["larger"])
        and (f["smaller"] is None or version.size < f["smaller"])
        and (not f["eligible"] or _eligible(config, tagger, version))
    )


def _manifest(backend, bucket, f):
    """The versions the job's manifest lists, by key, each key's versions oldest first."""
    from moto.s3.models import FakeDeleteMarker

    versions = []
    for name in sorted(bucket.keys.keys()):
        for version in bucket.keys.getlist(name, []):
            if isinstance(version, FakeDeleteMarker):
                continue
            if _selected(f, bucket.replication, backend.tagger, version):
                versions.append(version)
    return versions


def _task(backend, bucket, version):
    """One report line: replicates ``version`` as S3's S3ReplicateObject task does."""
    replication_double._replicate(backend, bucket.name, version.name, version.version_id)
    status = _replication_status(version)
    row = [bucket.name, quote(version.name, safe="/"), str(version.version_id)]
    if status == "COMPLETED":
        return row + ["succeeded", "", "200", "Successful"]
    return row + ["failed", "ReplicationFailed", "500", f"replication status is {status}"]


def _key(prefix, job_id, *rest):
    return "/".join([p for p in [prefix.rstrip("/")] if p] + [f"job-{job_id}", *rest])


def _csv(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _put(bucket_name, key, body):
    backend, _ = replication_double._backend_of(bucket_name)
    return backend.put_object(bucket_name, key, body)


def _write_report(job, rows):
    report = job["report"]
    if report["scope"] == "FailedTasksOnly":
        rows = [r for r in rows if r[3] == "failed"]
    results = []
    for status in ("succeeded", "failed"):
        part = [r for r in rows if r[3] == status]
        if not part:
            continue
        name = hashlib.sha1(f"{job['id']}/{status}".encode()).hexdigest()
        key, body = _key(report["prefix"], job["id"], "results", f"{name}.csv"), _csv(part)
        _put(report["bucket"], key, body)
        results.append(
            {
                "TaskExecutionStatus": status,
                "Bucket": report["bucket"],
                "MD5Checksum": hashlib.md5(body).hexdigest(),
                "Key": key,
            }
        )
    manifest = {
        "Format": REPORT_FORMAT,
        "ReportCreationDate": _iso(time.time()),
        "Results": results,
        "ReportSchema": REPORT_SCHEMA,
    }
    key = _key(report["prefix"], job["id"], "manifest.json")
    _put(report["bucket"], key, json.dumps(manifest).encode())


def _write_manifest(job, bucket, versions):
    """The generated manifest, S3 Inventory style: a manifest.json naming one CSV data file."""
    out = job["manifest_output"]
    body = _csv([[bucket.name, quote(v.name, safe="/"), str(v.version_id)] for v in versions])
    md5 = hashlib.md5(body).hexdigest()
    data_key = _key(out["prefix"], job["id"], "data", f"{md5}.csv")
    _put(out["bucket"], data_key, body)
    manifest = {
        "sourceBucket": bucket.name,
        "destinationBucket": f"arn:aws:s3:::{out['bucket']}",
        "version": "2021-11-30",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, VersionId",
        "files": [{"key": data_key, "size": len(body), "MD5checksum": md5}],
    }
    key = _key(out["prefix"], job["id"], "manifest.json")
    written = _put(out["bucket"], key, json.dumps(manifest).encode())
    version_id = str(written.version_id or "null")
    job["generated_manifest"] = {
        "arn": f"arn:aws:s3:::{out['bucket']}/{key}",
        "version_id": "" if version_id == "null" else version_id,  # unversioned: none
        "etag": written.etag,
    }


def _run(job, backend, bucket):
    started = time.time()
    if backend.tagger.get_tag_dict_for_resource(bucket.arn).get(CONTROL_TAG) == "fail":
        job["failures"] = [("ManifestGenerationFailed", f"{CONTROL_TAG}=fail on {bucket.name}")]
        return _finish(job, "Failed")
    versions = _manifest(backend, bucket, job["filter"])
    job["total"] = len(versions)
    if job["manifest_output"]:
        _write_manifest(job, bucket, versions)
    if job["confirmation"]:
        job["status"] = "Suspended"
        return
    rows = [_task(backend, bucket, v) for v in versions]
    job["succeeded"] = sum(r[3] == "succeeded" for r in rows)
    job["failed"] = len(rows) - job["succeeded"]
    if job["report"]["enabled"]:
        _write_report(job, rows)
    job["elapsed"] = int(time.time() - started)
    _finish(job, "Complete")


def _finish(job, status):
    job["status"], job["terminated"] = status, time.time()


# --- the operations ----------------------------------------------------------------------


def _create_job(environ, body):
    account, region, partition = _caller(environ)
    spec = _parse_create(body)
    with _lock:
        known = _tokens.get((account, region, spec["token"]))
        if known:
            return f"<CreateJobResult xmlns=\"{NS}\"><JobId>{known}</JobId></CreateJobResult>"
        backend, bucket = _source(account, spec)
        if spec["report"]["enabled"]:
            _existing_bucket(spec["report"]["bucket"], spec["report"]["owner"])
        if spec["manifest_output"]:
            _existing_bucket(spec["manifest_output"]["bucket"], spec["manifest_output"]["owner"])
        _check_role(account, partition, spec["role_arn"])
        job_id = str(uuid.uuid4())
        job = dict(spec, id=job_id, account=account, region=region, partition=partition)
        job.update(created=time.time(), sequence=next(_sequence), status="New", terminated=None)
        job.update(total=0, succeeded=0, failed=0, elapsed=0, failures=[], generated_manifest=None)
        _jobs[(account, region, job_id)] = job
        _tokens[(account, region, spec["token"])] = job_id
        _run(job, backend, bucket)
    return f"<CreateJobResult xmlns=\"{NS}\"><JobId>{job_id}</JobId></CreateJobResult>"


def _iso(seconds):
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _el(name, value):
    return f"<{name}>{escape(str(value))}</{name}>"


def _progress(job):
    return (
        "<ProgressSummary>"
        + _el("TotalNumberOfTasks", job["total"])
        + _el("NumberOfTasksSucceeded", job["succeeded"])
        + _el("NumberOfTasksFailed", job["failed"])
        + f"<Timers>{_el('ElapsedTimeInActiveSeconds', job['elapsed'])}</Timers>"
        + "</ProgressSummary>"
    )


def _times(job):
    out = _el("CreationTime", _iso(job["created"]))
    if job["status"] in TERMINAL:
        out += _el("TerminationDate", _iso(job["terminated"]))
    return out


def _report_xml(report):
    if not report["enabled"]:
        return "<Report><Enabled>false</Enabled></Report>"
    fields = [("Bucket", report["bucket_arn"]), ("Format", report["format"]), ("Enabled", "true")]
    fields += [("Prefix", report["prefix"]), ("ReportScope", report["scope"])]
    return "<Report>" + "".join(_el(k, v) for k, v in fields if v) + "</Report>"


def _failures_xml(job):
    members = "".join(
        f"<member>{_el('FailureCode', code)}{_el('FailureReason', reason)}</member>"
        for code, reason in job["failures"]
    )
    return f"<FailureReasons>{members}</FailureReasons>"


def _generated_manifest_xml(job):
    generated = job["generated_manifest"]
    if not generated:
        return ""
    location = _el("ObjectArn", generated["arn"]) + _el("ETag", generated["etag"])
    if generated["version_id"]:
        location += _el("ObjectVersionId", generated["version_id"])
    return (
        f"<GeneratedManifestDescriptor>{_el('Format', MANIFEST_FORMAT)}"
        f"<Location>{location}</Location></GeneratedManifestDescriptor>"
    )


def _job_arn(job):
    return f"arn:{job['partition']}:s3:{job['region']}:{job['account']}:job/{job['id']}"


def _describe_job(environ, job_id):
    account, region, _ = _caller(environ)
    job = _jobs.get((account, region, job_id))
    if job is None:
        raise _Error(404, "NotFoundException", f"job {job_id} not found")
    return (
        f"<DescribeJobResult xmlns=\"{NS}\"><Job>"
        + _el("JobId", job["id"])
        + _el("ConfirmationRequired", str(job["confirmation"]).lower())
        + _el("Description", job["description"])
        + _el("JobArn", _job_arn(job))
        + _el("Status", job["status"])
        + f"<Operation><{OPERATION}/></Operation>"
        + _el("Priority", job["priority"])
        + _progress(job)
        + _failures_xml(job)
        + _report_xml(job["report"])
        + _times(job)
        + _el("RoleArn", job["role_arn"])
        + _el("ClientRequestToken", job["token"])
        + job["generator_xml"]
        + _generated_manifest_xml(job)
        + "</Job></DescribeJobResult>"
    )


def _list_entry(job):
    return (
        "<member>"
        + _el("JobId", job["id"])
        + _el("Description", job["description"])
        + _el("Operation", OPERATION)
        + _el("Priority", job["priority"])
        + _el("Status", job["status"])
        + _times(job)
        + _progress(job)
        + "</member>"
    )


def _list_jobs(environ):
    account, region, _ = _caller(environ)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    statuses = set(query.get("jobStatuses", []))
    limit = _int((query.get("maxResults") or ["1000"])[0], "maxResults")
    if not 0 <= limit <= 1000:
        raise _Error(400, "InvalidRequestException", f"maxResults must be 0 to 1000, got {limit}")
    token = (query.get("nextToken") or ["0"])[0]
    if not token.isdigit():
        raise _Error(400, "InvalidNextTokenException", f"invalid nextToken {token!r}")
    jobs = [
        j
        for (a, r, _), j in list(_jobs.items())
        if (a, r) == (account, region) and (not statuses or j["status"] in statuses)
    ]
    jobs.sort(key=lambda j: (j["created"], j["sequence"]), reverse=True)
    start = int(token)
    page = jobs[start : start + limit]
    more = _el("NextToken", start + limit) if limit and start + limit < len(jobs) else ""
    entries = "".join(_list_entry(j) for j in page)
    return f"<ListJobsResult xmlns=\"{NS}\">{more}<Jobs>{entries}</Jobs></ListJobsResult>"


def _route(environ, job_id, rest, body):
    method = environ.get("REQUEST_METHOD")
    if job_id is None and method == "POST":
        return _create_job(environ, body)
    if job_id is None and method == "GET":
        return _list_jobs(environ)
    if job_id is not None and rest is None and method == "GET":
        return _describe_job(environ, job_id)
    raise _invalid(f"batch_double does not model {method} {environ.get('PATH_INFO')}")


def _answer(start_response, status, body):
    payload = ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}[status]
    request_id = uuid.uuid4().hex.upper()[:16]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/xml"),
            ("Content-Length", str(len(payload))),
            ("x-amz-request-id", request_id),
            ("x-amzn-requestid", request_id),
        ],
    )
    return [payload]


def _error_body(e):
    return (
        f"<ErrorResponse><Error>{_el('Code', e.code)}{_el('Message', e.message)}</Error>"
        f"<RequestId>{uuid.uuid4().hex.upper()[:16]}</RequestId></ErrorResponse>"
    )


def handle(environ, start_response):
    """Answers an S3 Control jobs request, or returns None for any other request."""
    match = PATH.match(environ.get("PATH_INFO", ""))
    if not match or "HTTP_X_AMZ_ACCOUNT_ID" not in environ:
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        return _answer(start_response, 200, _route(environ, match.group(1), match.group(2), body))
    except _Error as e:
        return _answer(start_response, e.status, _error_body(e))


def reset():
    with _lock:
        _jobs.clear()
        _tokens.clear()


def install():
    from moto.moto_api._internal.models import MotoAPIBackend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def dispatch(self, environ, start_response):
        answered = handle(environ, start_response)
        if answered is not None:
            return answered
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatch
    original_reset = MotoAPIBackend.reset

    def reset_too(self):
        original_reset(self)
        reset()

    MotoAPIBackend.reset = reset_too
