//! The recipes in the seed write-ups, as snapshots (`tests/fixtures/seeds/*.json`): the doctor
//! must catch what each gets wrong, and its fixes must be enough.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::doctor::matching::strings;
use crate::doctor::{check, render_text, Finding, NamedPolicy, Snapshot, Status, Versioning};

#[derive(Deserialize)]
struct Fixture {
    seed: String,
    snapshot: Snapshot,
    expect: BTreeMap<String, Status>,
}

const FIXTURES: [(&str, &str); 5] = [
    (
        "000",
        include_str!("../../../tests/fixtures/seeds/000_terraform_placeholders.json"),
    ),
    (
        "001",
        include_str!("../../../tests/fixtures/seeds/001_miniature_enigma.json"),
    ),
    (
        "002",
        include_str!("../../../tests/fixtures/seeds/002_origin_target.json"),
    ),
    (
        "003",
        include_str!("../../../tests/fixtures/seeds/003_console_walkthrough.json"),
    ),
    (
        "003-tail",
        include_str!("../../../tests/fixtures/seeds/003_console_walkthrough_corrected_tail.json"),
    ),
];

fn fixture(name: &str) -> Fixture {
    let text = FIXTURES.iter().find(|(n, _)| *n == name).unwrap().1;
    serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn finding<'a>(findings: &'a [Finding], link: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.link == link)
        .unwrap_or_else(|| panic!("no finding {link} in\n{}", render_text(findings)))
}

/// The placements of a finding's fix.
fn placements(f: &Finding) -> Vec<Value> {
    f.fix
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The finding's detail says `text`.
#[track_caller]
fn assert_mentions(f: &Finding, text: &str) {
    assert!(f.detail.contains(text), "{}", f.detail);
}

fn append_statement(policy: &mut Option<Value>, statement: &Value) {
    let doc = policy.get_or_insert_with(|| json!({"Version": "2012-10-17", "Statement": []}));
    append_to(doc, statement);
}

fn append_to(doc: &mut Value, statement: &Value) {
    let existing = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(other @ Value::Object(_)) => vec![other.clone()],
        _ => vec![],
    };
    let mut all = existing;
    all.push(statement.clone());
    doc["Statement"] = Value::Array(all);
}

/// Applies every fix the doctor proposes, as an operator would.
fn apply_fixes(s: &mut Snapshot, findings: &[Finding]) {
    for f in findings {
        for p in placements(f) {
            let resource = p["resource"].as_str().unwrap().to_owned();
            match (
                p.get("policy").and_then(Value::as_str),
                p.get("call").and_then(Value::as_str),
            ) {
                (Some("role policy"), _) => {
                    assert_eq!(resource, s.role.arn);
                    s.role.policies.push(NamedPolicy { name: "doctor-fix".into(), document: json!({"Version": "2012-10-17", "Statement": [p["statement"].clone()]}) });
                }
                (Some("trust policy"), _) => append_to(&mut s.role.trust_policy, &p["statement"]),
                (Some("bucket policy"), _) => {
                    let bucket = resource.rsplit(':').next().unwrap();
                    if s.source.bucket == bucket {
                        append_statement(&mut s.source.bucket_policy, &p["statement"]);
                    }
                    for d in s.destinations.iter_mut().filter(|d| d.bucket == bucket) {
                        append_statement(&mut d.bucket_policy, &p["statement"]);
                    }
                }
                (Some("key policy"), _) => {
                    let keys = s
                        .source
                        .key
                        .iter_mut()
                        .chain(s.destinations.iter_mut().filter_map(|d| d.key.as_mut()));
                    for k in keys.filter(|k| k.arn == resource) {
                        append_to(&mut k.policy, &p["statement"]);
                    }
                }
                (_, Some("s3:PutBucketVersioning")) => {
                    for d in s
                        .destinations
                        .iter_mut()
                        .filter(|d| resource.ends_with(&format!(":{}", d.bucket)))
                    {
                        d.versioning = Versioning::Enabled;
                    }
                    if resource.ends_with(&format!(":{}", s.source.bucket)) {
                        s.source.versioning = Versioning::Enabled;
                    }
                }
                other => panic!("fix not applied by this test: {other:?} {p}"),
            }
            assert!(p["account"].as_str().is_some_and(|a| a.len() == 12), "{p}");
            assert!(p["region"].as_str().is_some_and(|r| !r.is_empty()), "{p}");
        }
    }
}

#[test]
fn every_seed_gets_its_verdict_link_by_link() {
    for (name, _) in FIXTURES {
        let fx = fixture(name);
        let findings = check(&fx.snapshot);
        let got: BTreeMap<String, Status> = findings
            .iter()
            .map(|f| (f.link.clone(), f.status))
            .collect();
        assert_eq!(
            got,
            fx.expect,
            "seed {} ({name}):\n{}",
            fx.seed,
            render_text(&findings)
        );
        for f in findings.iter().filter(|f| f.status == Status::Fail) {
            assert!(
                f.fix.is_some(),
                "seed {name}: {} fails without a fix",
                f.link
            );
        }
    }
}

#[test]
fn every_seed_passes_once_the_fixes_are_applied() {
    for (name, _) in FIXTURES {
        let mut s = fixture(name).snapshot;
        let before = check(&s);
        apply_fixes(&mut s, &before);
        let after = check(&s);
        assert!(
            after.iter().all(|f| f.status == Status::Pass),
            "seed {name} after its fixes:\n{}",
            render_text(&after)
        );
    }
}

#[test]
fn seed_003_typos_are_caught_and_named() {
    let findings = check(&fixture("003").snapshot);
    let read = finding(&findings, "source.read");
    assert_mentions(
        read,
        "s3:ListBucket on arn:aws:s3:::my-source-bucket-account-a",
    );
    assert_mentions(read, "\"s3>ListBucket\" is not of the form service:Action");
    // Only ListBucket is missing: the other source actions are granted.
    let fix = placements(read);
    assert_eq!(fix.len(), 1, "{fix:?}");
    assert_eq!(fix[0]["policy"], "role policy");
    assert_eq!(fix[0]["statement"]["Action"], "s3:ListBucket");
    assert_eq!(
        fix[0]["statement"]["Resource"],
        "arn:aws:s3:::my-source-bucket-account-a"
    );

    let rep = finding(&findings, "destination[0].replicate");
    assert_mentions(
        rep,
        "\"arn:aws:s3::my-destination-bucket-account-b/*\" is not an ARN",
    );
    let fix = placements(rep);
    assert_eq!(
        fix.len(),
        1,
        "the bucket policy is right; only the role policy is not: {fix:?}"
    );
    assert_eq!(fix[0]["policy"], "role policy");
    assert_eq!(
        fix[0]["statement"]["Resource"],
        "arn:aws:s3:::my-destination-bucket-account-b/*"
    );
    assert_eq!(
        strings(&fix[0]["statement"]["Action"]),
        [
            "s3:ReplicateObject",
            "s3:ReplicateDelete",
            "s3:ReplicateTags"
        ]
    );

    // The destination key names the role, but cross-account the role's own policy must too.
    let enc = finding(&findings, "destination[0].key.encrypt");
    let fix = placements(enc);
    assert_eq!(fix.len(), 1, "{fix:?}");
    assert_eq!(fix[0]["policy"], "role policy");
    assert_eq!(fix[0]["account"], "111111111111");
    assert_eq!(
        fix[0]["statement"]["Resource"],
        "arn:aws:kms:eu-north-1:222222222222:key/07f4bdd7-0000-4000-8000-000000000002"
    );
    assert_eq!(
        fix[0]["statement"]["Condition"]["StringEquals"]["kms:ViaService"],
        "s3.eu-north-1.amazonaws.com"
    );
    assert_eq!(
        strings(&fix[0]["statement"]["Action"]),
        ["kms:Encrypt", "kms:GenerateDataKey"]
    );

    // The source key policy names the role directly: enough within one account.
    assert_eq!(
        finding(&findings, "source.key.decrypt").status,
        Status::Pass
    );
    // No confused-deputy conditions: still a pass, with advice.
    let trust = finding(&findings, "trust");
    assert_eq!(trust.status, Status::Pass);
    assert!(
        trust
            .advisory
            .as_deref()
            .unwrap_or_default()
            .contains("aws:SourceArn"),
        "{trust:?}"
    );
}

#[test]
fn seed_003_corrected_tail_still_has_the_list_bucket_typo() {
    let findings = check(&fixture("003-tail").snapshot);
    let failing: Vec<&str> = findings
        .iter()
        .filter(|f| f.status != Status::Pass)
        .map(|f| f.link.as_str())
        .collect();
    assert_eq!(failing, ["source.read"]);
    assert_eq!(
        placements(finding(&findings, "source.read"))[0]["statement"]["Action"],
        "s3:ListBucket"
    );
}

#[test]
fn seed_002_names_instead_of_arns_and_account_wide_bucket_grant() {
    let fx = fixture("002");
    let findings = check(&fx.snapshot);
    let rep = finding(&findings, "destination[0].replicate");
    assert_mentions(rep, "\"target-bucket-4f7a/*\" is not an ARN");
    let fix = placements(rep);
    assert_eq!(fix.len(), 2, "{fix:?}");
    let role_fix = fix.iter().find(|p| p["policy"] == "role policy").unwrap();
    assert_eq!(
        role_fix["statement"]["Resource"],
        "arn:aws:s3:::target-bucket-4f7a/*"
    );
    assert_eq!(strings(&role_fix["statement"]["Action"]).len(), 3);
    // The bucket policy grants ORIGIN's account ReplicateObject but not ReplicateDelete/Tags.
    let bucket_fix = fix.iter().find(|p| p["policy"] == "bucket policy").unwrap();
    assert_eq!(
        (
            bucket_fix["account"].as_str(),
            bucket_fix["region"].as_str()
        ),
        (Some("222222222222"), Some("us-west-2"))
    );
    assert_eq!(bucket_fix["resource"], "arn:aws:s3:::target-bucket-4f7a");
    assert_eq!(
        strings(&bucket_fix["statement"]["Action"]),
        ["s3:ReplicateDelete", "s3:ReplicateTags"]
    );
    assert_eq!(
        bucket_fix["statement"]["Principal"]["AWS"],
        "arn:aws:iam::111111111111:role/origin-replication-role"
    );

    // Owner override: the account-wide bucket grant is fine, the role's own grant is missing.
    let owner = placements(finding(&findings, "destination[0].owner-override"));
    assert_eq!(owner.len(), 1);
    assert_eq!(owner[0]["policy"], "role policy");

    // kms:Encrypt is granted on both sides; kms:GenerateDataKey only by the key policy.
    let enc = placements(finding(&findings, "destination[0].key.encrypt"));
    assert_eq!(enc.len(), 1, "{enc:?}");
    assert_eq!(enc[0]["statement"]["Action"], "kms:GenerateDataKey");

    // With the role policy naming the bucket by ARN, the ORIGIN-root grant carries owner override
    // (identity AND account-wide resource grant), and only the bucket policy's gaps remain.
    let mut s = fx.snapshot.clone();
    s.role.policies[0].document["Statement"][1]["Resource"] =
        json!("arn:aws:s3:::target-bucket-4f7a/*");
    let findings = check(&s);
    assert_eq!(
        finding(&findings, "destination[0].owner-override").status,
        Status::Pass
    );
    let rep = placements(finding(&findings, "destination[0].replicate"));
    assert_eq!(rep.len(), 1);
    assert_eq!(rep[0]["policy"], "bucket policy");
}

#[test]
fn seed_000_empty_identifiers_fail_everywhere_they_matter() {
    let findings = check(&fixture("000").snapshot);
    let trust = finding(&findings, "trust");
    assert_mentions(trust, "empty identifier");
    let fix = placements(trust);
    assert_eq!(
        fix[0]["statement"]["Condition"]["StringEquals"]["aws:SourceAccount"],
        "111111111111"
    );
    assert_eq!(
        fix[0]["statement"]["Condition"]["StringEquals"]["aws:SourceArn"],
        "arn:aws:s3:::replication-test-source-x7k2q9"
    );

    let enc = finding(&findings, "destination[0].key.encrypt");
    assert!(enc.detail.contains("empty identifier"), "{}", enc.detail);
    let fix = placements(enc);
    let key_fix = fix.iter().find(|p| p["policy"] == "key policy").unwrap();
    assert_eq!(key_fix["account"], "222222222222");
    assert_eq!(key_fix["region"], "us-west-2");
    assert_eq!(key_fix["statement"]["Resource"], "*");
    assert!(fix.iter().any(|p| p["policy"] == "role policy"));

    // The source key keeps KMS's default policy: the role's policy is what is missing.
    let dec = placements(finding(&findings, "source.key.decrypt"));
    assert_eq!(dec.len(), 1);
    assert_eq!(dec[0]["policy"], "role policy");
}

#[test]
fn seed_001_bucket_policy_lacks_replicate_tags() {
    let findings = check(&fixture("001").snapshot);
    let rep = placements(finding(&findings, "destination[0].replicate"));
    assert_eq!(rep.len(), 1, "{rep:?}");
    assert_eq!(rep[0]["policy"], "bucket policy");
    assert_eq!(rep[0]["statement"]["Action"], "s3:ReplicateTags");
    assert!(finding(&findings, "trust").advisory.is_some());
}

#[test]
fn live_state_problems_are_caught() {
    let mut s = fixture("003-tail").snapshot;
    s.role.policies[0].document["Statement"][0]["Action"][2] = json!("s3:ListBucket");
    assert!(
        check(&s).iter().all(|f| f.status == Status::Pass),
        "{}",
        render_text(&check(&s))
    );
    let d = &mut s.destinations[0];
    d.versioning = Versioning::Suspended;
    d.requester_pays = true;
    let key = d.key.as_mut().unwrap();
    key.state = "PendingDeletion".into();
    key.spec = "RSA_2048".into();
    key.region = "us-east-1".into();
    s.source.object_lock = true;
    s.destinations[0].sse_kms = false;
    let findings = check(&s);
    let failing: Vec<&str> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.link.as_str())
        .collect();
    assert_eq!(
        failing,
        [
            "source.read", // Object Lock needs GetObjectRetention and GetObjectLegalHold too
            "destination[0].sse-kms",
            "destination[0].key",
            "destination[0].versioning",
            "destination[0].requester-pays",
            "destination[0].object-lock"
        ],
        "{}",
        render_text(&findings)
    );
    let key = finding(&findings, "destination[0].key");
    let calls: Vec<String> = placements(key)
        .iter()
        .map(|p| p["call"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        calls,
        ["kms:CancelKeyDeletion", "kms:EnableKey", "kms:CreateKey"]
    );
    let read = placements(finding(&findings, "source.read"));
    assert_eq!(
        strings(&read[0]["statement"]["Action"]),
        ["s3:GetObjectRetention", "s3:GetObjectLegalHold"]
    );
}

#[test]
fn explicit_deny_is_reported_without_a_statement_to_add() {
    let mut s = fixture("003-tail").snapshot;
    s.role.policies[0].document["Statement"][0]["Action"][2] = json!("s3:ListBucket");
    s.destinations[0].bucket_policy.as_mut().unwrap()["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Sid": "OnlyFromOurVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::my-destination-bucket-account-b/*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}}}));
    let findings = check(&s);
    let rep = finding(&findings, "destination[0].replicate");
    assert_eq!(rep.status, Status::Fail);
    assert!(rep.detail.contains("explicitly denied by bucket policy of my-destination-bucket-account-b statement \"OnlyFromOurVpce\""), "{}", rep.detail);
    assert!(rep.fix.is_none());

    // A deny on a key the snapshot cannot know is reported as undecidable, not as a pass.
    s.destinations[0].bucket_policy.as_mut().unwrap()["Statement"][1]["Condition"] =
        json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}});
    let rep = finding(&check(&s), "destination[0].replicate").clone();
    assert_eq!(rep.status, Status::CannotDecide, "{}", rep.detail);
    assert!(rep.detail.contains("NotIpAddress"), "{}", rep.detail);
}

#[test]
fn organization_conditions_need_the_organization() {
    let mut s = fixture("003-tail").snapshot;
    s.role.policies[0].document["Statement"][0]["Action"][2] = json!("s3:ListBucket");
    s.destinations[0].bucket_policy = Some(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], "Resource": "arn:aws:s3:::my-destination-bucket-account-b/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}, "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/S3Replication*"}}}]}),
    );
    assert_eq!(
        finding(&check(&s), "destination[0].replicate").status,
        Status::CannotDecide
    );
    s.role.organization = Some("o-abc".into());
    assert_eq!(
        finding(&check(&s), "destination[0].replicate").status,
        Status::Pass
    );
    s.role.organization = Some("o-other".into());
    assert_eq!(
        finding(&check(&s), "destination[0].replicate").status,
        Status::Fail
    );
    s.role.organization = Some(String::new());
    assert_eq!(
        finding(&check(&s), "destination[0].replicate").status,
        Status::Fail
    );
}

#[test]
#[ignore = "prints the doctor's report for every seed: cargo test --lib doctor -- --ignored --nocapture"]
fn print_seed_reports() {
    for (name, _) in FIXTURES {
        println!(
            "== seed {name}\n{}",
            render_text(&check(&fixture(name).snapshot))
        );
    }
}
