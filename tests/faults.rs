//! Fault injection at every AWS call: for Create, Update and Delete and every k, the k-th
//! request to AWS fails (throttling, 500, AccessDenied, connection reset, in rotation). The
//! (and a hang past the SDK's attempt timeout). The
//! handler must answer exactly once (the harness checks), SUCCESS when the fault is transient
//! (the SDK retries it) and FAILED naming the failing call when it is not; re-running the same
//! request converges; a Delete afterwards leaves nothing this resource created (but retained
//! keys) and changes nothing it did not create.

mod support;

use std::time::Duration;

use s3_replication_provider::handler::Settings;
use serde_json::{json, Value};
use support::harness::{Answered, Harness, HOME_REGION};
use support::proxy::{Fault, Seen};
use support::{unique, DEFAULT_ACCOUNT};

const SRC: &str = DEFAULT_ACCOUNT;
const ACCT_B: &str = "222222222222";
const REGION_B: &str = "us-west-2";
const ACCT_C: &str = "333333333333";
const REGION_C: &str = "ap-southeast-2";

async fn harness() -> Harness {
    Harness::with_settings(Settings {
        time_budget: Duration::from_secs(60),
        policy_settle: Duration::from_millis(20),
        // A hung call is abandoned after a second (20 s in production) and retried.
        attempt_timeout: Duration::from_secs(1),
        ..support::local_settings()
    })
    .await
}

/// The AWS operation a request is, as the handler's FAILED reasons name it.
fn operation(seen: &Seen) -> String {
    let head = seen.head.to_ascii_lowercase();
    if let Some(t) = head
        .lines()
        .find_map(|l| l.strip_prefix("x-amz-target: trentservice."))
    {
        return seen
            .head
            .lines()
            .find_map(|l| {
                l.split_once("TrentService.")
                    .map(|(_, op)| op.trim().to_owned())
            })
            .unwrap_or_else(|| t.to_owned());
    }
    if let Some(action) = seen
        .body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
    {
        return action.to_owned();
    }
    let query = seen.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let sub = [
        "versioning",
        "policy",
        "replication",
        "encryption",
        "location",
        "publicAccessBlock",
        "ownershipControls",
        "tagging",
    ]
    .into_iter()
    .find(|s| {
        query
            .split('&')
            .any(|kv| kv == *s || kv.starts_with(&format!("{s}=")))
    });
    match (seen.method.as_str(), sub) {
        ("PUT", None) => "CreateBucket".into(),
        ("GET", Some("location")) => "GetBucketLocation".into(),
        ("PUT", Some("publicAccessBlock")) => "PutPublicAccessBlock".into(),
        ("PUT", Some("ownershipControls")) => "PutBucketOwnershipControls".into(),
        (m, Some(s)) => format!(
            "{}{}Bucket{}",
            &m[..1].to_uppercase(),
            &m[1..].to_lowercase(),
            capitalize(s)
        ),
        (m, None) => format!("{m} {}", seen.target),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

struct World {
    src: String,
    dst_b: String,
    dst_c: String,
    foreign: String,
}

async fn world(h: &Harness) -> World {
    let w = World {
        src: unique("fsrc"),
        dst_b: unique("fdstb"),
        dst_c: unique("fdstc"),
        foreign: String::new(),
    };
    h.emu.create_bucket(SRC, HOME_REGION, &w.src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &w.dst_b, false).await;
    h.emu.create_bucket(ACCT_C, REGION_C, &w.dst_c, true).await;
    // A statement someone else owns, which must survive everything byte for byte.
    let foreign = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Theirs","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT_C}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{}/*"}}]}}"#,
        w.dst_b
    );
    let s3 = h.emu.s3(ACCT_B, REGION_B).await;
    s3.put_bucket_policy()
        .bucket(&w.dst_b)
        .policy(&foreign)
        .send()
        .await
        .unwrap();
    World { foreign, ..w }
}

fn props(w: &World, two: bool) -> Value {
    let mut dests = vec![
        json!({"Bucket": w.dst_b, "AccountId": ACCT_B, "Region": REGION_B, "KmsKeyArn": "Create", "ReplicationTimeControl": "true"}),
    ];
    if two {
        dests.push(json!({"Bucket": w.dst_c, "AccountId": ACCT_C, "Region": REGION_C, "KmsKeyArn": "Create", "Prefix": "p/"}));
    }
    json!({"SourceBucket": w.src, "SourceKmsKeyArn": "Create", "Destinations": dests})
}

/// The full desired state of `props(w, two)` is in place.
async fn assert_converged(h: &Harness, w: &World, two: bool) {
    let stored = h
        .emu
        .stored_replication(&w.src)
        .await
        .expect("replication configured");
    assert_eq!(
        stored["Rules"].as_array().unwrap().len(),
        if two { 2 } else { 1 }
    );
    let role = format!("s3-replication-{}", w.src);
    assert!(h.emu.role_exists(SRC, &role).await);
    assert_eq!(h.emu.role_inline_policies(SRC, &role).await.len(), 1);
    let sid = support::sid_in(SRC, HOME_REGION, &w.src);
    let policy = h
        .emu
        .bucket_policy(ACCT_B, REGION_B, &w.dst_b)
        .await
        .unwrap();
    assert!(support::policy_sids(&policy).contains(&sid));
    assert_eq!(
        h.emu
            .versioning(ACCT_B, REGION_B, &w.dst_b)
            .await
            .as_deref(),
        Some("Enabled")
    );
    assert_eq!(
        h.emu.versioning(SRC, HOME_REGION, &w.src).await.as_deref(),
        Some("Enabled")
    );
}

/// Nothing of this resource is left but retained keys; foreign state is untouched.
async fn assert_cleaned(h: &Harness, w: &World) {
    assert!(h.emu.replication(SRC, HOME_REGION, &w.src).await.is_none());
    assert!(
        !h.emu
            .role_exists(SRC, &format!("s3-replication-{}", w.src))
            .await
    );
    let s3 = h.emu.s3(ACCT_B, REGION_B).await;
    let raw = s3
        .get_bucket_policy()
        .bucket(&w.dst_b)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(raw, w.foreign, "foreign policy must be exactly as it was");
    assert!(h
        .emu
        .bucket_policy(ACCT_C, REGION_C, &w.dst_c)
        .await
        .is_none());
    for b in [&w.src, &w.dst_b, &w.dst_c] {
        let (a, r) = if b == &w.src {
            (SRC, HOME_REGION)
        } else if b == &w.dst_b {
            (ACCT_B, REGION_B)
        } else {
            (ACCT_C, REGION_C)
        };
        assert!(
            h.emu.bucket_exists(a, r, b).await,
            "bucket {b} must never be deleted"
        );
    }
}

/// Checks one faulted answer: transient faults are absorbed, permanent ones named.
/// Create and Update get past no denial but an unreachable account's (never on this path), and
/// a destination role that may not read bucket tags (deployed before the sharing tag existed):
/// the bucket then counts as not shared, the safe reading.
const CREATE_TOLERATES: &[&str] = &["AssumeRole", "GetBucketTagging"];
/// Delete gets past an unreachable account, and a policy whose owner keeps our (now unused)
/// statement in it: a Delete must not be left failing.
const DELETE_TOLERATES: &[&str] = &[
    "AssumeRole",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutKeyPolicy",
];

/// `tolerated`: operations whose AccessDenied the request gets past by design.
fn check_faulted(
    answer: &Answered,
    fault: Fault,
    failed_request: Option<&Seen>,
    k: usize,
    tolerated: &[&str],
) {
    match (fault.transient(), answer.status()) {
        (true, "SUCCESS") => {}
        (false, "FAILED") => {
            let op = operation(failed_request.expect("the faulted request was seen"));
            let reason = answer.reason();
            assert!(
                reason.contains("AccessDenied") && reason.contains(&op),
                "k={k}: reason must name {op} and the error: {reason}"
            );
        }
        (false, "SUCCESS") => {
            let seen = failed_request.unwrap();
            let op = operation(seen);
            assert!(
                tolerated.contains(&op.as_str()) || covered_by_the_owner(seen, &op),
                "k={k}: AccessDenied on {op} must fail the request"
            );
        }
        (_, status) => panic!("k={k} {fault:?}: unexpected {status}: {}", answer.reason()),
    }
}

/// A denied key-policy write that needs no writing: the source key (the only key in the source
/// region here) was created with `EnableIamPolicies` (its account's IAM policies govern it), and
/// the replication role's own policy grants what the provider's statement would, so the
/// provider finds its grant in the owner's policy (`doctor::covers`) and goes on. A destination
/// key's policy delegates to its own account, not to the source's role: no such tolerance.
fn covered_by_the_owner(seen: &Seen, op: &str) -> bool {
    op == "PutKeyPolicy"
        && seen
            .head
            .contains(&format!("/{HOME_REGION}/kms/aws4_request"))
}

/// Requests the proxy saw since `before`.
fn seen_since(h: &Harness, before: usize) -> Vec<Seen> {
    h.proxy.seen().into_iter().skip(before).collect()
}

#[tokio::test]
async fn create_survives_a_fault_at_every_call() {
    let h = harness().await;
    // Count the calls of a clean Create.
    let w = world(&h).await;
    let before = h.proxy.seen().len();
    h.create(&props(&w, true)).await.assert_success();
    let n = seen_since(&h, before).len();
    assert!(n > 20, "a Create makes many calls ({n})");
    for k in 1..=n {
        let fault = Fault::ALL[k % Fault::ALL.len()];
        let w = world(&h).await;
        let p = props(&w, true);
        let before = h.proxy.seen().len();
        h.proxy.fail_nth(k, fault);
        let first = h.create(&p).await;
        let seen = seen_since(&h, before);
        check_faulted(&first, fault, seen.get(k - 1), k, CREATE_TOLERATES);
        h.proxy.clear();
        let again = h.create(&p).await;
        again.assert_success();
        assert_converged(&h, &w, true).await;
        h.delete(&p, again.physical_id()).await.assert_success();
        assert_cleaned(&h, &w).await;
    }
}

#[tokio::test]
async fn update_survives_a_fault_at_every_call() {
    let h = harness().await;
    let w = world(&h).await;
    let (one, two) = (props(&w, false), props(&w, true));
    let id = h.create(&one).await.physical_id().to_owned();
    let before = h.proxy.seen().len();
    h.update(&two, &id, &one).await.assert_success();
    let n = seen_since(&h, before).len();
    h.delete(&two, &id).await.assert_success();
    for k in 1..=n {
        let fault = Fault::ALL[(k + 1) % Fault::ALL.len()];
        let w = world(&h).await;
        let (one, two) = (props(&w, false), props(&w, true));
        let created = h.create(&one).await;
        created.assert_success();
        let id = created.physical_id().to_owned();
        let before = h.proxy.seen().len();
        h.proxy.fail_nth(k, fault);
        let first = h.update(&two, &id, &one).await;
        let seen = seen_since(&h, before);
        check_faulted(&first, fault, seen.get(k - 1), k, CREATE_TOLERATES);
        h.proxy.clear();
        let again = h.update(&two, &id, &one).await;
        again.assert_success();
        assert_eq!(again.physical_id(), id);
        assert_converged(&h, &w, true).await;
        h.delete(&two, &id).await.assert_success();
        assert_cleaned(&h, &w).await;
    }
}

#[tokio::test]
async fn delete_survives_a_fault_at_every_call() {
    let h = harness().await;
    let w = world(&h).await;
    let p = props(&w, true);
    let id = h.create(&p).await.physical_id().to_owned();
    let before = h.proxy.seen().len();
    h.delete(&p, &id).await.assert_success();
    let n = seen_since(&h, before).len();
    for k in 1..=n {
        let fault = Fault::ALL[(k + 2) % Fault::ALL.len()];
        let w = world(&h).await;
        let p = props(&w, true);
        let created = h.create(&p).await;
        created.assert_success();
        let before = h.proxy.seen().len();
        h.proxy.fail_nth(k, fault);
        let first = h.delete(&p, created.physical_id()).await;
        let seen = seen_since(&h, before);
        check_faulted(&first, fault, seen.get(k - 1), k, DELETE_TOLERATES);
        h.proxy.clear();
        // CloudFormation retries a failed Delete; a tolerated skip is re-run here to show that
        // the statements it left behind are removable (they grant a deleted role).
        h.delete(&p, created.physical_id()).await.assert_success();
        assert_cleaned(&h, &w).await;
    }
}

#[tokio::test]
async fn response_put_failures_are_retried_and_a_dead_url_does_not_hang() {
    let h = harness().await;
    let p = json!({"SourceBucket": "bad bucket", "Destinations": []});
    h.rx.fail_first(2, 500);
    let answered = h.create(&p).await; // the harness asserts exactly one accepted PUT
    assert_eq!(answered.status(), "FAILED");
    let attempts = h.rx.requests().len();
    assert_eq!(attempts, 3, "two 500s, then accepted");

    // A URL nobody listens on: the handler gives up within its budget, logging an error.
    let provider = s3_replication_provider::handler::Provider::new(
        h.emu.sdk_config(HOME_REGION).await,
        Settings {
            time_budget: Duration::from_secs(6),
            ..support::local_settings()
        },
    );
    let dead = format!(
        "http://127.0.0.1:{}/cfn?X-Amz-Signature=s",
        support::free_port()
    );
    let event = support::cfn_event("Create", &dead, p, None, None);
    let start = std::time::Instant::now();
    let outcome = provider.handle(event, None).await;
    assert!(!outcome.delivered);
    assert!(
        start.elapsed() < Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
}

/// Right after CreateRole, S3 and KMS may refuse a policy naming the new role ("Invalid
/// principal in policy") until IAM has propagated it. The write is retried with backoff, each
/// time after a fresh read (the policy may have changed meanwhile), and the Create succeeds.
#[tokio::test]
async fn a_policy_refused_while_the_role_propagates_is_read_again_and_retried() {
    use support::proxy::{Answer, Rule};
    let h = harness().await;
    let (src, dst) = (unique("src"), unique("dst"));
    h.emu.create_bucket(SRC, HOME_REGION, &src, false).await;
    h.emu.create_bucket(ACCT_B, REGION_B, &dst, false).await;
    let needle = dst.clone();
    h.proxy.add_rule(Rule {
        matches: Box::new(move |s| {
            s.method == "PUT" && s.target.contains("policy") && s.target.contains(&needle)
        }),
        answer: Answer::Status(
            400,
            "<Error><Code>MalformedPolicy</Code><Message>Invalid principal in policy</Message><RequestId>fault</RequestId></Error>".to_owned(),
        ),
        remaining: Some(2),
    });
    let props = json!({"SourceBucket": src, "Destinations": [{"Bucket": dst, "AccountId": ACCT_B, "Region": REGION_B}]});
    let created = h.create(&props).await;
    created.assert_success();
    let on_policy: Vec<(&str, bool)> = created
        .outcome
        .calls
        .iter()
        .filter(|c| c.operation.ends_with("BucketPolicy") && c.resource.contains(&dst))
        .map(|c| (c.operation, c.ok))
        .collect();
    assert_eq!(
        on_policy,
        // (`false` for a read: NoSuchBucketPolicy, there is no policy yet.)
        [
            ("GetBucketPolicy", false),
            ("PutBucketPolicy", false),
            ("GetBucketPolicy", false),
            ("PutBucketPolicy", false),
            ("GetBucketPolicy", false),
            ("PutBucketPolicy", true),
            // The verifying read after the settle time.
            ("GetBucketPolicy", true),
        ]
    );
}
