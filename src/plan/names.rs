//! Names derived from the source bucket: stable across invocations and versions, so that every
//! run finds what an earlier run made, and many sources can share one destination.

use super::identity::{self, SID_PREFIX};
use crate::spec::{AccountId, BucketName, Region};

/// IAM path of every replication role this provider creates; the provider's own policy is
/// scoped to it.
pub const ROLE_PATH: &str = "/s3-replication/";
/// Name of the single inline policy on the replication role.
pub const ROLE_POLICY_NAME: &str = "s3-replication";
/// Name of the single inline policy on the batch-operations role.
pub const BATCH_ROLE_POLICY_NAME: &str = "s3-batch-replication";
/// Prefix of every alias of a key this provider created.
pub const ALIAS_PREFIX: &str = "alias/s3-replication/";

/// Tag keys this provider sets on what it creates.
pub mod tags {
    /// `true` on every role and key this provider created.
    pub const MANAGED: &str = "s3-replication:managed";
    pub const SOURCE_BUCKET: &str = "s3-replication:source-bucket";
    /// The PhysicalResourceId of the resource that owns a role.
    pub const RESOURCE_ID: &str = "s3-replication:resource-id";
    /// Digest of the replication configuration last written with this role.
    pub const CONFIG_DIGEST: &str = "s3-replication:config-digest";
    /// The owner: the StackId and LogicalResourceId of the resource that created the role.
    pub const STACK_ID: &str = "s3-replication:stack-id";
    pub const LOGICAL_ID: &str = "s3-replication:logical-id";
    /// The `KeyRemovalPolicy` last applied (`Retain`, or `Delete:<days>`): what Delete does with
    /// the keys this resource created, whatever a Delete event says.
    pub const KEY_REMOVAL: &str = "s3-replication:key-removal";
    /// Set by a key's owner to let the provider edit a key it did not create (opt-in).
    pub const POLICY_EDITABLE: &str = "s3-replication:provider-may-edit-policy";
}

/// The value of the [`tags::KEY_REMOVAL`] tag.
pub fn key_removal_tag(removal: crate::spec::KeyRemoval) -> String {
    match removal {
        crate::spec::KeyRemoval::Retain => "Retain".to_owned(),
        crate::spec::KeyRemoval::Delete { window_days } => format!("Delete:{window_days}"),
    }
}

/// Reads a [`tags::KEY_REMOVAL`] value back; anything else is no record.
pub fn parse_key_removal(tag: &str) -> Option<crate::spec::KeyRemoval> {
    match tag.split_once(':') {
        None if tag == "Retain" => Some(crate::spec::KeyRemoval::Retain),
        Some(("Delete", days)) => days
            .parse::<i32>()
            .ok()
            .filter(|d| (7..=30).contains(d))
            .map(|window_days| crate::spec::KeyRemoval::Delete { window_days }),
        _ => None,
    }
}

/// FNV-1a, 64 bit: a stable (version-independent) short hash for derived names.
pub fn fnv64(data: &str) -> u64 {
    data.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub fn hash8(data: &str) -> String {
    format!("{:08x}", fnv64(data) as u32)
}

/// Default replication role name: `s3-replication-<bucket>`, or when that exceeds IAM's 64
/// characters, a truncated bucket name plus a hash of the whole name.
pub fn default_role_name(bucket: &BucketName) -> String {
    role_name("s3-replication-", bucket)
}

/// IAM path of the batch-operations roles: under [`ROLE_PATH`] (the provider's own policy
/// covers it), and apart, so that only these may be passed to S3 Batch Operations.
pub const BATCH_ROLE_PATH: &str = "/s3-replication/batch/";

/// Name of the batch-operations role of a source bucket's S3 Batch Replication jobs:
/// `s3-batch-replication-<bucket>`, shortened like [`default_role_name`]; no default
/// replication role name (`s3-replication-…`) can be one.
pub fn batch_role_name(bucket: &BucketName) -> String {
    role_name("s3-batch-replication-", bucket)
}

/// `<prefix><bucket>`, or when that exceeds IAM's 64 characters, a truncated bucket name plus a
/// hash of the whole name.
fn role_name(prefix: &str, bucket: &BucketName) -> String {
    let full = format!("{prefix}{bucket}");
    if full.len() <= 64 {
        return full;
    }
    let keep = 64 - prefix.len() - 1 - 8;
    let head = bucket.as_str()[..keep].trim_end_matches(['.', '-']);
    format!("{prefix}{head}-{}", hash8(bucket.as_str()))
}

/// The `Sid` of every statement a source adds to a shared policy (destination bucket and key
/// policies, the source key's, a topic's or queue's): a 128-bit digest over the partition,
/// account, region and name of the source bucket (see [`super::identity`]), and nothing else:
/// each byte counts fifty times in a bucket policy fifty sources share (S3 allows 20 KB), and
/// the statement's principal, the role `s3-replication-<bucket>`, tells a reader whose it is.
pub fn source_sid(
    partition: &str,
    account: &AccountId,
    region: &Region,
    bucket: &BucketName,
) -> String {
    let digest = identity::digest128(&[
        "source",
        partition,
        account.as_str(),
        region.as_str(),
        bucket.as_str(),
    ]);
    format!("{SID_PREFIX}{digest}")
}

/// The `Sid` versions before 0.2 gave a source's statements: letters and digits of the bucket
/// name and a 32-bit hash of it (colliding names are easy to find; recognised only to be
/// upgraded).
pub fn legacy_source_sid(source_bucket: &BucketName) -> String {
    format!(
        "{SID_PREFIX}{}{}",
        identity::readable(source_bucket.as_str(), 48),
        hash8(source_bucket.as_str())
    )
}

/// Start of the `Sid` of every organization statement.
pub const ORGANIZATION_SID: &str = "S3ReplicationOrg";
/// What versions before 0.2 began organization statements with.
const LEGACY_ORGANIZATION_SID: &str = "S3ReplicationOrganization";

/// Sid of an organization statement on a destination bucket policy: one per organization and
/// scope (the actions and objects it grants), the same for every source of that organization.
pub fn organization_bucket_sid(partition: &str, org: &str, scope: &str) -> String {
    let digest = identity::digest128(&["organization-bucket", partition, org, scope]);
    format!("{ORGANIZATION_SID}{digest}")
}

/// What versions before 0.2 named the organization bucket statement of a scope.
pub fn legacy_organization_bucket_sid(scope: &str) -> String {
    format!("{LEGACY_ORGANIZATION_SID}{:08x}", fnv64(scope) as u32)
}

/// Sid of the organization statement on a destination key policy, one per organization and
/// destination bucket.
pub fn organization_key_sid(partition: &str, org: &str, dest_bucket: &BucketName) -> String {
    let digest = identity::digest128(&["organization-key", partition, org, dest_bucket.as_str()]);
    format!(
        "{ORGANIZATION_SID}{}{digest}",
        identity::readable(dest_bucket.as_str(), 24)
    )
}

/// What versions before 0.2 named the organization key statement of a destination bucket.
pub fn legacy_organization_key_sid(dest_bucket: &BucketName) -> String {
    format!(
        "{LEGACY_ORGANIZATION_SID}{}{}",
        identity::readable(dest_bucket.as_str(), 40),
        hash8(dest_bucket.as_str())
    )
}

/// Role ARN pattern every replication role this provider creates matches, in any account.
pub fn role_arn_pattern(partition: &str) -> String {
    format!("arn:{partition}:iam::*:role{ROLE_PATH}*")
}

/// Alias of the source key this resource creates for `SourceKmsKeyArn: Create`.
pub fn source_key_alias(source_bucket: &BucketName) -> String {
    format!("{ALIAS_PREFIX}{}", alias_part(source_bucket))
}

/// Alias of a destination key this resource creates for `KmsKeyArn: Create`.
pub fn destination_key_alias(source_bucket: &BucketName, dest_bucket: &BucketName) -> String {
    format!(
        "{ALIAS_PREFIX}{}/{}",
        alias_part(source_bucket),
        alias_part(dest_bucket)
    )
}

/// Alias names allow letters, digits, `/_-`; bucket names add only `.`, mapped to `_` (which
/// bucket names never contain, so the mapping is one-to-one).
fn alias_part(bucket: &BucketName) -> String {
    bucket.as_str().replace('.', "_")
}

/// PhysicalResourceId: one per source bucket, so the same source always yields the same id and
/// a change of source account, region or bucket yields a new one (a replacement).
pub fn physical_id(account: &AccountId, region: &Region, bucket: &BucketName) -> String {
    format!("s3-replication:{account}:{region}:{bucket}")
}

/// Prefix of the PhysicalResourceId given to a Create that failed before anything was made.
pub const NOTHING_CREATED_PREFIX: &str = "s3-replication-not-created:";

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> BucketName {
        BucketName::parse(s).unwrap()
    }

    #[test]
    fn role_name_is_valid_and_stable() {
        assert_eq!(default_role_name(&b("src")), "s3-replication-src");
        let long = b(&"a".repeat(63));
        let name = default_role_name(&long);
        assert!(name.len() <= 64, "{name}");
        assert_eq!(name, default_role_name(&long));
        assert_ne!(name, default_role_name(&b(&format!("{}b", "a".repeat(62)))));
        crate::spec::RoleArn::parse(&format!("arn:aws:iam::123456789012:role{ROLE_PATH}{name}"))
            .unwrap();
    }

    #[test]
    fn sids_distinguish_buckets_that_sanitize_alike() {
        let (acct, region) = (
            AccountId::parse("111111111111").unwrap(),
            Region::parse("eu-west-1").unwrap(),
        );
        let sid = |bucket: &str| source_sid("aws", &acct, &region, &b(bucket));
        let a = sid("a-b.c");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, sid("ab.c"));
        assert_eq!(a, sid("a-b.c"));
        assert_ne!(
            a,
            source_sid(
                "aws",
                &AccountId::parse("222222222222").unwrap(),
                &region,
                &b("a-b.c")
            )
        );
        assert_ne!(
            a,
            source_sid(
                "aws",
                &acct,
                &Region::parse("us-east-1").unwrap(),
                &b("a-b.c")
            )
        );
        assert_ne!(a, source_sid("aws-cn", &acct, &region, &b("a-b.c")));
        assert_eq!(a.len(), SID_PREFIX.len() + 32);
    }

    /// The attack on the 32-bit Sid of versions before 0.2 (issue 23): two bucket names with the
    /// same letters and digits whose FNV hashes collide got the same Sid. The digest now covers
    /// the whole name (hyphens and dots included), so the same letters give different Sids.
    #[test]
    fn names_with_the_same_letters_get_different_sids() {
        let (acct, region) = (
            AccountId::parse("111111111111").unwrap(),
            Region::parse("eu-west-1").unwrap(),
        );
        let names = [
            "backup-data-a",
            "backupdata-a",
            "backup-dat-a-",
            "b-a-c-k-u-p-d-a-t-a-a",
        ];
        let sids: std::collections::BTreeSet<String> = names
            .iter()
            .filter(|n| BucketName::parse(n).is_ok())
            .map(|n| source_sid("aws", &acct, &region, &b(n)))
            .collect();
        assert_eq!(
            sids.len(),
            names
                .iter()
                .filter(|n| BucketName::parse(n).is_ok())
                .count()
        );
    }

    #[test]
    fn fnv_is_the_published_function() {
        // FNV-1a 64 test vector: "a" -> 0xaf63dc4c8601ec8c
        assert_eq!(fnv64("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn key_removal_round_trips_through_its_tag() {
        use crate::spec::KeyRemoval;
        for removal in [KeyRemoval::Retain, KeyRemoval::Delete { window_days: 7 }] {
            assert_eq!(parse_key_removal(&key_removal_tag(removal)), Some(removal));
        }
        for junk in ["", "Delete", "Delete:3", "Delete:x", "retain", "Keep:7"] {
            assert_eq!(parse_key_removal(junk), None, "{junk}");
        }
    }

    #[test]
    fn aliases_are_valid() {
        let a = destination_key_alias(&b("src.logs"), &b("dst-1"));
        assert_eq!(a, "alias/s3-replication/src_logs/dst-1");
    }
}
