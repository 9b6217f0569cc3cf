//! Our statements in policies other people own (destination bucket policies, key policies):
//! read, edit by `Sid`, write only when something changed, never touch other statements.

use serde_json::Value;

use super::retry::{until_propagated, Deadline};
use super::ReconcileError;
use crate::aws::{Account, ErrorKind};
use crate::plan::policy_doc::PolicyDocument;
use crate::plan::{BUCKET_POLICY_LIMIT, KEY_POLICY_LIMIT};

/// What to do with the statement carrying `sid`.
pub enum Edit<'a> {
    Upsert(&'a Value),
    Remove,
}

impl Edit<'_> {
    fn apply(&self, doc: &mut PolicyDocument, sid: &str) -> bool {
        match self {
            Edit::Upsert(statement) => doc.upsert(sid, statement),
            Edit::Remove => doc.remove(sid),
        }
    }
}

/// Edits the statement `sid` in `bucket`'s policy; deletes the policy if it would be left empty.
/// A bucket that does not exist has nothing to remove.
pub async fn edit_bucket_policy(
    acct: &Account,
    bucket: &str,
    sid: &str,
    edit: Edit<'_>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let current = match acct.bucket_policy(bucket).await {
        Err(e) if e.is("NoSuchBucket") && matches!(edit, Edit::Remove) => return Ok(()),
        other => other?,
    };
    let what = || {
        format!(
            "bucket policy of {bucket} in account {} ({})",
            acct.id, acct.region
        )
    };
    let mut doc = PolicyDocument::parse_or_new(current.as_deref()).map_err(|source| {
        ReconcileError::PolicyUnreadable {
            what: what(),
            source,
        }
    })?;
    if !edit.apply(&mut doc, sid) {
        return Ok(());
    }
    if doc.is_empty() {
        return Ok(acct.delete_bucket_policy(bucket).await?);
    }
    let text = doc.render();
    check_size(&text, BUCKET_POLICY_LIMIT, what)?;
    until_propagated(deadline, "PutBucketPolicy", || {
        acct.put_bucket_policy(bucket, &text)
    })
    .await?;
    Ok(())
}

/// Edits the statement `sid` in the key's policy. A key policy is never left empty: KMS needs
/// one, and ours are only ever added to policies that have other statements.
pub async fn edit_key_policy(
    acct: &Account,
    key: &str,
    sid: &str,
    edit: Edit<'_>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    let current = match acct.key_policy(key).await {
        // A key that is gone or pending deletion has no statement of ours left to remove.
        Err(e)
            if matches!(edit, Edit::Remove)
                && (e.kind == ErrorKind::NotFound || e.is("KMSInvalidStateException")) =>
        {
            return Ok(())
        }
        other => other?,
    };
    let what = || format!("key policy of {key}");
    let mut doc =
        PolicyDocument::parse(&current).map_err(|source| ReconcileError::PolicyUnreadable {
            what: what(),
            source,
        })?;
    if !edit.apply(&mut doc, sid) || doc.is_empty() {
        return Ok(());
    }
    let text = doc.render();
    check_size(&text, KEY_POLICY_LIMIT, what)?;
    until_propagated(deadline, "PutKeyPolicy", || acct.put_key_policy(key, &text)).await?;
    Ok(())
}

fn check_size(text: &str, limit: usize, what: impl Fn() -> String) -> Result<(), ReconcileError> {
    if text.len() > limit {
        return Err(ReconcileError::PolicyTooLarge {
            what: what(),
            size: text.len(),
            limit,
        });
    }
    Ok(())
}
