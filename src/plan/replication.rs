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
    /// A stable digest of the whole desired document, recorded with the role so a later run can
    /// tell whether what S3 holds was written from the same desired state.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(self).expect("plain data serializes");
        format!("{:016x}", super::names::fnv64(&text))
    }
}
