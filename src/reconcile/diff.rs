//! Pure comparisons of what is live with what the plan wants. Apply writes what these say
//! differs, and `plan --diff` shows the same answers: one decision, two uses. Removals (what an
//! Update takes away) are decided here too, once.

use serde::Serialize;
use serde_json::Value;

use crate::aws::{DefaultEncryption, LiveReplication};
use crate::plan::policy_doc::{equivalent, PolicyDocument};
use crate::plan::{KeyRef, Plan, ReplicationConfig};

/// What converging one thing takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// What the live state (written by this resource) has that the properties lack: an
    /// Update to them removes it.
    Remove,
}

impl Action {
    /// Whether converging takes a write.
    pub fn changes(self) -> bool {
        self != Action::Unchanged
    }

    fn update_if(differs: bool) -> Action {
        if differs {
            Action::Update
        } else {
            Action::Unchanged
        }
    }
}

/// A bucket's versioning: enabled is what replication needs (and is never suspended here).
pub fn versioning(enabled: bool) -> Action {
    Action::update_if(!enabled)
}

/// A bucket's default encryption: SSE-KMS with exactly `key`.
pub fn default_encryption(current: Option<&DefaultEncryption>, key: &str) -> Action {
    Action::update_if(!current.is_some_and(|c| c.is_kms_with(key)))
}

/// A key: one to create, or one that exists.
pub fn key(key: &KeyRef) -> Action {
    match key {
        KeyRef::ToCreate { .. } => Action::Create,
        KeyRef::Existing(_) => Action::Unchanged,
    }
}

/// A whole document this resource owns (the role's trust policy, its inline policy), `None`
/// when it does not exist. Compared as IAM does: order of list members and one-element lists
/// are not differences.
pub fn document(current: Option<&str>, desired: &Value) -> Action {
    match current {
        None => Action::Create,
        Some(text) => Action::update_if(
            !serde_json::from_str::<Value>(text).is_ok_and(|c| equivalent(&c, desired)),
        ),
    }
}

/// Our statement `sid` in a policy someone else owns (`None`: no policy yet).
pub fn statement(policy: Option<&str>, sid: &str, desired: &Value) -> Action {
    match current_statement(policy, sid) {
        None => Action::Create,
        Some(current) => Action::update_if(!equivalent(&current, desired)),
    }
}

/// The statement `sid` of a policy, if it has one.
pub fn current_statement(policy: Option<&str>, sid: &str) -> Option<Value> {
    policy
        .and_then(|p| PolicyDocument::parse(p).ok())
        .and_then(|d| d.get(sid))
}

/// A role's permissions boundary (set only when the function is told one).
pub fn boundary(current: Option<&str>, desired: &str) -> Action {
    Action::update_if(current != Some(desired))
}

/// The tags of `desired` a role lacks or has with another value.
pub fn role_tags<'a>(
    current: impl Fn(&str) -> Option<&'a str>,
    desired: &'a [(&'static str, String)],
) -> Vec<(&'static str, &'a str)> {
    desired
        .iter()
        .filter(|(k, v)| current(k) != Some(v.as_str()))
        .map(|(k, v)| (*k, v.as_str()))
        .collect()
}

/// Whether the live configuration has exactly the planned rules (id, priority, status,
/// destination) under the planned role: the fields S3 reads back faithfully.
pub fn same_rules(live: &LiveReplication, desired: &ReplicationConfig) -> bool {
    live.role == desired.role
        && live.rules.len() == desired.rules.len()
        && desired.rules.iter().all(|d| {
            live.rules.iter().any(|l| {
                l.id == d.id
                    && l.priority == Some(d.priority)
                    && l.enabled
                    && l.destination_bucket == d.destination.bucket
            })
        })
}

/// The source's replication configuration: unchanged when the live one has the planned rules
/// and was written from the same desired document (its digest, `recorded` on the role).
pub fn replication(
    live: Option<&LiveReplication>,
    desired: &ReplicationConfig,
    recorded: Option<&str>,
) -> Action {
    match live {
        None => Action::Create,
        Some(l) => Action::update_if(
            !(same_rules(l, desired) && recorded == Some(desired.digest().as_str())),
        ),
    }
}

/// What an Update removes of one destination the previous configuration replicated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The plan no longer replicates to the bucket: our statements on it and on its key go.
    Destination,
    /// The bucket is still a destination: only our grant on a key the plan no longer uses.
    KeyOnly,
}

/// What goes of a previous destination (`account`, `bucket`) under the new plan.
pub fn removed(account: &str, bucket: &str, plan: &Plan) -> Removed {
    let kept = plan
        .destinations
        .iter()
        .any(|d| d.account.as_str() == account && d.bucket.as_str() == bucket);
    if kept {
        Removed::KeyOnly
    } else {
        Removed::Destination
    }
}

/// Whether the plan still grants on `key` (so a removal must leave its statement).
pub fn key_kept(plan: &Plan, key: &str) -> bool {
    plan.destinations
        .iter()
        .any(|d| d.kms_key.as_deref() == Some(key))
}

#[cfg(test)]
mod tests;
