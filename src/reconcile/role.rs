//! The replication role in the source account: trust policy, one inline policy, ownership tags.

use serde_json::Value;

use super::{diff, ReconcileError};
use crate::aws::Account;
use crate::plan::names::{tags, BATCH_ROLE_POLICY_NAME, ROLE_PATH, ROLE_POLICY_NAME};
use crate::plan::{Plan, Record, Resolved};

/// A role this provider creates in the source account, as the plan wants it.
pub struct DesiredRole<'a> {
    pub name: &'a str,
    pub path: &'static str,
    pub description: String,
    pub trust: &'a Value,
    pub tags: Vec<(&'static str, String)>,
    pub boundary: Option<&'a str>,
}

impl<'a> DesiredRole<'a> {
    /// The replication role of `r`.
    pub fn replication(r: &'a Resolved, trust: &'a Value) -> Self {
        Self {
            name: &r.role_name,
            path: ROLE_PATH,
            description: format!(
                "S3 replication from {} (managed by the Custom::S3Replication provider)",
                r.source_bucket
            ),
            trust,
            tags: r.role_tags(),
            boundary: r.permissions_boundary.as_deref(),
        }
    }
}

/// Creates the replication role or brings it to the plan (see [`ensure_desired`]).
pub async fn ensure_role(
    acct: &Account,
    r: &Resolved,
    trust: &Value,
) -> Result<(), ReconcileError> {
    ensure_desired(acct, &DesiredRole::replication(r, trust)).await
}

/// Creates the role or brings its permissions boundary and tags (ownership, the record of what
/// Delete must undo) to `want`; a role whose trust policy is not `want`'s is refused (see
/// [`ReconcileError::RoleTrustChanged`]). A role with this name that this provider did
/// not create is refused.
pub async fn ensure_desired(acct: &Account, want: &DesiredRole<'_>) -> Result<(), ReconcileError> {
    let trust_text = want.trust.to_string();
    let Some(role) = acct.role(want.name).await? else {
        let role_tags: Vec<(&str, &str)> =
            want.tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let created = acct.create_role(
            want.name,
            want.path,
            &trust_text,
            &want.description,
            &role_tags,
            want.boundary,
        );
        return match created.await {
            // A duplicate delivery of the same request created it a moment ago: converge it.
            Err(e) if e.is(crate::aws::Code::EntityAlreadyExists) => {
                Box::pin(ensure_desired(acct, want)).await
            }
            other => other.map(drop).map_err(Into::into),
        };
    };
    if role.tag(tags::MANAGED) != Some("true") {
        return Err(ReconcileError::RoleNotOurs {
            role: role.arn,
            account: acct.id.to_string(),
        });
    }
    // A role's trust is written only by CreateRole: the function may not rewrite any role's
    // trust (the source template denies it), so nothing it tags or does first makes an
    // existing role assumable by anyone else.
    if diff::document(Some(&role.trust_policy), want.trust).changes() {
        return Err(ReconcileError::RoleTrustChanged {
            role: role.arn,
            found: role.trust_policy,
            trust: trust_text,
        });
    }
    if let Some(boundary) = want.boundary {
        if diff::boundary(role.permissions_boundary.as_deref(), boundary).changes() {
            acct.put_permissions_boundary(want.name, boundary).await?;
        }
    }
    let retag = diff::role_tags(|k| role.tag(k), &want.tags);
    if !retag.is_empty() {
        acct.tag_role(want.name, &retag).await?;
    }
    Ok(())
}

/// What the role named `role_name` records (`None`: no such role, or not one this provider
/// created).
pub async fn record(acct: &Account, role_name: &str) -> Result<Option<Record>, ReconcileError> {
    Ok(acct
        .role(role_name)
        .await?
        .filter(|role| role.tag(tags::MANAGED) == Some("true"))
        .map(|role| Record::from_tags(|k| role.tag(k).map(str::to_owned))))
}

/// Whether every one of `principals` is a replication role of the source account that records
/// `r.owner` as its owner (the same resource, for another source bucket).
pub async fn all_owned_by(
    acct: &Account,
    r: &Resolved,
    principals: &[String],
) -> Result<bool, ReconcileError> {
    let Some(ours) = &r.owner else {
        return Ok(false);
    };
    let prefix = format!("arn:{}:iam::{}:role{ROLE_PATH}", r.partition, acct.id);
    for p in principals {
        let Some(name) = p.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
            return Ok(false);
        };
        let owner = record(acct, name).await?.and_then(|rec| rec.owner);
        if owner.as_ref() != Some(ours) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Refuses to act for `r.owner` on a source whose replication `record` says another resource
/// owns, unless `take_over` (TakeOverExistingReplication) is set.
pub fn check_owner(
    r: &Resolved,
    record: Option<&Record>,
    take_over: bool,
) -> Result<(), ReconcileError> {
    match (record.and_then(|rec| rec.owner.as_ref()), &r.owner) {
        (Some(theirs), Some(ours)) if theirs != ours && !take_over => {
            Err(ReconcileError::OwnedByAnother {
                bucket: r.source_bucket.to_string(),
                owner: theirs.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Puts the replication role's inline policy if it differs from the plan.
pub async fn ensure_role_policy(acct: &Account, plan: &Plan) -> Result<(), ReconcileError> {
    let name = &plan.resolved.role_name;
    ensure_inline_policy(acct, name, ROLE_POLICY_NAME, &plan.role_policy).await
}

/// Puts the inline policy `policy` of role `role` if it differs from `doc`.
pub async fn ensure_inline_policy(
    acct: &Account,
    role: &str,
    policy: &str,
    doc: &Value,
) -> Result<(), ReconcileError> {
    let current = acct.role_policy(role, policy).await?;
    if !diff::document(current.as_deref(), doc).changes() {
        return Ok(());
    }
    acct.put_role_policy(role, policy, &doc.to_string()).await?;
    Ok(())
}

/// Whether the role's recorded configuration digest is `digest`.
pub async fn recorded_digest(
    acct: &Account,
    role_name: &str,
) -> Result<Option<String>, ReconcileError> {
    Ok(acct
        .role(role_name)
        .await?
        .and_then(|r| r.tag(tags::CONFIG_DIGEST).map(str::to_owned)))
}

pub async fn record_digest(
    acct: &Account,
    role_name: &str,
    digest: &str,
) -> Result<(), ReconcileError> {
    acct.tag_role(role_name, &[(tags::CONFIG_DIGEST, digest)])
        .await?;
    Ok(())
}

/// Deletes the role if it is ours and belongs to `physical_id` (a role another resource has
/// since adopted, e.g. after a replacement that kept the role name, is left alone).
pub async fn delete_role(
    acct: &Account,
    role_name: &str,
    physical_id: &str,
) -> Result<(), ReconcileError> {
    let Some(role) = acct.role(role_name).await? else {
        return Ok(());
    };
    if role.tag(tags::MANAGED) != Some("true") || role.tag(tags::RESOURCE_ID) != Some(physical_id) {
        tracing::info!(role = %role.arn, "role belongs to another resource or was not created here; leaving it");
        return Ok(());
    }
    for policy in acct.role_policy_names(role_name).await? {
        if policy == ROLE_POLICY_NAME || policy == BATCH_ROLE_POLICY_NAME {
            acct.delete_role_policy(role_name, &policy).await?;
        }
    }
    acct.delete_role(role_name).await?;
    Ok(())
}
