//! The doctor as a test oracle for the provider: the state the provider's own plan converges to
//! passes every link, and removing any one of the plan's statements is caught.

use serde_json::{json, Value};

use crate::doctor::{
    check, render, render_json, render_text, snapshot_from_plan, Finding, Format, Snapshot, Status,
};
use crate::plan::{Keys, Plan, Resolved};
use crate::spec::{self, AccountId, Region};

fn plan(properties: Value, source_key: Option<&str>, dest_keys: &[Option<&str>]) -> Plan {
    let spec = spec::parse(&properties).unwrap();
    let r = Resolved::new(
        &spec,
        AccountId::parse("111111111111").unwrap(),
        Region::parse("eu-west-1").unwrap(),
    );
    Plan::build(&spec, r, &Keys::known(&spec, source_key, dest_keys)).unwrap()
}

/// The example of `src/plan/tests.rs`: two destinations in two other accounts and regions, one
/// created key, one existing key, a prefix and tag filter.
fn two_destinations() -> Plan {
    plan(
        json!({
            "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
            "Destinations": [
                {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create", "ReplicationTimeControl": "true", "StorageClass": "STANDARD_IA"},
                {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "ap-southeast-2", "Prefix": "logs/", "Tags": {"backup": "yes"}, "KmsKeyArn": "arn:aws:kms:ap-southeast-2:333333333333:key/k-b"}
            ]
        }),
        Some("arn:aws:kms:eu-west-1:111111111111:key/src"),
        &[Some("arn:aws:kms:us-west-2:222222222222:key/k-a"), None],
    )
}

fn all_pass(s: &Snapshot) -> Vec<Finding> {
    let findings = check(s);
    assert!(
        findings
            .iter()
            .all(|f| f.status == Status::Pass && f.advisory.is_none()),
        "{}",
        render_text(&findings)
    );
    findings
}

#[test]
fn the_providers_plan_passes_every_link() {
    let findings = all_pass(&snapshot_from_plan(&two_destinations()));
    let links: Vec<String> = findings.iter().map(|f| f.link.clone()).collect();
    let mut want: Vec<String> = [
        "trust",
        "source.read",
        "source.key.decrypt",
        "source.key",
        "source.versioning",
        "source.requester-pays",
    ]
    .map(String::from)
    .to_vec();
    for i in 0..2 {
        for l in [
            "replicate",
            "owner-override",
            "sse-kms",
            "key.encrypt",
            "key",
            "versioning",
            "requester-pays",
            "object-lock",
        ] {
            want.push(format!("destination[{i}].{l}"));
        }
    }
    assert_eq!(links, want);
}

#[test]
fn plain_same_account_and_shared_destinations_pass() {
    // SSE-S3 source, a destination in the source account (no owner override).
    let same = plan(
        json!({"SourceBucket": "src-bucket", "Destinations": [{"Bucket": "dst-a", "AccountId": "111111111111", "Region": "us-west-2"}]}),
        None,
        &[None],
    );
    let findings = all_pass(&snapshot_from_plan(&same));
    assert!(!findings
        .iter()
        .any(|f| f.link.contains("key") || f.link.contains("owner")));

    // Two rules into one bucket and one key, with different prefixes.
    let shared = plan(
        json!({"SourceBucket": "src.bucket", "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "a/", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/k"},
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "Prefix": "b/", "Id": "second", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/k"},
            {"Bucket": "dst-c", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/k"}
        ]}),
        Some("arn:aws:kms:eu-west-1:111111111111:key/src"),
        &[None, None, None],
    );
    all_pass(&snapshot_from_plan(&shared));
}

#[test]
fn organization_mode_passes_for_members_only() {
    let org = plan(
        json!({"SourceBucket": "src-bucket", "OrganizationId": "o-a1b2c3d4e5", "Destinations": [
            {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "arn:aws:kms:us-west-2:222222222222:key/k-a"}
        ]}),
        Some("arn:aws:kms:eu-west-1:111111111111:key/src"),
        &[None],
    );
    let mut s = snapshot_from_plan(&org);
    assert_eq!(s.role.organization.as_deref(), Some("o-a1b2c3d4e5"));
    all_pass(&s);
    // Outside the organization (or not knowing), the shared statements do not let the role in.
    s.role.organization = Some("o-zzzzzzzzzz".into());
    let failing: Vec<String> = check(&s)
        .into_iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.link)
        .collect();
    assert_eq!(
        failing,
        [
            "destination[0].replicate",
            "destination[0].owner-override",
            "destination[0].key.encrypt"
        ]
    );
    s.role.organization = None;
    assert!(check(&s).iter().any(|f| f.status == Status::CannotDecide));
}

/// Every statement the provider writes is needed: dropping any one breaks exactly the links
/// that depend on it.
#[test]
fn every_statement_of_the_plan_is_load_bearing() {
    let base = snapshot_from_plan(&two_destinations());

    // Role policy: each statement on its own.
    let statements = base.role.policies[0].document["Statement"]
        .as_array()
        .unwrap()
        .clone();
    for (i, st) in statements.iter().enumerate() {
        let mut s = base.clone();
        s.role.policies[0].document["Statement"]
            .as_array_mut()
            .unwrap()
            .remove(i);
        let failing: Vec<String> = check(&s)
            .into_iter()
            .filter(|f| f.status != Status::Pass)
            .map(|f| f.link)
            .collect();
        if st["Sid"] == "DecryptSourceObjects" {
            // Within the source account, the source key's own statement naming the role is
            // enough: the two grants back each other up.
            assert!(failing.is_empty(), "{failing:?}");
        } else {
            assert!(
                !failing.is_empty(),
                "role statement {} is not needed",
                st["Sid"]
            );
        }
        assert!(failing.iter().all(|l| l != "trust"), "{failing:?}");
    }

    // Trust conditions are what keeps the advisory away; the grant is what makes the link.
    let mut s = base.clone();
    s.role.trust_policy["Statement"][0]
        .as_object_mut()
        .unwrap()
        .remove("Condition");
    let trust = check(&s).into_iter().find(|f| f.link == "trust").unwrap();
    assert_eq!(trust.status, Status::Pass);
    assert!(trust.advisory.is_some());

    // Destination bucket and key statements (cross-account: both sides are needed).
    for i in 0..2 {
        let mut s = base.clone();
        s.destinations[i].bucket_policy = None;
        let f = check(&s);
        let rep = f
            .iter()
            .find(|f| f.link == format!("destination[{i}].replicate"))
            .unwrap();
        assert_eq!(rep.status, Status::Fail, "{}", render_text(&f));
        let fix = rep.fix.as_ref().unwrap().as_array().unwrap();
        assert_eq!(fix.len(), 1);
        assert_eq!(fix[0]["policy"], "bucket policy");
        assert_eq!(
            fix[0]["statement"]["Principal"]["AWS"],
            base.role.arn.as_str()
        );

        let mut s = base.clone();
        let key = s.destinations[i].key.as_mut().unwrap();
        key.policy["Statement"].as_array_mut().unwrap().truncate(1); // only the default statement
        let f = check(&s);
        let enc = f
            .iter()
            .find(|f| f.link == format!("destination[{i}].key.encrypt"))
            .unwrap();
        assert_eq!(enc.status, Status::Fail, "{}", render_text(&f));
    }

    // Source key (same account): either the key statement naming the role, or the default
    // statement delegating to the role policy, is enough; with neither, decryption fails.
    let mut s = base.clone();
    s.source.key.as_mut().unwrap().policy["Statement"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    all_pass(&s);
    let mut s = base.clone();
    s.source.key.as_mut().unwrap().policy["Statement"]
        .as_array_mut()
        .unwrap()
        .remove(0);
    all_pass(&s);
    s.source.key.as_mut().unwrap().policy["Statement"] = json!([]);
    let f = check(&s);
    assert_eq!(
        f.iter()
            .find(|f| f.link == "source.key.decrypt")
            .unwrap()
            .status,
        Status::Fail
    );
}

#[test]
fn the_role_recreated_under_the_same_name_is_not_the_role_a_policy_named() {
    // A destination bucket policy saved while an earlier role of the same name existed shows
    // that role's unique id once it is deleted; it no longer grants the current role.
    let mut s = snapshot_from_plan(&two_destinations());
    s.destinations[0].bucket_policy.as_mut().unwrap()["Statement"][0]["Principal"]["AWS"] =
        json!("AROAEXAMPLEDELETED0001");
    let f = check(&s);
    let rep = f
        .iter()
        .find(|f| f.link == "destination[0].replicate")
        .unwrap();
    assert_eq!(rep.status, Status::Fail);
    assert!(rep.detail.contains("unique id"), "{}", rep.detail);
}

#[test]
fn rendering() {
    let mut s = snapshot_from_plan(&two_destinations());
    s.destinations[1].bucket_policy = None;
    let findings = check(&s);
    let text = render_text(&findings);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("     ")).collect();
    assert_eq!(lines.len(), findings.len() + 1, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("FAIL destination[1].replicate")),
        "{text}"
    );
    assert!(
        text.contains("     fix: [{\"account\":\"333333333333\""),
        "{text}"
    );
    // Without its bucket policy, dst-b refuses both replication and the owner override.
    assert_eq!(
        *lines.last().unwrap(),
        format!("{} pass, 2 fail, 0 cannot decide", findings.len() - 2)
    );

    let json: Value = serde_json::from_str(&render_json(&findings)).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), findings.len());
    let failed: Vec<&Value> = arr.iter().filter(|f| f["status"] == "fail").collect();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["link"], "destination[1].replicate");
    assert_eq!(failed[1]["link"], "destination[1].owner-override");
    assert_eq!(failed[0]["account"], "333333333333");
    assert_eq!(failed[0]["region"], "ap-southeast-2");
    assert_eq!(failed[0]["resource"], "arn:aws:s3:::dst-b");
    // The statement to add covers what the rule replicates (its prefix), as the provider grants.
    assert_eq!(
        failed[0]["fix"][0]["statement"]["Resource"],
        "arn:aws:s3:::dst-b/logs/*"
    );
    assert!(arr.iter().all(|f| f.get("fix").is_some()));
    assert_eq!(render(&findings, Format::Json), render_json(&findings));
    assert_eq!(render(&findings, Format::Text), text);

    // A snapshot round-trips through JSON (fixtures and `--json` share the shape).
    let back: Snapshot = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
}

/// A role session's temporary credentials carry `aws:TokenIssueTime`: a Deny for requests
/// with such a token applies to the replication role (it used to be treated as absent).
#[test]
fn a_deny_on_temporary_credentials_applies_to_the_replication_role() {
    let base = snapshot_from_plan(&two_destinations());
    let deny = |condition: Value| {
        let mut s = base.clone();
        s.destinations[0].bucket_policy.as_mut().unwrap()["Statement"]
            .as_array_mut()
            .unwrap()
            .push(
                json!({"Sid": "NoTemporaryCredentials", "Effect": "Deny", "Principal": "*",
                "Action": "s3:ReplicateObject", "Resource": "arn:aws:s3:::dst-a/*",
                "Condition": condition}),
            );
        check(&s)
            .into_iter()
            .find(|f| f.link == "destination[0].replicate")
            .unwrap()
    };
    let f = deny(json!({"Null": {"aws:TokenIssueTime": "false"}}));
    assert_eq!(f.status, Status::Fail, "{}", f.detail);
    assert!(f.detail.contains("NoTemporaryCredentials"), "{}", f.detail);
    // Present, with a value nobody can know here: a date comparison is not decided.
    let f = deny(json!({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}));
    assert_eq!(f.status, Status::CannotDecide, "{}", f.detail);
    // A Deny for requests without such a token does not apply.
    let f = deny(json!({"Null": {"aws:TokenIssueTime": "true"}}));
    assert_eq!(f.status, Status::Pass, "{}", f.detail);
}

/// A key the configuration names but nobody can read (deleted, in another region, no
/// permission) fails its link instead of silently dropping the key's links.
#[test]
fn a_key_that_cannot_be_read_fails_instead_of_vanishing() {
    let mut s = snapshot_from_plan(&two_destinations());
    let source_key = s.source.key.take().unwrap();
    assert_eq!(s.source.key_id.as_deref(), Some(source_key.arn.as_str()));
    s.destinations[0].key = None;
    let findings = check(&s);
    let link = |name: &str| findings.iter().find(|f| f.link == name).unwrap();
    let src = link("source.key");
    assert_eq!(src.status, Status::Fail, "{}", src.detail);
    assert!(src.detail.contains(&source_key.arn), "{}", src.detail);
    assert!(src.detail.contains("default encryption"), "{}", src.detail);
    let dst = link("destination[0].key");
    assert_eq!(dst.status, Status::Fail, "{}", dst.detail);
    assert!(dst.detail.contains("ReplicaKmsKeyID"), "{}", dst.detail);
    assert_eq!(dst.account, "222222222222");
    assert_eq!(dst.region, "us-west-2");
    // A bucket without SSE-KMS names no key: nothing to check.
    s.source.key_id = None;
    assert!(check(&s).iter().all(|f| f.link != "source.key"));
}

/// [`two_destinations`] with a failure notification (topic or queue) and alarms.
fn with_signals(target: &str) -> Plan {
    plan(
        json!({
            "SourceBucket": "src-bucket", "SourceRegion": "eu-west-1",
            "FailureNotification": target, "Alarms": "true",
            "Destinations": [
                {"Bucket": "dst-a", "AccountId": "222222222222", "Region": "us-west-2", "KmsKeyArn": "Create", "ReplicationTimeControl": "true"},
                {"Bucket": "dst-b", "AccountId": "333333333333", "Region": "ap-southeast-2", "Prefix": "logs/", "KmsKeyArn": "arn:aws:kms:ap-southeast-2:333333333333:key/k-b"}
            ]
        }),
        Some("arn:aws:kms:eu-west-1:111111111111:key/src"),
        &[Some("arn:aws:kms:us-west-2:222222222222:key/k-a"), None],
    )
}

fn finding<'a>(findings: &'a [Finding], link: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.link == link)
        .unwrap_or_else(|| panic!("no {link}: {}", render_text(findings)))
}

#[test]
fn the_failure_signals_the_plan_writes_pass_and_each_gap_is_caught() {
    for target in [
        "arn:aws:sns:eu-west-1:111111111111:s3-replication-failures",
        "arn:aws:sqs:eu-west-1:111111111111:s3-replication-failures",
    ] {
        let good = snapshot_from_plan(&with_signals(target));
        let findings = all_pass(&good);
        for link in [
            "notification[0].publish",
            "notification[0].metrics",
            "destination[0].alarm",
            "destination[1].alarm",
        ] {
            finding(&findings, link);
        }

        // The statement is gone: S3 cannot deliver; the fix is our statement.
        let mut s = good.clone();
        s.signals.notifications[0].policy = Some(json!({"Version": "2012-10-17", "Statement": []}));
        let f = check(&s);
        let publish = finding(&f, "notification[0].publish");
        assert_eq!(publish.status, Status::Fail, "{}", render_text(&f));
        let fix = &publish.fix.as_ref().unwrap()[0]["statement"];
        assert_eq!(fix["Principal"]["Service"], "s3.amazonaws.com");
        assert_eq!(
            fix["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:s3:::src-bucket"
        );

        // A statement for another bucket (or any bucket of another account) does not count.
        let mut s = good.clone();
        let policy = s.signals.notifications[0].policy.as_mut().unwrap();
        policy["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"] =
            json!("arn:aws:s3:::other");
        assert_eq!(
            finding(&check(&s), "notification[0].publish").status,
            Status::Fail
        );

        // The topic or queue is gone.
        let mut s = good.clone();
        s.signals.notifications[0].exists = false;
        let f = check(&s);
        assert!(finding(&f, "notification[0].publish")
            .detail
            .contains("does not exist"));

        // A rule without metrics sends no events.
        let mut s = good.clone();
        s.destinations[1].metrics = false;
        let f = check(&s);
        let metrics = finding(&f, "notification[0].metrics");
        assert_eq!(metrics.status, Status::Fail);
        assert!(
            metrics.detail.contains(&s.destinations[1].rule_id),
            "{}",
            metrics.detail
        );

        // A rule without its alarm, while the others have theirs.
        let mut s = good.clone();
        let rule = s.destinations[1].rule_id.clone();
        s.signals.alarms.retain(|a| a.rule_id != rule);
        let f = check(&s);
        assert_eq!(finding(&f, "destination[1].alarm").status, Status::Fail);
        assert_eq!(finding(&f, "destination[0].alarm").status, Status::Pass);
    }
}

#[test]
fn without_signals_the_doctor_reports_none() {
    let findings = check(&snapshot_from_plan(&two_destinations()));
    assert!(
        !findings
            .iter()
            .any(|f| f.link.starts_with("notification") || f.link.ends_with(".alarm")),
        "{}",
        render_text(&findings)
    );
}
