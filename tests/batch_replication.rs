//! `ReplicateExistingObjects` through the real handler against the emulator (moto has no S3
//! Batch Operations: `scripts/batch_double.py` runs each job at once, through the replication
//! double): objects written before replication reach the destination, a repeated Create starts
//! no job, an Update adding a destination starts a job for it alone, Delete removes the batch
//! role and leaves the jobs, and a denied CreateJob fails naming the permission.

mod support;

use s3_replication_provider::aws::{CallLog, Connector};
use s3_replication_provider::doctor::Status;
use s3_replication_provider::preview::{preview, Action};
use serde_json::{json, Value};
use support::harness::{Answered, Harness, HOME_REGION};
use support::proxy::{Answer, Rule};
use support::{unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";

fn create_jobs(a: &Answered) -> usize {
    a.outcome
        .calls
        .iter()
        .filter(|c| c.operation == "CreateJob" && c.ok)
        .count()
}

fn job_ids(a: &Answered) -> Vec<String> {
    a.data("BatchReplicationJobIds")
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// Keys (without versions) in a bucket.
async fn keys(h: &Harness, account: &str, region: &str, bucket: &str) -> Vec<String> {
    let mut keys: Vec<String> = h
        .emu
        .object_versions(account, region, bucket)
        .await
        .into_iter()
        .map(|kv| kv.split('@').next().unwrap_or_default().to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn destination(bucket: &str, extra: Value) -> Value {
    let mut d = json!({"Bucket": bucket, "AccountId": ACCT_B, "Region": REGION_B});
    d.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    d
}

#[tokio::test]
async fn existing_objects_are_replicated_once_per_destination_and_jobs_outlive_delete() {
    let h = Harness::start().await;
    let (src, dst, dst2) = (unique("src"), unique("dst"), unique("dst2"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst2, false).await;
    for key in ["logs/a", "logs/b", "other/c"] {
        h.emu.put_object(SRC, HOME_REGION, &src, key).await;
    }

    let props = json!({
        "SourceBucket": src,
        "Destinations": [destination(&dst, json!({"ReplicateExistingObjects": "true"}))]
    });
    let created = h.create(&props).await;
    created.assert_success();
    let id = created.physical_id().to_owned();
    assert_eq!(create_jobs(&created), 1);
    let first = job_ids(&created);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].len(), 36, "a job id: {first:?}");
    // (Reports written into the source bucket are objects like any other: a rule without a
    // prefix replicates them too; README says so.)
    let data: Vec<String> = keys(&h, ACCT_B, REGION_B, &dst)
        .await
        .into_iter()
        .filter(|k| !k.starts_with("s3-replication-reports/"))
        .collect();
    assert_eq!(data, ["logs/a", "logs/b", "other/c"]);
    // The batch role: trusted by S3 Batch Operations for this account's jobs only.
    let batch_role = format!("s3-batch-replication-{src}");
    assert!(h.emu.role_exists(SRC, &batch_role).await);
    let policies = h.emu.role_inline_policies(SRC, &batch_role).await;
    let policy = &policies["s3-batch-replication"];
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["s3:InitiateReplication"])
    );
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!([format!("arn:aws:s3:::{src}/*")])
    );
    // The report prefix holds the completion report.
    let reports = keys(&h, SRC, HOME_REGION, &src).await;
    assert!(
        reports
            .iter()
            .any(|k| k.starts_with(&format!("s3-replication-reports/job-{}/", first[0]))),
        "{reports:?}"
    );

    // The doctor and `plan --diff` show the job, read only.
    let found = support::oracle::findings(&h.emu, &props).await;
    let job_link = found
        .iter()
        .find(|f| f.link == "destination[0].existing-objects")
        .unwrap_or_else(|| panic!("no job finding: {found:?}"));
    assert_eq!(job_link.status, Status::Pass);
    assert!(
        job_link.detail.contains(&first[0]) && job_link.detail.contains("3 of 3"),
        "{}",
        job_link.detail
    );
    let conn = Connector::new(&h.emu.sdk_config(HOME_REGION).await, CallLog::default());
    let spec = s3_replication_provider::spec::parse(&props).unwrap();
    let diff = preview(&conn, &spec).await.unwrap();
    let job = diff
        .changes
        .iter()
        .find(|c| c.what.starts_with("batch replication job"))
        .unwrap();
    assert_eq!(job.action, Action::Unchanged);
    assert_eq!(job.resource, first[0]);
    assert_eq!(job.current.as_ref().unwrap()["Status"], "Complete");
    assert_eq!(job.current.as_ref().unwrap()["NumberOfTasksSucceeded"], 3);

    // A repeated Create starts no job and reports the same one.
    let again = h.create(&props).await;
    again.assert_success();
    assert!(again.mutations().is_empty(), "{:?}", again.mutations());
    assert_eq!(job_ids(&again), first);

    // Update adding a destination (prefix logs/): one job, for it alone; the first keeps its id.
    let mut two = props.clone();
    two["Destinations"] = json!([
        props["Destinations"][0],
        destination(
            &dst2,
            json!({"ReplicateExistingObjects": true, "Prefix": "logs/"})
        )
    ]);
    let updated = h.update(&two, &id, &props).await;
    updated.assert_success();
    assert_eq!(create_jobs(&updated), 1, "{:?}", updated.outcome.calls);
    let ids = job_ids(&updated);
    assert_eq!(ids[0], first[0]);
    assert_ne!(ids[1], first[0]);
    // Objects already COMPLETED to the first destination reach the new one too.
    assert_eq!(
        keys(&h, ACCT_B, REGION_B, &dst2).await,
        ["logs/a", "logs/b"]
    );

    // Update turning it off everywhere: no job, the batch role goes.
    let mut off = two.clone();
    for d in off["Destinations"].as_array_mut().unwrap() {
        d["ReplicateExistingObjects"] = json!(false);
    }
    let quiet = h.update(&off, &id, &two).await;
    quiet.assert_success();
    assert_eq!(create_jobs(&quiet), 0);
    assert_eq!(quiet.data("BatchReplicationJobIds"), ",");
    assert!(!h.emu.role_exists(SRC, &batch_role).await);

    // Delete: nothing of the jobs is touched (their reports stay), the replicas stay.
    let deleted = h.delete(&two, &id).await;
    deleted.assert_success();
    assert!(!h.emu.role_exists(SRC, &batch_role).await);
    assert_eq!(keys(&h, ACCT_B, REGION_B, &dst2).await.len(), 2);
    assert!(keys(&h, SRC, HOME_REGION, &src)
        .await
        .iter()
        .any(|k| k.starts_with("s3-replication-reports/")));
}

#[tokio::test]
async fn a_denied_create_job_fails_naming_the_permission_and_a_retry_starts_one_job() {
    let h = Harness::start().await;
    let (src, dst, reports) = (unique("src"), unique("dst"), unique("reports"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(SRC, HOME_REGION, &reports, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    h.emu.put_object(SRC, HOME_REGION, &src, "old").await;
    let props = json!({
        "SourceBucket": src,
        "BatchReplication": {"ReportBucket": reports, "ReportPrefix": "backfill/", "ReportScope": "AllTasks"},
        "Destinations": [destination(&dst, json!({"ReplicateExistingObjects": true}))]
    });
    h.proxy.add_rule(Rule {
        matches: Box::new(|s| s.method == "POST" && s.target.starts_with("/v20180820/jobs")),
        answer: Answer::Status(
            403,
            "<ErrorResponse><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error></ErrorResponse>".to_owned(),
        ),
        remaining: None,
    });
    let denied = h.request_unchecked("Create", &props, None, None).await;
    denied.assert_failed_with(&["CreateJob", "AccessDenied", "s3:CreateJob", "iam:PassRole"]);
    h.proxy.clear();

    let created = h.create(&props).await;
    created.assert_success();
    assert_eq!(create_jobs(&created), 1);
    assert_eq!(keys(&h, ACCT_B, REGION_B, &dst).await, ["old"]);
    let written = keys(&h, SRC, HOME_REGION, &reports).await;
    assert!(
        written.iter().any(|k| k.starts_with("backfill/job-")),
        "{written:?}"
    );
    let deleted = h.delete(&props, created.physical_id()).await;
    deleted.assert_success();
}

#[tokio::test]
async fn a_report_bucket_elsewhere_or_missing_fails_before_any_change() {
    let h = Harness::start().await;
    let (src, dst, far) = (unique("src"), unique("dst"), unique("far"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(SRC, REGION_B, &far, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    for (bucket, needles) in [
        (far.clone(), vec!["ReportBucket", REGION_B, "source region"]),
        (unique("missing"), vec!["does not exist", "ReportBucket"]),
    ] {
        let props = json!({
            "SourceBucket": src,
            "BatchReplication": {"ReportBucket": bucket},
            "Destinations": [destination(&dst, json!({"ReplicateExistingObjects": true}))]
        });
        let answered = h.request_unchecked("Create", &props, None, None).await;
        let mut needles: Vec<&str> = needles;
        needles.push(&bucket);
        answered.assert_failed_with(&needles);
        assert!(
            answered.mutations().is_empty(),
            "{:?}",
            answered.mutations()
        );
    }
}

#[tokio::test]
async fn a_failed_job_is_reported_by_the_doctor_with_its_reason() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, true).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    h.emu.put_object(SRC, HOME_REGION, &src, "old").await;
    // The batch double fails every job of a source tagged so (manifest generation fails).
    h.emu
        .tag_bucket(SRC, HOME_REGION, &src, "batch-double", "fail")
        .await;
    let props = json!({
        "SourceBucket": src,
        "Destinations": [destination(&dst, json!({"ReplicateExistingObjects": true}))]
    });
    // Not waited for: the Create succeeds with the job id.
    let created = h.request_unchecked("Create", &props, None, None).await;
    created.assert_success();
    let id = job_ids(&created)[0].clone();
    let found = support::oracle::findings(&h.emu, &props).await;
    let job = found
        .iter()
        .find(|f| f.link == "destination[0].existing-objects")
        .unwrap();
    assert_eq!(job.status, Status::Fail, "{}", job.detail);
    assert!(
        job.detail.contains(&id)
            && job.detail.contains("Failed")
            && job.detail.contains("batch-double=fail"),
        "{}",
        job.detail
    );
    assert!(job.fix.is_some());
    h.delete(&props, created.physical_id())
        .await
        .assert_success();
}
