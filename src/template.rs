//! A CloudFormation template, resolved offline: parameters (given or defaulted), pseudo
//! parameters, conditions, `Rules`, and the intrinsic functions a template's policies and
//! properties use, so that what a template would deploy can be read, printed and evaluated
//! without CloudFormation.
//!
//! YAML short forms (`!Sub`, `!Ref`, `!GetAtt A.B`, ...) become their long forms. What cannot be
//! known offline (`Fn::ImportValue`, `Fn::GetAtt`, `Ref` of a resource) resolves only to values
//! the caller supplies in [`Context`]; otherwise it is an error naming the intrinsic and where it
//! is used.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Stands for `AWS::NoValue` while resolving; removed from the result.
const NO_VALUE: &str = "\u{0}AWS::NoValue";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("not a template: {0}")]
    Unreadable(String),
    #[error("parameter {0} has no default: give it a value (with `plan`: --parameter {0}=VALUE)")]
    MissingParameter(String),
    #[error("{at}: {function} cannot be resolved offline ({why})")]
    Unresolvable {
        at: String,
        function: String,
        why: String,
    },
    #[error("{at}: {why}")]
    Malformed { at: String, why: String },
}

/// What the template is deployed with, and the values of what only a deployment knows.
#[derive(Debug, Clone)]
pub struct Context {
    pub parameters: BTreeMap<String, String>,
    pub account: String,
    pub region: String,
    pub partition: String,
    pub stack_name: String,
    /// `Ref` of a resource (its physical id: a role's name, a managed policy's ARN, ...).
    pub refs: BTreeMap<String, Value>,
    /// `Fn::GetAtt` of a resource, by `(resource, attribute)`.
    pub attributes: BTreeMap<(String, String), Value>,
    /// `Fn::ImportValue`, by export name.
    pub imports: BTreeMap<String, Value>,
}

impl Context {
    pub fn new(account: &str, region: &str) -> Self {
        Self {
            parameters: BTreeMap::new(),
            account: account.to_owned(),
            region: region.to_owned(),
            partition: if region.starts_with("cn-") {
                "aws-cn"
            } else if region.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            }
            .to_owned(),
            stack_name: "stack".to_owned(),
            refs: BTreeMap::new(),
            attributes: BTreeMap::new(),
            imports: BTreeMap::new(),
        }
    }

    pub fn with_parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.insert(name.to_owned(), value.to_owned());
        self
    }
}

/// A parsed template, intrinsics in long form.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub doc: Value,
}

/// The template as a deployment with a [`Context`] would create it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    /// Resources whose `Condition` holds, with their properties resolved.
    pub resources: BTreeMap<String, Value>,
    pub conditions: BTreeMap<String, bool>,
    /// The `AssertDescription` of every `Rules` assertion that does not hold: CloudFormation
    /// refuses such a deployment.
    pub failed_rules: Vec<String>,
}

impl Deployed {
    /// A resource's resolved `Properties`.
    pub fn properties(&self, logical_id: &str) -> Option<&Value> {
        self.resources.get(logical_id).map(|r| &r["Properties"])
    }
}

impl Template {
    /// Parses JSON, or YAML with CloudFormation's short-form tags.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        if let Ok(doc) = serde_json::from_str::<Value>(text) {
            return Ok(Self { doc });
        }
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| TemplateError::Unreadable(e.to_string()))?;
        Ok(Self {
            doc: long_form(yaml)?,
        })
    }

    pub fn section(&self, name: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.doc
            .get(name)
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// Resolves every resource, condition and rule for `ctx`; a parameter without a value is an
    /// error where something refers to it.
    pub fn deploy(&self, ctx: &Context) -> Result<Deployed, TemplateError> {
        let mut r = Resolver {
            template: self,
            ctx,
            params: self.parameter_values(ctx)?,
            conditions: BTreeMap::new(),
        };
        for name in self.section("Conditions").keys() {
            r.condition(name, &format!("Conditions.{name}"))?;
        }
        let mut failed_rules = Vec::new();
        for (name, rule) in self.section("Rules") {
            let at = format!("Rules.{name}");
            if let Some(c) = rule.get("RuleCondition") {
                if !r.boolean(c, &at)? {
                    continue;
                }
            }
            for (i, a) in rule["Assertions"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if !r.boolean(&a["Assert"], &format!("{at}.Assertions[{i}]"))? {
                    failed_rules.push(
                        a["AssertDescription"]
                            .as_str()
                            .unwrap_or(name)
                            .trim()
                            .to_owned(),
                    );
                }
            }
        }
        let mut resources = BTreeMap::new();
        for (name, resource) in self.section("Resources") {
            let at = format!("Resources.{name}");
            if let Some(c) = resource.get("Condition").and_then(Value::as_str) {
                if !r.condition(c, &at)? {
                    continue;
                }
            }
            let resolved = r.value(resource, &at)?;
            resources.insert(name.clone(), strip_no_value(resolved));
        }
        Ok(Deployed {
            resources,
            conditions: r.conditions,
            failed_rules,
        })
    }

    /// Parameter values: given, else the default; lists split at commas.
    fn parameter_values(&self, ctx: &Context) -> Result<BTreeMap<String, Value>, TemplateError> {
        let mut out = BTreeMap::new();
        for (name, p) in self.section("Parameters") {
            let raw = match (ctx.parameters.get(name), p.get("Default")) {
                (Some(v), _) => v.clone(),
                (None, Some(Value::String(d))) => d.clone(),
                (None, Some(d)) => d.to_string(),
                // Needed only if something refers to it (see `Resolver::reference`).
                (None, None) => continue,
            };
            let is_list = p["Type"]
                .as_str()
                .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
            check_constraints(name, p, &raw, is_list)?;
            let value = if is_list {
                Value::Array(
                    raw.split(',')
                        .map(|s| Value::String(s.trim().to_owned()))
                        .collect(),
                )
            } else {
                Value::String(raw)
            };
            out.insert(name.clone(), value);
        }
        Ok(out)
    }
}

/// CloudFormation refuses a parameter value (given or default) outside the parameter's
/// `AllowedValues`, `AllowedPattern` (the whole value; each element of a list) or
/// `MinLength`/`MaxLength`, saying its `ConstraintDescription`.
fn check_constraints(name: &str, p: &Value, raw: &str, is_list: bool) -> Result<(), TemplateError> {
    let refuse = |why: String| {
        let hint = p["ConstraintDescription"]
            .as_str()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        Err(TemplateError::Malformed {
            at: format!("Parameters.{name}"),
            why: format!("{why}{hint}"),
        })
    };
    let values: Vec<&str> = if is_list {
        raw.split(',').map(str::trim).collect()
    } else {
        vec![raw]
    };
    if let Some(allowed) = p["AllowedValues"].as_array() {
        // Numbers too (`AllowedValues: [1, 3, 5]`): CloudFormation compares the text.
        let allowed: Vec<String> = allowed
            .iter()
            .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
            .collect();
        if let Some(v) = values.iter().find(|v| !allowed.iter().any(|a| a == *v)) {
            return refuse(format!("{v:?} is not one of its AllowedValues {allowed:?}"));
        }
    }
    if let Some(pattern) = p["AllowedPattern"].as_str() {
        let whole = regex_lite::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
            TemplateError::Malformed {
                at: format!("Parameters.{name}.AllowedPattern"),
                why: e.to_string(),
            }
        })?;
        if let Some(v) = values.iter().find(|v| !whole.is_match(v)) {
            return refuse(format!(
                "{v:?} does not match its AllowedPattern {pattern:?}"
            ));
        }
    }
    let length = raw.chars().count();
    let bound = |key: &str| p[key].as_u64().or_else(|| p[key].as_str()?.parse().ok());
    if let Some(min) = bound("MinLength").filter(|&m| (length as u64) < m) {
        return refuse(format!("{raw:?} is shorter than its MinLength {min}"));
    }
    if let Some(max) = bound("MaxLength").filter(|&m| (length as u64) > m) {
        return refuse(format!("{raw:?} is longer than its MaxLength {max}"));
    }
    Ok(())
}

/// YAML with short-form tags → JSON with long-form intrinsics.
fn long_form(v: serde_norway::Value) -> Result<Value, TemplateError> {
    use serde_norway::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(long_form).collect::<Result<_, _>>()?)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_norway::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                out.insert(key, long_form(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(t.value)?;
            match (name, inner) {
                ("Ref", v) => json!({ "Ref": v }),
                ("Condition", v) => json!({ "Condition": v }),
                ("GetAtt", Value::String(s)) => {
                    let (res, attr) = s.split_once('.').unwrap_or((s.as_str(), ""));
                    json!({ "Fn::GetAtt": [res, attr] })
                }
                (f, v) => json!({ format!("Fn::{f}"): v }),
            }
        }
    })
}

fn strip_no_value(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|i| i != NO_VALUE)
                .map(strip_no_value)
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| v != NO_VALUE)
                .map(|(k, v)| (k, strip_no_value(v)))
                .collect(),
        ),
        other => other,
    }
}

struct Resolver<'a> {
    template: &'a Template,
    ctx: &'a Context,
    params: BTreeMap<String, Value>,
    conditions: BTreeMap<String, bool>,
}

impl Resolver<'_> {
    fn condition(&mut self, name: &str, at: &str) -> Result<bool, TemplateError> {
        if let Some(b) = self.conditions.get(name) {
            return Ok(*b);
        }
        let def = self
            .template
            .section("Conditions")
            .get(name)
            .ok_or_else(|| malformed(at, format!("no condition named {name}")))?
            .clone();
        let b = self.boolean(&def, &format!("Conditions.{name}"))?;
        self.conditions.insert(name.to_owned(), b);
        Ok(b)
    }

    fn boolean(&mut self, v: &Value, at: &str) -> Result<bool, TemplateError> {
        match self.value(v, at)? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(malformed(at, format!("expected a condition, got {other}"))),
        }
    }

    fn value(&mut self, v: &Value, at: &str) -> Result<Value, TemplateError> {
        match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| self.value(x, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one entry");
                if k == "Ref" || k == "Condition" || k.starts_with("Fn::") {
                    self.function(k, arg, at)
                } else {
                    Ok(json!({ k.clone(): self.value(arg, &format!("{at}.{k}"))? }))
                }
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(k.clone(), self.value(x, &format!("{at}.{k}"))?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn function(&mut self, name: &str, arg: &Value, at: &str) -> Result<Value, TemplateError> {
        let at_fn = format!("{at}.{name}");
        match name {
            "Ref" => self.reference(arg.as_str().unwrap_or_default(), &at_fn),
            "Condition" => {
                let c = arg.as_str().unwrap_or_default().to_owned();
                Ok(Value::Bool(self.condition(&c, &at_fn)?))
            }
            "Fn::If" => {
                let [c, yes, no] = args::<3>(arg, &at_fn)?;
                let c = c.as_str().unwrap_or_default().to_owned();
                if self.condition(&c, &at_fn)? {
                    self.value(yes, &at_fn)
                } else {
                    self.value(no, &at_fn)
                }
            }
            "Fn::Equals" => {
                let [a, b] = args::<2>(arg, &at_fn)?;
                Ok(Value::Bool(
                    self.value(a, &at_fn)? == self.value(b, &at_fn)?,
                ))
            }
            "Fn::Not" => {
                let [a] = args::<1>(arg, &at_fn)?;
                Ok(Value::Bool(!self.boolean(a, &at_fn)?))
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg
                    .as_array()
                    .ok_or_else(|| malformed(&at_fn, "expects a list"))?;
                let mut values = Vec::new();
                for i in items {
                    values.push(self.boolean(i, &at_fn)?);
                }
                Ok(Value::Bool(if name == "Fn::And" {
                    values.iter().all(|b| *b)
                } else {
                    values.iter().any(|b| *b)
                }))
            }
            "Fn::Contains" => {
                let [list, item] = args::<2>(arg, &at_fn)?;
                let list = self.value(list, &at_fn)?;
                let item = self.value(item, &at_fn)?;
                Ok(Value::Bool(
                    list.as_array().is_some_and(|l| l.contains(&item)),
                ))
            }
            "Fn::Join" => {
                let [delim, list] = args::<2>(arg, &at_fn)?;
                let list = self.value(list, &at_fn)?;
                let parts: Vec<String> = list
                    .as_array()
                    .ok_or_else(|| malformed(&at_fn, "joins a list"))?
                    .iter()
                    .filter(|v| *v != NO_VALUE)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect();
                Ok(Value::String(
                    parts.join(delim.as_str().unwrap_or_default()),
                ))
            }
            "Fn::Split" => {
                let [delim, s] = args::<2>(arg, &at_fn)?;
                let s = self.value(s, &at_fn)?;
                let d = delim.as_str().unwrap_or_default();
                Ok(Value::Array(
                    s.as_str()
                        .unwrap_or_default()
                        .split(d)
                        .map(|p| Value::String(p.to_owned()))
                        .collect(),
                ))
            }
            "Fn::Select" => {
                let [i, list] = args::<2>(arg, &at_fn)?;
                let i = self.value(i, &at_fn)?;
                let i: usize = i
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
                    .parse()
                    .map_err(|_| malformed(&at_fn, "index is not a number"))?;
                let list = self.value(list, &at_fn)?;
                list.get(i)
                    .cloned()
                    .ok_or_else(|| malformed(&at_fn, format!("no element {i}")))
            }
            "Fn::Sub" => self.sub(arg, &at_fn),
            "Fn::GetAtt" => {
                let parts: Vec<String> = match arg {
                    Value::String(s) => s.splitn(2, '.').map(str::to_owned).collect(),
                    other => other
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| p.as_str().unwrap_or_default().to_owned())
                        .collect(),
                };
                let key = (
                    parts.first().cloned().unwrap_or_default(),
                    parts.get(1).cloned().unwrap_or_default(),
                );
                self.ctx.attributes.get(&key).cloned().ok_or_else(|| {
                    unresolvable(
                        &at_fn,
                        "Fn::GetAtt",
                        format!("{}.{} is known only once deployed", key.0, key.1),
                    )
                })
            }
            "Fn::ImportValue" => {
                let export = self.value(arg, &at_fn)?;
                let export = export.as_str().unwrap_or_default().to_owned();
                self.ctx.imports.get(&export).cloned().ok_or_else(|| {
                    unresolvable(
                        &at_fn,
                        "Fn::ImportValue",
                        format!("export {export:?} of another stack"),
                    )
                })
            }
            other => Err(unresolvable(
                &at_fn,
                other,
                "not supported offline".to_owned(),
            )),
        }
    }

    fn reference(&mut self, name: &str, at: &str) -> Result<Value, TemplateError> {
        let ctx = self.ctx;
        Ok(match name {
            "AWS::AccountId" => json!(ctx.account),
            "AWS::Region" => json!(ctx.region),
            "AWS::Partition" => json!(ctx.partition),
            "AWS::StackName" => json!(ctx.stack_name),
            "AWS::StackId" => json!(format!(
                "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                ctx.partition, ctx.region, ctx.account, ctx.stack_name
            )),
            "AWS::URLSuffix" => json!(if ctx.partition == "aws-cn" {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            }),
            "AWS::NoValue" => json!(NO_VALUE),
            other if self.template.section("Parameters").contains_key(other) => self
                .params
                .get(other)
                .cloned()
                .ok_or_else(|| TemplateError::MissingParameter(other.to_owned()))?,
            other => match self.params.get(other) {
                Some(v) => v.clone(),
                None => ctx.refs.get(other).cloned().ok_or_else(|| {
                    unresolvable(
                        at,
                        "Ref",
                        format!("{other} is a resource; its id is known only once deployed"),
                    )
                })?,
            },
        })
    }

    fn sub(&mut self, arg: &Value, at: &str) -> Result<Value, TemplateError> {
        let (text, vars) = match arg {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Array(a) if a.len() == 2 => {
                let vars = match self.value(&a[1], at)? {
                    Value::Object(m) => m,
                    _ => return Err(malformed(at, "Fn::Sub's second element must be a map")),
                };
                (a[0].as_str().unwrap_or_default().to_owned(), vars)
            }
            _ => return Err(malformed(at, "Fn::Sub takes a string or [string, map]")),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| malformed(at, "unclosed ${ in Fn::Sub"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let value = match vars.get(name) {
                    Some(v) => v.clone(),
                    None if name.contains('.') && !name.starts_with("AWS::") => {
                        self.function("Fn::GetAtt", &json!(name), at)?
                    }
                    None => self.reference(name, at)?,
                };
                match value {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

fn args<'v, const N: usize>(arg: &'v Value, at: &str) -> Result<[&'v Value; N], TemplateError> {
    let items = arg.as_array().map(|a| a.iter().collect::<Vec<_>>());
    items
        .and_then(|v| <[&Value; N]>::try_from(v).ok())
        .ok_or_else(|| malformed(at, format!("expects a list of {N}")))
}

fn malformed(at: &str, why: impl Into<String>) -> TemplateError {
    TemplateError::Malformed {
        at: at.to_owned(),
        why: why.into(),
    }
}

fn unresolvable(at: &str, function: &str, why: String) -> TemplateError {
    TemplateError::Unresolvable {
        at: at.to_owned(),
        function: function.to_owned(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = r#"
Parameters:
  Name: { Type: String, Default: world }
  Ids: { Type: CommaDelimitedList, Default: "" }
  Required: { Type: String }
Rules:
  IdsGiven:
    RuleCondition: !Equals [!Ref Name, strict]
    Assertions:
      - Assert: !Not [!Contains [!Ref Ids, ""]]
        AssertDescription: list the ids
Conditions:
  HasIds: !Not [!Equals [!Join ["", !Ref Ids], ""]]
  Never: !Equals [a, b]
Resources:
  Thing:
    Type: X::Y
    Properties:
      Greeting: !Sub "hello ${Name} in ${AWS::Region} ${!Literal}"
      Arn: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Required}
      Items:
        - keep
        - !If [HasIds, { Ids: !Ref Ids }, !Ref AWS::NoValue]
      Maybe: !If [Never, x, !Ref AWS::NoValue]
      Imported: !ImportValue
        Fn::Sub: ${Name}-token
      Attr: !GetAtt Role.Arn
  Skipped:
    Type: X::Y
    Condition: Never
"#;

    fn ctx() -> Context {
        let mut c = Context::new("111122223333", "eu-west-1").with_parameter("Required", "r");
        c.imports.insert("world-token".into(), json!("fn-arn"));
        c.attributes
            .insert(("Role".into(), "Arn".into()), json!("role-arn"));
        c
    }

    #[test]
    fn short_forms_resolve_with_defaults_pseudo_parameters_and_conditions() {
        let d = Template::parse(T).unwrap().deploy(&ctx()).unwrap();
        let p = d.properties("Thing").unwrap();
        assert_eq!(p["Greeting"], "hello world in eu-west-1 ${Literal}");
        assert_eq!(p["Arn"], "arn:aws:iam::111122223333:role/r");
        assert_eq!(p["Items"], json!(["keep"]), "NoValue drops the element");
        assert!(p.get("Maybe").is_none(), "NoValue drops the key");
        assert_eq!(p["Imported"], "fn-arn");
        assert_eq!(p["Attr"], "role-arn");
        assert!(!d.resources.contains_key("Skipped"));
        assert!(d.failed_rules.is_empty());
    }

    #[test]
    fn lists_and_rules() {
        let mut c = ctx()
            .with_parameter("Ids", "1,2")
            .with_parameter("Name", "strict");
        c.imports.insert("strict-token".into(), json!("x"));
        let d = Template::parse(T).unwrap().deploy(&c).unwrap();
        assert_eq!(
            d.properties("Thing").unwrap()["Items"][1]["Ids"],
            json!(["1", "2"])
        );
        assert!(d.failed_rules.is_empty());
        let c = c.with_parameter("Ids", "");
        let d = Template::parse(T).unwrap().deploy(&c).unwrap();
        assert_eq!(d.failed_rules, vec!["list the ids"]);
    }

    #[test]
    fn what_only_a_deployment_knows_is_named() {
        let mut c = ctx();
        c.imports.clear();
        let e = Template::parse(T).unwrap().deploy(&c).unwrap_err();
        assert!(
            matches!(&e, TemplateError::Unresolvable { function, at, .. } if function == "Fn::ImportValue" && at.contains("Imported")),
            "{e}"
        );
        let e = Template::parse(T)
            .unwrap()
            .deploy(&Context::new("111122223333", "eu-west-1"))
            .unwrap_err();
        assert_eq!(e, TemplateError::MissingParameter("Required".into()));
    }

    #[test]
    fn parameter_values_outside_their_constraints_are_refused_as_cloudformation_does() {
        const C: &str = r#"
Parameters:
  Pattern: { Type: String, Default: backup*, AllowedPattern: "[a-z*]*[a-z][a-z*]*", MaxLength: 8, ConstraintDescription: at least one letter }
  Mode: { Type: String, Default: A, AllowedValues: [A, B, 7] }
  Ids: { Type: CommaDelimitedList, Default: "", AllowedPattern: "^$|^[0-9]{3}$" }
Resources:
  R: { Type: AWS::X::Y, Properties: { P: !Ref Pattern, M: !Ref Mode, I: !Ref Ids } }
"#;
        let t = Template::parse(C).unwrap();
        let deploy = |k: &str, v: &str| t.deploy(&Context::new("1", "r").with_parameter(k, v));
        // (parameter, value, what the refusal says; None: accepted)
        for (k, v, refusal) in [
            ("Pattern", "backup-*", Some("AllowedPattern")),
            ("Pattern", "bk*", None),
            ("Pattern", "**", Some("Parameters.Pattern")),
            ("Pattern", "**", Some("at least one letter")),
            ("Pattern", "abcdefghi", Some("MaxLength 8")),
            ("Mode", "7", None),
            ("Mode", "C", Some("AllowedValues")),
            ("Ids", "123, 456", None),
            ("Ids", "123,45", Some("\"45\"")),
        ] {
            match (deploy(k, v), refusal) {
                (Ok(_), None) => {}
                (Err(e), Some(says)) => assert!(e.to_string().contains(says), "{k}={v}: {e}"),
                (other, _) => panic!("{k}={v}: {other:?}, expected {refusal:?}"),
            }
        }
    }
}
