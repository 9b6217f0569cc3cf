//! The flat JSON view of a replication rule ([`super::Emulator::replication`]), built from the
//! SDK's answer or from moto's stored (xmltodict-shaped) copy of what was PUT.

use serde_json::{json, Map, Value};

fn status_str(v: Option<&str>) -> Value {
    v.map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null)
}

#[allow(deprecated)] // ReplicationRule::prefix is the legacy (V1) rule prefix, still valid
pub(super) fn sdk_rule_view(rule: &aws_sdk_s3::types::ReplicationRule) -> Value {
    let filter = rule.filter();
    let prefix = filter
        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
        .or(rule.prefix())
        .unwrap_or("");
    let mut tags = Map::new();
    if let Some(f) = filter {
        if let Some(t) = f.tag() {
            tags.insert(t.key().to_string(), Value::String(t.value().to_string()));
        }
        if let Some(a) = f.and() {
            for t in a.tags() {
                tags.insert(t.key().to_string(), Value::String(t.value().to_string()));
            }
        }
    }
    let ssc = rule.source_selection_criteria();
    let dest = rule.destination();
    json!({
        "Id": rule.id(),
        "Priority": rule.priority(),
        "Status": rule.status().as_str(),
        "Prefix": prefix,
        "Tags": tags,
        "DeleteMarkerReplication": status_str(
            rule.delete_marker_replication().and_then(|d| d.status()).map(|s| s.as_str())
        ),
        "SseKmsEncryptedObjects": status_str(
            ssc.and_then(|s| s.sse_kms_encrypted_objects()).map(|s| s.status().as_str())
        ),
        "ReplicaModifications": status_str(
            ssc.and_then(|s| s.replica_modifications()).map(|s| s.status().as_str())
        ),
        "Bucket": dest.map(|d| d.bucket()),
        "Account": dest.and_then(|d| d.account()),
        "StorageClass": dest.and_then(|d| d.storage_class()).map(|s| s.as_str()),
        "ReplicaKmsKeyId": dest
            .and_then(|d| d.encryption_configuration())
            .and_then(|e| e.replica_kms_key_id()),
        "OwnerOverride": dest
            .and_then(|d| d.access_control_translation())
            .map(|a| a.owner().as_str()),
        "ReplicationTime": status_str(dest.and_then(|d| d.replication_time()).map(|r| r.status().as_str())),
        "ReplicationTimeMinutes": dest
            .and_then(|d| d.replication_time())
            .and_then(|r| r.time())
            .and_then(|t| t.minutes()),
        "Metrics": status_str(dest.and_then(|d| d.metrics()).map(|m| m.status().as_str())),
        "MetricsMinutes": dest
            .and_then(|d| d.metrics())
            .and_then(|m| m.event_threshold())
            .and_then(|t| t.minutes()),
    })
}

/// Field of a stored (xmltodict-shaped) document, by path.
fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn stored_str(v: &Value, path: &[&str]) -> Value {
    match at(v, path) {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

fn stored_num(v: &Value, path: &[&str]) -> Value {
    match at(v, path) {
        Some(Value::String(s)) => s.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
        Some(Value::Number(n)) => Value::Number(n.clone()),
        _ => Value::Null,
    }
}

pub(super) fn stored_rule_view(rule: &Value) -> Value {
    let prefix = [
        &["Filter", "Prefix"][..],
        &["Filter", "And", "Prefix"][..],
        &["Prefix"][..],
    ]
    .iter()
    .find_map(|p| at(rule, p).and_then(Value::as_str))
    .unwrap_or("");
    let mut tags = Map::new();
    for path in [&["Filter", "Tag"][..], &["Filter", "And", "Tag"][..]] {
        let items = match at(rule, path) {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        };
        for t in items {
            if let (Some(k), Some(v)) = (t.get("Key").and_then(Value::as_str), t.get("Value")) {
                let v = v.as_str().unwrap_or_default();
                tags.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
    }
    json!({
        "Id": stored_str(rule, &["ID"]),
        "Priority": stored_num(rule, &["Priority"]),
        "Status": stored_str(rule, &["Status"]),
        "Prefix": prefix,
        "Tags": tags,
        "DeleteMarkerReplication": stored_str(rule, &["DeleteMarkerReplication", "Status"]),
        "SseKmsEncryptedObjects": stored_str(rule, &["SourceSelectionCriteria", "SseKmsEncryptedObjects", "Status"]),
        "ReplicaModifications": stored_str(rule, &["SourceSelectionCriteria", "ReplicaModifications", "Status"]),
        "Bucket": stored_str(rule, &["Destination", "Bucket"]),
        "Account": stored_str(rule, &["Destination", "Account"]),
        "StorageClass": stored_str(rule, &["Destination", "StorageClass"]),
        "ReplicaKmsKeyId": stored_str(rule, &["Destination", "EncryptionConfiguration", "ReplicaKmsKeyID"]),
        "OwnerOverride": stored_str(rule, &["Destination", "AccessControlTranslation", "Owner"]),
        "ReplicationTime": stored_str(rule, &["Destination", "ReplicationTime", "Status"]),
        "ReplicationTimeMinutes": stored_num(rule, &["Destination", "ReplicationTime", "Time", "Minutes"]),
        "Metrics": stored_str(rule, &["Destination", "Metrics", "Status"]),
        "MetricsMinutes": stored_num(rule, &["Destination", "Metrics", "EventThreshold", "Minutes"]),
    })
}
