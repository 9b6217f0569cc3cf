//! The snapshot the provider converges to for a [`Plan`]: what `reconcile` leaves in place
//! (versioning enabled, keys enabled and symmetric, the plan's statements added to each bucket
//! and key policy next to KMS's default key policy statement). Checking it with
//! [`super::check`] makes the doctor an oracle for the provider's policy documents.

use serde_json::{json, Value};

use super::eval::arn_region;
use super::links::{
    DestinationBucket, FailureNotification, Key, NamedPolicy, ReplicationRole, RuleAlarm, Signals,
    Snapshot, SourceBucket, Versioning,
};
use crate::plan::{names, Filter, Plan};

/// KMS's default key policy statement: the account may delegate use of the key to its IAM
/// policies ("Default key policy", "Allows access to the AWS account and enables IAM policies").
pub fn default_key_policy_statement(partition: &str, account: &str) -> Value {
    json!({
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
        "Action": "kms:*",
        "Resource": "*"
    })
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The organization the plan's shared statements admit (`aws:PrincipalOrgID`), if any: in
/// organization mode the replication role's account is expected to belong to it.
fn organization_named(plan: &Plan) -> Option<String> {
    plan.bucket_statements
        .iter()
        .map(|b| &b.statement)
        .chain(plan.key_statements.iter().map(|k| &k.statement))
        .find_map(|st| {
            st.pointer("/Condition/StringEquals/aws:PrincipalOrgID")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
}

/// The state the provider converges to for `plan`.
pub fn snapshot_from_plan(plan: &Plan) -> Snapshot {
    let r = &plan.resolved;
    let partition = r.partition.clone();
    let key = |arn: &str, account: &str, extra: Vec<Value>| {
        let mut statements = vec![default_key_policy_statement(&partition, account)];
        statements.extend(extra);
        Key {
            arn: arn.to_owned(),
            policy: policy(statements),
            state: "Enabled".to_owned(),
            spec: "SYMMETRIC_DEFAULT".to_owned(),
            region: arn_region(arn).unwrap_or_default().to_owned(),
        }
    };
    let source_key = plan.source_key().map(|arn| {
        key(
            &arn,
            r.source_account.as_str(),
            plan.source_key_statement
                .iter()
                .map(|k| k.statement.clone())
                .collect(),
        )
    });
    let destinations = plan
        .destinations
        .iter()
        .zip(&plan.replication.rules)
        .map(|(d, rule)| {
            let bucket_statements: Vec<Value> = plan
                .bucket_statements
                .iter()
                .filter(|b| b.bucket == d.bucket)
                .map(|b| b.statement.clone())
                .collect();
            let prefix = match &rule.filter {
                Filter::Prefix(p) => Some(p.clone()),
                Filter::And { prefix, .. } => prefix.clone(),
                Filter::All | Filter::Tag(..) => None,
            };
            DestinationBucket {
                account: d.account.to_string(),
                region: d.region.to_string(),
                bucket: d.bucket.to_string(),
                bucket_policy: (!bucket_statements.is_empty()).then(|| policy(bucket_statements)),
                versioning: Versioning::Enabled,
                requester_pays: false,
                object_lock: false,
                key_id: d.kms_key.clone(),
                key: d.kms_key.as_ref().map(|arn| {
                    let key_account = super::eval::arn_account(arn).unwrap_or_default();
                    key(
                        arn,
                        key_account,
                        plan.key_statements
                            .iter()
                            .filter(|k| &k.key_arn == arn)
                            .map(|k| k.statement.clone())
                            .collect(),
                    )
                }),
                bucket_key: true,
                owner_override: rule.destination.owner_override,
                sse_kms: rule.sse_kms_encrypted_objects,
                prefix,
                delete_markers: rule.delete_marker_replication,
                rule_id: rule.id.clone(),
                metrics: rule.destination.metrics,
            }
        })
        .collect();
    Snapshot {
        partition: partition.clone(),
        source: SourceBucket {
            account: r.source_account.to_string(),
            region: r.source_region.to_string(),
            bucket: r.source_bucket.to_string(),
            versioning: Versioning::Enabled,
            requester_pays: false,
            object_lock: false,
            bucket_policy: None,
            key_id: source_key.as_ref().map(|k| k.arn.clone()),
            key: source_key,
            bucket_key: true,
        },
        role: ReplicationRole {
            arn: r.role_arn.to_string(),
            trust_policy: plan.trust_policy.clone(),
            policies: vec![NamedPolicy {
                name: names::ROLE_POLICY_NAME.to_owned(),
                document: plan.role_policy.clone(),
            }],
            unique_id: None,
            organization: organization_named(plan),
        },
        destinations,
        signals: signals(plan),
        batch_jobs: Vec::new(),
        failed_replications: Vec::new(),
    }
}

/// The notification and alarms the plan writes, the topic's or queue's policy holding only
/// our statement.
fn signals(plan: &Plan) -> Signals {
    Signals {
        notifications: plan
            .notification
            .iter()
            .map(|n| FailureNotification {
                id: n.id.clone(),
                target: n.target.to_string(),
                events: n.events.iter().map(|e| (*e).to_owned()).collect(),
                policy: Some(policy(vec![n.statement.clone()])),
                exists: true,
            })
            .collect(),
        // The live reader reads the alarms of the source region (the failed-replication ones,
        // which the `alarm` link checks): latency alarms are in the destinations' regions.
        alarms: plan
            .alarms
            .iter()
            .filter(|a| a.region == plan.resolved.source_region)
            .map(|a| RuleAlarm {
                name: a.name.clone(),
                metric: a.metric.clone(),
                rule_id: a.dimensions[2].1.clone(),
            })
            .collect(),
    }
}
