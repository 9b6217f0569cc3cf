//! `plan --diff`: what a Create/Update with these properties would change, read from the live
//! state without changing anything. The same read-only checks as
//! [`apply`](crate::reconcile::apply) run first (so a preview fails where a Create would), the
//! same [`Plan`] is built from what they found, and every comparison is the one apply makes
//! ([`diff`]).

use serde::Serialize;
use serde_json::{json, Value};

use crate::aws::{Account, Connector, LiveReplication, SseAlgorithm};
use crate::plan::names::{batch_role_name, tags, BATCH_ROLE_POLICY_NAME, ROLE_POLICY_NAME};
use crate::plan::notification_doc::NotificationDocument;
use crate::plan::signals::alarm_prefix;
use crate::plan::{Alarm, BatchPlan, KeyStatement, Plan};
use crate::reconcile::diff::{self, Removed};
use crate::reconcile::{check_all, connect_destinations, resolve_source, signals, ReconcileError};
use crate::reconcile::{DestinationFacts, SourceFacts};
use crate::spec::{AccountId, Destination, RoleArn, Spec};

pub use crate::reconcile::diff::Action;

/// One thing Create/Update would create, change, or leave as it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    pub action: Action,
    pub what: String,
    pub account: String,
    pub region: String,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<Value>,
}

/// The plan as it would be applied now, and how it differs from the live state.
pub struct Preview {
    pub plan: Plan,
    pub changes: Vec<Change>,
}

fn change(acct: &Account, what: &str, resource: &str, action: Action) -> Change {
    Change {
        action,
        what: what.to_owned(),
        account: acct.id.to_string(),
        region: acct.region.to_string(),
        resource: resource.to_owned(),
        current: None,
        desired: None,
    }
}

fn bucket_arn(acct: &Account, bucket: &str) -> String {
    format!("arn:{}:s3:::{bucket}", acct.region.partition())
}

fn created_if(missing: bool) -> Action {
    if missing {
        Action::Create
    } else {
        Action::Unchanged
    }
}

/// Versioning of an existing bucket: unchanged when enabled, else an update showing the status
/// it has (`Suspended`, or `Disabled`: never enabled) and the one it gets.
async fn versioning_change(
    acct: &Account,
    bucket: &str,
    arn: &str,
    enabled: bool,
) -> Result<Change, ReconcileError> {
    let action = diff::versioning(enabled);
    let mut c = change(acct, "versioning", arn, action);
    if action.changes() {
        c.current = Some(json!({"Status": acct.versioning_status(bucket).await?.as_str()}));
        c.desired = Some(json!({"Status": "Enabled"}));
    }
    Ok(c)
}

/// Reads everything Create/Update would touch and reports the difference. Read-only.
pub async fn preview(conn: &Connector, spec: &Spec) -> Result<Preview, ReconcileError> {
    let (src, resolved) = resolve_source(conn, spec).await?;
    let dests = connect_destinations(conn, spec).await?;
    let facts = check_all(&src, spec, &resolved, &dests).await?;
    let plan = Plan::build(spec, facts.resolve(resolved), &facts.keys())?;
    let mut changes = source_changes(&src, spec, &facts.source).await?;
    for ((d, acct), f) in spec
        .destinations
        .iter()
        .zip(&dests)
        .zip(&facts.destinations)
    {
        changes.extend(destination_changes(acct, d, f).await?);
    }
    changes.extend(role_changes(&src, &plan).await?);
    changes.extend(statement_changes(&src, &dests, &plan).await?);
    let live = src.replication(spec.source.bucket.as_str()).await?;
    changes.push(replication_change(&src, &plan, live.as_ref()).await?);
    let alarm_accounts = signals::alarm_accounts(conn, spec, &src).await?;
    signals::check_alarm_topics(&alarm_accounts, spec).await?;
    changes.extend(signal_changes(&src, &plan).await?);
    changes.extend(alarm_changes(&alarm_accounts, &plan).await?);
    if let Some(live) = live.filter(|l| plan.resolved.is_our_role(&l.role)) {
        changes.extend(failure_changes(&src, &plan, &live).await?);
        changes.extend(removal_changes(conn, spec, &plan, &live).await?);
    }
    Ok(Preview { plan, changes })
}

/// Objects whose replication failed recently, per rule (nothing to converge: no Update
/// replicates them, the doctor's `failed-objects` link offers the job that does).
async fn failure_changes(
    src: &Account,
    plan: &Plan,
    live: &LiveReplication,
) -> Result<Vec<Change>, ReconcileError> {
    let bucket = plan.resolved.source_bucket.as_str();
    let counted = crate::doctor::live::failed_replications(src, bucket, &live.rules)
        .await
        .map_err(|e| ReconcileError::LiveStateUnreadable {
            what: format!("replication metrics of {bucket}"),
            why: e.to_string(),
        })?;
    Ok(counted
        .into_iter()
        .filter(|f| f.failed > 0)
        .map(|f| {
            let what = format!("failed replications of rule {}", f.rule_id);
            let mut c = change(src, &what, &bucket_arn(src, bucket), Action::Unchanged);
            c.current = Some(json!({
                "OperationsFailedReplication": f.failed,
                "days": f.days,
                "note": "S3 does not retry FAILED objects: `bootstrap doctor` (destination[i].failed-objects) offers the S3 Batch Replication job that replicates them"
            }));
            c
        })
        .collect())
}

/// The source bucket's versioning; with `SourceKmsKeyArn: Create`, the key and the bucket's
/// default encryption with it.
async fn source_changes(
    src: &Account,
    spec: &Spec,
    facts: &SourceFacts,
) -> Result<Vec<Change>, ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    let arn = bucket_arn(src, bucket);
    let mut changes = vec![versioning_change(src, bucket, &arn, facts.versioned).await?];
    let Some(key) = facts.key.as_ref().filter(|_| spec.source.kms_key.creates()) else {
        return Ok(changes);
    };
    let name = key.name();
    changes.push(change(src, "source KMS key", &name, diff::key(key)));
    let current = src.default_encryption(bucket).await?;
    let action = diff::default_encryption(current.as_ref(), &name);
    let mut c = change(src, "default encryption", &arn, action);
    if action.changes() {
        c.current = Some(current.map_or(
            json!({"SSEAlgorithm": "none"}),
            |e| json!({"SSEAlgorithm": e.algorithm.as_str(), "KMSMasterKeyID": e.kms_key}),
        ));
        let kms = SseAlgorithm::Kms.as_str();
        c.desired = Some(json!({"SSEAlgorithm": kms, "KMSMasterKeyID": name}));
    }
    changes.push(c);
    Ok(changes)
}

/// A destination's bucket, its versioning, and the replica key Create makes for it.
async fn destination_changes(
    acct: &Account,
    d: &Destination,
    f: &DestinationFacts,
) -> Result<Vec<Change>, ReconcileError> {
    let arn = bucket_arn(acct, d.bucket.as_str());
    let mut changes = vec![change(
        acct,
        "destination bucket",
        &arn,
        created_if(!f.exists),
    )];
    if f.exists {
        changes.push(versioning_change(acct, d.bucket.as_str(), &arn, f.versioned).await?);
    } else {
        let mut c = change(acct, "versioning", &arn, Action::Create);
        c.desired = Some(json!({"Status": "Enabled"}));
        changes.push(c);
    }
    if let Some(key) = f.key.as_ref().filter(|_| d.kms_key.creates()) {
        changes.push(change(acct, "replica KMS key", &key.name(), diff::key(key)));
    }
    Ok(changes)
}

fn document_change(
    acct: &Account,
    what: &str,
    resource: &str,
    current: Option<String>,
    desired: &Value,
) -> Change {
    let action = diff::document(current.as_deref(), desired);
    let mut c = change(acct, what, resource, action);
    if action.changes() {
        c.current = current.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)));
        c.desired = Some(desired.clone());
    }
    c
}

async fn role_changes(src: &Account, plan: &Plan) -> Result<Vec<Change>, ReconcileError> {
    let r = &plan.resolved;
    let mut out = role_documents(
        src,
        "replication role",
        &r.role_arn,
        &r.role_name,
        ROLE_POLICY_NAME,
        (&plan.trust_policy, &plan.role_policy),
    )
    .await?;
    match &plan.batch {
        Some(b) => {
            out.extend(
                role_documents(
                    src,
                    "batch replication role",
                    &b.role_arn,
                    &b.role_name,
                    BATCH_ROLE_POLICY_NAME,
                    (&b.trust_policy, &b.role_policy),
                )
                .await?,
            );
            out.extend(job_changes(src, plan, b).await?);
        }
        None => {
            let name = batch_role_name(&r.source_bucket);
            if let Some(role) = src.role(&name).await? {
                if role.tag(tags::RESOURCE_ID) == Some(r.physical_id.as_str()) {
                    out.push(change(
                        src,
                        "batch replication role",
                        &role.arn,
                        Action::Remove,
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// A provider role's trust and inline policy (`desired`: both documents) against the live ones.
async fn role_documents(
    src: &Account,
    label: &str,
    arn: &RoleArn,
    name: &str,
    policy_name: &str,
    desired: (&Value, &Value),
) -> Result<Vec<Change>, ReconcileError> {
    let role = src.role(name).await?;
    if role
        .as_ref()
        .is_some_and(|x| x.tag(tags::MANAGED) != Some("true"))
    {
        return Err(ReconcileError::RoleNotOurs {
            role: arn.to_string(),
            account: src.id.to_string(),
        });
    }
    let current_trust = role.as_ref().map(|x| x.trust_policy.clone());
    let policy = match role {
        Some(_) => src.role_policy(name, policy_name).await?,
        None => None,
    };
    let arn = arn.to_string();
    Ok(vec![
        document_change(
            src,
            &format!("{label} trust policy"),
            &arn,
            current_trust,
            desired.0,
        ),
        document_change(src, &format!("{label} policy"), &arn, policy, desired.1),
    ])
}

/// Each flagged destination's Batch Replication job: the latest this resource started for it
/// (status and progress, unchanged), or one a Create would start (an Update starts one only
/// for a destination it adds or whose flag it turns on).
async fn job_changes(
    src: &Account,
    plan: &Plan,
    b: &BatchPlan,
) -> Result<Vec<Change>, ReconcileError> {
    let jobs = crate::reconcile::jobs_of(src, b).await?;
    Ok(b
        .jobs
        .iter()
        .zip(jobs)
        .map(|(j, found)| {
            let what = format!("batch replication job for destination {} ({})", j.dest_index, j.dest_bucket);
            match found {
                Some(job) => {
                    let mut c = change(src, &what, &job.id, Action::Unchanged);
                    c.current = Some(job.to_json());
                    c
                }
                None => {
                    let mut c = change(src, &what, &plan.resolved.source_bucket_arn(), Action::Create);
                    c.desired = Some(json!({"ObjectReplicationStatuses": j.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "Prefix": j.prefix}));
                    c
                }
            }
        })
        .collect())
}

/// A statement in a policy someone else owns: compared by Sid.
fn statement_change(
    acct: &Account,
    what: &str,
    resource: &str,
    policy: Option<String>,
    sid: &str,
    desired: &Value,
) -> Change {
    let action = diff::statement(policy.as_deref(), sid, desired);
    let mut c = change(acct, what, resource, action);
    if action.changes() {
        c.current = diff::current_statement(policy.as_deref(), sid);
        c.desired = Some(desired.clone());
    }
    c
}

/// A key's policy; `None` for a key Create has not made yet.
async fn key_policy(
    acct: &Account,
    plan: &Plan,
    key: &str,
) -> Result<Option<String>, ReconcileError> {
    if plan.keys.to_create(key) {
        return Ok(None);
    }
    Ok(Some(acct.key_policy(key).await?))
}

async fn statement_changes(
    src: &Account,
    dests: &[Account],
    plan: &Plan,
) -> Result<Vec<Change>, ReconcileError> {
    let mut out = Vec::new();
    if let Some(k) = &plan.source_key_statement {
        out.push(key_statement_change(src, plan, k).await?);
    }
    for b in &plan.bucket_statements {
        let acct = &dests[b.dest_index];
        let policy = acct.bucket_policy(b.bucket.as_str()).await.or_else(|e| {
            if e.is(crate::aws::Code::NoSuchBucket) {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
        let arn = bucket_arn(acct, b.bucket.as_str());
        out.push(statement_change(
            acct,
            &format!("bucket policy statement {}", b.id.sid),
            &arn,
            policy,
            &b.id.sid,
            &b.statement,
        ));
    }
    for k in &plan.key_statements {
        out.push(key_statement_change(&dests[k.dest_index], plan, k).await?);
    }
    Ok(out)
}

async fn key_statement_change(
    acct: &Account,
    plan: &Plan,
    k: &KeyStatement,
) -> Result<Change, ReconcileError> {
    let policy = key_policy(acct, plan, &k.key_arn).await?;
    Ok(statement_change(
        acct,
        &format!("key policy statement {}", k.id.sid),
        &k.key_arn,
        policy,
        &k.id.sid,
        &k.statement,
    ))
}

/// `FailureNotification`: the topic or queue statement and our notification configuration.
async fn signal_changes(src: &Account, plan: &Plan) -> Result<Vec<Change>, ReconcileError> {
    let mut out = Vec::new();
    let r = &plan.resolved;
    if let Some(n) = &plan.notification {
        let arn = n.target.as_str();
        let policy = src.target_policy(&n.target).await?.flatten();
        let what = format!("topic or queue policy statement {}", n.statement_id.sid);
        out.push(statement_change(
            src,
            &what,
            arn,
            policy,
            &n.statement_id.sid,
            &n.statement,
        ));
        let bucket = r.source_bucket.as_str();
        let live = src.bucket_notifications(bucket).await?;
        let doc = NotificationDocument::parse_or_new(Some(&live)).unwrap_or_default();
        let desired = n.configuration();
        let current = doc.get(&n.id).cloned();
        let action = match &current {
            None => Action::Create,
            Some(_) if doc.clone().upsert(&n.id, &desired) => Action::Update,
            Some(_) => Action::Unchanged,
        };
        let mut c = change(
            src,
            &format!("event notification {}", n.id),
            &bucket_arn(src, bucket),
            action,
        );
        if action.changes() {
            c.current = current;
            c.desired = Some(desired);
        }
        out.push(c);
    }
    Ok(out)
}

/// Each alarm, in the region it belongs in; this source's other alarms in those regions (rules
/// that went away, alarms an earlier version put elsewhere) as removals.
async fn alarm_changes(accounts: &[Account], plan: &Plan) -> Result<Vec<Change>, ReconcileError> {
    let mut out = Vec::new();
    for src in accounts {
        let live = src
            .alarms_with_prefix(&alarm_prefix(&plan.resolved))
            .await?;
        let here: Vec<&Alarm> = plan
            .alarms
            .iter()
            .filter(|a| a.region == src.region)
            .collect();
        for a in &here {
            let found = live.iter().find(|l| l.name == a.name);
            let action = match found {
                None => Action::Create,
                Some(l) if l != *a => Action::Update,
                Some(_) => Action::Unchanged,
            };
            let mut c = change(src, "alarm", &a.name, action);
            if action.changes() {
                c.current = found.map(Alarm::to_json);
                c.desired = Some(a.to_json());
            }
            out.push(c);
        }
        for l in live
            .iter()
            .filter(|l| !here.iter().any(|a| a.name == l.name))
        {
            out.push(change(src, "alarm", &l.name, Action::Remove));
        }
    }
    Ok(out)
}

async fn replication_change(
    src: &Account,
    plan: &Plan,
    live: Option<&LiveReplication>,
) -> Result<Change, ReconcileError> {
    let recorded = match live {
        Some(l) if diff::same_rules(l, &plan.replication) => src
            .role(&plan.resolved.role_name)
            .await?
            .and_then(|r| r.tag(tags::CONFIG_DIGEST).map(str::to_owned)),
        _ => None,
    };
    let action = diff::replication(live, &plan.replication, recorded.as_deref());
    let arn = plan.resolved.source_bucket_arn();
    let mut c = change(src, "replication configuration", &arn, action);
    if action.changes() {
        // Both in S3's shape, the fields S3 reads back faithfully for the current one.
        c.current = live.map(|l| json!({
            "Role": l.role,
            "Rules": l.rules.iter().map(|r| json!({"ID": r.id, "Priority": r.priority, "Status": if r.enabled { "Enabled" } else { "Disabled" }, "Destination": {"Bucket": r.destination_bucket}})).collect::<Vec<_>>(),
        }));
        c.desired = Some(plan.replication.to_s3_json());
    }
    Ok(c)
}

/// What an Update to these properties would remove ([`diff::removed`], as an Update decides
/// it): a destination the live configuration (written by this resource) replicates to and the
/// properties no longer name loses its rule (the configuration change above shows that) and
/// this resource's statements in that bucket's policy and its replica key's policy; a kept
/// destination whose key changes loses the statement on its old key. Read through the
/// destination role the properties give for that account, else the default one.
async fn removal_changes(
    conn: &Connector,
    spec: &Spec,
    plan: &Plan,
    live: &LiveReplication,
) -> Result<Vec<Change>, ReconcileError> {
    let r = &plan.resolved;
    let target = crate::doctor::live::Target::of_spec(spec, r.source_region.clone());
    let mut out = Vec::new();
    for rule in &live.rules {
        let bucket = rule.bucket_name();
        let unreadable = |why: String| ReconcileError::LiveStateUnreadable {
            what: format!("destination {bucket} of rule {}", rule.id),
            why,
        };
        let account = match &rule.destination_account {
            Some(a) => AccountId::parse(a).map_err(unreadable)?,
            None => r.source_account.clone(),
        };
        let removed = diff::removed(account.as_str(), bucket, plan);
        let old_key = rule
            .replica_kms_key
            .as_deref()
            .filter(|k| !diff::key_kept(plan, k));
        if removed == Removed::KeyOnly && old_key.is_none() {
            continue;
        }
        let (role, external_id) = target.destination_role(&account);
        let acct = crate::doctor::live::in_bucket_region(
            conn,
            &role,
            external_id.as_deref(),
            bucket,
            &r.source_region,
        )
        .await
        .map_err(|e| unreadable(e.to_string()))?;
        if removed == Removed::Destination {
            let policy = acct.bucket_policy(bucket).await.or_else(|e| {
                if e.is(crate::aws::Code::NoSuchBucket) {
                    Ok(None)
                } else {
                    Err(e)
                }
            })?;
            out.extend(removed_statement(
                &acct,
                "bucket policy statement",
                &bucket_arn(&acct, bucket),
                policy.as_deref(),
                &r.sid(),
            ));
        }
        if let Some(key) = old_key {
            let policy = match acct.key_policy(key).await {
                Ok(p) => Some(p),
                Err(e) if e.kind == crate::aws::ErrorKind::NotFound => None,
                Err(e) => return Err(e.into()),
            };
            out.extend(removed_statement(
                &acct,
                "key policy statement",
                key,
                policy.as_deref(),
                &r.sid(),
            ));
        }
    }
    Ok(out)
}

/// A `Remove` change when `policy` holds the statement `sid`.
fn removed_statement(
    acct: &Account,
    what: &str,
    resource: &str,
    policy: Option<&str>,
    sid: &str,
) -> Option<Change> {
    let current = diff::current_statement(policy, sid)?;
    let mut c = change(acct, &format!("{what} {sid}"), resource, Action::Remove);
    c.current = Some(current);
    Some(c)
}
