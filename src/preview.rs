//! `plan --diff`: what a Create/Update with these properties would change, read from the live
//! state without changing anything. The same read-only checks as [`apply`](crate::reconcile::apply) run
//! first (so a preview fails where a Create would), then every planned document is compared
//! with what is there.

use serde::Serialize;
use serde_json::{json, Value};

use crate::aws::{Account, Connector, LiveReplication};
use crate::plan::names::{key_placeholder, tags, KEY_PLACEHOLDER_ID, ROLE_POLICY_NAME};
use crate::plan::policy_doc::{equivalent, PolicyDocument};
use crate::plan::Plan;
use crate::reconcile::ReconcileError;
use crate::reconcile::{check_all, connect_destinations, resolve_source, same_rules};
use crate::spec::{AccountId, DestinationKey, SourceKey, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// What the live configuration (written by this resource) has that these properties
    /// lack: an Update to them removes it.
    Remove,
}

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

fn updated_if(differs: bool) -> Action {
    if differs {
        Action::Update
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
    let mut c = change(acct, "versioning", arn, updated_if(!enabled));
    if !enabled {
        c.current = Some(json!({"Status": acct.versioning_status(bucket).await?}));
        c.desired = Some(json!({"Status": "Enabled"}));
    }
    Ok(c)
}

/// Reads everything Create/Update would touch and reports the difference. Read-only.
pub async fn preview(conn: &Connector, spec: &Spec) -> Result<Preview, ReconcileError> {
    let (src, mut resolved) = resolve_source(conn, spec).await?;
    let dests = connect_destinations(conn, spec).await?;
    let source_bucket = &spec.source.bucket;
    let (src_facts, dest_facts) = check_all(&src, spec, &resolved, &dests).await?;
    let mut changes = Vec::new();

    let src_arn = bucket_arn(&src, source_bucket.as_str());
    changes.push(
        versioning_change(&src, source_bucket.as_str(), &src_arn, src_facts.versioned).await?,
    );
    resolved.source_key = src_facts.key.clone();
    if spec.source.kms_key == SourceKey::Create {
        let known = src_facts.key.clone();
        let key = known
            .clone()
            .unwrap_or_else(|| key_placeholder(&src.id, &src.region));
        changes.push(change(
            &src,
            "source KMS key",
            &key,
            created_if(known.is_none()),
        ));
        let encryption = match &known {
            Some(k) => src
                .default_encryption(source_bucket.as_str())
                .await?
                .is_some_and(|e| {
                    e.algorithm == "aws:kms" && e.kms_key.as_deref() == Some(k.as_str())
                }),
            None => false,
        };
        let mut c = change(
            &src,
            "default encryption",
            &src_arn,
            updated_if(!encryption),
        );
        if !encryption {
            let current = src.default_encryption(source_bucket.as_str()).await?;
            c.current = Some(current.map_or(
                json!({"SSEAlgorithm": "none"}),
                |e| json!({"SSEAlgorithm": e.algorithm, "KMSMasterKeyID": e.kms_key}),
            ));
            c.desired = Some(json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}));
        }
        changes.push(c);
        resolved.source_key = Some(key);
    }

    let mut dest_keys = Vec::new();
    for ((d, acct), f) in spec.destinations.iter().zip(&dests).zip(&dest_facts) {
        let arn = bucket_arn(acct, d.bucket.as_str());
        changes.push(change(
            acct,
            "destination bucket",
            &arn,
            created_if(!f.exists),
        ));
        if f.exists {
            changes.push(versioning_change(acct, d.bucket.as_str(), &arn, f.versioned).await?);
        } else {
            let mut c = change(acct, "versioning", &arn, Action::Create);
            c.desired = Some(json!({"Status": "Enabled"}));
            changes.push(c);
        }
        let key = match (&d.kms_key, &f.key) {
            (DestinationKey::Create, None) => {
                let k = key_placeholder(&acct.id, &acct.region);
                changes.push(change(acct, "replica KMS key", &k, Action::Create));
                Some(k)
            }
            (DestinationKey::Create, Some(k)) => {
                changes.push(change(acct, "replica KMS key", k, Action::Unchanged));
                Some(k.clone())
            }
            (_, known) => known.clone(),
        };
        dest_keys.push(key);
    }
    let plan = Plan::build(spec, resolved, &dest_keys)?;
    changes.extend(role_changes(&src, &plan).await?);
    changes.extend(statement_changes(&src, &dests, &plan).await?);
    let live = src.replication(source_bucket.as_str()).await?;
    changes.push(replication_change(&src, spec, &plan, live.as_ref()).await?);
    if let Some(live) = live.filter(|l| plan.resolved.is_our_role(&l.role)) {
        changes.extend(removal_changes(conn, spec, &plan, &live).await?);
    }
    Ok(Preview { plan, changes })
}

fn document_change(
    acct: &Account,
    what: &str,
    resource: &str,
    current: Option<Value>,
    desired: &Value,
) -> Change {
    let action = match &current {
        None => Action::Create,
        Some(c) => updated_if(!equivalent(c, desired)),
    };
    let mut c = change(acct, what, resource, action);
    if action != Action::Unchanged {
        c.current = current;
        c.desired = Some(desired.clone());
    }
    c
}

fn parsed(text: Option<String>) -> Option<Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

async fn role_changes(src: &Account, plan: &Plan) -> Result<Vec<Change>, ReconcileError> {
    let r = &plan.resolved;
    let role = src.role(&r.role_name).await?;
    if role
        .as_ref()
        .is_some_and(|x| x.tag(tags::MANAGED) != Some("true"))
    {
        return Err(ReconcileError::RoleNotOurs {
            role: r.role_arn.to_string(),
            account: src.id.to_string(),
        });
    }
    let trust = crate::plan::policy::trust_policy(r);
    let current_trust = parsed(role.as_ref().map(|x| x.trust_policy.clone()));
    let policy = match role {
        Some(_) => parsed(src.role_policy(&r.role_name, ROLE_POLICY_NAME).await?),
        None => None,
    };
    let arn = r.role_arn.to_string();
    Ok(vec![
        document_change(
            src,
            "replication role trust policy",
            &arn,
            current_trust,
            &trust,
        ),
        document_change(
            src,
            "replication role policy",
            &arn,
            policy,
            &plan.role_policy,
        ),
    ])
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
    let current = policy
        .as_deref()
        .and_then(|p| PolicyDocument::parse(p).ok())
        .and_then(|d| d.get(sid));
    document_change(acct, what, resource, current, desired)
}

/// A key's policy; `None` for a key Create has not made yet.
async fn key_policy(acct: &Account, key: &str) -> Result<Option<String>, ReconcileError> {
    if key.ends_with(KEY_PLACEHOLDER_ID) {
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
        let policy = key_policy(src, &k.key_arn).await?;
        out.push(statement_change(
            src,
            &format!("key policy statement {}", k.sid),
            &k.key_arn,
            policy,
            &k.sid,
            &k.statement,
        ));
    }
    for b in &plan.bucket_statements {
        let acct = &dests[b.dest_index];
        let policy = acct.bucket_policy(b.bucket.as_str()).await.or_else(|e| {
            if e.is("NoSuchBucket") {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
        let arn = bucket_arn(acct, b.bucket.as_str());
        out.push(statement_change(
            acct,
            &format!("bucket policy statement {}", b.sid),
            &arn,
            policy,
            &b.sid,
            &b.statement,
        ));
    }
    for k in &plan.key_statements {
        let acct = &dests[k.dest_index];
        let policy = key_policy(acct, &k.key_arn).await?;
        out.push(statement_change(
            acct,
            &format!("key policy statement {}", k.sid),
            &k.key_arn,
            policy,
            &k.sid,
            &k.statement,
        ));
    }
    Ok(out)
}

async fn replication_change(
    src: &Account,
    spec: &Spec,
    plan: &Plan,
    live: Option<&LiveReplication>,
) -> Result<Change, ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    let digest = plan.replication.digest();
    let recorded = match src.role(&plan.resolved.role_name).await? {
        Some(r) => r.tag(tags::CONFIG_DIGEST).map(str::to_owned),
        None => None,
    };
    let action = match live {
        None => Action::Create,
        Some(l) => updated_if(
            !(same_rules(l, &plan.replication) && recorded.as_deref() == Some(digest.as_str())),
        ),
    };
    let mut c = change(
        src,
        "replication configuration",
        &bucket_arn(src, bucket),
        action,
    );
    if action != Action::Unchanged {
        // Both in S3's shape, the fields S3 reads back faithfully for the current one.
        c.current = live.map(|l| json!({
            "Role": l.role,
            "Rules": l.rules.iter().map(|r| json!({"ID": r.id, "Priority": r.priority, "Status": if r.enabled { "Enabled" } else { "Disabled" }, "Destination": {"Bucket": r.destination_bucket}})).collect::<Vec<_>>(),
        }));
        c.desired = Some(plan.replication.to_s3_json());
    }
    Ok(c)
}

/// What an Update to these properties would remove: every destination the live configuration
/// (written by this resource) replicates to and the properties no longer name loses its rule
/// (the configuration change above shows that), and this resource's statements in that
/// bucket's policy and in its replica key's policy. Read through the destination role the
/// properties give for that account, else the default one.
async fn removal_changes(
    conn: &Connector,
    spec: &Spec,
    plan: &Plan,
    live: &LiveReplication,
) -> Result<Vec<Change>, ReconcileError> {
    let r = &plan.resolved;
    let kept: Vec<&str> = plan
        .replication
        .rules
        .iter()
        .map(|x| x.destination.bucket.as_str())
        .collect();
    let target = crate::doctor::live::Target::of_spec(spec, r.source_region.clone());
    let mut out = Vec::new();
    for rule in live
        .rules
        .iter()
        .filter(|x| !kept.contains(&x.destination_bucket.as_str()))
    {
        let bucket = rule.bucket_name();
        let unreadable = |why: String| ReconcileError::LiveStateUnreadable {
            what: format!("destination {bucket} of rule {}", rule.id),
            why,
        };
        let account = match &rule.destination_account {
            Some(a) => AccountId::parse(a).map_err(unreadable)?,
            None => r.source_account.clone(),
        };
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
        let policy = acct.bucket_policy(bucket).await.or_else(|e| {
            if e.is("NoSuchBucket") {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
        out.extend(removed_statement(
            &acct,
            "bucket policy statement",
            &bucket_arn(&acct, bucket),
            policy,
            &r.sid,
        ));
        if let Some(key) = &rule.replica_kms_key {
            let policy = match acct.key_policy(key).await {
                Ok(p) => Some(p),
                Err(e) if e.kind == crate::aws::ErrorKind::NotFound => None,
                Err(e) => return Err(e.into()),
            };
            out.extend(removed_statement(
                &acct,
                "key policy statement",
                key,
                policy,
                &r.sid,
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
    policy: Option<String>,
    sid: &str,
) -> Option<Change> {
    let current = policy
        .as_deref()
        .and_then(|p| PolicyDocument::parse(p).ok())
        .and_then(|d| d.get(sid))?;
    let mut c = change(acct, &format!("{what} {sid}"), resource, Action::Remove);
    c.current = Some(current);
    Some(c)
}
