//! The properties `plan` plans, from the files people have: a bare properties map (JSON or
//! YAML), a resource (`Type` + `Properties`), a map of resources by logical id (the README
//! snippet), or a whole CloudFormation template. Intrinsics are resolved offline
//! ([`crate::template`]) from `--parameter KEY=VALUE` or the parameters' defaults; one that only
//! a deployment can know (`Fn::ImportValue`, `Fn::GetAtt`, `Ref` of a resource) is an error
//! naming it, unless it is in CloudFormation's own properties, which the plan does not need.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::template::{Context, Template, TemplateError};

/// The resource type this provider serves.
pub const RESOURCE_TYPE: &str = "Custom::S3Replication";
/// Properties CloudFormation itself sends, which `plan` does not need (see `spec`).
const CLOUDFORMATION_OWNED: [&str; 2] = ["ServiceToken", "ServiceTimeout"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    #[error("reading {path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("{path} is neither JSON nor YAML: {why}")]
    NotJsonOrYaml { path: String, why: String },
    #[error("{path} has no {RESOURCE_TYPE} resource")]
    NoResource { path: String },
    #[error("{path} has several {RESOURCE_TYPE} resources ({found}); choose one with --resource")]
    SeveralResources { path: String, found: String },
    #[error("{path} has no {RESOURCE_TYPE} resource named {name:?} (it has: {found})")]
    NotFound {
        path: String,
        name: String,
        found: String,
    },
    #[error("--parameter {0:?} is not KEY=VALUE")]
    BadParameter(String),
    #[error("{path}: {source}")]
    Template {
        path: String,
        #[source]
        source: TemplateError,
    },
}

/// Reads `path` and returns the properties to plan, resolved for `account`/`region` with these
/// parameter values (`KEY=VALUE`).
pub fn read_properties(
    path: &str,
    resource: Option<&str>,
    parameters: &[String],
    account: &str,
    region: &str,
) -> Result<Value, PropertiesError> {
    let text = std::fs::read_to_string(path).map_err(|e| PropertiesError::Unreadable {
        path: path.to_owned(),
        why: e.to_string(),
    })?;
    let doc = Template::parse(&text)
        .map_err(|e| PropertiesError::NotJsonOrYaml {
            path: path.to_owned(),
            why: e.to_string(),
        })?
        .doc;
    let template = as_template(doc);
    let resources = custom_resources(&template);
    let logical_id = match (resource, resources.as_slice()) {
        (Some(name), found) if found.iter().any(|r| r == name) => name.to_owned(),
        (Some(name), found) => {
            return Err(PropertiesError::NotFound {
                path: path.to_owned(),
                name: name.to_owned(),
                found: found.join(", "),
            })
        }
        (None, [one]) => one.clone(),
        (None, []) => {
            return Err(PropertiesError::NoResource {
                path: path.to_owned(),
            })
        }
        (None, many) => {
            return Err(PropertiesError::SeveralResources {
                path: path.to_owned(),
                found: many.join(", "),
            })
        }
    };
    let mut ctx = Context::new(account, region);
    for p in parameters {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| PropertiesError::BadParameter(p.clone()))?;
        ctx = ctx.with_parameter(k, v);
    }
    // Only the resource's own properties are resolved: CloudFormation's may import values.
    let mut only = template.clone();
    let props = &mut only.doc["Resources"][&logical_id]["Properties"];
    if let Some(m) = props.as_object_mut() {
        for k in CLOUDFORMATION_OWNED {
            m.remove(k);
        }
    }
    only.doc["Resources"] = Value::Object(Map::from_iter([(
        logical_id.clone(),
        only.doc["Resources"][&logical_id].clone(),
    )]));
    only.deploy(&ctx)
        .map_err(|source| PropertiesError::Template {
            path: path.to_owned(),
            source,
        })
        .map(|d| {
            d.properties(&logical_id)
                .cloned()
                .unwrap_or(Value::Object(Map::new()))
        })
}

/// Whatever the file holds, as a template with `Resources`: a template as it is; a map of
/// resources (values with a `Type`); a resource (`Properties`, optionally `Type`); or a bare
/// properties map, as the resource `Replication`.
fn as_template(doc: Value) -> Template {
    let is_resource = |v: &Value| v.get("Type").is_some_and(Value::is_string);
    let resources = match &doc {
        Value::Object(m) if m.contains_key("Resources") => return Template { doc },
        Value::Object(m) if !m.is_empty() && m.values().all(is_resource) => doc.clone(),
        Value::Object(m) if m.contains_key("Properties") => {
            let mut r = doc.clone();
            r["Type"] = Value::String(RESOURCE_TYPE.to_owned());
            Value::Object(Map::from_iter([("Replication".to_owned(), r)]))
        }
        _ => Value::Object(Map::from_iter([(
            "Replication".to_owned(),
            serde_json::json!({"Type": RESOURCE_TYPE, "Properties": doc}),
        )])),
    };
    Template {
        doc: serde_json::json!({ "Resources": resources }),
    }
}

/// Logical ids of the template's `Custom::S3Replication` resources, in order.
fn custom_resources(t: &Template) -> Vec<String> {
    let order: BTreeMap<usize, String> = t
        .section("Resources")
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| r["Type"] == RESOURCE_TYPE)
        .map(|(i, (name, _))| (i, name.clone()))
        .collect();
    order.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, resource: Option<&str>, params: &[&str]) -> Result<Value, PropertiesError> {
        let dir = std::env::temp_dir().join(format!("props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{:x}.yaml", crate::plan::names::fnv64(text)));
        std::fs::write(&path, text).unwrap();
        let params: Vec<String> = params.iter().map(|s| (*s).to_owned()).collect();
        read_properties(
            path.to_str().unwrap(),
            resource,
            &params,
            "111111111111",
            "eu-west-1",
        )
    }

    const TEMPLATE: &str = r#"
Parameters:
  Bucket: { Type: String }
  Account: { Type: String, Default: "222222222222" }
Resources:
  Data: { Type: AWS::S3::Bucket }
  Replication:
    Type: Custom::S3Replication
    Properties:
      ServiceToken: !ImportValue provider-ServiceToken
      ServiceTimeout: 600
      SourceBucket: !Ref Bucket
      SourceRegion: !Ref AWS::Region
      Destinations:
        - Bucket: !Sub "${Bucket}-backup"
          AccountId: !Ref Account
          Region: us-west-2
"#;

    #[test]
    fn a_template_plans_with_parameters_and_without_cloudformations_own_properties() {
        let p = read(TEMPLATE, None, &["Bucket=data"]).unwrap();
        assert_eq!(p["SourceBucket"], "data");
        assert_eq!(p["SourceRegion"], "eu-west-1");
        assert_eq!(p["Destinations"][0]["Bucket"], "data-backup");
        assert_eq!(p["Destinations"][0]["AccountId"], "222222222222");
        assert!(p.get("ServiceToken").is_none());
    }

    #[test]
    fn a_missing_parameter_or_an_import_the_plan_needs_is_named() {
        let e = read(TEMPLATE, None, &[]).unwrap_err().to_string();
        assert!(e.contains("Bucket") && e.contains("--parameter"), "{e}");
        let imported = TEMPLATE.replace(
            "SourceBucket: !Ref Bucket",
            "SourceBucket: !ImportValue shared-bucket",
        );
        let e = read(&imported, None, &["Bucket=x"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Fn::ImportValue") && e.contains("SourceBucket"),
            "{e}"
        );
        let e = read(TEMPLATE, None, &["Bucket"]).unwrap_err();
        assert_eq!(e, PropertiesError::BadParameter("Bucket".into()));
    }

    #[test]
    fn resources_are_chosen_by_logical_id() {
        let two = format!(
            "{TEMPLATE}  Second:\n    Type: Custom::S3Replication\n    Properties: {{SourceBucket: other, Destinations: []}}\n"
        );
        let e = read(&two, None, &["Bucket=x"]).unwrap_err().to_string();
        assert!(
            e.contains("Replication, Second") && e.contains("--resource"),
            "{e}"
        );
        assert_eq!(
            read(&two, Some("Second"), &["Bucket=x"]).unwrap()["SourceBucket"],
            "other"
        );
        let e = read(&two, Some("Third"), &[]).unwrap_err().to_string();
        assert!(
            e.contains("Third") && e.contains("Replication, Second"),
            "{e}"
        );
    }

    #[test]
    fn bare_properties_a_resource_and_a_resource_map_are_read_too() {
        let bare = "SourceBucket: b\nDestinations: []\n";
        assert_eq!(read(bare, None, &[]).unwrap()["SourceBucket"], "b");
        let resource = "Properties:\n  SourceBucket: b\n";
        assert_eq!(read(resource, None, &[]).unwrap()["SourceBucket"], "b");
        let snippet = "Replication:\n  Type: Custom::S3Replication\n  Properties:\n    ServiceToken: !ImportValue x\n    SourceBucket: b\n";
        assert_eq!(read(snippet, None, &[]).unwrap()["SourceBucket"], "b");
    }
}
