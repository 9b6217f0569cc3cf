//! Our statements in policies other people own (destination bucket policies, key policies):
//! read, edit by `Sid`, write only when something changed, never touch other statements.
//!
//! S3 and KMS offer no conditional policy writes, so two resources editing one policy at once
//! (a StackSet rolling out to many source accounts that share a backup bucket) can overwrite
//! each other's statement. Every write is therefore verified: after a jittered settle time (at
//! least three times our own read-to-write time) the policy is read again, and the edit is
//! re-applied until a read shows it in place. A writer that read before our write and writes
//! after it is caught by our verification read; the residual risk is a competitor whose
//! read-to-write gap exceeds the settle time.

use serde_json::Value;

use super::retry::{is_propagation_error, Propagation};
use super::ReconcileError;
use crate::aws::{Account, AwsError, ErrorKind};
use crate::plan::notification_doc::NotificationDocument;
use crate::plan::overlap::Overlap;
use crate::plan::policy_doc::{PolicyDocument, PolicyParseError};
use crate::plan::{StatementId, BUCKET_POLICY_LIMIT, KEY_POLICY_LIMIT};
use crate::time::Deadline;

/// Writes before giving up on a contended policy.
const MAX_ROUNDS: u32 = 12;
/// Verifying reads after others changed the policy (keeping our statement) before we accept it.
const MAX_VERIFICATIONS: u32 = 30;

/// Counts policy edits whose first write is done (or that needed none), so the replication
/// configuration can be switched on while shared policies are still being verified: S3 needs
/// the grants written before objects flow, not our re-reads of them.
pub struct Written(tokio::sync::Semaphore);

impl Written {
    pub fn new() -> Self {
        Self(tokio::sync::Semaphore::new(0))
    }

    /// Marks one edit written.
    pub fn mark(&self) {
        self.0.add_permits(1);
    }

    /// Resolves once `n` edits are marked.
    pub async fn all(&self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Ok(p) = self.0.acquire_many(n).await {
            p.forget();
        }
    }
}

/// Marks its edit written once: at the first write, or when the edit ends without one.
/// Not on failure: the request fails then, and nothing waiting for it may proceed.
struct Mark<'a>(Option<&'a Written>);

impl Mark<'_> {
    fn fire(&mut self) {
        if let Some(w) = self.0.take() {
            w.mark();
        }
    }
}

/// What to do with the statement identified by a [`StatementId`].
pub enum Edit<'a> {
    Upsert(&'a Value),
    /// A destination bucket statement, refused when the objects it grants overlap another
    /// source's statement in the same policy (see [`crate::plan::overlap`]), but the statements
    /// of the `tolerated` principals.
    UpsertExclusive {
        statement: &'a Value,
        tolerated: &'a [String],
    },
    Remove,
}

/// Why an edit was not made: the document holds something that is not ours to change.
#[derive(Debug)]
enum Refusal {
    /// The entry at our id is not what the provider writes for this owner.
    NotOurs(Value),
    /// Other sources' statements grant writes into the same objects.
    Overlaps(Vec<Overlap>),
}

impl Edit<'_> {
    /// Applies the edit to `doc`; `Ok(false)` when nothing changed. Only entries the id's
    /// claim owns are replaced or removed, and an entry at a legacy id that it owns is
    /// upgraded in its place; entries it does not own are never touched.
    fn apply(&self, doc: &mut impl Document, id: &StatementId) -> Result<bool, Refusal> {
        let owned_legacy: Vec<&str> = id
            .legacy
            .iter()
            .map(String::as_str)
            .filter(|l| *l != id.sid && doc.entry(l).is_some_and(|e| id.claim.owns(&e)))
            .collect();
        let current = doc.entry(&id.sid);
        let statement = match self {
            Edit::Upsert(s) | Edit::UpsertExclusive { statement: s, .. } => *s,
            Edit::Remove => {
                let mut changed = false;
                match current {
                    Some(c) if id.claim.owns(&c) => changed |= doc.remove(&id.sid),
                    Some(c) => {
                        tracing::warn!(sid = %id.sid, found = %c, "the statement with our Sid is not ours; left in place")
                    }
                    None => {}
                }
                for legacy in owned_legacy {
                    changed |= doc.remove(legacy);
                }
                return Ok(changed);
            }
        };
        if let Some(c) = current.as_ref().filter(|c| !id.claim.owns(c)) {
            return Err(Refusal::NotOurs(c.clone()));
        }
        if let Edit::UpsertExclusive { tolerated, .. } = self {
            let overlaps = doc.overlaps(id, statement, tolerated);
            if !overlaps.is_empty() {
                return Err(Refusal::Overlaps(overlaps));
            }
        }
        let mut changed = match (current, owned_legacy.first()) {
            (None, Some(first)) => doc.replace(first, statement),
            _ => doc.upsert(&id.sid, statement),
        };
        for legacy in owned_legacy {
            changed |= doc.remove(legacy);
        }
        Ok(changed)
    }
}

/// A document others write too, in which this resource edits one entry by its id: a policy
/// (statements by `Sid`) or a bucket's notification configuration (configurations by `Id`).
pub(super) trait Document: Sized {
    fn parse_or_new(text: Option<&str>) -> Result<Self, PolicyParseError>;
    /// The entry with this id, parsed.
    fn entry(&self, id: &str) -> Option<Value>;
    /// Puts `entry` in place; false when an equivalent one is there already.
    fn upsert(&mut self, id: &str, entry: &Value) -> bool;
    /// Puts `entry` where the entry `old` is (an id upgraded in place).
    fn replace(&mut self, old: &str, entry: &Value) -> bool;
    /// Removes the entry; false when there was none.
    fn remove(&mut self, id: &str) -> bool;
    /// What of other owners' entries overlaps `entry` (only policies have such a notion).
    fn overlaps(&self, _ours: &StatementId, _entry: &Value, _tolerated: &[String]) -> Vec<Overlap> {
        Vec::new()
    }
    fn is_empty(&self) -> bool;
    fn render(&self) -> String;
}

impl Document for PolicyDocument {
    fn parse_or_new(text: Option<&str>) -> Result<Self, PolicyParseError> {
        PolicyDocument::parse_or_new(text)
    }
    fn entry(&self, id: &str) -> Option<Value> {
        self.get(id)
    }
    fn upsert(&mut self, id: &str, entry: &Value) -> bool {
        PolicyDocument::upsert(self, id, entry)
    }
    fn replace(&mut self, old: &str, entry: &Value) -> bool {
        PolicyDocument::replace(self, old, entry)
    }
    fn remove(&mut self, id: &str) -> bool {
        PolicyDocument::remove(self, id)
    }
    fn overlaps(&self, ours: &StatementId, entry: &Value, tolerated: &[String]) -> Vec<Overlap> {
        crate::plan::overlap::overlapping(self, ours, entry, tolerated)
    }
    fn is_empty(&self) -> bool {
        PolicyDocument::is_empty(self)
    }
    fn render(&self) -> String {
        PolicyDocument::render(self)
    }
}

impl Document for NotificationDocument {
    fn parse_or_new(text: Option<&str>) -> Result<Self, PolicyParseError> {
        NotificationDocument::parse_or_new(text)
    }
    fn entry(&self, id: &str) -> Option<Value> {
        NotificationDocument::get(self, id).cloned()
    }
    fn upsert(&mut self, id: &str, entry: &Value) -> bool {
        NotificationDocument::upsert(self, id, entry)
    }
    fn replace(&mut self, old: &str, entry: &Value) -> bool {
        let id = entry
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or(old)
            .to_owned();
        NotificationDocument::remove(self, old) | NotificationDocument::upsert(self, &id, entry)
    }
    fn remove(&mut self, id: &str) -> bool {
        NotificationDocument::remove(self, id)
    }
    fn is_empty(&self) -> bool {
        NotificationDocument::is_empty(self)
    }
    fn render(&self) -> String {
        NotificationDocument::render(self)
    }
}

/// What a converged write produced.
pub(super) enum Write {
    Put(String),
    /// The policy would be left without statements: delete it.
    Empty,
}

/// How one kind of policy is stored, and who waits for the first write.
pub(super) struct Kind<'a> {
    pub limit: usize,
    /// Verify writes against concurrent writers (off for policies only this resource writes).
    pub shared: bool,
    /// Whether an empty policy is deleted (bucket policies) or left alone (key policies, which
    /// KMS requires).
    pub deletable: bool,
    pub written: Option<&'a Written>,
    /// Until when a write refused because a principal is not visible yet is retried.
    pub deadline: Deadline,
    /// Whether the document is its owner's to write, so that a refused write means "add this
    /// yourself" (destination bucket and key policies); otherwise a refusal is the provider's
    /// own missing permission, reported as AWS's error.
    pub owner_writes: bool,
}

/// Reads, edits and writes until a read shows the edit in place (or nothing needed changing).
/// Each round's read and write run in one call slot (`read` and `write` get the clients to use),
/// so the read-to-write gap a concurrent writer could fall into is AWS's time, not ours spent
/// queueing behind this invocation's other calls. A write refused while IAM propagates a
/// principal it names gives the slot back, waits its backoff, and starts the round again.
pub(super) async fn converge<D, R, W>(
    acct: &Account,
    what: &str,
    kind: Kind<'_>,
    edit: &Edit<'_>,
    id: &StatementId,
    mut read: R,
    mut write: W,
) -> Result<(), ReconcileError>
where
    D: Document,
    R: AsyncFnMut(&Account) -> Result<Option<Option<String>>, AwsError>,
    W: AsyncFnMut(&Account, Write) -> Result<(), AwsError>,
{
    let mut writes = 0;
    let mut verifications = 0;
    let mut propagation = Propagation::default();
    // What the policy was after our last write, or at the last verifying read.
    let mut last: Option<Option<String>> = None;
    let mut window = std::time::Duration::ZERO;
    let mut mark = Mark(kind.written);
    loop {
        let (slot_acct, slot) = acct.reserve_slot().await;
        let round_start = std::time::Instant::now();
        // `None`: the resource is gone (nothing to remove); `Some(None)`: no policy yet.
        let Some(current) = read(&slot_acct).await? else {
            mark.fire();
            return Ok(());
        };
        let mut doc = D::parse_or_new(current.as_deref()).map_err(|source| {
            ReconcileError::PolicyUnreadable {
                what: what.to_owned(),
                source,
            }
        })?;
        let changed = edit.apply(&mut doc, id).map_err(|refusal| match refusal {
            Refusal::NotOurs(found) => ReconcileError::StatementNotOurs {
                what: what.to_owned(),
                sid: id.sid.clone(),
                found: found.to_string(),
                claim: id.claim.describe(),
            },
            Refusal::Overlaps(others) => ReconcileError::KeySpaceShared {
                what: what.to_owned(),
                others: others
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
                principals: others.into_iter().filter_map(|o| o.principal).collect(),
            },
        })?;
        let in_place = !changed || (doc.is_empty() && !kind.deletable);
        if in_place {
            // Nothing written by us, or the policy has not changed since we last looked: done.
            // Otherwise someone else wrote meanwhile (keeping our statement); a writer that read
            // before that may still overwrite it, so look again once things are quiet.
            if writes == 0 || last.as_ref() == Some(&current) || verifications >= MAX_VERIFICATIONS
            {
                mark.fire();
                return Ok(());
            }
            verifications += 1;
            last = Some(current);
        } else {
            if writes >= MAX_ROUNDS {
                return Err(ReconcileError::Contended {
                    what: what.to_owned(),
                    rounds: MAX_ROUNDS,
                });
            }
            if writes > 0 {
                tracing::warn!(
                    what,
                    writes,
                    "a concurrent writer replaced this policy; re-applying our statement"
                );
            }
            let (w, text) = if doc.is_empty() {
                (Write::Empty, None)
            } else {
                let text = doc.render();
                if text.len() > kind.limit {
                    return Err(ReconcileError::PolicyTooLarge {
                        what: what.to_owned(),
                        size: text.len(),
                        limit: kind.limit,
                    });
                }
                (Write::Put(text.clone()), Some(text))
            };
            match write(&slot_acct, w).await {
                Ok(()) => {}
                Err(e) if is_propagation_error(&e) => {
                    drop(slot);
                    propagation.wait(kind.deadline, what, e).await?;
                    continue;
                }
                // The policy is its owner's to write (a ReadOnly destination, a key not opted in):
                // say exactly what to add.
                Err(e) if e.kind == ErrorKind::AccessDenied && kind.owner_writes => {
                    return Err(match edit {
                        Edit::Upsert(statement) | Edit::UpsertExclusive { statement, .. } => {
                            ReconcileError::GrantNotWritable {
                                what: what.to_owned(),
                                statement: statement.to_string(),
                                source: e,
                            }
                        }
                        Edit::Remove => ReconcileError::RemovalNotAllowed {
                            what: what.to_owned(),
                            source: e,
                        },
                    });
                }
                Err(e) => return Err(e.into()),
            }
            writes += 1;
            last = Some(text);
            window = window.max(round_start.elapsed());
            mark.fire();
            if acct.settle.is_zero() || !kind.shared {
                return Ok(());
            }
        }
        // A competitor's read-modify-write takes about as long as ours did: wait well past it
        // (at least the configured settle time) before the verifying read, holding no slot.
        drop(slot);
        tokio::time::sleep(
            acct.settle
                .max(window * 3)
                .mul_f64(1.0 + fastrand::f64() / 2.0),
        )
        .await;
    }
}

/// Edits the statement `sid` in `bucket`'s policy; deletes the policy if it would be left empty.
/// A bucket that does not exist has nothing to remove.
pub async fn edit_bucket_policy(
    acct: &Account,
    bucket: &str,
    id: &StatementId,
    edit: Edit<'_>,
    deadline: Deadline,
    written: Option<&Written>,
) -> Result<(), ReconcileError> {
    let what = format!(
        "bucket policy of {bucket} in account {} ({})",
        acct.id, acct.region
    );
    let removing = matches!(edit, Edit::Remove);
    let read = async |acct: &Account| match acct.bucket_policy(bucket).await {
        Err(e) if e.is(crate::aws::Code::NoSuchBucket) && removing => Ok(None),
        other => other.map(Some),
    };
    let write = async |acct: &Account, w: Write| match w {
        Write::Empty => acct.delete_bucket_policy(bucket).await,
        Write::Put(text) => acct.put_bucket_policy(bucket, &text).await,
    };
    converge::<PolicyDocument, _, _>(
        acct,
        &what,
        Kind {
            limit: BUCKET_POLICY_LIMIT,
            shared: true,
            deletable: true,
            written,
            deadline,
            owner_writes: true,
        },
        &edit,
        id,
        read,
        write,
    )
    .await
}

/// Edits the statement `sid` in the key's policy. A key policy is never left empty (KMS needs
/// one; ours are only added to policies that have other statements). A key that is gone or
/// pending deletion has no statement of ours left to remove.
pub async fn edit_key_policy(
    acct: &Account,
    key: &str,
    id: &StatementId,
    edit: Edit<'_>,
    deadline: Deadline,
) -> Result<(), ReconcileError> {
    edit_key_policy_of(acct, key, id, edit, deadline, true, None).await
}

/// [`edit_key_policy`], for a key only this resource writes the policy of when `shared` is false.
pub async fn edit_key_policy_of(
    acct: &Account,
    key: &str,
    id: &StatementId,
    edit: Edit<'_>,
    deadline: Deadline,
    shared: bool,
    written: Option<&Written>,
) -> Result<(), ReconcileError> {
    let what = format!("key policy of {key}");
    let removing = matches!(edit, Edit::Remove);
    let read = async |acct: &Account| match acct.key_policy(key).await {
        Err(e)
            if removing
                && (e.kind == ErrorKind::NotFound || e.is(crate::aws::Code::KeyInvalidState)) =>
        {
            Ok(None)
        }
        other => other.map(|p| Some(Some(p))),
    };
    let write = async |acct: &Account, w: Write| match w {
        // Not produced for key policies (`deletable: false`).
        Write::Empty => Ok(()),
        Write::Put(text) => acct.put_key_policy(key, &text).await,
    };
    converge::<PolicyDocument, _, _>(
        acct,
        &what,
        Kind {
            limit: KEY_POLICY_LIMIT,
            shared,
            deletable: false,
            written,
            deadline,
            owner_writes: true,
        },
        &edit,
        id,
        read,
        write,
    )
    .await
}
