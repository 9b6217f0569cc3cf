//! The source bucket's replication configuration as plain data (schema V2), mirroring the S3
//! API's shape so it prints as users know it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationConfig {
    pub role: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    #[serde(rename = "ID")]
    pub id: String,
    pub priority: i32,
    pub filter: Filter,
    pub delete_marker_replication: bool,
    /// `SourceSelectionCriteria.SseKmsEncryptedObjects`.
    pub sse_kms_encrypted_objects: bool,
    /// `SourceSelectionCriteria.ReplicaModifications`.
    pub replica_modifications: bool,
    pub destination: RuleDestination,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Filter {
    /// Every object (`<Filter><Prefix></Prefix></Filter>`).
    All,
    Prefix(String),
    Tag(String, String),
    And {
        prefix: Option<String>,
        tags: Vec<(String, String)>,
    },
}

impl Filter {
    pub fn new(prefix: Option<&str>, tags: &std::collections::BTreeMap<String, String>) -> Self {
        let prefix = prefix.filter(|p| !p.is_empty()).map(str::to_owned);
        let tags: Vec<(String, String)> =
            tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        match (prefix, tags.len()) {
            (None, 0) => Filter::All,
            (Some(p), 0) => Filter::Prefix(p),
            (None, 1) => Filter::Tag(tags[0].0.clone(), tags[0].1.clone()),
            (prefix, _) => Filter::And { prefix, tags },
        }
    }
}

impl Filter {
    /// S3's `Filter` element.
    pub fn to_s3_json(&self) -> serde_json::Value {
        use serde_json::json;
        let tag = |k: &str, v: &str| json!({"Key": k, "Value": v});
        match self {
            Filter::All => json!({"Prefix": ""}),
            Filter::Prefix(p) => json!({"Prefix": p}),
            Filter::Tag(k, v) => json!({"Tag": tag(k, v)}),
            Filter::And { prefix, tags } => {
                let mut and =
                    json!({"Tags": tags.iter().map(|(k, v)| tag(k, v)).collect::<Vec<_>>()});
                if let Some(p) = prefix {
                    and["Prefix"] = json!(p);
                }
                json!({"And": and})
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleDestination {
    pub bucket: String,
    /// Destination account; set whenever the owner is overridden (S3 requires it then).
    pub account: Option<String>,
    pub storage_class: String,
    /// `AccessControlTranslation.Owner = Destination`.
    pub owner_override: bool,
    #[serde(rename = "ReplicaKmsKeyID")]
    pub replica_kms_key_id: Option<String>,
    /// `ReplicationTime` (15 minutes); always paired with metrics.
    pub replication_time_control: bool,
    /// `Metrics`, with a 15-minute `EventThreshold` when RTC is on.
    pub metrics: bool,
}

impl ReplicationConfig {
    /// The configuration exactly as `PutBucketReplication` receives it, in S3's JSON shape (what
    /// `aws s3api get-bucket-replication` prints, and `aws s3api put-bucket-replication
    /// --replication-configuration` takes). `aws::s3` builds the request from the same fields.
    pub fn to_s3_json(&self) -> serde_json::Value {
        use serde_json::json;
        let enabled = |on: bool| if on { "Enabled" } else { "Disabled" };
        let rules: Vec<serde_json::Value> = self
            .rules
            .iter()
            .map(|r| {
                let d = &r.destination;
                let mut dest = json!({"Bucket": d.bucket, "StorageClass": d.storage_class});
                if let Some(a) = &d.account {
                    dest["Account"] = json!(a);
                }
                if d.owner_override {
                    dest["AccessControlTranslation"] = json!({"Owner": "Destination"});
                }
                if let Some(k) = &d.replica_kms_key_id {
                    dest["EncryptionConfiguration"] = json!({"ReplicaKmsKeyID": k});
                }
                if d.replication_time_control {
                    dest["ReplicationTime"] = json!({"Status": "Enabled", "Time": {"Minutes": 15}});
                }
                if d.metrics {
                    dest["Metrics"] = json!({"Status": "Enabled"});
                    if d.replication_time_control {
                        dest["Metrics"]["EventThreshold"] = json!({"Minutes": 15});
                    }
                }
                let mut rule = json!({
                    "ID": r.id,
                    "Priority": r.priority,
                    "Status": "Enabled",
                    "Filter": r.filter.to_s3_json(),
                    "DeleteMarkerReplication": {"Status": enabled(r.delete_marker_replication)},
                    "Destination": dest,
                });
                if r.sse_kms_encrypted_objects || r.replica_modifications {
                    let mut c = json!({});
                    if r.sse_kms_encrypted_objects {
                        c["SseKmsEncryptedObjects"] = json!({"Status": "Enabled"});
                    }
                    if r.replica_modifications {
                        c["ReplicaModifications"] = json!({"Status": "Enabled"});
                    }
                    rule["SourceSelectionCriteria"] = c;
                }
                rule
            })
            .collect();
        json!({"Role": self.role, "Rules": rules})
    }

    /// A stable digest of the whole desired document, recorded with the role so a later run can
    /// tell whether what S3 holds was written from the same desired state.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).expect("plain data serializes");
        format!("{:016x}", super::names::fnv64(&text))
    }
}
