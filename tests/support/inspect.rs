//! Reading what the provider left in the emulator: buckets (policy, versioning, encryption,
//! replication), keys (policy, state, rotation) and roles. moto's known misreadings are worked
//! around from its stored state (see the module docs of `support`).

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::{json, Value};

use super::replication_view::{sdk_rule_view, stored_rule_view};
use super::{key_id_of, parse_policy, Emulator};

impl Emulator {
    pub async fn bucket_exists(&self, account: &str, region: &str, bucket: &str) -> bool {
        match self
            .s3(account, region)
            .await
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => false,
            Err(e) if e.code() == Some("NoSuchBucket") || e.code() == Some("NotFound") => false,
            Err(e) => panic!("head bucket {bucket}: {e:?}"),
        }
    }

    /// The bucket policy as JSON, or None if it has none.
    pub async fn bucket_policy(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        match self
            .s3(account, region)
            .await
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out.policy().map(parse_policy),
            Err(e) if e.code() == Some("NoSuchBucketPolicy") => None,
            Err(e) => panic!("get bucket policy of {bucket}: {e:?}"),
        }
    }

    /// `Some("Enabled")`, `Some("Suspended")`, or None if versioning was never set.
    ///
    /// moto 5.2.5 answers GetBucketVersioning with a `<GetBucketVersioningResponse>`
    /// root that the Rust SDK refuses to parse; then this reads moto's state instead.
    pub async fn versioning(&self, account: &str, region: &str, bucket: &str) -> Option<String> {
        match self
            .s3(account, region)
            .await
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out.status().map(|s| s.as_str().to_string()),
            Err(e) if format!("{e:?}").contains("GetBucketVersioningResponse") => {
                self.stored_versioning(bucket).await
            }
            Err(e) => panic!("get versioning of {bucket}: {e:?}"),
        }
    }

    /// A bucket's versioning status from moto's state (`/moto-api/data.json`).
    pub async fn stored_versioning(&self, bucket: &str) -> Option<String> {
        let data = self.data().await;
        let found = data
            .get("s3")
            .and_then(|s| s.get("FakeBucket"))
            .and_then(Value::as_array)
            .and_then(|buckets| {
                buckets
                    .iter()
                    .find(|b| b.get("name").and_then(Value::as_str) == Some(bucket))
                    .cloned()
            })
            .unwrap_or_else(|| panic!("moto has no bucket {bucket}"));
        found
            .get("versioning_status")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Default encryption: `{"Algorithm", "KmsKeyId", "BucketKeyEnabled"}`, or None.
    pub async fn encryption(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        let out = match self
            .s3(account, region)
            .await
            .get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {
                return None
            }
            Err(e) => panic!("get encryption of {bucket}: {e:?}"),
        };
        let rule = out
            .server_side_encryption_configuration()?
            .rules()
            .first()?;
        let default = rule.apply_server_side_encryption_by_default();
        Some(json!({
            "Algorithm": default.map(|d| d.sse_algorithm().as_str().to_string()),
            "KmsKeyId": default.and_then(|d| d.kms_master_key_id()),
            "BucketKeyEnabled": rule.bucket_key_enabled(),
        }))
    }

    /// A simplified, flat JSON view of the bucket's replication configuration,
    /// or None if it has none:
    ///
    /// ```json
    /// {"Role": "arn:aws:iam::…:role/…",
    ///  "Rules": [{"Id", "Priority", "Status", "Prefix", "Tags": {…},
    ///             "DeleteMarkerReplication", "SseKmsEncryptedObjects",
    ///             "ReplicaModifications", "Bucket", "Account", "StorageClass",
    ///             "ReplicaKmsKeyId", "OwnerOverride", "ReplicationTime",
    ///             "ReplicationTimeMinutes", "Metrics", "MetricsMinutes"}]}
    /// ```
    ///
    /// Status-like fields are `"Enabled"`/`"Disabled"` or null when absent.
    /// moto's GetBucketReplication loses the filter, DeleteMarkerReplication
    /// and SourceSelectionCriteria, so those come from moto's stored copy of
    /// what was PUT (see [`Emulator::stored_replication`]).
    pub async fn replication(&self, account: &str, region: &str, bucket: &str) -> Option<Value> {
        let out = match self
            .s3(account, region)
            .await
            .get_bucket_replication()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ReplicationConfigurationNotFoundError") => return None,
            Err(e) => panic!("get replication of {bucket}: {e:?}"),
        };
        let config = out.replication_configuration()?;
        let stored = self.stored_replication(bucket).await;
        let stored_rules: BTreeMap<String, Value> = stored
            .as_ref()
            .and_then(|s| s.get("Rules"))
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|r| Some((r.get("Id")?.as_str()?.to_string(), r.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let rules: Vec<Value> = config
            .rules()
            .iter()
            .map(|rule| {
                let mut view = sdk_rule_view(rule);
                let id = view["Id"].as_str().unwrap_or_default().to_string();
                if let (Some(stored), Some(obj)) = (stored_rules.get(&id), view.as_object_mut()) {
                    for k in [
                        "Prefix",
                        "Tags",
                        "DeleteMarkerReplication",
                        "SseKmsEncryptedObjects",
                        "ReplicaModifications",
                    ] {
                        obj.insert(k.to_string(), stored[k].clone());
                    }
                }
                view
            })
            .collect();
        Some(json!({ "Role": config.role(), "Rules": rules }))
    }

    /// The same simplified view built only from moto's stored copy of the
    /// PutBucketReplication body (`/moto-api/data.json`); None if none.
    pub async fn stored_replication(&self, bucket: &str) -> Option<Value> {
        let data = self.data().await;
        let buckets = data.get("s3")?.get("FakeBucket")?.as_array()?;
        let stored = buckets
            .iter()
            .find(|b| b.get("name").and_then(Value::as_str) == Some(bucket))?
            .get("replication")
            .filter(|r| !r.is_null())?;
        let rules = match stored.get("Rule") {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        };
        Some(json!({
            "Role": stored.get("Role").cloned().unwrap_or(Value::Null),
            "Rules": rules.iter().map(stored_rule_view).collect::<Vec<_>>(),
        }))
    }

    /// The key's default policy as JSON.
    pub async fn key_policy(&self, account: &str, region: &str, key: &str) -> Value {
        let out = self
            .kms(account, region)
            .await
            .get_key_policy()
            .key_id(key_id_of(key))
            .policy_name("default")
            .send()
            .await
            .unwrap_or_else(|e| panic!("get key policy of {key}: {e:?}"));
        parse_policy(out.policy().unwrap_or("{}"))
    }

    /// `Enabled`, `Disabled`, `PendingDeletion`, ... (None if the key does not exist).
    pub async fn key_state(&self, account: &str, region: &str, key: &str) -> Option<String> {
        match self
            .kms(account, region)
            .await
            .describe_key()
            .key_id(key)
            .send()
            .await
        {
            Ok(out) => out
                .key_metadata()
                .and_then(|m| m.key_state())
                .map(|s| s.as_str().to_string()),
            Err(e) if e.code() == Some("NotFoundException") => None,
            Err(e) => panic!("describe key {key}: {e:?}"),
        }
    }

    pub async fn key_rotation(&self, account: &str, region: &str, key: &str) -> bool {
        self.kms(account, region)
            .await
            .get_key_rotation_status()
            .key_id(key_id_of(key))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get key rotation of {key}: {e:?}"))
            .key_rotation_enabled()
    }

    pub async fn role_exists(&self, account: &str, name: &str) -> bool {
        match self
            .iam(account)
            .await
            .get_role()
            .role_name(name)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some("NoSuchEntity") => false,
            Err(e) => panic!("get role {name}: {e:?}"),
        }
    }

    /// A role's tags and the ARN of its permissions boundary.
    pub async fn role_tags_and_boundary(
        &self,
        account: &str,
        name: &str,
    ) -> (BTreeMap<String, String>, Option<String>) {
        let out = self
            .iam(account)
            .await
            .get_role()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get role {name}: {e:?}"));
        let role = out.role().expect("role");
        let tags = role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let boundary = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_owned);
        (tags, boundary)
    }

    /// The role's inline policies by name (decoded JSON).
    pub async fn role_inline_policies(&self, account: &str, name: &str) -> BTreeMap<String, Value> {
        let iam = self.iam(account).await;
        let names = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list role policies of {name}: {e:?}"));
        let mut out = BTreeMap::new();
        for policy in names.policy_names() {
            let doc = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .unwrap_or_else(|e| panic!("get role policy {policy} of {name}: {e:?}"));
            out.insert(policy.clone(), parse_policy(doc.policy_document()));
        }
        out
    }
}
