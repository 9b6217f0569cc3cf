//! Reconcile steps against stubbed AWS endpoints ([`crate::aws::stub`]): the exact calls each
//! step makes, none that mutate when the live state already matches, in milliseconds. The
//! emulator suites in `tests/` cover the steps together.

use serde_json::{json, Value};

use super::statements::{edit_bucket_policy, edit_key_policy, Edit};
use super::{apply, role, source, ReconcileError};
use crate::aws::stub::{self, Stub, ACCOUNT, REGION};
use crate::aws::Account;
use crate::plan::names::{tags, ROLE_POLICY_NAME};
use crate::plan::{KeyRef, Keys, Owner, Plan, Resolved};
use crate::spec::{self, AccountId, Region, Spec};
use crate::time::Deadline;

const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/replication-boundary";

fn spec() -> Spec {
    spec::parse(&json!({
        "SourceBucket": "src-bucket",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2"}
        ]
    }))
    .unwrap()
}

fn plan() -> Plan {
    let s = spec();
    let r = Resolved::new(
        &s,
        AccountId::parse(ACCOUNT).unwrap(),
        Region::parse(REGION).unwrap(),
    )
    .for_request(
        Some(Owner {
            stack_id: "arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1".to_owned(),
            logical_id: "Replication".to_owned(),
        }),
        Some(BOUNDARY.to_owned()),
    );
    Plan::build(&s, r, &Keys::known(&s, None, &[])).unwrap()
}

/// The operations `acct` called, in order.
fn calls(acct: &Account) -> Vec<&'static str> {
    acct.calls().iter().map(|c| c.operation).collect()
}

fn mutations(acct: &Account) -> Vec<&'static str> {
    acct.calls()
        .iter()
        .filter(|c| c.mutating)
        .map(|c| c.operation)
        .collect()
}

/// The role as this plan's apply leaves it.
fn converged_role(plan: &Plan) -> String {
    let r = &plan.resolved;
    let tags = r.role_tags();
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stub::role(
        &r.role_name,
        &plan.trust_policy.to_string(),
        Some(BOUNDARY),
        &tags,
    )
}

fn deadline() -> Deadline {
    Deadline::after(std::time::Duration::from_secs(5))
}

#[tokio::test]
async fn a_converged_role_takes_one_read() {
    let plan = plan();
    let aws = Stub::new();
    aws.ok("GetRole", stub::iam("GetRole", &converged_role(&plan)));
    let acct = aws.account();
    role::ensure_role(&acct, &plan.resolved, &plan.trust_policy)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetRole"]);
}

#[tokio::test]
async fn a_missing_role_is_created_with_its_boundary_and_record() {
    let plan = plan();
    let aws = Stub::new();
    aws.error("GetRole", 404, "NoSuchEntity");
    let created = stub::role(&plan.resolved.role_name, "{}", Some(BOUNDARY), &[]);
    aws.ok("CreateRole", stub::iam("CreateRole", &created));
    let acct = aws.account();
    role::ensure_role(&acct, &plan.resolved, &plan.trust_policy)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetRole", "CreateRole"]);
    let body = aws.body_of("CreateRole").unwrap();
    assert!(
        body.contains("PermissionsBoundary=arn%3Aaws%3Aiam"),
        "{body}"
    );
    assert!(body.contains("Path=%2Fs3-replication%2F"), "{body}");
    for (key, _) in plan.resolved.role_tags() {
        assert!(body.contains(&key.replace(':', "%3A")), "tag {key}: {body}");
    }
}

#[tokio::test]
async fn a_drifted_role_gets_exactly_what_drifted() {
    let plan = plan();
    let r = &plan.resolved;
    let aws = Stub::new();
    let mut tags = r.role_tags();
    tags.retain(|(k, _)| *k != tags::LOGICAL_ID);
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let drifted = stub::role(&r.role_name, &plan.trust_policy.to_string(), None, &tags);
    aws.ok("GetRole", stub::iam("GetRole", &drifted));
    for op in ["PutRolePermissionsBoundary", "TagRole"] {
        aws.ok(op, stub::iam(op, ""));
    }
    let acct = aws.account();
    role::ensure_role(&acct, r, &plan.trust_policy)
        .await
        .unwrap();
    assert_eq!(
        calls(&acct),
        ["GetRole", "PutRolePermissionsBoundary", "TagRole"]
    );
    let retag = aws.body_of("TagRole").unwrap();
    assert_eq!(
        retag.matches(".Key=").count(),
        1,
        "only the missing tag: {retag}"
    );
    assert!(retag.ends_with("Value=Replication"), "{retag}");
}

/// Issue 23, attack 4 at run time: a role whose trust someone widened is not rewritten (the
/// function may not call UpdateAssumeRolePolicy at all): the request fails naming the trust
/// to restore, and nothing is written.
#[tokio::test]
async fn a_role_whose_trust_changed_is_refused_not_retrusted() {
    let plan = plan();
    let r = &plan.resolved;
    let aws = Stub::new();
    let widened = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]});
    let tags = r.role_tags();
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let drifted = stub::role(&r.role_name, &widened.to_string(), None, &tags);
    aws.ok("GetRole", stub::iam("GetRole", &drifted));
    let acct = aws.account();
    let err = role::ensure_role(&acct, r, &plan.trust_policy)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReconcileError::RoleTrustChanged { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("999999999999") && msg.contains("s3.amazonaws.com"),
        "{msg}"
    );
    assert_eq!(calls(&acct), ["GetRole"]);
}

#[tokio::test]
async fn a_role_this_provider_did_not_create_is_refused_untouched() {
    let plan = plan();
    let aws = Stub::new();
    let theirs = stub::role(&plan.resolved.role_name, "{}", None, &[("team", "x")]);
    aws.ok("GetRole", stub::iam("GetRole", &theirs));
    let acct = aws.account();
    let err = role::ensure_role(&acct, &plan.resolved, &plan.trust_policy)
        .await
        .unwrap_err();
    assert!(matches!(err, ReconcileError::RoleNotOurs { .. }), "{err}");
    assert_eq!(calls(&acct), ["GetRole"]);
}

#[tokio::test]
async fn the_role_policy_is_written_only_when_it_differs_as_iam_compares() {
    let plan = plan();
    let name = &plan.resolved.role_name;
    // The same document with its statements in another order: nothing to write.
    let mut reordered = plan.role_policy.clone();
    reordered["Statement"].as_array_mut().unwrap().reverse();
    let aws = Stub::new();
    let same = stub::role_policy(name, ROLE_POLICY_NAME, &reordered.to_string());
    aws.ok("GetRolePolicy", stub::iam("GetRolePolicy", &same));
    let acct = aws.account();
    role::ensure_role_policy(&acct, &plan).await.unwrap();
    assert_eq!(calls(&acct), ["GetRolePolicy"]);

    let aws = Stub::new();
    let wider = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let drifted = stub::role_policy(name, ROLE_POLICY_NAME, &wider.to_string());
    aws.ok("GetRolePolicy", stub::iam("GetRolePolicy", &drifted));
    aws.ok("PutRolePolicy", stub::iam("PutRolePolicy", ""));
    let acct = aws.account();
    role::ensure_role_policy(&acct, &plan).await.unwrap();
    assert_eq!(calls(&acct), ["GetRolePolicy", "PutRolePolicy"]);
}

/// The plan's replication configuration as `GetBucketReplication` returns it.
fn live_replication(plan: &Plan) -> String {
    let rules: String = plan
        .replication
        .rules
        .iter()
        .map(|r| {
            format!(
                "<Rule><ID>{}</ID><Priority>{}</Priority><Status>Enabled</Status><Filter><Prefix></Prefix></Filter><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>{}</Bucket></Destination></Rule>",
                r.id, r.priority, r.destination.bucket
            )
        })
        .collect();
    format!(
        "<ReplicationConfiguration><Role>{}</Role>{rules}</ReplicationConfiguration>",
        plan.replication.role
    )
}

fn role_with_digest(plan: &Plan, digest: &str) -> String {
    let r = &plan.resolved;
    stub::role(
        &r.role_name,
        &plan.trust_policy.to_string(),
        Some(BOUNDARY),
        &[(tags::MANAGED, "true"), (tags::CONFIG_DIGEST, digest)],
    )
}

async fn ensure_replication(aws: &Stub, plan: &Plan) -> Account {
    let acct = aws.account();
    apply::ensure_replication(&acct, &spec(), plan, deadline(), std::future::ready(()))
        .await
        .unwrap();
    acct
}

#[tokio::test]
async fn replication_written_from_the_same_document_is_left_alone() {
    let plan = plan();
    let aws = Stub::new();
    aws.ok("GetBucketReplication", live_replication(&plan));
    let digest = plan.replication.digest();
    aws.ok(
        "GetRole",
        stub::iam("GetRole", &role_with_digest(&plan, &digest)),
    );
    let acct = ensure_replication(&aws, &plan).await;
    assert_eq!(calls(&acct), ["GetBucketReplication", "GetRole"]);
}

#[tokio::test]
async fn replication_is_written_then_recorded_when_missing_or_changed() {
    let plan = plan();
    for (live, digest) in [
        (None, None),
        (
            Some(live_replication(&plan)),
            Some("written-from-another-document"),
        ),
    ] {
        let aws = Stub::new();
        match live {
            Some(xml) => aws.ok("GetBucketReplication", xml),
            None => aws.error(
                "GetBucketReplication",
                404,
                "ReplicationConfigurationNotFoundError",
            ),
        };
        if let Some(d) = digest {
            aws.ok("GetRole", stub::iam("GetRole", &role_with_digest(&plan, d)));
        }
        aws.ok("PutBucketReplication", "");
        aws.ok("TagRole", stub::iam("TagRole", ""));
        let acct = ensure_replication(&aws, &plan).await;
        let mut expected = vec!["GetBucketReplication"];
        expected.extend(digest.map(|_| "GetRole"));
        expected.extend(["PutBucketReplication", "TagRole"]);
        assert_eq!(calls(&acct), expected);
        let put = aws.body_of("PutBucketReplication").unwrap();
        assert!(put.contains(&plan.replication.role), "{put}");
        assert!(aws
            .body_of("TagRole")
            .unwrap()
            .contains(&plan.replication.digest()));
    }
}

const FOREIGN: &str = r#"{"Sid":"TheirOwn","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::dst-a/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;

fn policy(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

#[tokio::test]
async fn a_statement_is_added_beside_the_owners_and_not_rewritten_when_in_place() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    let foreign: Value = serde_json::from_str(FOREIGN).unwrap();

    let aws = Stub::new();
    aws.ok("GetBucketPolicy", policy(std::slice::from_ref(&foreign)));
    aws.on("PutBucketPolicy", 204, "");
    let acct = aws.account();
    let edit = Edit::Upsert(&ours.statement);
    edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetBucketPolicy", "PutBucketPolicy"]);
    let written: Value = serde_json::from_str(&aws.body_of("PutBucketPolicy").unwrap()).unwrap();
    assert_eq!(
        written["Statement"][0], foreign,
        "the owner's statement kept, first"
    );
    assert_eq!(written["Statement"][1], ours.statement);

    let aws = Stub::new();
    aws.ok(
        "GetBucketPolicy",
        policy(&[foreign, ours.statement.clone()]),
    );
    let acct = aws.account();
    let edit = Edit::Upsert(&ours.statement);
    edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetBucketPolicy"]);
}

#[tokio::test]
async fn removing_the_last_statement_deletes_the_policy_and_a_missing_bucket_has_none() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    let aws = Stub::new();
    aws.ok(
        "GetBucketPolicy",
        policy(std::slice::from_ref(&ours.statement)),
    );
    aws.on("DeleteBucketPolicy", 204, "");
    let acct = aws.account();
    edit_bucket_policy(&acct, "dst-a", &ours.id, Edit::Remove, deadline(), None)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetBucketPolicy", "DeleteBucketPolicy"]);

    let aws = Stub::new();
    aws.error("GetBucketPolicy", 404, "NoSuchBucket");
    let acct = aws.account();
    edit_bucket_policy(&acct, "dst-a", &ours.id, Edit::Remove, deadline(), None)
        .await
        .unwrap();
    assert!(mutations(&acct).is_empty());
}

#[tokio::test]
async fn a_grant_the_owner_keeps_for_itself_fails_naming_the_statement_to_add() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    let aws = Stub::new();
    aws.ok(
        "GetBucketPolicy",
        policy(&[serde_json::from_str(FOREIGN).unwrap()]),
    );
    aws.error("PutBucketPolicy", 403, "AccessDenied");
    let acct = aws.account();
    let edit = Edit::Upsert(&ours.statement);
    let err = edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap_err();
    match err {
        ReconcileError::GrantNotWritable { statement, .. } => {
            assert_eq!(statement, ours.statement.to_string())
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn a_key_that_is_gone_has_no_statement_left_to_remove() {
    let aws = Stub::new();
    aws.error("GetKeyPolicy", 400, "NotFoundException");
    let acct = aws.account();
    let key = "arn:aws:kms:eu-west-1:111111111111:key/gone";
    edit_key_policy(
        &acct,
        key,
        &plan().resolved.source_id(),
        Edit::Remove,
        deadline(),
    )
    .await
    .unwrap();
    assert_eq!(calls(&acct), ["GetKeyPolicy"]);
}

#[tokio::test]
async fn a_prepared_source_takes_no_call() {
    let s = spec();
    let facts = source::SourceFacts {
        versioned: true,
        key: Some(KeyRef::Existing(
            "arn:aws:kms:eu-west-1:111111111111:key/k".to_owned(),
        )),
        report_key: None,
    };
    let aws = Stub::new();
    let acct = aws.account();
    let key = source::prepare(&acct, &s, &facts).await.unwrap();
    assert_eq!(key.as_deref(), facts.key.as_ref().and_then(KeyRef::arn));
    assert!(calls(&acct).is_empty(), "{:?}", calls(&acct));

    let unversioned = source::SourceFacts {
        versioned: false,
        key: None,
        report_key: None,
    };
    aws.ok("PutBucketVersioning", "");
    let acct = aws.account();
    source::prepare(&acct, &s, &unversioned).await.unwrap();
    assert_eq!(calls(&acct), ["PutBucketVersioning"]);
}

const TOPIC: &str = "arn:aws:sns:eu-west-1:111111111111:s3-replication-failures";

/// [`plan`] with `FailureNotification` naming [`TOPIC`].
fn plan_with_topic() -> Plan {
    let mut s = spec();
    s.failure_notification = Some(spec::NotificationArn::parse(TOPIC).unwrap());
    let r = Resolved::new(
        &s,
        AccountId::parse(ACCOUNT).unwrap(),
        Region::parse(REGION).unwrap(),
    );
    Plan::build(&s, r, &Keys::known(&s, None, &[])).unwrap()
}

/// The source bucket's notification configuration holding `config` (ours, as planned).
fn notification_xml(config: &Value) -> String {
    let events: String = config["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("<Event>{}</Event>", e.as_str().unwrap()))
        .collect();
    format!(
        "<NotificationConfiguration><TopicConfiguration><Id>{}</Id><Topic>{}</Topic>{events}</TopicConfiguration></NotificationConfiguration>",
        config["Id"].as_str().unwrap(),
        config["TopicArn"].as_str().unwrap()
    )
}

#[tokio::test]
async fn converged_failure_signals_take_two_reads_and_no_write() {
    let plan = plan_with_topic();
    let n = plan.notification.as_ref().unwrap();
    let aws = Stub::new();
    aws.ok(
        "GetTopicAttributes",
        stub::topic_attributes(&policy(std::slice::from_ref(&n.statement))),
    );
    aws.ok(
        "GetBucketNotificationConfiguration",
        notification_xml(&n.configuration()),
    );
    let acct = aws.account();
    super::signals::ensure(&acct, &[], &plan, deadline())
        .await
        .unwrap();
    assert_eq!(
        calls(&acct),
        ["GetTopicAttributes", "GetBucketNotificationConfiguration"]
    );
}

#[tokio::test]
async fn the_statement_goes_in_before_the_configuration_s3_validates_by_publishing() {
    let plan = plan_with_topic();
    let aws = Stub::new();
    aws.ok("GetTopicAttributes", stub::topic_attributes(&policy(&[])));
    aws.ok("SetTopicAttributes", stub::iam("SetTopicAttributes", ""));
    aws.ok(
        "GetBucketNotificationConfiguration",
        "<NotificationConfiguration/>",
    );
    aws.ok("PutBucketNotificationConfiguration", "");
    let acct = aws.account();
    super::signals::ensure(&acct, &[], &plan, deadline())
        .await
        .unwrap();
    assert_eq!(
        mutations(&acct),
        ["SetTopicAttributes", "PutBucketNotificationConfiguration"]
    );
    let body = aws.body_of("PutBucketNotificationConfiguration").unwrap();
    assert!(
        body.contains(TOPIC) && body.contains("OperationFailedReplication"),
        "{body}"
    );
}

#[tokio::test]
async fn a_topic_policy_the_function_may_not_write_fails_naming_the_permission() {
    let plan = plan_with_topic();
    let aws = Stub::new();
    aws.ok("GetTopicAttributes", stub::topic_attributes(&policy(&[])));
    aws.error("SetTopicAttributes", 403, "AuthorizationError");
    let acct = aws.account();
    let err = super::signals::ensure(&acct, &[], &plan, deadline())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sns:SetTopicAttributes") && err.contains(TOPIC),
        "{err}"
    );
    assert!(!calls(&acct).contains(&"PutBucketNotificationConfiguration"));
}

/// Issue 23, attack 2: a statement at our Sid that another source wrote (a crafted collision,
/// or someone's hand-written statement) is never replaced: the edit fails naming it, and nothing
/// is written.
#[tokio::test]
async fn a_statement_at_our_sid_that_is_not_ours_is_refused_not_replaced() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    let mut theirs = ours.statement.clone();
    theirs["Principal"]["AWS"] = json!("arn:aws:iam::999999999999:role/s3-replication/victim");
    let aws = Stub::new();
    aws.ok("GetBucketPolicy", policy(std::slice::from_ref(&theirs)));
    let acct = aws.account();
    let edit = Edit::UpsertExclusive {
        statement: &ours.statement,
        tolerated: &[],
    };
    let err = edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReconcileError::StatementNotOurs { .. }),
        "{msg}"
    );
    assert!(
        msg.contains(&ours.id.sid) && msg.contains("999999999999"),
        "{msg}"
    );
    assert!(mutations(&acct).is_empty());

    // Its Delete leaves the victim's statement alone too.
    let aws = Stub::new();
    aws.ok("GetBucketPolicy", policy(std::slice::from_ref(&theirs)));
    let acct = aws.account();
    edit_bucket_policy(&acct, "dst-a", &ours.id, Edit::Remove, deadline(), None)
        .await
        .unwrap();
    assert!(mutations(&acct).is_empty());
}

/// A policy written by a version before 0.2 (32-bit Sid) is converged to the new Sid in the
/// statement's own place; every other statement stays byte for byte.
#[tokio::test]
async fn a_statement_under_the_old_sid_is_upgraded_in_place() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    let legacy = &ours.id.legacy[0];
    assert!(legacy.starts_with("S3Replicationsrcbucket"), "{legacy}");
    let mut old = ours.statement.clone();
    old["Sid"] = json!(legacy);
    old["Action"] = json!(["s3:ReplicateObject", "s3:ReplicateTags"]);
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN},{old},{OWNERS}]}}"#);
    let aws = Stub::new();
    aws.ok("GetBucketPolicy", text);
    aws.on("PutBucketPolicy", 204, "");
    let acct = aws.account();
    let edit = Edit::UpsertExclusive {
        statement: &ours.statement,
        tolerated: &[],
    };
    edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap();
    let written = aws.body_of("PutBucketPolicy").unwrap();
    assert_eq!(
        written,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{FOREIGN},{},{OWNERS}]}}"#,
            ours.statement
        )
    );
}

const OWNERS: &str = r#"{"Sid":"OwnersAudit",  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::dst-a/*"}"#;

const FOREIGN2: &str = r#"{"Sid":"S3ReplicationSomeoneElse","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:role/s3-replication/other"},"Action":"s3:ReplicateObject","Resource":"arn:aws:s3:::dst-a/other-prefix/*"}"#;

/// Issue 23, attack 3: a second source whose rule covers objects another source's statement
/// already covers is refused, naming that statement; unless the bucket's owner tagged the
/// bucket for sharing (which the apply path reads as `Edit::Upsert`).
#[tokio::test]
async fn a_statement_overlapping_another_sources_objects_is_refused_unless_shared() {
    let plan = plan();
    let ours = &plan.bucket_statements[0];
    assert_eq!(ours.statement["Resource"], "arn:aws:s3:::dst-a/*");
    let aws = Stub::new();
    aws.ok(
        "GetBucketPolicy",
        policy(&[serde_json::from_str(FOREIGN2).unwrap()]),
    );
    let acct = aws.account();
    let edit = Edit::UpsertExclusive {
        statement: &ours.statement,
        tolerated: &[],
    };
    let err = edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReconcileError::KeySpaceShared { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("S3ReplicationSomeoneElse") && msg.contains("s3-replication:shared-key-space"),
        "{msg}"
    );
    assert!(mutations(&acct).is_empty());

    let aws = Stub::new();
    aws.ok(
        "GetBucketPolicy",
        policy(&[serde_json::from_str(FOREIGN2).unwrap()]),
    );
    aws.on("PutBucketPolicy", 204, "");
    let acct = aws.account();
    let edit = Edit::Upsert(&ours.statement);
    edit_bucket_policy(&acct, "dst-a", &ours.id, edit, deadline(), None)
        .await
        .unwrap();
    assert_eq!(calls(&acct), ["GetBucketPolicy", "PutBucketPolicy"]);
}
