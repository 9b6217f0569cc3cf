"""Checks ``batch_double`` end to end against a moto started as the tests start it.

    target/tools/python scripts/batch_double_check.py

boto3's s3control puts the account id in the host (``ACCOUNT.127.0.0.1``), as the Rust SDK's
endpoint rules do for an endpoint override; neither resolves, so the connection is made to the
endpoint's address while the request keeps that host (the double answers by path).
"""
import secrets
import sys
import urllib.parse

from emulator import DEFAULT_ACCOUNT, Cloud, MotoServer  # next to this file

REGION = "eu-west-1"


def _connect_to_endpoint(endpoint):
    """A before-send hook: connect to ``endpoint`` whatever host the request names."""
    target = urllib.parse.urlsplit(endpoint)

    def hook(request, **_):
        url = urllib.parse.urlsplit(request.url)
        request.headers["Host"] = url.netloc
        request.url = urllib.parse.urlunsplit(url._replace(netloc=target.netloc))

    return hook


def _control(cloud, moto, region):
    client = cloud.session(DEFAULT_ACCOUNT, region).client("s3control", endpoint_url=moto.endpoint)
    client.meta.events.register("before-send", _connect_to_endpoint(moto.endpoint))
    return client


def _world(cloud, tag):
    s3, iam = cloud.s3(region=REGION), cloud.iam()
    src, dst, reports = (f"batch-{tag}-{n}" for n in ("src", "dst", "reports"))
    for name in (src, dst, reports):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name in (src, dst):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    role = iam.create_role(RoleName=f"batch-{tag}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    first = s3.put_object(Bucket=src, Key="data/a.txt", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=src, Key="data/a.txt", Body=b"two")["VersionId"]
    s3.put_object(Bucket=src, Key="other/b.txt", Body=b"three")
    s3.put_bucket_replication(
        Bucket=src,
        ReplicationConfiguration={
            "Role": role,
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{dst}"},
                }
            ],
        },
    )
    return src, dst, reports, role, (first, second)


def _job(src, reports, role, token, **overrides):
    job = {
        "AccountId": DEFAULT_ACCOUNT,
        "ConfirmationRequired": False,
        "Operation": {"S3ReplicateObject": {}},
        "Report": {
            "Bucket": f"arn:aws:s3:::{reports}",
            "Format": "Report_CSV_20180820",
            "Enabled": True,
            "Prefix": "batch/",
            "ReportScope": "AllTasks",
        },
        "ClientRequestToken": token,
        "ManifestGenerator": {
            "S3JobManifestGenerator": {
                "SourceBucket": f"arn:aws:s3:::{src}",
                "ManifestOutputLocation": {
                    "Bucket": f"arn:aws:s3:::{reports}",
                    "ManifestPrefix": "manifests",
                    "ManifestFormat": "S3InventoryReport_CSV_20211130",
                },
                "Filter": {
                    "EligibleForReplication": True,
                    "ObjectReplicationStatuses": ["NONE", "FAILED"],
                    "KeyNameConstraint": {"MatchAnyPrefix": ["data/"]},
                },
                "EnableManifestOutput": True,
            }
        },
        "Priority": 10,
        "RoleArn": role,
        "Description": "check",
    }
    job.update(overrides)
    return job


def _expect_error(call, code):
    try:
        call()
    except Exception as e:  # botocore.exceptions.ClientError
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        assert got == code, f"expected {code}, got {got}: {e}"
        print(f"ok  {code}: {e}")
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def check(moto):
    cloud = Cloud(moto.endpoint)
    s3 = cloud.s3(region=REGION)
    control = _control(cloud, moto, REGION)
    src, dst, reports, role, (first, second) = _world(cloud, secrets.token_hex(3))

    job_id = control.create_job(**_job(src, reports, role, "token-1"))["JobId"]
    assert len(job_id) == 36, job_id
    again = control.create_job(**_job(src, reports, role, "token-1"))["JobId"]
    assert again == job_id, (again, job_id)
    job = control.describe_job(AccountId=DEFAULT_ACCOUNT, JobId=job_id)["Job"]
    summary = job["ProgressSummary"]
    assert job["Status"] == "Complete", job
    assert (summary["TotalNumberOfTasks"], summary["NumberOfTasksSucceeded"]) == (2, 2), summary
    assert job["JobArn"] == f"arn:aws:s3:{REGION}:{DEFAULT_ACCOUNT}:job/{job_id}", job["JobArn"]
    assert "TerminationDate" in job and job["Report"]["Prefix"] == "batch/", job
    for version in (first, second):
        head = s3.head_object(Bucket=dst, Key="data/a.txt", VersionId=version)
        assert head["ReplicationStatus"] == "REPLICA", head
    _expect_error(lambda: s3.head_object(Bucket=dst, Key="other/b.txt"), "404")
    print(f"ok  job {job_id}: 2 versions of data/a.txt replicated, other/ left out")

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=reports)["Contents"]]
    assert f"batch/job-{job_id}/manifest.json" in keys, keys
    result = [k for k in keys if k.startswith(f"batch/job-{job_id}/results/")]
    lines = s3.get_object(Bucket=reports, Key=result[0])["Body"].read().decode().splitlines()
    expected = [f"{src},data/a.txt,{v},succeeded,,200,Successful" for v in (first, second)]
    assert sorted(lines) == sorted(expected), lines
    assert f"manifests/job-{job_id}/manifest.json" in keys, keys
    generated = job["GeneratedManifestDescriptor"]["Location"]["ObjectArn"]
    assert generated.endswith(f"manifests/job-{job_id}/manifest.json"), generated
    print(f"ok  report and manifest: {sorted(keys)}")

    # Every eligible version is COMPLETED now: a job for NONE/FAILED ones has no tasks.
    empty = control.create_job(**_job(src, reports, role, "token-2"))["JobId"]
    job = control.describe_job(AccountId=DEFAULT_ACCOUNT, JobId=empty)["Job"]
    summary = job["ProgressSummary"]
    assert summary["TotalNumberOfTasks"] == 0, summary

    fail = {"TagSet": [{"Key": "batch-double", "Value": "fail"}]}
    s3.put_bucket_tagging(Bucket=src, Tagging=fail)
    failed = control.create_job(**_job(src, reports, role, "token-3"))["JobId"]
    job = control.describe_job(AccountId=DEFAULT_ACCOUNT, JobId=failed)["Job"]
    assert job["Status"] == "Failed" and job["FailureReasons"][0]["FailureCode"], job
    assert job["ProgressSummary"]["TotalNumberOfTasks"] == 0, job
    print(f"ok  batch-double=fail: {job['FailureReasons']}")

    listed = control.list_jobs(AccountId=DEFAULT_ACCOUNT)["Jobs"]
    assert [j["JobId"] for j in listed] == [failed, empty, job_id], listed
    page = control.list_jobs(AccountId=DEFAULT_ACCOUNT, MaxResults=2)
    rest = control.list_jobs(AccountId=DEFAULT_ACCOUNT, MaxResults=2, NextToken=page["NextToken"])
    assert [j["JobId"] for j in page["Jobs"] + rest["Jobs"]] == [failed, empty, job_id]
    assert "NextToken" not in rest, rest
    only = control.list_jobs(AccountId=DEFAULT_ACCOUNT, JobStatuses=["Failed"])["Jobs"]
    assert [j["JobId"] for j in only] == [failed], only
    assert _control(cloud, moto, "us-west-2").list_jobs(AccountId=DEFAULT_ACCOUNT)["Jobs"] == []
    print("ok  list_jobs: newest first, paging, status filter, per region")

    create = control.create_job
    _expect_error(lambda: create(**_job("no-such-bucket-x", reports, role, "e1")), "NoSuchBucket")
    _expect_error(lambda: create(**_job(dst, reports, role, "e2")), "InvalidRequest")
    wrong_operation = _job(src, reports, role, "e3", Operation={"S3DeleteObjectTagging": {}})
    _expect_error(lambda: create(**wrong_operation), "InvalidRequest")
    _expect_error(lambda: create(**_job(src, reports, role + "-x", "e4")), "InvalidRequest")
    other = "222222222222"
    _expect_error(lambda: create(**_job(src, reports, role, "e5", AccountId=other)), "AccessDenied")
    unknown = secrets.token_hex(8)
    describe, list_jobs = control.describe_job, control.list_jobs
    _expect_error(lambda: describe(AccountId=DEFAULT_ACCOUNT, JobId=unknown), "NotFoundException")
    bad_token = "InvalidNextTokenException"
    _expect_error(lambda: list_jobs(AccountId=DEFAULT_ACCOUNT, NextToken="x"), bad_token)

    moto.reset()
    assert control.list_jobs(AccountId=DEFAULT_ACCOUNT)["Jobs"] == []
    print("ok  moto reset clears the jobs")


def main():
    with MotoServer() as moto:
        check(moto)
    print("batch_double check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
