//! `plan`: the exact documents Create would apply, and `plan --diff`: what it would change.

use std::process::ExitCode;

use serde_json::{json, Value};

use super::{cli_region, connector, fail, read_properties, PlanArgs};
use crate::plan::{KeyRef, Keys, Plan, Resolved};
use crate::spec::{self, AccountId, Region, SourceKey};

/// Stands for the source account when `--source-account` is not given (announced).
const PLACEHOLDER_ACCOUNT: &str = "111111111111";
/// The region assumed when none is given anywhere (announced).
const DEFAULT_REGION: &str = "us-east-1";

/// Account and region to plan for: given, or announced on stderr as assumed.
fn account_and_region(args: &PlanArgs) -> Result<(AccountId, Option<Region>), String> {
    let account = match &args.source_account {
        Some(a) => a.clone(),
        None => {
            eprintln!("note: no --source-account: the ARNs below name the placeholder account {PLACEHOLDER_ACCOUNT}");
            PLACEHOLDER_ACCOUNT.to_owned()
        }
    };
    let account = AccountId::parse(&account)?;
    let region = args
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .map(|r| Region::parse(&r))
        .transpose()?;
    Ok((account, region))
}

/// The validated properties of `args.properties`, resolved for `account`/`region`.
fn spec_of(args: &PlanArgs, account: &AccountId, region: &str) -> Result<spec::Spec, String> {
    let path = args.properties.display().to_string();
    let props = read_properties(
        &path,
        args.resource.as_deref(),
        &args.parameters,
        account.as_str(),
        region,
    )
    .map_err(|e| e.to_string())?;
    spec::parse(&props).map_err(|e| e.to_string())
}

/// What both `plan` and `plan --diff` start from: the account and region given (or assumed,
/// announced), and the validated properties of the file resolved for them.
fn inputs(args: &PlanArgs) -> Result<(AccountId, Option<Region>, spec::Spec), String> {
    let (account, region) = account_and_region(args)?;
    let template_region = region.as_ref().map_or(DEFAULT_REGION, |r| r.as_str());
    let spec = spec_of(args, &account, template_region)?;
    Ok((account, region, spec))
}

/// `plan`: pure, no AWS call; keys Create would make are named by their alias ARN.
pub fn print(args: &PlanArgs) -> ExitCode {
    let (account, region, spec) = match inputs(args) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let region = match region.or_else(|| spec.source.region.clone()) {
        Some(r) => r,
        None => {
            eprintln!(
                "note: no --region, SourceRegion or AWS_REGION: planning for {DEFAULT_REGION}"
            );
            Region::parse(DEFAULT_REGION).expect("a valid region")
        }
    };
    let mut keys = Keys::from_spec(&spec, &account, &region, None);
    if let Some(k) = &args.source_key {
        keys.source = Some(KeyRef::Existing(k.clone()));
    }
    let resolved = Resolved::new(&spec, account, region);
    match Plan::build(&spec, resolved, &keys) {
        Ok(plan) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan_json(&plan)).unwrap_or_default()
            );
            if matches!(spec.source.kms_key, SourceKey::Discover) && args.source_key.is_none() {
                eprintln!("note: SourceKmsKeyArn is discovered from the bucket at Create; pass --source-key to plan with one");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `plan --diff`: reads the live state (read-only) and prints what Create/Update would change.
pub async fn diff(args: &PlanArgs) -> ExitCode {
    let (_, region, spec) = match inputs(args) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let region = match cli_region(
        region.as_ref().map(Region::as_str),
        spec.source.region.as_ref().map(|r| r.to_string()),
    ) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let preview = match crate::preview::preview(&connector(&region).await, &spec).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if args.json {
        let out = json!({"PhysicalResourceId": preview.plan.resolved.physical_id, "Changes": preview.changes});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print!("{}", render_changes(&preview.changes));
    }
    ExitCode::SUCCESS
}

/// One line per change (`+` create, `~` update, `-` remove, `=` unchanged), with the current and
/// desired documents under each that is not unchanged, and a count.
pub fn render_changes(changes: &[crate::preview::Change]) -> String {
    use crate::preview::Action;
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

/// Every document of the plan; the replication configuration exactly as PutBucketReplication
/// receives it (S3's JSON shape, as `aws s3api get-bucket-replication` prints it).
fn plan_json(p: &Plan) -> Value {
    let r = &p.resolved;
    json!({
        "PhysicalResourceId": r.physical_id,
        "ReplicationRole": {"Arn": r.role_arn.to_string(), "TrustPolicy": p.trust_policy, "InlinePolicy": p.role_policy},
        "SourceKeyStatement": p.source_key_statement.as_ref().map(|k| json!({"Account": k.account.to_string(), "Region": k.region.to_string(), "Key": k.key_arn, "Statement": k.statement})),
        "DestinationBucketStatements": p.bucket_statements.iter().map(|b| json!({"Account": b.account.to_string(), "Region": b.region.to_string(), "Bucket": b.bucket.to_string(), "Statement": b.statement})).collect::<Vec<_>>(),
        "DestinationKeyStatements": p.key_statements.iter().map(|k| json!({"Account": k.account.to_string(), "Region": k.region.to_string(), "Key": k.key_arn, "Statement": k.statement})).collect::<Vec<_>>(),
        "ReplicationConfiguration": p.replication.to_s3_json(),
        "FailureNotification": p.notification.as_ref().map(|n| json!({
            "Account": r.source_account.to_string(), "Region": r.source_region.to_string(),
            "Bucket": r.source_bucket.to_string(), "NotificationConfiguration": n.configuration(),
            "Target": n.target.to_string(), "TargetPolicyStatement": n.statement})),
        "Alarms": p.alarms.iter().map(crate::plan::Alarm::to_json).collect::<Vec<_>>(),
        "BatchReplication": p.batch.as_ref().map(|b| b.to_json(r)),
        "Data": p.response_data(),
    })
}
