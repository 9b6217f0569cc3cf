//! `doctor`: given a snapshot of live state, evaluate every link of the permission chain S3
//! replication exercises, under AWS's documented policy evaluation logic, and report each link as
//! pass, fail or cannot-decide, with the statement to add for each failure.
//!
//! Pure: no AWS calls. The layers read as the modules:
//!
//! - [`request`]: who asks for what, with which condition keys, in three-valued logic;
//! - [`matching`]: actions, resources, ARNs and principals matched against a request;
//! - [`condition`]: the `Condition` element (operators, set qualifiers, `IfExists`, missing keys);
//! - [`document`]: a policy document's shape (stored as an object or a JSON string; its
//!   statements and their labels);
//! - [`eval`]: one policy document against one request (Effect, Action/NotAction,
//!   Resource/NotResource, Principal/NotPrincipal, Condition), in Kleene three-valued logic so
//!   that what the evaluator cannot decide is reported as such and never passes;
//! - [`lint`]: what in a document AWS would not read as meant (malformed actions and resources,
//!   deleted principals, empty lists), to explain a failed link;
//! - [`decide`]: how AWS combines documents (same-account, cross-account, KMS key policies,
//!   role trust policies);
//! - [`links`]: the [`Snapshot`] of live state and the links replication exercises, checked into
//!   [`Finding`]s (one file per kind of link);
//! - [`render`]: one line per link, or JSON;
//! - [`live`]: the doctor's reader: the live state of one source bucket's replication, read
//!   (read-only) in every account it involves into a [`Snapshot`]; the only module here that
//!   calls AWS;
//! - `expected` (tests only): the snapshot the provider's own [`crate::plan::Plan`] converges
//!   to, which makes the doctor a test oracle for the provider's documents.
//!
//! What is not modelled (so a Pass is "the documents given allow it"): service control policies,
//! resource control policies, permissions boundaries, session policies, KMS grants, S3 ACLs and
//! Block Public Access, and VPC endpoint policies.

pub mod condition;
pub mod covers;
pub mod decide;
pub mod document;
pub mod eval;
#[cfg(test)]
pub mod expected;
pub mod links;
pub mod lint;
pub mod live;
pub mod matching;
pub mod render;
pub mod request;

pub use decide::{Document, Side, Verdict};
pub use eval::{evaluate, Context, Decision, Evaluation, PolicyKind, Principal, Request, Tri};
#[cfg(test)]
pub use expected::snapshot_from_plan;
pub use links::{
    check, BatchJob, DestinationBucket, FailedReplications, FailureNotification, Finding, Key,
    NamedPolicy, ReplicationRole, RuleAlarm, Signals, Snapshot, SourceBucket, Status, Versioning,
    FAILED_OBJECTS,
};
pub use render::{render, render_json, render_text, Format};

#[cfg(test)]
mod tests;
