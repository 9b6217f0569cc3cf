//! The binary outside Lambda: `plan` (pure: print what Create would apply) and `doctor`
//! (read the live state and evaluate the permission chain).

use std::process::ExitCode;

use serde_json::{json, Value};

use crate::aws::{CallLog, Connector};
use crate::doctor::{self, Format, Status};
use crate::inspect::{self, Target};
use crate::plan::{Plan, Resolved};
use crate::spec::{self, AccountId, DestinationKey, Region, RoleArn, SourceKey};

pub const USAGE: &str = "usage:
  bootstrap                                   run as the Lambda function
  bootstrap invoke <event.json|->             handle one CloudFormation request outside Lambda
  bootstrap plan --properties <file.json|file.yaml> [--source-account ID] [--region R] [--source-key ARN]
                                              print the documents Create would apply (no AWS calls)
  bootstrap plan --properties <file> --diff [--region R] [--json]
                                              read the live state (read-only) and show what
                                              Create/Update would create or change
  bootstrap doctor --source-bucket B [--region R] [--source-role-arn ARN]
                   [--destination-role-arn ARN]... [--external-id X] [--json]
  bootstrap doctor --snapshot <snapshot.json> [--json]
                                              evaluate every link of the replication permission chain";

/// `--name value` pairs (repeatable) and `--flag`s.
struct Args(Vec<String>);

impl Args {
    fn value(&self, name: &str) -> Option<&str> {
        self.values(name).into_iter().next()
    }
    fn values(&self, name: &str) -> Vec<&str> {
        self.0
            .windows(2)
            .filter(|w| w[0] == name)
            .map(|w| w[1].as_str())
            .collect()
    }
    fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Reads a properties file: JSON, or YAML for `.yaml`/`.yml` (a bare properties map, or a map
/// with a `Properties` key as in a template's resource).
fn read_properties(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    let value: Value = if path.ends_with(".yaml") || path.ends_with(".yml") {
        serde_norway::from_str(&text).map_err(|e| format!("{path} is not YAML: {e}"))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?
    };
    Ok(value.get("Properties").cloned().unwrap_or(value))
}

/// The region for commands that call AWS: from the arguments or the environment, never from
/// instance metadata.
fn cli_region(args: &Args, fallback: Option<String>) -> Result<Region, String> {
    let region = args
        .value("--region")
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .or(fallback)
        .ok_or("no region: pass --region or set AWS_REGION")?;
    Region::parse(&region).map_err(|e| e.to_string())
}

async fn connector(region: &Region) -> Connector {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await;
    Connector::new(&base, CallLog::default())
}

/// `plan --diff`: reads the live state (read-only) and prints what Create/Update would change.
pub async fn plan_diff(args: &[String]) -> ExitCode {
    let args = Args(args.to_vec());
    let Some(path) = args.value("--properties") else {
        return fail(format!("plan needs --properties\n{USAGE}"));
    };
    let spec = match read_properties(path).and_then(|p| spec::parse(&p).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let region = match cli_region(&args, spec.source.region.as_ref().map(|r| r.to_string())) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let preview = match crate::reconcile::preview(&connector(&region).await, &spec).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if args.flag("--json") {
        let out = json!({"PhysicalResourceId": preview.plan.resolved.physical_id, "Changes": preview.changes});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print!("{}", render_changes(&preview.changes));
    }
    ExitCode::SUCCESS
}

/// One line per change (`+` create, `~` update, `-` remove, `=` unchanged), with the current and desired
/// documents under each that is not unchanged, and a count.
pub fn render_changes(changes: &[crate::reconcile::Change]) -> String {
    use crate::reconcile::Action;
    let mut out = String::new();
    for c in changes {
        let mark = match c.action {
            Action::Create => "+ create   ",
            Action::Update => "~ update   ",
            Action::Unchanged => "= unchanged",
            Action::Remove => "- remove   ",
        };
        out.push_str(&format!(
            "{mark} {} {} {} {}\n",
            c.what, c.account, c.region, c.resource
        ));
        for (label, doc) in [("current", &c.current), ("desired", &c.desired)] {
            if let Some(d) = doc {
                out.push_str(&format!("      {label}: {d}\n"));
            }
        }
    }
    let count = |a| changes.iter().filter(|c| c.action == a).count();
    out.push_str(&format!(
        "{} to create, {} to update, {} to remove, {} unchanged\n",
        count(Action::Create),
        count(Action::Update),
        count(Action::Remove),
        count(Action::Unchanged)
    ));
    out
}

/// `plan`: the exact documents Create would apply, with placeholders for what only AWS knows.
pub fn plan(args: &[String]) -> ExitCode {
    let args = Args(args.to_vec());
    let Some(path) = args.value("--properties") else {
        return fail(format!("plan needs --properties\n{USAGE}"));
    };
    let props = match read_properties(path) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let spec = match spec::parse(&props) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let account = match AccountId::parse(args.value("--source-account").unwrap_or("111111111111")) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let region = args
        .value("--region")
        .map(str::to_owned)
        .or_else(|| spec.source.region.as_ref().map(|r| r.to_string()))
        .or_else(|| std::env::var("AWS_REGION").ok())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let region = match Region::parse(&region) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let placeholder = crate::plan::names::key_placeholder;
    let source_key = match (&spec.source.kms_key, args.value("--source-key")) {
        (_, Some(k)) => Some(k.to_owned()),
        (SourceKey::Existing(k), None) => Some(k.to_string()),
        (SourceKey::Create, None) => Some(placeholder(&account, &region)),
        (SourceKey::Discover, None) => None,
    };
    let dest_keys: Vec<Option<String>> = spec
        .destinations
        .iter()
        .map(|d| match &d.kms_key {
            DestinationKey::Create => Some(placeholder(&d.account, &d.region)),
            DestinationKey::Existing(k) => Some(k.to_string()),
            DestinationKey::None => None,
        })
        .collect();
    let resolved = Resolved::new(&spec, account, region, source_key);
    match Plan::build(&spec, resolved, &dest_keys) {
        Ok(plan) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan_json(&plan)).unwrap_or_default()
            );
            if matches!(spec.source.kms_key, SourceKey::Discover)
                && args.value("--source-key").is_none()
            {
                eprintln!("note: SourceKmsKeyArn is discovered from the bucket at Create; pass --source-key to plan with one");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn plan_json(p: &Plan) -> Value {
    let r = &p.resolved;
    json!({
        "PhysicalResourceId": r.physical_id,
        "ReplicationRole": {"Arn": r.role_arn.to_string(), "TrustPolicy": p.trust_policy, "InlinePolicy": p.role_policy},
        "SourceKeyStatement": p.source_key_statement.as_ref().map(|k| json!({"Account": k.account.to_string(), "Region": k.region.to_string(), "Key": k.key_arn, "Statement": k.statement})),
        "DestinationBucketStatements": p.bucket_statements.iter().map(|b| json!({"Account": b.account.to_string(), "Region": b.region.to_string(), "Bucket": b.bucket.to_string(), "Statement": b.statement})).collect::<Vec<_>>(),
        "DestinationKeyStatements": p.key_statements.iter().map(|k| json!({"Account": k.account.to_string(), "Region": k.region.to_string(), "Key": k.key_arn, "Statement": k.statement})).collect::<Vec<_>>(),
        "ReplicationConfiguration": p.replication,
        "Data": p.response_data(),
    })
}

/// `doctor`: 0 when every link passes, 1 when one fails, 3 when none fails but some cannot be
/// decided.
pub async fn doctor(args: &[String]) -> ExitCode {
    let args = Args(args.to_vec());
    let format = if args.flag("--json") {
        Format::Json
    } else {
        Format::Text
    };
    let snapshot = if let Some(path) = args.value("--snapshot") {
        // A snapshot, or a test fixture holding one under "snapshot".
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
            .and_then(|v| {
                serde_json::from_value(v.get("snapshot").cloned().unwrap_or(v))
                    .map_err(|e| e.to_string())
            });
        match parsed {
            Ok(s) => s,
            Err(e) => return fail(format!("{path}: {e}")),
        }
    } else {
        match live_snapshot(&args).await {
            Ok(s) => s,
            Err(e) => return fail(e),
        }
    };
    let findings = doctor::check(&snapshot);
    println!("{}", doctor::render(&findings, format));
    if findings.iter().any(|f| f.status == Status::Fail) {
        ExitCode::FAILURE
    } else if findings.iter().any(|f| f.status == Status::CannotDecide) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

async fn live_snapshot(args: &Args) -> Result<doctor::Snapshot, String> {
    let bucket = args
        .value("--source-bucket")
        .ok_or_else(|| format!("doctor needs --source-bucket or --snapshot\n{USAGE}"))?;
    let region = cli_region(args, None)?;
    let source_role = args
        .value("--source-role-arn")
        .map(RoleArn::parse)
        .transpose()?;
    let external_id = args.value("--external-id").map(str::to_owned);
    let destination_roles = args
        .values("--destination-role-arn")
        .into_iter()
        .map(|r| RoleArn::parse(r).map(|r| (r, external_id.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let target = Target {
        bucket: bucket.to_owned(),
        region,
        source_role,
        destination_roles,
    };
    inspect::snapshot(&connector(&target.region).await, &target)
        .await
        .map_err(|e| e.to_string())
}
