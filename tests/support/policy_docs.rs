//! Reading policy documents as AWS returns them (IAM URL-encodes them).

use serde_json::Value;

/// The `Sid` the provider gives its statements for the source bucket `bucket` of the default
/// account in the harness's home region (where the tests' sources are).
pub fn sid_of(bucket: &str) -> String {
    sid_in(super::DEFAULT_ACCOUNT, super::harness::HOME_REGION, bucket)
}

/// The `Sid` the provider gives its statements for the source bucket `bucket` of `account` in
/// `region`.
pub fn sid_in(account: &str, region: &str, bucket: &str) -> String {
    use s3_replication_provider::spec::{AccountId, BucketName, Region};
    s3_replication_provider::plan::names::source_sid(
        "aws",
        &AccountId::parse(account).unwrap(),
        &Region::parse(region).unwrap(),
        &BucketName::parse(bucket).unwrap(),
    )
}

/// The `Sid`s of a policy document's statements (`"(no Sid)"` for unnamed ones).
pub fn policy_sids(doc: &Value) -> Vec<String> {
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .map(|s| {
            s.get("Sid")
                .and_then(Value::as_str)
                .unwrap_or("(no Sid)")
                .to_string()
        })
        .collect()
}

/// Whether `needle` appears anywhere in the JSON text of `doc`.
pub fn mentions(doc: &Value, needle: &str) -> bool {
    doc.to_string().contains(needle)
}

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a policy document that IAM may return URL-encoded.
pub fn parse_policy(doc: &str) -> Value {
    serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&percent_decode(doc)))
        .unwrap_or_else(|e| panic!("policy document is not JSON ({e}): {doc}"))
}
