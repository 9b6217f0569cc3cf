//! Delete, and the part of Update that removes what the old properties had and the new ones
//! lack. Never deletes a bucket, an object or a version, never suspends versioning; keys are
//! only scheduled for deletion when they were created here and `KeyRemovalPolicy` is `Delete`.

use super::apply::{bounded, connect_destination};
use super::diff::{self, Removed};
use super::statements::{edit_bucket_policy, edit_key_policy, Edit};
use super::{batch, keys, role, signals, ReconcileError};
use crate::aws::{Account, Connector, ErrorKind};
use crate::plan::names::{destination_key_alias, source_key_alias};
use crate::plan::{Owner, Plan, Record, Resolved, StatementId};
use crate::spec::{BucketName, Destination, DestinationKey, KeyRemoval, SourceKey, Spec};
use crate::time::Deadline;

/// An account that cannot be reached (role gone, trust removed) has nothing we can remove; a
/// transient failure is still an error so CloudFormation retries rather than leaking grants.
fn unreachable(e: &ReconcileError) -> bool {
    matches!(e, ReconcileError::Aws(a) if !matches!(a.kind, ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport))
}

/// Delete: removes the replication configuration (if ours), our statements everywhere, the
/// role, and retires created keys per the `KeyRemovalPolicy` the role records. Acts only for
/// the resource that owns the source's replication: a Delete from another resource (a second
/// stack that named the same source bucket) changes nothing. The role, which holds the
/// record, is removed last, so a Delete that failed midway is retried with it.
pub async fn cleanup(
    conn: &Connector,
    spec: &Spec,
    physical_id: &str,
    owner: Option<Owner>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let (src, resolved) = match super::apply::resolve_source(conn, spec).await {
        Err(e) if unreachable(&e) => {
            tracing::warn!(error = %e, "source account unreachable; nothing can be removed there");
            return Ok(());
        }
        other => other?,
    };
    if resolved.physical_id != physical_id {
        // Not the source these properties name (a Delete whose id and properties disagree):
        // nothing of this resource is known to be there.
        tracing::warn!(physical_id, properties_name = %resolved.physical_id, "the Delete's physical id is not the one its properties' source has; nothing to delete");
        return Ok(());
    }
    let resolved = resolved.for_request(owner, None);
    let record = role::record(&src, &resolved.role_name).await?;
    if let Some(theirs) = foreign_owner(&src, spec, &resolved, record.as_ref()).await? {
        tracing::warn!(owner = %theirs, bucket = %spec.source.bucket, "the source's replication belongs to another resource; this Delete changes nothing");
        return Ok(());
    }
    let key_removal = recorded_removal(record.as_ref(), spec.key_removal);
    let alarm_accounts = signals::alarm_accounts(conn, spec, &src).await?;
    let source_side = cleanup_source(
        &src,
        &alarm_accounts,
        spec,
        &resolved,
        key_removal,
        deadline,
    );
    let id = resolved.source_id();
    let dest_side = bounded(spec.destinations.iter().map(|d| {
        let (source, id) = (&spec.source.bucket, &id);
        remove_destination(
            Removed::Destination,
            conn,
            source,
            d,
            id,
            key_removal,
            None,
            deadline,
        )
    }));
    futures::try_join!(source_side, dest_side)?;
    let batch_role = crate::plan::names::batch_role_name(&resolved.source_bucket);
    role::delete_role(&src, &batch_role, physical_id).await?;
    role::delete_role(&src, &resolved.role_name, physical_id).await
}

/// The owner of the source's replication when it is not this request's resource: the record
/// on our role, or else on the role of the live configuration (another `ReplicationRoleName`).
async fn foreign_owner(
    src: &Account,
    spec: &Spec,
    r: &Resolved,
    record: Option<&Record>,
) -> Result<Option<Owner>, ReconcileError> {
    let theirs = |rec: Option<&Record>| {
        rec.and_then(|rec| rec.owner.clone())
            .filter(|o| r.owner.as_ref().is_some_and(|ours| ours != o))
    };
    if record.is_some() {
        return Ok(theirs(record));
    }
    let live = match src.replication(spec.source.bucket.as_str()).await {
        Ok(live) => live,
        Err(e) if e.is(crate::aws::Code::NoSuchBucket) => None,
        Err(e) => return Err(e.into()),
    };
    let Some(role_name) = live
        .filter(|l| l.role != r.role_arn.as_str())
        .and_then(|l| l.role.rsplit('/').next().map(str::to_owned))
    else {
        return Ok(None);
    };
    Ok(theirs(role::record(src, &role_name).await?.as_ref()))
}

/// What Delete does with created keys: `Delete` only when the record made by Create/Update
/// says so and the Delete event agrees (the longer window of the two); with no record, keys
/// are kept.
fn recorded_removal(record: Option<&Record>, event: KeyRemoval) -> KeyRemoval {
    match (record.and_then(|r| r.key_removal), event) {
        (Some(KeyRemoval::Delete { window_days: a }), KeyRemoval::Delete { window_days: b }) => {
            KeyRemoval::Delete {
                window_days: a.max(b),
            }
        }
        (None, KeyRemoval::Delete { .. }) => {
            tracing::warn!(
                "no record of the KeyRemovalPolicy this resource applied; its keys are kept"
            );
            KeyRemoval::Retain
        }
        _ => KeyRemoval::Retain,
    }
}

async fn cleanup_source(
    src: &Account,
    alarm_accounts: &[Account],
    spec: &Spec,
    r: &Resolved,
    key_removal: KeyRemoval,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let bucket = spec.source.bucket.as_str();
    if let Some(target) = &spec.failure_notification {
        signals::remove_notification(src, r, target, deadline).await?;
    }
    signals::remove_alarms(alarm_accounts, r).await?;
    match src.replication(bucket).await {
        Ok(Some(live)) if live.role == r.role_arn.as_str() => {
            src.delete_replication(bucket).await?
        }
        Ok(_) => {}
        Err(e) if e.is(crate::aws::Code::NoSuchBucket) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(key) = source_key_of(src, spec).await? {
        denied_is_inert(edit_key_policy(src, &key, &r.source_id(), Edit::Remove, deadline).await)?;
        if spec.source.kms_key.creates() && matches!(key_removal, KeyRemoval::Delete { .. }) {
            // The bucket must not keep a default key that is about to be deleted.
            let enc = src.default_encryption(bucket).await.ok().flatten();
            if enc.is_some_and(|e| e.kms_key.as_deref() == Some(key.as_str())) {
                src.put_default_sse_s3(bucket).await?;
            }
            keys::retire_created(src, &source_key_alias(&spec.source.bucket), key_removal).await?;
        }
    }
    Ok(())
}

/// The source key this resource granted on, as it can be found now.
async fn source_key_of(src: &Account, spec: &Spec) -> Result<Option<String>, ReconcileError> {
    Ok(match &spec.source.kms_key {
        SourceKey::Existing(k) => Some(k.to_string()),
        SourceKey::Create => {
            keys::find_created(src, &source_key_alias(&spec.source.bucket)).await?
        }
        SourceKey::Discover => match src.default_encryption(spec.source.bucket.as_str()).await {
            Ok(Some(enc)) if enc.algorithm.is_kms() => match enc.kms_key {
                Some(k) => src
                    .describe_key(&k)
                    .await?
                    .filter(|i| i.customer_managed)
                    .map(|i| i.arn),
                None => None,
            },
            Ok(_) => None,
            Err(e) if e.is(crate::aws::Code::NoSuchBucket) => None,
            Err(e) => return Err(e.into()),
        },
    })
}

/// A removal the policy's owner does not allow (a ReadOnly destination, a key not opted in)
/// leaves a statement granting this resource's role where it no longer replicates (or a role
/// Delete removes): unused, and neither a Delete nor an Update may be left failing on it.
fn denied_is_inert(r: Result<(), ReconcileError>) -> Result<(), ReconcileError> {
    match r {
        Err(e @ ReconcileError::RemovalNotAllowed { .. }) => {
            tracing::warn!(error = %e, "our statement stays, unused");
            Ok(())
        }
        other => other,
    }
}

/// Removes our statements from one destination's bucket policy (unless `removed` is
/// [`Removed::KeyOnly`]) and key policy, and retires its key if this provider created it —
/// unless the plan an Update converged to (`kept`) still uses that key.
#[allow(clippy::too_many_arguments)]
async fn remove_destination(
    removed: Removed,
    conn: &Connector,
    source: &BucketName,
    d: &Destination,
    id: &StatementId,
    removal: KeyRemoval,
    kept: Option<&Plan>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let acct = match connect_destination(conn, d).await {
        Err(e) if unreachable(&e) => {
            tracing::warn!(account = %d.account, region = %d.region, error = %e, "destination unreachable; its statements (if any) are left in place");
            return Ok(());
        }
        other => other?,
    };
    if removed == Removed::Destination {
        denied_is_inert(
            edit_bucket_policy(&acct, d.bucket.as_str(), id, Edit::Remove, deadline, None).await,
        )?;
    }
    let alias = destination_key_alias(source, &d.bucket);
    let key = match &d.kms_key {
        DestinationKey::None => None,
        DestinationKey::Existing(k) => Some(k.to_string()),
        DestinationKey::Create => keys::find_created(&acct, &alias).await?,
    };
    if let Some(key) = key.filter(|k| !kept.is_some_and(|p| diff::key_kept(p, k))) {
        denied_is_inert(edit_key_policy(&acct, &key, id, Edit::Remove, deadline).await)?;
        if d.kms_key.creates() {
            keys::retire_created(&acct, &alias, removal).await?;
        }
    }
    Ok(())
}

/// Update: removes what `old` provisioned that `plan` (built from the new properties, same
/// physical resource) no longer has: statements on dropped destination buckets and keys, the
/// statement on a replaced source key, a renamed role, and the batch role once no destination
/// replicates existing objects.
pub async fn cleanup_removed(
    conn: &Connector,
    old: &Spec,
    new: &Spec,
    src: &Account,
    plan: &Plan,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let r = &plan.resolved;
    let id = r.source_id();
    // Dropped destinations lose everything; kept ones may have moved to another key.
    let removed = old.destinations.iter().map(|d| {
        let removed = diff::removed(d.account.as_str(), d.bucket.as_str(), plan);
        (removed, d)
    });
    let removed = removed.filter(|(removed, d)| {
        *removed == Removed::Destination || d.kms_key != DestinationKey::None
    });
    let dests = bounded(removed.map(|(removed, d)| {
        remove_destination(
            removed,
            conn,
            &old.source.bucket,
            d,
            &id,
            new.key_removal,
            Some(plan),
            deadline,
        )
    }));
    let source = async {
        if let Some(old_key) = source_key_of(src, old)
            .await?
            .filter(|k| Some(k) != plan.source_key().as_ref())
        {
            edit_key_policy(src, &old_key, &r.source_id(), Edit::Remove, deadline).await?;
        }
        let old_role = old
            .replication_role_name
            .clone()
            .unwrap_or_else(|| crate::plan::names::default_role_name(&old.source.bucket));
        if old_role != r.role_name {
            role::delete_role(src, &old_role, &r.physical_id).await?;
        }
        if plan.batch.is_none() && old.replicates_existing_objects() {
            batch::remove_role(src, r).await?;
        }
        let dropped = signals::dropped_alarm_accounts(conn, old, new, src).await?;
        signals::remove_dropped(src, &dropped, old, plan, deadline).await
    };
    futures::try_join!(dests, source)?;
    Ok(())
}
