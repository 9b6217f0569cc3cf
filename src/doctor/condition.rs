//! The `Condition` element ("IAM JSON policy elements: Condition operators", "Conditions with
//! multiple context keys or values", "Set operators for multivalued context keys").
//!
//! - Several operators in one block, and several keys under one operator, are ANDed.
//! - Several values for one key are ORed; for a negated operator (`…Not…`) they are NORed: the
//!   context value must match none of them.
//! - A key missing from the request context: the condition is false, except for a negated
//!   operator, where it is true ("If the key that you specify in a policy condition is not
//!   present in the request context, the values do not match … If the policy condition requires
//!   that the key is *not* matched, such as `StringNotLike` or `ArnNotLike`, and the right key is
//!   not present, the condition is true"). `…IfExists` is true when the key is missing;
//!   `Null` tests presence itself.
//! - `ForAllValues:` is true when every context value matches (also when the key is missing or
//!   empty); `ForAnyValue:` when at least one does (false when the key is missing).
//!
//! Supported: `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
//! `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `ArnEquals`, `ArnLike`,
//! `ArnNotEquals`, `ArnNotLike`, `Bool`, `Null`, with `ForAnyValue:`/`ForAllValues:` and
//! `IfExists`. Anything else (numeric, date, IP address, binary operators, policy variables
//! `${…}`) is [`Tri::Unknown`]: never a pass.

use serde_json::Value;

use super::matching::{arn_like, glob};
use super::request::{Context, Lookup, Tri};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    Null,
}

impl BaseOp {
    const ALL: [(&'static str, BaseOp); 12] = [
        ("StringEquals", BaseOp::StringEquals),
        ("StringNotEquals", BaseOp::StringNotEquals),
        ("StringEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase),
        (
            "StringNotEqualsIgnoreCase",
            BaseOp::StringNotEqualsIgnoreCase,
        ),
        ("StringLike", BaseOp::StringLike),
        ("StringNotLike", BaseOp::StringNotLike),
        ("ArnEquals", BaseOp::ArnEquals),
        ("ArnLike", BaseOp::ArnLike),
        ("ArnNotEquals", BaseOp::ArnNotEquals),
        ("ArnNotLike", BaseOp::ArnNotLike),
        ("Bool", BaseOp::Bool),
        ("Null", BaseOp::Null),
    ];

    /// The negated operators: their values are NORed and a missing key satisfies them.
    pub fn negated(self) -> bool {
        matches!(
            self,
            BaseOp::StringNotEquals
                | BaseOp::StringNotEqualsIgnoreCase
                | BaseOp::StringNotLike
                | BaseOp::ArnNotEquals
                | BaseOp::ArnNotLike
        )
    }

    /// Whether one context value matches one policy value, for the positive form of the
    /// operator.
    fn matches(self, policy: &str, value: &str, notes: &mut Vec<String>) -> Tri {
        match self {
            BaseOp::StringEquals | BaseOp::StringNotEquals => Tri::from_bool(policy == value),
            BaseOp::StringEqualsIgnoreCase | BaseOp::StringNotEqualsIgnoreCase => {
                Tri::from_bool(policy.to_lowercase() == value.to_lowercase())
            }
            BaseOp::StringLike | BaseOp::StringNotLike => {
                Tri::from_bool(glob(policy, value, false))
            }
            // "ArnEquals, ArnLike: case-sensitive matching of the ARN. Each of the six
            // colon-delimited components of the ARN is checked separately and each can include
            // multi-character match wildcards (*) or single-character match wildcards (?)."
            BaseOp::ArnEquals | BaseOp::ArnLike | BaseOp::ArnNotEquals | BaseOp::ArnNotLike => {
                arn_like(policy, value, notes)
            }
            BaseOp::Bool => Tri::from_bool(policy.eq_ignore_ascii_case(value)),
            BaseOp::Null => Tri::No, // handled before matching
        }
    }
}

/// A parsed operator name: `[ForAnyValue:|ForAllValues:]<Base>[IfExists]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: Option<SetOp>,
    pub base: BaseOp,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name; `Err` names why it is not evaluated.
    pub fn parse(name: &str) -> Result<Operator, String> {
        let (set, rest) = if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.len().checked_sub("IfExists".len()) {
            Some(cut)
                if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") =>
            {
                (true, &rest[..cut])
            }
            _ => (false, rest),
        };
        let Some(base) = BaseOp::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(base_name))
            .map(|(_, b)| *b)
        else {
            return Err(format!(
                "condition operator {name:?} is not evaluated by the doctor"
            ));
        };
        if base == BaseOp::Null && (if_exists || set.is_some()) {
            return Err(format!(
                "condition operator {name:?} is not a valid Null check"
            ));
        }
        Ok(Operator {
            set,
            base,
            if_exists,
        })
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Condition values: a string, number or boolean, or an array of them.
fn condition_values(v: &Value) -> Option<Vec<String>> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// Evaluates a whole `Condition` block against the request context. Notes explaining an
/// `Unknown` are appended only when the block's result is `Unknown`.
pub fn evaluate(block: &Value, ctx: &Context, notes: &mut Vec<String>) -> Tri {
    let mut local = Vec::new();
    let Some(ops) = block.as_object() else {
        notes.push("Condition is not an object".to_owned());
        return Tri::Unknown;
    };
    let mut result = Tri::Yes;
    for (op_name, keys) in ops {
        let op = match Operator::parse(op_name) {
            Ok(op) => op,
            Err(why) => {
                local.push(why);
                result = result.and(Tri::Unknown);
                continue;
            }
        };
        let Some(keys) = keys.as_object() else {
            local.push(format!("{op_name} does not map keys to values"));
            result = result.and(Tri::Unknown);
            continue;
        };
        for (key, values) in keys {
            let Some(values) = condition_values(values) else {
                local.push(format!("{op_name} {key}: values are not strings"));
                result = result.and(Tri::Unknown);
                continue;
            };
            result = result.and(evaluate_key(op, key, &values, ctx, &mut local));
        }
    }
    if result == Tri::Unknown {
        notes.extend(local);
    }
    result
}

/// Evaluates one operator on one key with its policy values.
pub fn evaluate_key(
    op: Operator,
    key: &str,
    policy_values: &[String],
    ctx: &Context,
    notes: &mut Vec<String>,
) -> Tri {
    let name = op_display(op);
    if let Some(v) = policy_values.iter().find(|v| v.contains("${")) {
        notes.push(format!(
            "{name} {key}: value {v:?} uses a policy variable, which is not evaluated"
        ));
        return Tri::Unknown;
    }
    let lookup = ctx.lookup(key);
    if op.base == BaseOp::Null {
        // "Null": true means the key must be absent, false that it must be present.
        let wants_absent = policy_values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        let wants_present = policy_values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("false"));
        return match lookup {
            Lookup::Unknown => {
                notes.push(format!(
                    "Null {key}: whether the key is present is not known"
                ));
                Tri::Unknown
            }
            Lookup::Absent | Lookup::Present([]) => Tri::from_bool(wants_absent),
            Lookup::Present(_) | Lookup::PresentUnknown => Tri::from_bool(wants_present),
        };
    }
    let values = match lookup {
        Lookup::Unknown => {
            notes.push(format!("{name} {key}: the value of {key} is not known"));
            return Tri::Unknown;
        }
        Lookup::PresentUnknown => {
            notes.push(format!(
                "{name} {key}: {key} is in the request, with a value that is not known"
            ));
            return Tri::Unknown;
        }
        Lookup::Absent => &[][..],
        Lookup::Present(v) => v,
    };
    if values.is_empty() {
        if op.if_exists {
            return Tri::Yes;
        }
        return match op.set {
            Some(SetOp::ForAllValues) => Tri::Yes,
            Some(SetOp::ForAnyValue) => Tri::No,
            None => Tri::from_bool(op.base.negated()),
        };
    }
    // Per context value: matches any policy value (positive), or none of them (negated).
    let per_value: Vec<Tri> = values
        .iter()
        .map(|v| {
            let any = Tri::any(policy_values.iter().map(|p| op.base.matches(p, v, notes)));
            if op.base.negated() {
                !any
            } else {
                any
            }
        })
        .collect();
    match op.set {
        Some(SetOp::ForAllValues) => Tri::all(per_value),
        Some(SetOp::ForAnyValue) => Tri::any(per_value),
        // A single-valued operator on a multivalued key: a positive operator matches when any
        // value does, a negated one when no value matches any policy value.
        None if op.base.negated() => Tri::all(per_value),
        None => Tri::any(per_value),
    }
}

fn op_display(op: Operator) -> String {
    let base = BaseOp::ALL
        .iter()
        .find(|(_, b)| *b == op.base)
        .map(|(n, _)| *n)
        .unwrap_or_default();
    let set = match op.set {
        Some(SetOp::ForAnyValue) => "ForAnyValue:",
        Some(SetOp::ForAllValues) => "ForAllValues:",
        None => "",
    };
    let suffix = if op.if_exists { "IfExists" } else { "" };
    format!("{set}{base}{suffix}")
}
