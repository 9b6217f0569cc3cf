use crate::aws::AwsError;
use crate::plan::PlanError;

/// A step of Create/Update/Delete that could not be done, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("no source region: set SourceRegion or AWS_REGION for the function")]
    NoRegion,
    #[error("bucket {bucket} does not exist in account {account} ({region}){hint}")]
    BucketMissing {
        bucket: String,
        account: String,
        region: String,
        hint: &'static str,
    },
    #[error("bucket {bucket} is in region {actual}, not {expected}; set {property} to {actual}")]
    WrongRegion {
        bucket: String,
        actual: String,
        expected: String,
        property: String,
    },
    #[error("source bucket {bucket} already has a replication configuration written by someone else (role {role}; rules: {rules}); refusing to overwrite it. Remove it, or set TakeOverExistingReplication: true to replace it")]
    ForeignReplication {
        bucket: String,
        role: String,
        rules: String,
    },
    #[error("KMS key {key} in account {account} ({region}) cannot be used: {why}")]
    KeyUnusable {
        key: String,
        account: String,
        region: String,
        why: String,
    },
    #[error("the replication of source bucket {bucket} belongs to {owner}; a second resource may not change or remove it. Remove it from that stack first, or set TakeOverExistingReplication: true on this resource to move it here")]
    OwnedByAnother { bucket: String, owner: String },
    #[error("destination {index} ({bucket}) is in account {account}, which this provider may not reach: its stack allows only {allowed} (parameter DestinationAccountIds of sam/source-account/template.yaml); add the account there or choose another destination")]
    DestinationNotAllowed {
        index: usize,
        bucket: String,
        account: String,
        allowed: String,
    },
    #[error("the provider may not write the {what} ({source}). Add this statement to it yourself (a destination deployed with ProviderAccess ReadOnly, or a key whose owner has not opted it in, expects that; `bootstrap plan` prints every statement), or let the provider write it (name the bucket in the destination role's DestinationBucketNamePattern; tag the key s3-replication:provider-may-edit-policy=true): {statement}")]
    GrantNotWritable {
        what: String,
        statement: String,
        #[source]
        source: crate::aws::AwsError,
    },
    #[error("the provider may not remove its statement from the {what} ({source}); remove it yourself if you want it gone: it grants a role that no longer replicates there")]
    RemovalNotAllowed {
        what: String,
        #[source]
        source: crate::aws::AwsError,
    },
    #[error("the provider is misconfigured: {0}; fix the provider stack's parameters")]
    ProviderMisconfigured(String),
    #[error("role {role} in account {account} exists but was not created by this provider (it lacks the s3-replication:managed tag); choose another ReplicationRoleName or delete the role")]
    RoleNotOurs { role: String, account: String },
    #[error("role {role} trusts other principals than the provider gives it (its trust policy is {found}); the provider never rewrites a role's trust (whoever controls the function could otherwise make the role assumable from outside), so nothing was changed. Restore its trust policy to {trust}, or delete the role (the next Create makes it again)")]
    RoleTrustChanged {
        role: String,
        found: String,
        trust: String,
    },
    #[error("{what} would be {size} bytes, above the {limit}-byte limit; remove unused statements from it, or set OrganizationId (organization mode: one statement per destination for all sources) for large fleets")]
    PolicyTooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    #[error("{what}: {source}")]
    PolicyUnreadable {
        what: String,
        #[source]
        source: crate::plan::policy_doc::PolicyParseError,
    },
    #[error("{what} kept being overwritten by concurrent writers ({rounds} rounds); many resources are editing it at once: retry, or use OrganizationId for large fleets")]
    Contended { what: String, rounds: u32 },
    #[error("FailureNotification {arn} does not exist in account {account} ({region}); create the {kind} first (nothing was changed), or remove FailureNotification")]
    NotificationTargetMissing {
        arn: String,
        account: String,
        region: String,
        kind: &'static str,
    },
    #[error("AlarmTopics {arn} cannot serve the alarms: {why} (nothing was changed)")]
    AlarmTopicUnusable { arn: String, why: String },
    #[error("BatchReplication.ReportBucket {bucket} is in region {actual}, but the S3 Batch Replication jobs run in the source region {expected} and write their reports and manifests there; name a bucket in {expected}, or leave ReportBucket out to use the source bucket")]
    ReportBucketElsewhere {
        bucket: String,
        actual: String,
        expected: String,
    },
    #[error("OrganizationId {given} is not the organization of the source account {account}: {found}. Organization statements admit every replication role of the organization they name, so only the source account's own organization is accepted; nothing was changed. Set OrganizationId to it, or leave it out")]
    OrganizationNotVerified {
        given: String,
        account: String,
        found: String,
    },
    #[error("the {what} has a statement with the Sid {sid} that the provider did not write for this source (expected {claim}; found {found}); it is left as it is and nothing was written there. Remove or rename that statement if it is not needed, then retry")]
    StatementNotOurs {
        what: String,
        sid: String,
        found: String,
        claim: String,
    },
    #[error("the {what} already lets another source replicate into objects this source's rule would write ({others}); S3 replication keeps object keys, so the two sources would overwrite each other's current versions. Give this destination a Prefix that no other source uses, or, if the bucket's owner wants sources to share objects, have the owner tag the bucket s3-replication:shared-key-space=true (no source can set that tag)")]
    KeySpaceShared {
        what: String,
        others: String,
        /// The overlapping statements' principals, where each names one.
        principals: Vec<String>,
    },
    #[error("{what} could not be read: {why}")]
    LiveStateUnreadable { what: String, why: String },
    #[error("{0} did not finish before the deadline; the step that was running is named in the log. Update the stack again to resume")]
    DeadlineExceeded(String),
}
