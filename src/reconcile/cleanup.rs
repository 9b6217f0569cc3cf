//! Delete, and the part of Update that removes what the old properties had and the new ones
//! lack. Never deletes a bucket, an object or a version, never suspends versioning; keys are
//! only scheduled for deletion when they were created here and `KeyRemovalPolicy` is `Delete`.

use std::collections::HashSet;

use super::apply::{bounded, connect_destination};
use super::retry::Deadline;
use super::statements::{edit_bucket_policy, edit_key_policy, Edit};
use super::{keys, role, ReconcileError};
use crate::aws::{Account, Connector, ErrorKind};
use crate::plan::names::{destination_key_alias, source_key_alias};
use crate::plan::{Plan, Resolved};
use crate::spec::{BucketName, Destination, DestinationKey, KeyRemoval, SourceKey, Spec};

/// An account that cannot be reached (role gone, trust removed) has nothing we can remove; a
/// transient failure is still an error so CloudFormation retries rather than leaking grants.
fn unreachable(e: &ReconcileError) -> bool {
    matches!(e, ReconcileError::Aws(a) if !matches!(a.kind, ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport))
}

/// Delete: removes the replication configuration (if ours), our statements everywhere, the
/// role, and retires created keys per `KeyRemovalPolicy`.
pub async fn cleanup(
    conn: &Connector,
    spec: &Spec,
    physical_id: &str,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let (src, resolved) = match super::apply::resolve_source(conn, spec).await {
        Err(e) if unreachable(&e) => {
            tracing::warn!(error = %e, "source account unreachable; nothing can be removed there");
            return Ok(());
        }
        other => other?,
    };
    let source_side = cleanup_source(&src, spec, &resolved, physical_id, deadline);
    let none = HashSet::new();
    let dest_side = bounded(spec.destinations.iter().map(|d| {
        let (source, sid) = (&spec.source.bucket, resolved.sid.as_str());
        remove_destination(
            Scope::Destination,
            conn,
            source,
            d,
            sid,
            spec.key_removal,
            &none,
            deadline,
        )
    }));
    futures::try_join!(source_side, dest_side)?;
    Ok(())
}

async fn cleanup_source(
    src: &Account,
    spec: &Spec,
    r: &Resolved,
    physical_id: &str,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    match src.replication(bucket).await {
        Ok(Some(live)) if live.role == r.role_arn.as_str() => {
            src.delete_replication(bucket).await?
        }
        Ok(_) => {}
        Err(e) if e.is("NoSuchBucket") => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(key) = source_key_of(src, spec).await? {
        edit_key_policy(src, &key, &r.sid, Edit::Remove, deadline).await?;
        if spec.source.kms_key == SourceKey::Create
            && matches!(spec.key_removal, KeyRemoval::Delete { .. })
        {
            // The bucket must not keep a default key that is about to be deleted.
            let enc = src.default_encryption(bucket).await.ok().flatten();
            if enc.is_some_and(|e| e.kms_key.as_deref() == Some(key.as_str())) {
                src.put_default_sse_s3(bucket).await?;
            }
            keys::retire_created(
                src,
                &source_key_alias(&spec.source.bucket),
                spec.key_removal,
            )
            .await?;
        }
    }
    role::delete_role(src, &r.role_name, physical_id).await
}

/// The source key this resource granted on, as it can be found now.
async fn source_key_of(src: &Account, spec: &Spec) -> Result<Option<String>, ReconcileError> {
    Ok(match &spec.source.kms_key {
        SourceKey::Existing(k) => Some(k.to_string()),
        SourceKey::Create => {
            keys::find_created(src, &source_key_alias(&spec.source.bucket)).await?
        }
        SourceKey::Discover => match src.default_encryption(spec.source.bucket.as_str()).await {
            Ok(Some(enc)) if enc.algorithm.starts_with("aws:kms") => match enc.kms_key {
                Some(k) => src
                    .describe_key(&k)
                    .await?
                    .filter(|i| i.customer_managed)
                    .map(|i| i.arn),
                None => None,
            },
            Ok(_) => None,
            Err(e) if e.is("NoSuchBucket") => None,
            Err(e) => return Err(e.into()),
        },
    })
}

/// What of a destination to remove: everything, or only its key grant (the bucket is still a
/// destination, with another key).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Destination,
    KeyOnly,
}

/// Removes our statements from one destination's bucket policy and key policy, and retires its
/// key if this provider created it — unless a kept destination still uses that key.
#[allow(clippy::too_many_arguments)]
async fn remove_destination(
    scope: Scope,
    conn: &Connector,
    source: &BucketName,
    d: &Destination,
    sid: &str,
    removal: KeyRemoval,
    keep_keys: &HashSet<&str>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let acct = match connect_destination(conn, d).await {
        Err(e) if unreachable(&e) => {
            tracing::warn!(account = %d.account, region = %d.region, error = %e, "destination unreachable; its statements (if any) are left in place");
            return Ok(());
        }
        other => other?,
    };
    if scope == Scope::Destination {
        edit_bucket_policy(&acct, d.bucket.as_str(), sid, Edit::Remove, deadline, None).await?;
    }
    let alias = destination_key_alias(source, &d.bucket);
    let key = match &d.kms_key {
        DestinationKey::None => None,
        DestinationKey::Existing(k) => Some(k.to_string()),
        DestinationKey::Create => keys::find_created(&acct, &alias).await?,
    };
    if let Some(key) = key.filter(|k| !keep_keys.contains(k.as_str())) {
        edit_key_policy(&acct, &key, sid, Edit::Remove, deadline).await?;
        if d.kms_key == DestinationKey::Create {
            keys::retire_created(&acct, &alias, removal).await?;
        }
    }
    Ok(())
}

/// Update: removes what `old` provisioned that `plan` (built from the new properties, same
/// physical resource) no longer has: statements on dropped destination buckets and keys, the
/// statement on a replaced source key, and a renamed role.
pub async fn cleanup_removed(
    conn: &Connector,
    old: &Spec,
    new: &Spec,
    src: &Account,
    plan: &Plan,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let r = &plan.resolved;
    let kept_buckets: HashSet<(&str, &str)> = plan
        .destinations
        .iter()
        .map(|d| (d.account.as_str(), d.bucket.as_str()))
        .collect();
    let kept_keys: HashSet<&str> = plan
        .destinations
        .iter()
        .filter_map(|d| d.kms_key.as_deref())
        .collect();
    // Dropped destinations lose everything; kept ones may have moved to another key.
    let removed = old.destinations.iter().map(|d| {
        let kept = kept_buckets.contains(&(d.account.as_str(), d.bucket.as_str()));
        (
            if kept {
                Scope::KeyOnly
            } else {
                Scope::Destination
            },
            d,
        )
    });
    let removed = removed
        .filter(|(scope, d)| *scope == Scope::Destination || d.kms_key != DestinationKey::None);
    let dests = bounded(removed.map(|(scope, d)| {
        remove_destination(
            scope,
            conn,
            &old.source.bucket,
            d,
            &r.sid,
            new.key_removal,
            &kept_keys,
            deadline,
        )
    }));
    let source = async {
        if let Some(old_key) = source_key_of(src, old)
            .await?
            .filter(|k| Some(k) != r.source_key.as_ref())
        {
            edit_key_policy(src, &old_key, &r.sid, Edit::Remove, deadline).await?;
        }
        let old_role = old
            .replication_role_name
            .clone()
            .unwrap_or_else(|| crate::plan::names::default_role_name(&old.source.bucket));
        if old_role != r.role_name {
            role::delete_role(src, &old_role, &r.physical_id).await?;
        }
        Ok(())
    };
    futures::try_join!(dests, source)?;
    Ok(())
}
