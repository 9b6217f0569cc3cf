//! Many resources at once: 40 stacks in 40 source accounts replicating into one destination
//! bucket and one destination key at the same time (a StackSet rollout); duplicate deliveries;
//! a Delete arriving while the Create is still running; and policy size limits.

mod support;

use futures::future::join_all;
use serde_json::{json, Value};
use support::harness::{Harness, HOME_REGION};
use support::{policy_sids, sid_in, unique};

const DEST_ACCT: &str = "222222222222";
const DEST_REGION: &str = "us-west-2";
/// As many as fit: each per-source statement pins its replica key (about 480 bytes with a
/// key ARN and owner override), and S3 keeps a bucket policy under 20 KB.
const STACKS: usize = 40;

fn source_account(i: usize) -> String {
    format!("3000000000{i:02}")
}

/// One source of many into one bucket: each replicates its own prefix (one source, one key
/// space: overlapping sources are refused unless the bucket's owner allows sharing).
fn props(i: usize, src: &str, account: &str, dst: &str, key: &str) -> Value {
    json!({
        "SourceBucket": src,
        "SourceRoleArn": format!("arn:aws:iam::{account}:role/provider"),
        "Destinations": [{"Bucket": dst, "AccountId": DEST_ACCT, "Region": DEST_REGION, "KmsKeyArn": key,
            "Prefix": format!("s{i:02}/")}]
    })
}

/// The Sid of `src`'s statements (a source of the account [`source_account`] `account`).
fn sid(src: &str, account: &str) -> String {
    sid_in(account, HOME_REGION, src)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_sources_share_one_destination_bucket_and_key() {
    // The provider's default budget (300 s): under this much contention on two cores the
    // verification rounds of the last writers can exceed the 60 s other tests use.
    let h = Harness::with_settings(s3_replication_provider::handler::Settings {
        time_budget: std::time::Duration::from_secs(300),
        ..support::local_settings()
    })
    .await;
    let dst = unique("shared");
    h.emu
        .create_bucket(DEST_ACCT, DEST_REGION, &dst, true)
        .await;
    let key = h.emu.create_key(DEST_ACCT, DEST_REGION).await;
    let mut all = Vec::new();
    for i in 0..STACKS {
        let (src, account) = (unique(&format!("src{i:02}")), source_account(i));
        h.emu.create_bucket(&account, HOME_REGION, &src, true).await;
        all.push((
            src.clone(),
            account.clone(),
            props(i, &src, &account, &dst, &key),
        ));
    }

    let created = join_all(all.iter().map(|(_, _, p)| h.create(p))).await;
    for c in &created {
        c.assert_success();
    }
    let bucket_policy = h
        .emu
        .bucket_policy(DEST_ACCT, DEST_REGION, &dst)
        .await
        .unwrap();
    let key_policy = h.emu.key_policy(DEST_ACCT, DEST_REGION, &key).await;
    let (bucket_sids, key_sids) = (policy_sids(&bucket_policy), policy_sids(&key_policy));
    let lost: Vec<&String> = all
        .iter()
        .filter(|(src, a, _)| {
            !bucket_sids.contains(&sid(src, a)) || !key_sids.contains(&sid(src, a))
        })
        .map(|(src, _, _)| src)
        .collect();
    assert!(
        lost.is_empty(),
        "{} statements lost to concurrent writers: {lost:?}",
        lost.len()
    );
    assert_eq!(bucket_sids.len(), STACKS);
    assert_eq!(
        key_sids.len(),
        STACKS + 1,
        "KMS's default statement is kept"
    );
    assert!(bucket_policy.to_string().len() <= 20 * 1024);
    assert!(key_policy.to_string().len() <= 32 * 1024);

    // And all of them leave again, concurrently, without removing each other's statements early.
    let (leaving, staying) = all.split_at(STACKS / 2);
    let deleted = join_all(
        leaving
            .iter()
            .zip(&created)
            .map(|((_, _, p), c)| h.delete(p, c.physical_id())),
    )
    .await;
    for d in &deleted {
        d.assert_success();
    }
    let bucket_sids = policy_sids(
        &h.emu
            .bucket_policy(DEST_ACCT, DEST_REGION, &dst)
            .await
            .unwrap(),
    );
    let key_sids = policy_sids(&h.emu.key_policy(DEST_ACCT, DEST_REGION, &key).await);
    for (src, a, _) in leaving {
        assert!(
            !bucket_sids.contains(&sid(src, a)) && !key_sids.contains(&sid(src, a)),
            "{src} not removed"
        );
    }
    for (src, a, _) in staying {
        assert!(
            bucket_sids.contains(&sid(src, a)) && key_sids.contains(&sid(src, a)),
            "{src} removed by someone else's Delete"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_deliveries_and_a_delete_racing_the_create_end_consistent() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(support::DEFAULT_ACCOUNT, HOME_REGION, &src, false)
        .await;
    h.emu
        .create_bucket(DEST_ACCT, DEST_REGION, &dst, false)
        .await;
    let p = json!({"SourceBucket": src, "SourceKmsKeyArn": "Create", "Destinations": [{"Bucket": dst, "AccountId": DEST_ACCT, "Region": DEST_REGION, "KmsKeyArn": "Create"}]});

    // The same Create delivered twice at once: both succeed with the same id and one key each side.
    let (a, b) = tokio::join!(h.create(&p), h.create(&p));
    a.assert_success();
    b.assert_success();
    assert_eq!(a.physical_id(), b.physical_id());
    assert_eq!(
        a.response["Data"], b.response["Data"],
        "one source key and one replica key, not two"
    );
    let again = h.create(&p).await;
    assert!(
        again.mutations().is_empty(),
        "converged: {:?}",
        again.mutations()
    );

    // A Delete arriving while a Create for the same resource is still running.
    let id = a.physical_id().to_owned();
    // (No oracle for this Create: a Delete racing it may remove what it reports in place.)
    let (created, deleted) = tokio::join!(h.request_unchecked("Create", &p, None, None), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        h.delete(&p, &id).await
    });
    // Both answer exactly once (the harness checks). The Create may lose the race to the Delete
    // (its role vanishes under it) and fail; the Delete succeeds, or reports the Create re-adding
    // statements until the Create ends instead of leaving them behind.
    assert!(["SUCCESS", "FAILED"].contains(&created.status()));
    let ok = deleted.status() == "SUCCESS" || deleted.reason().contains("concurrent");
    assert!(ok, "{}", deleted.response);
    // Whatever the interleaving, the next Delete (CloudFormation's retry or rollback) cleans up.
    h.delete(&p, &id).await.assert_success();
    assert!(h
        .emu
        .replication(support::DEFAULT_ACCOUNT, HOME_REGION, &src)
        .await
        .is_none());
    assert!(
        !h.emu
            .role_exists(support::DEFAULT_ACCOUNT, &format!("s3-replication-{src}"))
            .await
    );
    assert!(h
        .emu
        .bucket_policy(DEST_ACCT, DEST_REGION, &dst)
        .await
        .is_none());
}

#[tokio::test]
async fn a_policy_limit_is_reported_before_it_is_crossed() {
    let h = Harness::start().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu
        .create_bucket(support::DEFAULT_ACCOUNT, HOME_REGION, &src, true)
        .await;
    h.emu
        .create_bucket(DEST_ACCT, DEST_REGION, &dst, true)
        .await;
    // A bucket policy already close to S3's 20 KB limit (but valid on its own).
    let mut filler: Vec<Value> = Vec::new();
    let mut before = String::new();
    for i in 0.. {
        filler.push(json!({"Sid": format!("Existing{i:03}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::4444444444{:02}:root", i % 100)}, "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"], "Resource": format!("arn:aws:s3:::{dst}/shared/{i:03}/*")}));
        let next = json!({"Version": "2012-10-17", "Statement": filler}).to_string();
        if next.len() > 20_400 {
            break;
        }
        before = next;
    }
    assert!(before.len() > 20_150, "{}", before.len());
    let s3 = h.emu.s3(DEST_ACCT, DEST_REGION).await;
    s3.put_bucket_policy()
        .bucket(&dst)
        .policy(&before)
        .send()
        .await
        .unwrap();
    let p = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": DEST_ACCT, "Region": DEST_REGION}]});
    let failed = h.create(&p).await;
    failed.assert_failed_with(&["bucket policy", &dst, "20480", "OrganizationId"]);
    let after = s3
        .get_bucket_policy()
        .bucket(&dst)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(after, before, "nothing written past the limit");
}
