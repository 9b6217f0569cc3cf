//! A policy document's shape: the document as stored (an object, or the JSON string IAM and S3
//! return), its statements, and how a statement is named in messages. Shared by the evaluator
//! ([`super::eval`]) and the lints ([`super::lint`]).

use serde_json::Value;

/// A policy document as stored, tolerating a JSON string holding the document (as IAM and S3
/// APIs return them); `None` when it is neither.
pub fn document_value(doc: &Value) -> Option<std::borrow::Cow<'_, Value>> {
    match doc {
        Value::Object(_) => Some(std::borrow::Cow::Borrowed(doc)),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .map(std::borrow::Cow::Owned),
        _ => None,
    }
}

/// The statements of a document: `Statement` is a single object or an array ("IAM JSON policy
/// elements: Statement").
pub fn statements(doc: &Value) -> Vec<Value> {
    match document_value(doc)
        .as_deref()
        .and_then(|d| d.get("Statement"))
    {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// A statement's label for messages: `<document> statement <Sid>` or `… statement #<n>`.
pub fn statement_label(doc_name: &str, index: usize, stmt: &Value) -> String {
    match stmt.get("Sid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => format!("{doc_name} statement {sid:?}"),
        _ => format!("{doc_name} statement #{}", index + 1),
    }
}
