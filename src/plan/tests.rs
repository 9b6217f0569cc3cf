//! The desired documents, checked against AWS's documented requirements and least privilege.

use serde_json::{json, Value};

use super::*;
use crate::doctor::document::statements;
use crate::doctor::matching::strings;
use crate::spec::{self, AccountId, Region};

/// Every action the provider may grant, checked against the service authorization reference
/// (so a typo like the seeds' `s3>ListBucket` cannot ship).
const REAL_ACTIONS: &[&str] = &[
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectRetention",
    "s3:GetObjectLegalHold",
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "sts:AssumeRole",
    "sns:Publish",
    "sqs:SendMessage",
    "s3:InitiateReplication",
    "s3:PutInventoryConfiguration",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
];

fn spec_of(v: Value) -> Spec {
    spec::parse(&v).unwrap()
}

/// The names resolved for a source in account 111111111111, eu-west-1.
fn resolved(spec: &Spec) -> Resolved {
    Resolved::new(
        spec,
        AccountId::parse("111111111111").unwrap(),
        Region::parse("eu-west-1").unwrap(),
    )
}

fn two_destinations() -> Spec {
    spec_of(json!({
        "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create", "ReplicationTimeControl": "true", "StorageClass": "STANDARD_IA"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "ap-southeast-2", "Prefix": "logs/", "Tags": {"backup": "yes"}, "KmsKeyArn": "arn:aws:kms:ap-southeast-2:333333333333:key/k-b"}
        ]
    }))
}

fn build(spec: &Spec) -> Plan {
    let r = resolved(spec);
    Plan::build(
        spec,
        r,
        &keys(
            spec,
            Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
            &[
                Some("arn:aws:kms:us-west-2:222222222222:key/k-a".into()),
                None,
            ],
        ),
    )
    .unwrap()
}

/// Keys that exist, given as the tests name them.
fn keys(spec: &Spec, source: Option<String>, dests: &[Option<String>]) -> Keys {
    let dests: Vec<Option<&str>> = dests.iter().map(Option::as_deref).collect();
    Keys::known(spec, source.as_deref(), &dests)
}

/// Every statement the plan writes anywhere.
fn all_statements(p: &Plan) -> Vec<Value> {
    let mut all = statements(&p.role_policy);
    all.extend(statements(&p.trust_policy));
    all.extend(p.bucket_statements.iter().map(|b| b.statement.clone()));
    all.extend(p.key_statements.iter().map(|k| k.statement.clone()));
    all.extend(p.source_key_statement.iter().map(|k| k.statement.clone()));
    all.extend(p.notification.iter().map(|n| n.statement.clone()));
    if let Some(b) = &p.batch {
        all.extend(statements(&b.role_policy));
        all.extend(statements(&b.trust_policy));
    }
    all
}

/// [`two_destinations`] (the first rule with RTC) with `extra` properties.
fn with_signals(extra: Value) -> Spec {
    let mut v = json!({
        "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create", "ReplicationTimeControl": "true", "StorageClass": "STANDARD_IA"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "ap-southeast-2", "Prefix": "logs/", "Tags": {"backup": "yes"}, "KmsKeyArn": "arn:aws:kms:ap-southeast-2:333333333333:key/k-b"}
        ]
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    spec_of(v)
}

#[test]
fn no_wildcard_or_unknown_actions_anywhere() {
    let p = build(&two_destinations());
    for s in all_statements(&p) {
        for a in strings(&s["Action"]) {
            assert!(!a.contains('*'), "wildcard action {a} in {s}");
            assert!(
                REAL_ACTIONS.contains(&a.as_str()),
                "unknown action {a} in {s}"
            );
        }
        assert!(
            s.get("NotAction").is_none() && s.get("NotResource").is_none(),
            "{s}"
        );
        assert_eq!(s["Effect"], "Allow");
    }
}

#[test]
fn role_policy_names_exact_resources() {
    let p = build(&two_destinations());
    for s in statements(&p.role_policy) {
        for r in strings(&s["Resource"]) {
            assert!(
                r != "*" && !r.starts_with("arn:aws:s3:::*"),
                "wildcard resource in {s}"
            );
            // The seeds' `arn:aws:s3::bucket` (missing a colon) must not happen.
            assert!(
                !r.starts_with("arn:aws:s3::") || r.starts_with("arn:aws:s3:::"),
                "{r}"
            );
        }
    }
    let text = p.role_policy.to_string();
    for needle in [
        "arn:aws:s3:::src-bucket/*",
        "arn:aws:s3:::dst-a/*",
        "arn:aws:s3:::dst-b/*",
        "key/src",
        "key/k-a",
        "key/k-b",
    ] {
        assert!(text.contains(needle), "{needle} missing");
    }
}

#[test]
fn kms_grants_are_bound_to_s3_and_the_bucket_context() {
    let p = build(&two_destinations());
    let kms: Vec<Value> = all_statements(&p)
        .into_iter()
        .filter(|s| strings(&s["Action"]).iter().any(|a| a.starts_with("kms:")))
        .collect();
    assert_eq!(
        kms.len(),
        3 + 1 + 2,
        "role policy (source + 2 regions), source key, 2 destination keys"
    );
    for s in kms {
        let via = s["Condition"]["StringEquals"]["kms:ViaService"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            via.starts_with("s3.") && via.ends_with(".amazonaws.com"),
            "{s}"
        );
        let ctx = strings(&s["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]);
        assert!(
            !ctx.is_empty() && ctx.iter().all(|c| c.starts_with("arn:aws:s3:::")),
            "{s}"
        );
        // Bucket Keys use the bucket ARN as context; objects use the object ARN.
        assert!(
            ctx.iter().any(|c| !c.ends_with("/*")) && ctx.iter().any(|c| c.ends_with("/*")),
            "{s}"
        );
    }
    let src = p.source_key_statement.as_ref().unwrap();
    assert_eq!(
        src.statement["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.eu-west-1.amazonaws.com"
    );
    assert_eq!(strings(&src.statement["Action"]), vec!["kms:Decrypt"]);
}

#[test]
fn trust_policy_has_confused_deputy_conditions() {
    let p = build(&two_destinations());
    let s = &statements(&p.trust_policy)[0];
    assert_eq!(s["Principal"], json!({"Service": "s3.amazonaws.com"}));
    assert_eq!(s["Action"], "sts:AssumeRole");
    assert_eq!(
        s["Condition"]["StringEquals"]["aws:SourceAccount"],
        "111111111111"
    );
    assert_eq!(
        s["Condition"]["StringEquals"]["aws:SourceArn"],
        "arn:aws:s3:::src-bucket"
    );
}

#[test]
fn shared_policy_statements_name_the_role_and_carry_the_source_sid() {
    let p = build(&two_destinations());
    let sid = p.resolved.sid();
    assert_eq!(
        sid,
        names::source_sid(
            "aws",
            &spec::AccountId::parse("111111111111").unwrap(),
            &p.resolved.source_region,
            &spec::BucketName::parse("src-bucket").unwrap()
        )
    );
    let role = "arn:aws:iam::111111111111:role/s3-replication/s3-replication-src-bucket";
    assert_eq!(p.bucket_statements.len(), 2);
    assert_eq!(p.key_statements.len(), 2);
    for s in p
        .bucket_statements
        .iter()
        .map(|b| &b.statement)
        .chain(p.key_statements.iter().map(|k| &k.statement))
    {
        assert_eq!(s["Sid"], sid.as_str());
        assert_eq!(s["Principal"]["AWS"], role);
    }
    let a = &p.bucket_statements[0].statement;
    assert_eq!(a["Resource"], "arn:aws:s3:::dst-a/*");
    assert!(strings(&a["Action"]).contains(&"s3:ObjectOwnerOverrideToBucketOwner".to_owned()));
}

#[test]
fn replication_rules_follow_the_v2_schema() {
    let p = build(&two_destinations());
    let c = &p.replication;
    assert_eq!(
        c.role,
        "arn:aws:iam::111111111111:role/s3-replication/s3-replication-src-bucket"
    );
    let [a, b] = &c.rules[..] else {
        panic!("two rules")
    };
    assert_ne!(a.priority, b.priority);
    assert!(a.sse_kms_encrypted_objects && b.sse_kms_encrypted_objects);
    assert_eq!(a.filter, Filter::All);
    assert_eq!(
        b.filter,
        Filter::And {
            prefix: Some("logs/".into()),
            tags: vec![("backup".into(), "yes".into())]
        }
    );
    assert!(
        !b.delete_marker_replication,
        "tag-filtered rules must not replicate delete markers"
    );
    assert_eq!(a.destination.account.as_deref(), Some("222222222222"));
    assert!(
        a.destination.owner_override
            && a.destination.replication_time_control
            && a.destination.metrics
    );
    assert_eq!(a.destination.storage_class, "STANDARD_IA");
    assert_eq!(
        a.destination.replica_kms_key_id.as_deref(),
        Some("arn:aws:kms:us-west-2:222222222222:key/k-a")
    );
    assert_eq!(
        b.destination.replica_kms_key_id.as_deref(),
        Some("arn:aws:kms:ap-southeast-2:333333333333:key/k-b")
    );
}

#[test]
fn sse_kms_source_requires_a_replica_key() {
    let spec = spec_of(
        json!({"SourceBucket": "src-bucket", "Destinations": [{"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2"}]}),
    );
    let r = resolved(&spec);
    let err = Plan::build(
        &spec,
        r.clone(),
        &keys(
            &spec,
            Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
            &[None],
        ),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("Destinations[0].KmsKeyArn is required"),
        "{err}"
    );
    let p = Plan::build(&spec, r, &keys(&spec, None, &[None])).unwrap();
    assert!(!p.replication.rules[0].sse_kms_encrypted_objects);
    assert!(p.key_statements.is_empty() && p.source_key_statement.is_none());
    assert!(!p.role_policy.to_string().contains("kms:"));
}

#[test]
fn same_account_destination_keeps_ownership_and_omits_account() {
    let spec = spec_of(
        json!({"SourceBucket": "src-bucket", "Destinations": [{"Bucket": "dst-a", "AccountId": "111111111111", "Region": "us-west-2"}]}),
    );
    let r = resolved(&spec);
    let p = Plan::build(&spec, r, &keys(&spec, None, &[None])).unwrap();
    let d = &p.replication.rules[0].destination;
    assert!(!d.owner_override && d.account.is_none());
    assert!(!p.role_policy.to_string().contains("OwnerOverride"));
}

#[test]
fn role_policy_limit_fails_clearly_before_iam_does() {
    let dests: Vec<Value> = (0..200)
        .map(|i| json!({"Bucket": format!("destination-bucket-number-{i:04}"), "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": format!("arn:aws:kms:us-west-2:222222222222:key/{i:036}")}))
        .collect();
    let spec = spec_of(json!({"SourceBucket": "src-bucket", "Destinations": dests}));
    let r = resolved(&spec);
    let err = Plan::build(
        &spec,
        r,
        &keys(
            &spec,
            Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
            &vec![None; 200],
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, PlanError::RolePolicyTooLarge { size } if size > ROLE_POLICY_LIMIT),
        "{err}"
    );
}

#[test]
fn fifty_destinations_fit_the_role_policy() {
    let dests: Vec<Value> = (0..50)
        .map(|i| json!({"Bucket": format!("backup-{i:02}"), "AccountId": format!("2222222222{i:02}"), "Region": "us-west-2"}))
        .collect();
    let spec = spec_of(json!({"SourceBucket": "src-bucket", "Destinations": dests}));
    let r = resolved(&spec);
    let p = Plan::build(&spec, r, &keys(&spec, None, &vec![None; 50])).unwrap();
    assert!(compact_len(&p.role_policy) <= ROLE_POLICY_LIMIT);
    assert_eq!(p.bucket_statements.len(), 50);
}

#[test]
fn digest_changes_with_any_rule_field() {
    let a = build(&two_destinations()).replication;
    let mut b = a.clone();
    b.rules[1].destination.storage_class = "GLACIER".into();
    assert_ne!(a.digest(), b.digest());
    assert_eq!(a.digest(), build(&two_destinations()).replication.digest());
}

#[test]
fn response_data_lists_follow_destination_order() {
    let d = build(&two_destinations()).response_data();
    assert_eq!(
        d["DestinationBucketArns"],
        "arn:aws:s3:::dst-a,arn:aws:s3:::dst-b"
    );
    assert_eq!(d["RuleIds"], "replicate-to-dst-a,replicate-to-dst-b");
    assert_eq!(d["DestinationKmsKeyArns"], "arn:aws:kms:us-west-2:222222222222:key/k-a,arn:aws:kms:ap-southeast-2:333333333333:key/k-b");
    assert_eq!(
        d["SourceKmsKeyArn"],
        "arn:aws:kms:eu-west-1:111111111111:key/src"
    );
}

#[test]
fn organization_mode_writes_identical_statements_for_every_source() {
    let props = |src: &str| {
        json!({"SourceBucket": src, "OrganizationId": "o-a1b2c3d4e5",
               "Destinations": [{"Bucket": "central-backup", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/central"}]})
    };
    let plan_for = |src: &str, account: &str| {
        let spec = spec_of(props(src));
        let r = Resolved::new(
            &spec,
            AccountId::parse(account).unwrap(),
            Region::parse("eu-west-1").unwrap(),
        );
        Plan::build(&spec, r, &keys(&spec, None, &[None])).unwrap()
    };
    let a = plan_for("source-a", "111111111111");
    let b = plan_for("source-b", "444444444444");
    assert_eq!(
        a.bucket_statements[0].statement,
        b.bucket_statements[0].statement
    );
    assert_eq!(a.key_statements[0].statement, b.key_statements[0].statement);
    assert_eq!(a.bucket_statements[0].id, b.bucket_statements[0].id);
    assert!(a.bucket_statements[0].shared && a.key_statements[0].shared);
    let s = &a.bucket_statements[0].statement;
    assert_eq!(
        s["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        "o-a1b2c3d4e5"
    );
    assert_eq!(
        s["Condition"]["ArnLike"]["aws:PrincipalArn"],
        "arn:aws:iam::*:role/s3-replication/*"
    );
    let k = &a.key_statements[0].statement;
    assert_eq!(
        k["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.us-west-2.amazonaws.com"
    );
    assert_eq!(
        k["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
        "o-a1b2c3d4e5"
    );
    // The role itself stays exact.
    assert!(!a.role_policy.to_string().contains("\"*\""));
}

#[test]
fn organization_id_is_validated() {
    let err = spec::parse(
        &json!({"SourceBucket": "src-bucket", "OrganizationId": "org-1",
        "Destinations": [{"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2"}]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("OrganizationId"), "{err}");
}

#[test]
fn bucket_statements_wait_only_for_the_keys_they_pin() {
    // Before apply: the created key is named by its alias. A bucket statement pins its rules'
    // replica keys, so one naming a key Create makes is flagged (written once the key exists,
    // with its ARN); one naming existing keys is the same before and after binding (written
    // while keys are made).
    let spec = two_destinations();
    let r = build(&spec).resolved;
    let acct = AccountId::parse("111111111111").unwrap();
    let desired = Plan::build(
        &spec,
        r.clone(),
        &Keys::from_spec(&spec, &acct, &r.source_region, None),
    )
    .unwrap();
    let alias = "arn:aws:kms:us-west-2:222222222222:alias/s3-replication/src-bucket/dst-a";
    assert!(desired.role_policy.to_string().contains(alias));
    assert_eq!(desired.key_statements[0].key_arn, alias);
    let plan = build(&spec);
    let early = desired.bucket_statements;
    assert_eq!(early.len(), 2);
    assert!(early[0].names_key_to_create && !early[1].names_key_to_create);
    assert_eq!(early[1], plan.bucket_statements[1]);
    assert_eq!(
        early[0].statement["Condition"]["StringEqualsIfExists"]
            ["s3:x-amz-server-side-encryption-aws-kms-key-id"],
        alias
    );
    assert_eq!(
        plan.bucket_statements[0].statement["Condition"]["StringEqualsIfExists"]
            ["s3:x-amz-server-side-encryption-aws-kms-key-id"],
        "arn:aws:kms:us-west-2:222222222222:key/k-a"
    );
    assert!(!plan.bucket_statements[0].names_key_to_create);
    assert!(!plan.role_policy.to_string().contains("alias/"));
    assert!(plan.keys.bound() && !desired.keys.bound());

    let org = spec_of(json!({
        "SourceBucket": "src-bucket", "OrganizationId": "o-a1b2c3d4e5",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "a/", "Priority": "1", "KmsKeyArn": "Create"},
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "b/", "Priority": "2", "Id": "second", "KmsKeyArn": "Create"}
        ]
    }));
    let r = Resolved::new(&org, acct.clone(), Region::parse("eu-west-1").unwrap());
    let desired = Plan::build(
        &org,
        r,
        &Keys::from_spec(
            &org,
            &acct,
            &Region::parse("eu-west-1").unwrap(),
            Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
        ),
    )
    .unwrap();
    let key = Some("arn:aws:kms:us-west-2:222222222222:key/k-a".to_owned());
    let plan = desired
        .bind(
            &org,
            &keys(
                &org,
                Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
                &[key.clone(), key],
            ),
        )
        .unwrap();
    let early = desired.bucket_statements;
    assert_eq!(early.len(), 1, "one statement per bucket");
    assert!(early[0].names_key_to_create);
    assert_eq!(plan.bucket_statements.len(), 1);
    let pinned = &plan.bucket_statements[0].statement["Condition"]["StringEqualsIfExists"];
    assert_eq!(
        pinned["s3:x-amz-server-side-encryption-aws-kms-key-id"],
        "arn:aws:kms:us-west-2:222222222222:key/k-a"
    );
}

/// Issue 23, attack 5: a destination statement without a replica key has no key condition
/// (SSE-S3 sources); with one, replicas may be written under that key only.
#[test]
fn destination_statements_pin_the_replica_key_where_a_rule_names_one() {
    let plan = build(&two_destinations());
    for b in &plan.bucket_statements {
        let keys = &b.statement["Condition"]["StringEqualsIfExists"]
            ["s3:x-amz-server-side-encryption-aws-kms-key-id"];
        assert!(
            keys.as_str().is_some_and(|k| k.contains(":key/")),
            "{}",
            b.statement
        );
    }
    let plain = spec_of(json!({"SourceBucket": "src-bucket",
        "Destinations": [{"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2"}]}));
    let r = resolved(&plain);
    let plan = Plan::build(&plain, r, &keys(&plain, None, &[None])).unwrap();
    assert!(plan.bucket_statements[0]
        .statement
        .get("Condition")
        .is_none());
}

#[test]
fn a_plan_near_the_role_policy_limit_is_sized_with_created_keys_bound() {
    // Long bucket names make long aliases: the limit applies to the policy IAM will store,
    // which names each created key by its (shorter) ARN. Around the limit, the plan with keys
    // to create and the bound one must agree.
    let long = |c: char| std::iter::repeat_n(c, 60).collect::<String>();
    let acct = AccountId::parse("111111111111").unwrap();
    let region = Region::parse("eu-west-1").unwrap();
    let mut crossed_with_aliases_only = 0;
    for n in 15..30 {
        let dests: Vec<Value> = (0..n)
            .map(|i| json!({"Bucket": format!("{}{i:02}", long('d')), "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create"}))
            .collect();
        let spec = spec_of(json!({"SourceBucket": long('s'), "Destinations": dests}));
        let r = Resolved::new(&spec, acct.clone(), region.clone());
        let desired = Plan::build(
            &spec,
            r.clone(),
            &Keys::from_spec(&spec, &acct, &region, None),
        );
        let bound: Vec<Option<String>> = (0..n)
            .map(|i| Some(format!("arn:aws:kms:us-west-2:222222222222:key/{i:036}")))
            .collect();
        let plan = Plan::build(&spec, r, &keys(&spec, None, &bound));
        match (&desired, &plan) {
            (Ok(d), Ok(p)) => {
                assert!(compact_len(&p.role_policy) <= ROLE_POLICY_LIMIT);
                if compact_len(&d.role_policy) > ROLE_POLICY_LIMIT {
                    crossed_with_aliases_only += 1;
                }
            }
            (
                Err(PlanError::RolePolicyTooLarge { size: a }),
                Err(PlanError::RolePolicyTooLarge { size: b }),
            ) => {
                assert_eq!(a, b, "sized as bound")
            }
            other => {
                panic!("{n} destinations: the desired plan and the bound one disagree: {other:?}")
            }
        }
    }
    assert!(
        crossed_with_aliases_only > 0,
        "the test must cover plans only the aliases push over the limit"
    );
}

#[test]
fn an_update_that_renames_the_role_still_owns_the_old_roles_configuration() {
    let acct = AccountId::parse("111111111111").unwrap();
    let region = Region::parse("eu-west-1").unwrap();
    let old = spec_of(json!({"SourceBucket": "src-bucket", "Destinations": [
        {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2"}]}));
    let mut renamed = old.clone();
    renamed.replication_role_name = Some("renamed".to_owned());
    let r = Resolved::new(&renamed, acct.clone(), region.clone()).with_previous(&old);
    let before = Resolved::new(&old, acct.clone(), region.clone());
    assert!(r.is_our_role(r.role_arn.as_str()));
    assert!(r.is_our_role(before.role_arn.as_str()));
    assert!(!r.is_our_role("arn:aws:iam::111111111111:role/someone-elses"));
    // Same name before and after: nothing extra is ours.
    let same = Resolved::new(&old, acct, region).with_previous(&old);
    assert_eq!(same.previous_role_arn, None);
}

/// Grants follow the rules: a rule for `logs/` opens `bucket/logs/*` in the destination bucket
/// policy and the role policy (and on the source side), and `s3:ReplicateDelete` is granted
/// only where a rule replicates delete markers.
#[test]
fn statements_follow_the_rules_prefix_and_delete_markers() {
    let spec = spec_of(json!({
        "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "logs/"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "us-west-2", "Prefix": "db/", "DeleteMarkerReplication": "true"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "us-west-2", "Prefix": "raw/", "Id": "raw"}
        ]
    }));
    let r = resolved(&spec);
    let p = Plan::build(&spec, r, &keys(&spec, None, &[None, None, None])).unwrap();
    assert_eq!(p.bucket_statements.len(), 2, "one statement per bucket");
    let a = &p.bucket_statements[0].statement;
    assert_eq!(a["Resource"], "arn:aws:s3:::dst-a/logs/*");
    assert_eq!(
        strings(&a["Action"]),
        [
            "s3:ReplicateObject",
            "s3:ReplicateTags",
            "s3:ObjectOwnerOverrideToBucketOwner"
        ],
        "no ReplicateDelete: the rule does not replicate delete markers"
    );
    let b = &p.bucket_statements[1].statement;
    assert_eq!(
        strings(&b["Resource"]),
        ["arn:aws:s3:::dst-b/db/*", "arn:aws:s3:::dst-b/raw/*"]
    );
    assert!(strings(&b["Action"]).contains(&"s3:ReplicateDelete".to_owned()));

    let role = statements(&p.role_policy);
    let by_sid = |sid: &str| role.iter().find(|s| s["Sid"] == sid).cloned();
    assert_eq!(
        strings(&by_sid("ReadSourceObjectVersions").unwrap()["Resource"]),
        [
            "arn:aws:s3:::src-bucket/db/*",
            "arn:aws:s3:::src-bucket/logs/*",
            "arn:aws:s3:::src-bucket/raw/*"
        ]
    );
    let replicate = by_sid("ReplicateIntoDestinations").unwrap();
    assert_eq!(
        strings(&replicate["Action"]),
        ["s3:ReplicateObject", "s3:ReplicateTags"]
    );
    assert_eq!(
        strings(&replicate["Resource"]),
        [
            "arn:aws:s3:::dst-a/logs/*",
            "arn:aws:s3:::dst-b/db/*",
            "arn:aws:s3:::dst-b/raw/*"
        ]
    );
    let deletes = by_sid("ReplicateDeleteMarkers").unwrap();
    assert_eq!(strings(&deletes["Action"]), ["s3:ReplicateDelete"]);
    assert_eq!(strings(&deletes["Resource"]), ["arn:aws:s3:::dst-b/db/*"]);
}

#[test]
fn without_delete_markers_no_statement_grants_replicate_delete() {
    let p = build(&two_destinations());
    for s in all_statements(&p) {
        assert!(
            !strings(&s["Action"]).contains(&"s3:ReplicateDelete".to_owned()),
            "{s}"
        );
    }
}

/// Organization mode: the shared statement is scoped like a per-source one (the rule's prefix,
/// no ReplicateDelete without delete markers); sources with another scope get another Sid, so
/// no source rewrites a statement another one relies on.
#[test]
fn organization_statements_are_scoped_and_named_by_scope() {
    let plan = |prefix: &str, deletes: bool| {
        let spec = spec_of(
            json!({"SourceBucket": "src", "OrganizationId": "o-a1b2c3d4e5",
            "Destinations": [{"Bucket": "central", "AccountId": "222222222222", "Region": "us-west-2",
                              "Prefix": prefix, "DeleteMarkerReplication": deletes.to_string()}]}),
        );
        let r = resolved(&spec);
        Plan::build(&spec, r, &keys(&spec, None, &[None]))
            .unwrap()
            .bucket_statements[0]
            .clone()
    };
    let a = plan("111111111111/", false);
    assert_eq!(
        a.statement["Resource"],
        "arn:aws:s3:::central/111111111111/*"
    );
    assert!(!strings(&a.statement["Action"]).contains(&"s3:ReplicateDelete".to_owned()));
    assert_eq!(a.id.sid, a.statement["Sid"].as_str().unwrap());
    assert!(a.id.sid.starts_with(names::ORGANIZATION_SID));
    assert_eq!(
        a,
        plan("111111111111/", false),
        "same scope, same statement"
    );
    assert_ne!(a.id.sid, plan("444444444444/", false).id.sid);
    assert_ne!(a.id.sid, plan("111111111111/", true).id.sid);
}

#[test]
fn keys_the_provider_creates_name_their_manager_and_keep_the_accounts_control() {
    let doc = policy::created_key_policy(
        "aws",
        "222222222222",
        "arn:aws:iam::222222222222:role/S3ReplicationDestinationProvisioner",
    );
    let s = statements(&doc);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["Principal"]["AWS"], "arn:aws:iam::222222222222:root");
    assert_eq!(s[0]["Action"], "kms:*");
    assert_eq!(s[1]["Sid"], policy::KEY_MANAGER_SID);
    assert_eq!(
        s[1]["Principal"]["AWS"],
        "arn:aws:iam::222222222222:role/S3ReplicationDestinationProvisioner"
    );
    let actions = strings(&s[1]["Action"]);
    for needed in [
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:CreateAlias",
        "kms:EnableKeyRotation",
    ] {
        assert!(actions.contains(&needed.to_owned()), "{needed}");
    }
    assert!(actions.iter().all(|a| !a.contains('*')), "{actions:?}");
    for refused in [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:CancelKeyDeletion",
        "kms:DisableKey",
    ] {
        assert!(!actions.contains(&refused.to_owned()), "{refused}");
    }
}

#[test]
fn a_created_bucket_starts_with_the_tls_only_statement() {
    let doc = policy::new_bucket_policy("arn:aws:s3:::dst");
    let s = &statements(&doc)[0];
    assert_eq!(s["Sid"], policy::DENY_INSECURE_TRANSPORT_SID);
    assert_eq!(s["Effect"], "Deny");
    assert_eq!(s["Principal"], "*");
    assert_eq!(
        strings(&s["Resource"]),
        ["arn:aws:s3:::dst", "arn:aws:s3:::dst/*"]
    );
    assert_eq!(
        s["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
}

#[test]
fn the_role_records_its_owner_and_key_removal() {
    let spec = spec_of(
        json!({"SourceBucket": "src", "KeyRemovalPolicy": "Delete", "KeyDeletionWindowDays": "9",
        "Destinations": [{"Bucket": "dst", "AccountId": "222222222222", "Region": "us-west-2"}]}),
    );
    let owner = Owner {
        stack_id: "arn:aws:cloudformation:eu-west-1:111111111111:stack/s/1".into(),
        logical_id: "Replication".into(),
    };
    let r = resolved(&spec).for_request(Some(owner.clone()), None);
    let tags = r.role_tags();
    let record = Record::from_tags(|k| tags.iter().find(|(t, _)| *t == k).map(|(_, v)| v.clone()));
    assert_eq!(record.owner, Some(owner));
    assert_eq!(
        record.key_removal,
        Some(KeyRemoval::Delete { window_days: 9 })
    );
    // Outside CloudFormation (`plan`) there is no owner to record.
    let plain = resolved(&spec);
    assert!(plain
        .role_tags()
        .iter()
        .all(|(k, _)| *k != names::tags::STACK_ID));
}

#[test]
fn the_boundary_is_the_policy_of_the_source_account() {
    let spec = two_destinations();
    let boundary = "arn:aws:iam::111111111111:policy/s3-replication/boundary-eu-west-1";
    let same = resolved(&spec).for_request(None, Some(boundary.to_owned()));
    assert_eq!(same.permissions_boundary.as_deref(), Some(boundary));
    // Central-provider mode: the source account is another one (its SourceRoleArn's).
    let central = Resolved::new(
        &spec,
        AccountId::parse("444444444444").unwrap(),
        Region::parse("eu-west-1").unwrap(),
    )
    .for_request(None, Some(boundary.to_owned()));
    assert_eq!(
        central.permissions_boundary.as_deref(),
        Some("arn:aws:iam::444444444444:policy/s3-replication/boundary-eu-west-1")
    );
}

#[test]
fn failure_notification_covers_rtc_events_and_lets_only_this_bucket_publish() {
    let topic = "arn:aws:sns:eu-west-1:111111111111:s3-replication-failures";
    let p = build(&with_signals(json!({"FailureNotification": topic})));
    let n = p.notification.as_ref().unwrap();
    assert_eq!(n.id, "s3-replication-failures-src-bucket");
    assert_eq!(
        n.configuration(),
        json!({"Id": n.id, "TopicArn": topic, "Events": [
            "s3:Replication:OperationFailedReplication",
            "s3:Replication:OperationMissedThreshold",
            "s3:Replication:OperationReplicatedAfterThreshold"]})
    );
    assert_eq!(
        n.statement["Principal"],
        json!({"Service": "s3.amazonaws.com"})
    );
    assert_eq!(
        (
            n.statement["Action"].as_str(),
            n.statement["Resource"].as_str()
        ),
        (Some("sns:Publish"), Some(topic))
    );
    assert_eq!(
        n.statement["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:s3:::src-bucket"
    );
    assert_eq!(
        n.statement["Condition"]["StringEquals"]["aws:SourceAccount"],
        "111111111111"
    );
    assert_eq!(n.statement_id.sid, p.resolved.sid());
    // Failure events exist only for rules with metrics: every rule gets them.
    let rules = &p.replication.to_s3_json()["Rules"];
    for r in rules.as_array().unwrap() {
        assert_eq!(r["Destination"]["Metrics"]["Status"], "Enabled", "{r}");
    }
    // Without RTC, only failures; a queue gets sqs:SendMessage.
    let queue = "arn:aws:sqs:eu-west-1:111111111111:s3-replication-failures";
    let mut spec = with_signals(json!({"FailureNotification": queue}));
    spec.destinations[0].replication_time_control = false;
    let p = build(&spec);
    let n = p.notification.unwrap();
    assert_eq!(n.events, vec!["s3:Replication:OperationFailedReplication"]);
    assert_eq!(n.configuration()["QueueArn"], queue);
    assert_eq!(n.statement["Action"], "sqs:SendMessage");
}

#[test]
fn without_signals_nothing_is_added_and_metrics_stay_as_asked() {
    let p = build(&two_destinations());
    assert!(p.notification.is_none() && p.alarms.is_empty());
    let rules = p.replication.to_s3_json()["Rules"].clone();
    // dst-a has RTC (which needs metrics); dst-b asked for none.
    assert_eq!(rules[1]["Destination"].get("Metrics"), None, "{rules}");
}

#[test]
fn a_notification_target_outside_the_source_account_or_region_is_refused() {
    for arn in [
        "arn:aws:sns:eu-west-1:999999999999:s3-replication-failures",
        "arn:aws:sns:us-east-1:111111111111:s3-replication-failures",
    ] {
        let mut spec = with_signals(json!({}));
        spec.source.region = None;
        spec.failure_notification = Some(spec::NotificationArn::parse(arn).unwrap());
        let r = resolved(&spec);
        let e = Plan::build(
            &spec,
            r,
            &Keys::from_spec(
                &spec,
                &AccountId::parse("111111111111").unwrap(),
                &Region::parse("eu-west-1").unwrap(),
                None,
            ),
        )
        .unwrap_err();
        assert!(matches!(e, PlanError::NotificationElsewhere { .. }), "{e}");
        assert!(e.to_string().contains(arn), "{e}");
    }
}

#[test]
fn alarms_per_rule_latency_only_with_rtc_and_actions_only_to_a_topic() {
    let topic = "arn:aws:sns:eu-west-1:111111111111:s3-replication-failures";
    let p = build(&with_signals(
        json!({"Alarms": "true", "FailureNotification": topic}),
    ));
    let names: Vec<&str> = p.alarms.iter().map(|a| a.name.as_str()).collect();
    let rule_a = &p.replication.rules[0].id;
    let rule_b = &p.replication.rules[1].id;
    assert_eq!(
        names,
        vec![
            format!("s3-replication/src-bucket/{rule_a}/failed-replication"),
            format!("s3-replication/src-bucket/{rule_a}/replication-latency"),
            format!("s3-replication/src-bucket/{rule_b}/failed-replication"),
        ]
    );
    let failed = &p.alarms[0];
    assert_eq!(
        (
            failed.metric.as_str(),
            failed.statistic.as_str(),
            failed.threshold,
            failed.period_seconds
        ),
        ("OperationsFailedReplication", "Sum", 0, 300)
    );
    assert_eq!(
        failed.dimensions,
        vec![
            ("SourceBucket".to_owned(), "src-bucket".to_owned()),
            ("DestinationBucket".to_owned(), "dst-a".to_owned()),
            ("RuleId".to_owned(), rule_a.clone()),
        ]
    );
    assert_eq!(failed.actions, vec![topic.to_owned()]);
    let latency = &p.alarms[1];
    // In us-west-2, where the FailureNotification topic (eu-west-1) cannot be its action.
    assert_eq!(latency.region.as_str(), "us-west-2");
    assert!(latency.actions.is_empty(), "{:?}", latency.actions);
    assert_eq!(
        (
            latency.metric.as_str(),
            latency.statistic.as_str(),
            latency.threshold
        ),
        ("ReplicationLatency", "Maximum", 900)
    );
    // A queue cannot be an alarm action: alarms without actions (state only).
    let queue = "arn:aws:sqs:eu-west-1:111111111111:s3-replication-failures";
    let p = build(&with_signals(
        json!({"Alarms": "true", "FailureNotification": queue}),
    ));
    assert!(p.alarms.iter().all(|a| a.actions.is_empty()));
    // Every rule publishes metrics for its alarms.
    for r in p.replication.to_s3_json()["Rules"].as_array().unwrap() {
        assert_eq!(r["Destination"]["Metrics"]["Status"], "Enabled", "{r}");
    }
}

/// Each alarm against AWS's documented definitions (S3 User Guide, "Monitoring progress with
/// replication metrics" and "S3 Replication metrics in CloudWatch"; CloudWatch User Guide,
/// "Configuring how CloudWatch alarms treat missing data").
#[test]
fn alarms_follow_awss_documented_metric_definitions() {
    let failure_topic = "arn:aws:sns:eu-west-1:111111111111:s3-replication-failures";
    let west = "arn:aws:sns:us-west-2:111111111111:s3-replication-alarms";
    let p = build(&with_signals(json!({
        "Alarms": "true", "FailureNotification": failure_topic, "AlarmTopics": [west]
    })));
    let (failed, latency) = (&p.alarms[0], &p.alarms[1]);
    for a in &p.alarms {
        // "AWS/S3" namespace; "SourceBucket", "DestinationBucket", "RuleId" dimensions.
        let json = a.to_json();
        assert_eq!(json["Namespace"], "AWS/S3");
        let dims: Vec<&str> = a.dimensions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(dims, ["SourceBucket", "DestinationBucket", "RuleId"]);
        // "set the Missing data treatment field to Treat missing data as ignore (maintain the
        // alarm state)".
        assert_eq!(json["TreatMissingData"], "ignore");
        // "Operations Failed Replication tracks S3 Replication failures aggregated at a
        // per-minute interval": five one-minute data points per period.
        assert_eq!((a.period_seconds, a.evaluation_periods), (300, 1));
    }
    // OperationsFailedReplication: "This metric is published in the Region of the source
    // bucket." "Units: Count Valid statistics: Sum (total number of failed operations)".
    assert_eq!(
        (
            failed.metric.as_str(),
            failed.region.as_str(),
            failed.statistic.as_str()
        ),
        ("OperationsFailedReplication", "eu-west-1", "Sum")
    );
    assert_eq!(failed.threshold, 0);
    // ReplicationLatency: "This metric is published in the Region of the destination bucket."
    // "Units: Seconds Valid statistics: Max"; RTC replicates "within 15 minutes".
    assert_eq!(
        (
            latency.metric.as_str(),
            latency.region.as_str(),
            latency.statistic.as_str()
        ),
        ("ReplicationLatency", "us-west-2", "Maximum")
    );
    assert_eq!(latency.threshold, 900);
    // An alarm's actions are topics of its own region: PutMetricAlarm refuses another
    // ("Invalid region ... specified").
    assert_eq!(failed.actions, vec![failure_topic.to_owned()]);
    assert_eq!(latency.actions, vec![west.to_owned()]);
}

#[test]
fn alarm_names_stay_within_cloudwatchs_limit() {
    let long_id = "r".repeat(255);
    let mut spec = with_signals(json!({"Alarms": "true"}));
    spec.destinations[0].rule_id = long_id.clone();
    let p = build(&spec);
    for a in &p.alarms {
        assert!(a.name.len() <= 255, "{}", a.name);
        assert!(
            a.name.starts_with("s3-replication/src-bucket/"),
            "{}",
            a.name
        );
    }
    assert_ne!(p.alarms[0].name, p.alarms[2].name);
    assert_eq!(p.alarms[0].dimensions[2].1, long_id);
}

/// [`two_destinations`] with `ReplicateExistingObjects` on the second (prefix `logs/`) and
/// `extra` properties.
fn with_backfill(extra: Value) -> Spec {
    let mut v = json!({
        "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
        "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create"},
            {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "ap-southeast-2", "Prefix": "logs/", "KmsKeyArn": "arn:aws:kms:ap-southeast-2:333333333333:key/k-b", "ReplicateExistingObjects": true}
        ]
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    spec_of(v)
}

#[test]
fn no_batch_role_without_replicate_existing_objects() {
    assert!(build(&two_destinations()).batch.is_none());
}

#[test]
fn the_batch_role_is_trusted_by_batch_operations_for_this_accounts_jobs_only() {
    let p = build(&with_backfill(json!({})));
    let b = p.batch.as_ref().unwrap();
    assert_eq!(b.role_name, "s3-batch-replication-src-bucket");
    assert_eq!(
        b.role_arn.as_str(),
        "arn:aws:iam::111111111111:role/s3-replication/batch/s3-batch-replication-src-bucket"
    );
    let t = &b.trust_policy["Statement"][0];
    assert_eq!(
        t["Principal"],
        json!({"Service": "batchoperations.s3.amazonaws.com"})
    );
    assert_eq!(
        t["Condition"]["StringEquals"]["aws:SourceAccount"],
        "111111111111"
    );
    assert_eq!(
        t["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:s3:eu-west-1:111111111111:job/*"
    );
}

#[test]
fn the_batch_role_may_initiate_only_the_flagged_rules_objects_and_write_only_under_the_prefix() {
    let p = build(&with_backfill(json!({})));
    let policy = &p.batch.as_ref().unwrap().role_policy;
    let by_sid = |sid: &str| {
        statements(policy)
            .into_iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no {sid} in {policy}"))
    };
    assert_eq!(
        by_sid("InitiateReplication")["Resource"],
        json!(["arn:aws:s3:::src-bucket/logs/*"])
    );
    assert_eq!(
        by_sid("GenerateManifest")["Resource"],
        "arn:aws:s3:::src-bucket"
    );
    assert_eq!(
        by_sid("WriteReport")["Resource"],
        "arn:aws:s3:::src-bucket/s3-replication-reports/*"
    );
    assert_eq!(
        by_sid("ReadManifest")["Action"],
        json!(["s3:GetObject", "s3:GetObjectVersion"])
    );
    // Reports go to the SSE-KMS source bucket: the source key, through S3 only.
    let key = by_sid("EncryptReport");
    assert_eq!(
        key["Resource"],
        "arn:aws:kms:eu-west-1:111111111111:key/src"
    );
    assert_eq!(
        key["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.eu-west-1.amazonaws.com"
    );
    // No replication action: the replication role replicates.
    assert!(!policy.to_string().contains("s3:ReplicateObject"));
}

#[test]
fn a_report_bucket_of_its_own_uses_its_own_key_and_prefix() {
    let spec = with_backfill(
        json!({"BatchReplication": {"ReportBucket": "reports", "ReportPrefix": "backfill/"}}),
    );
    let mut r = resolved(&spec);
    r.report_key = Some("arn:aws:kms:eu-west-1:111111111111:key/reports".into());
    let p = Plan::build(
        &spec,
        r,
        &keys(
            &spec,
            Some("arn:aws:kms:eu-west-1:111111111111:key/src".into()),
            &[
                Some("arn:aws:kms:us-west-2:222222222222:key/k-a".into()),
                None,
            ],
        ),
    )
    .unwrap();
    let b = p.batch.unwrap();
    assert_eq!(b.report_bucket_arn, "arn:aws:s3:::reports");
    assert_eq!(b.report_prefix, "backfill");
    let text = b.role_policy.to_string();
    assert!(text.contains("arn:aws:s3:::reports/backfill/*"), "{text}");
    assert!(
        text.contains("key/reports") && !text.contains("key/src"),
        "{text}"
    );
}

#[test]
fn jobs_start_on_create_and_for_what_an_update_adds_or_turns_on() {
    let new = with_backfill(json!({}));
    let t = batch::triggered(&new, None);
    assert_eq!(
        t,
        [
            None,
            Some(batch::Triggered {
                joins_existing: false
            })
        ]
    );
    // Same properties: nothing starts.
    assert_eq!(batch::triggered(&new, Some(&new)), [None, None]);
    // The flag turned on for an existing destination: its objects since are COMPLETED.
    let mut off = new.clone();
    off.destinations[1].replicate_existing_objects = false;
    assert_eq!(
        batch::triggered(&new, Some(&off)),
        [
            None,
            Some(batch::Triggered {
                joins_existing: false
            })
        ]
    );
    // A destination added by an Update joins a configuration that replicated to others.
    let mut before = new.clone();
    before.destinations.pop();
    assert_eq!(
        batch::triggered(&new, Some(&before)),
        [
            None,
            Some(batch::Triggered {
                joins_existing: true
            })
        ]
    );
    let job = &build(&new).batch.unwrap().jobs[0];
    assert_eq!(
        job.statuses_for(false),
        [spec::ObjectStatus::None, spec::ObjectStatus::Failed]
    );
    assert_eq!(
        job.statuses_for(true),
        [
            spec::ObjectStatus::None,
            spec::ObjectStatus::Failed,
            spec::ObjectStatus::Completed
        ]
    );
}

#[test]
fn a_job_is_found_again_by_its_description_mark_and_its_token_is_per_request() {
    let p = build(&with_backfill(json!({})));
    let job = &p.batch.as_ref().unwrap().jobs[0];
    let (t1, t2) = (job.token("req-1"), job.token("req-2"));
    assert_eq!(t1, job.token("req-1"));
    assert_ne!(t1, t2);
    assert!(t1.len() <= 64);
    let inc = batch::incarnation_mark("AROAEXAMPLE");
    let d = job.description(&p.resolved.source_bucket, &inc, &t1);
    assert!(d.len() <= 256, "{d}");
    assert!(
        d.contains("s3://src-bucket") && d.contains("s3://dst-b"),
        "{d}"
    );
    assert_eq!(
        batch::parse_mark(&d),
        Some((inc.as_str(), job.rule_mark.as_str(), t1.as_str()))
    );
    assert_eq!(batch::parse_mark("someone else's job [a:b:c]"), None);
    assert_eq!(
        job.rule_mark,
        batch::rule_mark(&job.rule_id, "arn:aws:s3:::dst-b")
    );
}
