//! Setting up the world a test needs in the emulator: buckets, objects, keys, policies, an
//! organization.

use serde_json::Value;

use super::{key_id_of, Emulator, IAM_REGION};

impl Emulator {
    /// Create a bucket owned by `account` in `region`, optionally versioned.
    pub async fn create_bucket(&self, account: &str, region: &str, name: &str, versioned: bool) {
        use aws_sdk_s3::types::{
            BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
            VersioningConfiguration,
        };
        let s3 = self.s3(account, region).await;
        let mut req = s3.create_bucket().bucket(name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        req.send()
            .await
            .unwrap_or_else(|e| panic!("create bucket {name} in {account}/{region}: {e:?}"));
        if versioned {
            s3.put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("enable versioning on {name}: {e:?}"));
        }
    }

    /// Tag a bucket (replacing its tags), e.g. with the replication double's control tag.
    pub async fn tag_bucket(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        key: &str,
        value: &str,
    ) {
        use aws_sdk_s3::types::{Tag, Tagging};
        let tag = Tag::builder().key(key).value(value).build().unwrap();
        self.s3(account, region)
            .await
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(Tagging::builder().tag_set(tag).build().unwrap())
            .send()
            .await
            .unwrap_or_else(|e| panic!("tag bucket {bucket}: {e:?}"));
    }

    /// Put an object (a user's data); returns its version id.
    pub async fn put_object(&self, account: &str, region: &str, bucket: &str, key: &str) -> String {
        let out = self
            .s3(account, region)
            .await
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(
                b"user data",
            ))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
        out.version_id().unwrap_or("null").to_owned()
    }

    /// Every object version and delete marker in a bucket, as `key@version`.
    pub async fn object_versions(&self, account: &str, region: &str, bucket: &str) -> Vec<String> {
        let out = self
            .s3(account, region)
            .await
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list versions of {bucket}: {e:?}"));
        let versions = out
            .versions()
            .iter()
            .map(|v| (v.key().unwrap_or(""), v.version_id().unwrap_or("")));
        let markers = out
            .delete_markers()
            .iter()
            .map(|m| (m.key().unwrap_or(""), m.version_id().unwrap_or("")));
        versions
            .chain(markers)
            .map(|(k, v)| format!("{k}@{v}"))
            .collect()
    }

    /// Create a customer-managed KMS key in `account`/`region`; returns its ARN.
    pub async fn create_key(&self, account: &str, region: &str) -> String {
        let kms = self.kms(account, region).await;
        let out = kms
            .create_key()
            .description(format!("test key in {account}/{region}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create key in {account}/{region}: {e:?}"));
        out.key_metadata()
            .and_then(|m| m.arn())
            .expect("created key has an ARN")
            .to_string()
    }

    /// Makes `account` the management account of a new organization; returns its id (`o-…`).
    pub async fn create_organization(&self, account: &str) -> String {
        let org =
            aws_sdk_organizations::Client::new(&self.account_config(account, IAM_REGION).await);
        let out = org
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create organization in {account}: {e:?}"));
        out.organization
            .and_then(|o| o.id)
            .expect("created organization has an id")
    }

    /// Set a bucket's policy (e.g. to check that foreign statements survive).
    pub async fn put_bucket_policy(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        policy: &Value,
    ) {
        self.s3(account, region)
            .await
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put bucket policy on {bucket}: {e:?}"));
    }

    /// Replace a key's default policy.
    pub async fn put_key_policy(&self, account: &str, region: &str, key: &str, policy: &Value) {
        self.kms(account, region)
            .await
            .put_key_policy()
            .key_id(key_id_of(key))
            .policy_name("default")
            .policy(policy.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put key policy on {key}: {e:?}"));
    }

    /// A customer managed policy `path``name` in `account` (e.g. a permissions boundary);
    /// returns its ARN.
    pub async fn create_policy(
        &self,
        account: &str,
        path: &str,
        name: &str,
        doc: &Value,
    ) -> String {
        let out = self
            .iam(account)
            .await
            .create_policy()
            .path(path)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create policy {name}: {e:?}"));
        out.policy()
            .and_then(|p| p.arn())
            .expect("created policy has an ARN")
            .to_owned()
    }
}

/// A replication rule's `SourceSelectionCriteria` that selects SSE-KMS encrypted objects.
pub fn sse_kms_objects() -> aws_sdk_s3::types::SourceSelectionCriteria {
    use aws_sdk_s3::types::{
        SourceSelectionCriteria, SseKmsEncryptedObjects, SseKmsEncryptedObjectsStatus,
    };
    SourceSelectionCriteria::builder()
        .sse_kms_encrypted_objects(
            SseKmsEncryptedObjects::builder()
                .status(SseKmsEncryptedObjectsStatus::Enabled)
                .build()
                .expect("status is set"),
        )
        .build()
}
