//! What in a policy document IAM, S3 or KMS would not evaluate as its author meant (malformed
//! actions and resources, placeholders, deleted principals, empty lists): used to explain a
//! failed link, never to decide one.

use serde_json::Value;

use super::document::{statement_label, statements};
use super::matching::{is_unique_id, strings};

/// Things in a document that IAM, S3 or KMS would not evaluate as their author meant: an action
/// that is not `service:Name`, a resource that is not `*` or a six-field ARN, a principal shown
/// as a unique id (deleted), empty lists. Used to explain failures.
pub fn lint(doc: &Value, name: &str) -> Vec<String> {
    lint_where(doc, name, |_| true)
}

/// [`lint`], only for the statements `relevant` accepts.
pub fn lint_where(doc: &Value, name: &str, relevant: impl Fn(&Value) -> bool) -> Vec<String> {
    statements(doc)
        .iter()
        .enumerate()
        .filter(|(_, stmt)| relevant(stmt))
        .flat_map(|(i, stmt)| lint_statement(stmt, &statement_label(name, i, stmt)))
        .collect()
}

/// Whether a statement has an empty `Action`, `Resource` or `Principal` list or identifier:
/// it could have been meant for anything.
pub fn has_empty_lists(stmt: &Value) -> bool {
    let empty = |v: &Value| {
        let list = strings(v);
        list.is_empty() || list.iter().any(String::is_empty)
    };
    ["Action", "NotAction", "Resource", "NotResource"]
        .iter()
        .any(|k| stmt.get(*k).is_some_and(empty))
        || matches!(stmt.get("Principal"), Some(Value::Object(m)) if m.values().any(empty))
}

fn lint_statement(stmt: &Value, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Action", "NotAction"] {
        if let Some(a) = stmt.get(key) {
            let list = strings(a);
            if list.is_empty() {
                out.push(format!("{label}: {key} is empty"));
            }
            for a in list {
                let ok = a == "*"
                    || a.split_once(':').is_some_and(|(svc, op)| {
                        !svc.is_empty()
                            && svc
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                            && !op.is_empty()
                            && op
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
                    });
                if !ok {
                    out.push(format!(
                        "{label}: action {a:?} is not of the form service:Action and matches nothing"
                    ));
                }
            }
        }
    }
    for key in ["Resource", "NotResource"] {
        if let Some(r) = stmt.get(key) {
            let list = strings(r);
            if list.is_empty() {
                out.push(format!("{label}: {key} is empty"));
            }
            for r in list {
                let six = r.splitn(6, ':').count() == 6 && r.starts_with("arn:");
                if r != "*" && !six {
                    out.push(format!(
                        "{label}: resource {r:?} is not an ARN (arn:partition:service:region:account:resource)"
                    ));
                } else if r.contains('<') || r.contains('>') {
                    out.push(format!("{label}: resource {r:?} contains a placeholder"));
                }
            }
        }
    }
    if let Some(Value::Object(map)) = stmt.get("Principal") {
        for (kind, values) in map {
            let list = strings(values);
            if list.is_empty() || list.iter().any(String::is_empty) {
                out.push(format!("{label}: Principal {kind} has an empty identifier"));
            }
            for v in list {
                if kind == "AWS" && is_unique_id(&v) {
                    out.push(format!(
                        "{label}: principal {v:?} is a unique id: the principal it named was deleted, and a role re-created with the same name is not it"
                    ));
                }
            }
        }
    }
    out
}
