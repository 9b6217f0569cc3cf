//! Reading the live state of one source bucket's replication, in every account it involves,
//! into the doctor's [`Snapshot`]. Read-only: no call here changes anything.

use serde_json::Value;

use crate::aws::{Account, AwsError, Connector};
use crate::doctor::{
    DestinationBucket, Key, NamedPolicy, ReplicationRole, Snapshot, SourceBucket, Versioning,
};
use crate::spec::{AccountId, Region, RoleArn, DEFAULT_DESTINATION_ROLE_NAME};

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("bucket {bucket} in account {account} ({region}) has no replication configuration: nothing to diagnose")]
    NoReplication {
        bucket: String,
        account: String,
        region: String,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Where to look: the source bucket, and how to reach each destination account.
#[derive(Debug, Clone)]
pub struct Target {
    pub bucket: String,
    pub region: Region,
    pub source_role: Option<RoleArn>,
    /// Roles (with external ids) to assume per destination account; others use the default
    /// provisioner role.
    pub destination_roles: Vec<(RoleArn, Option<String>)>,
}

impl Target {
    /// What a resource with these properties provisioned, in `region`.
    pub fn of_spec(spec: &crate::spec::Spec, region: Region) -> Self {
        Self {
            bucket: spec.source.bucket.to_string(),
            region,
            source_role: spec.source.role_arn.clone(),
            destination_roles: spec
                .destinations
                .iter()
                .map(|d| (d.role_arn(), d.external_id.clone()))
                .collect(),
        }
    }
}

fn versioning(status: &str) -> Versioning {
    match status {
        "Enabled" => Versioning::Enabled,
        "Suspended" => Versioning::Suspended,
        _ => Versioning::Disabled,
    }
}

fn json_or_string(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

async fn key(acct: &Account, id: &str) -> Result<Option<Key>, AwsError> {
    let Some(info) = acct.describe_key(id).await? else {
        return Ok(None);
    };
    let policy = acct.key_policy(&info.arn).await?;
    Ok(Some(Key {
        arn: info.arn,
        policy: json_or_string(&policy),
        state: info.state,
        spec: info.spec,
        region: acct.region.to_string(),
    }))
}

/// Reads everything the doctor evaluates.
pub async fn snapshot(conn: &Connector, t: &Target) -> Result<Snapshot, InspectError> {
    let src = conn.source(t.source_role.as_ref(), &t.region).await?;
    let bucket = t.bucket.as_str();
    let Some(live) = src.replication(bucket).await? else {
        return Err(InspectError::NoReplication {
            bucket: bucket.to_owned(),
            account: src.id.to_string(),
            region: src.region.to_string(),
        });
    };
    let enc = src.default_encryption(bucket).await?;
    let source_key = match enc.as_ref().filter(|e| e.algorithm.starts_with("aws:kms")) {
        Some(e) => key(&src, e.kms_key.as_deref().unwrap_or("alias/aws/s3")).await?,
        None => None,
    };
    let source = SourceBucket {
        account: src.id.to_string(),
        region: src.region.to_string(),
        bucket: bucket.to_owned(),
        versioning: versioning(&src.versioning_status(bucket).await?),
        requester_pays: src.requester_pays(bucket).await?,
        object_lock: src.object_lock(bucket).await?,
        bucket_policy: src.bucket_policy(bucket).await?.map(|p| json_or_string(&p)),
        key: source_key,
        bucket_key: enc.is_some_and(|e| e.bucket_key),
    };
    let role = read_role(&src, &live.role).await?;
    let mut destinations = Vec::new();
    for rule in live.rules.iter().filter(|r| r.enabled) {
        let dest_bucket = rule
            .destination_bucket
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let account = rule
            .destination_account
            .clone()
            .unwrap_or_else(|| src.id.to_string());
        let account_id = AccountId::parse(&account).map_err(InspectError::Invalid)?;
        let (role_arn, external_id) = t
            .destination_roles
            .iter()
            .find(|(r, _)| r.account() == &account_id)
            .cloned()
            .unwrap_or_else(|| {
                (
                    RoleArn::for_name(
                        t.region.partition(),
                        &account_id,
                        "/",
                        DEFAULT_DESTINATION_ROLE_NAME,
                    ),
                    None,
                )
            });
        // The bucket's region decides the clients; ask from any region first.
        let probe = conn
            .assumed(&role_arn, external_id.as_deref(), &t.region)
            .await?;
        let region = probe
            .bucket_region(&dest_bucket)
            .await?
            .unwrap_or_else(|| t.region.to_string());
        let region = Region::parse(&region).map_err(InspectError::Invalid)?;
        let acct = conn
            .assumed(&role_arn, external_id.as_deref(), &region)
            .await?;
        let dest_enc = acct.default_encryption(&dest_bucket).await?;
        destinations.push(DestinationBucket {
            account,
            region: region.to_string(),
            bucket_policy: acct
                .bucket_policy(&dest_bucket)
                .await?
                .map(|p| json_or_string(&p)),
            versioning: versioning(&acct.versioning_status(&dest_bucket).await?),
            requester_pays: acct.requester_pays(&dest_bucket).await?,
            object_lock: acct.object_lock(&dest_bucket).await?,
            key: match &rule.replica_kms_key {
                Some(k) => key(&acct, k).await?,
                None => None,
            },
            bucket_key: dest_enc.is_some_and(|e| e.bucket_key),
            owner_override: rule.owner_override,
            sse_kms: rule.sse_kms,
            prefix: rule.prefix.clone(),
            bucket: dest_bucket,
        });
    }
    Ok(Snapshot {
        partition: t.region.partition().to_owned(),
        source,
        role,
        destinations,
    })
}

async fn read_role(src: &Account, arn: &str) -> Result<ReplicationRole, InspectError> {
    let name = arn.rsplit('/').next().unwrap_or_default();
    let info = src.role(name).await?;
    let mut policies = Vec::new();
    for policy in src.role_policy_names(name).await? {
        if let Some(doc) = src.role_policy(name, &policy).await? {
            policies.push(NamedPolicy {
                name: policy,
                document: json_or_string(&doc),
            });
        }
    }
    Ok(ReplicationRole {
        arn: arn.to_owned(),
        trust_policy: info.map_or(Value::Null, |i| json_or_string(&i.trust_policy)),
        policies,
        unique_id: None,
        organization: None,
    })
}
