//! The binary outside Lambda: `invoke` (one request), `plan` (pure: print what Create would
//! apply; `--diff`: what it would change in the live state) and `doctor` (read the live state
//! and evaluate the permission chain). Arguments are parsed by `clap`: every command has
//! `--help`, and a misspelt flag is an error (exit 2) with a suggestion.

mod doctor;
mod plan;
mod properties;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub use plan::render_changes;
pub use properties::{read_properties, PropertiesError};

/// Exit status of a command-line mistake (as clap's own).
pub const USAGE_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "bootstrap",
    version,
    about = "Custom::S3Replication: the CloudFormation custom resource provider (run by Lambda \
             without arguments), and its tools",
    after_help = "Without a command, the binary is the Lambda function: it serves the Lambda \
                  Runtime API ($AWS_LAMBDA_RUNTIME_API), and refuses to start where there is none."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Handle one CloudFormation request outside Lambda, with the standard AWS environment
    /// (AWS_REGION, credentials, AWS_ENDPOINT_URL); exit 0 when the answer was delivered.
    Invoke {
        /// The request event (JSON), or `-` for standard input.
        #[arg(default_value = "-")]
        event: String,
    },
    /// Print the exact documents Create would apply (no AWS call), or with --diff read the
    /// live state and show what Create/Update would create, change or remove.
    Plan(PlanArgs),
    /// Evaluate every link of the replication permission chain, from the live state or a
    /// snapshot. Exit 0: every link passes; 1: one fails; 3: none fails, some cannot be decided.
    Doctor(DoctorArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The resource's properties (JSON or YAML), the resource itself, or a whole
    /// CloudFormation template (short- or long-form intrinsics).
    #[arg(long, value_name = "FILE")]
    pub properties: std::path::PathBuf,
    /// The Custom::S3Replication resource to plan, when the template has several.
    #[arg(long, value_name = "LOGICAL_ID")]
    pub resource: Option<String>,
    /// A template parameter's value (else its default); repeatable.
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// The source account (the ARNs of the role and created keys name it).
    #[arg(long, value_name = "ID")]
    pub source_account: Option<String>,
    /// The source region (else SourceRegion, else AWS_REGION).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The source bucket's key, when SourceKmsKeyArn is not given (Create discovers it).
    #[arg(long, value_name = "ARN", conflicts_with = "diff")]
    pub source_key: Option<String>,
    /// Read the live state (read-only, with the standard AWS credentials) and show changes.
    #[arg(long)]
    pub diff: bool,
    /// With --diff: JSON for machines.
    #[arg(long, requires = "diff")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The source bucket to diagnose (live state).
    #[arg(long, value_name = "BUCKET", required_unless_present = "snapshot")]
    pub source_bucket: Option<String>,
    /// The source bucket's region (else AWS_REGION).
    #[arg(long, value_name = "REGION", conflicts_with = "snapshot")]
    pub region: Option<String>,
    /// A role to assume for the source side.
    #[arg(long, value_name = "ARN", conflicts_with = "snapshot")]
    pub source_role_arn: Option<String>,
    /// A role to read a destination account through (repeatable; default: the destination
    /// role of each destination account).
    #[arg(long, value_name = "ARN", conflicts_with = "snapshot")]
    pub destination_role_arn: Vec<String>,
    /// sts:ExternalId for the destination roles.
    #[arg(long, value_name = "ID", conflicts_with = "snapshot")]
    pub external_id: Option<String>,
    /// Evaluate a saved snapshot instead of the live state.
    #[arg(long, value_name = "FILE", conflicts_with = "source_bucket")]
    pub snapshot: Option<std::path::PathBuf>,
    /// JSON for machines.
    #[arg(long)]
    pub json: bool,
}

/// Runs a command (not the Lambda function).
pub async fn run(command: Command) -> ExitCode {
    match command {
        Command::Invoke { event } => invoke(&event).await,
        Command::Plan(args) if args.diff => plan::diff(&args).await,
        Command::Plan(args) => plan::print(&args),
        Command::Doctor(args) => doctor::run(&args).await,
    }
}

/// Prints a command's error and returns the usage-error status.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(USAGE_ERROR)
}

/// `invoke`: one request through the handler, answered at its ResponseURL.
async fn invoke(path: &str) -> ExitCode {
    let event = match read_event(path) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let outcome = crate::handler::Provider::from_env()
        .await
        .handle(event, None)
        .await;
    if let Some(r) = &outcome.response {
        println!("{}", r.body());
    }
    if outcome.delivered {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn read_event(path: &str) -> Result<serde_json::Value, String> {
    use std::io::Read;
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
    }
    serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))
}

/// The region for commands that call AWS: given, or from the environment, never from instance
/// metadata.
fn cli_region(
    given: Option<&str>,
    fallback: Option<String>,
) -> Result<crate::spec::Region, String> {
    let region = given
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .or(fallback)
        .ok_or("no region: pass --region or set AWS_REGION")?;
    crate::spec::Region::parse(&region)
}

async fn connector(region: &crate::spec::Region) -> crate::aws::Connector {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await;
    crate::aws::Connector::new(&base, crate::aws::CallLog::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_misspelt_flag_is_an_error_with_a_suggestion() {
        let e = Cli::try_parse_from([
            "bootstrap",
            "plan",
            "--properties",
            "p.yaml",
            "--regoin",
            "eu-west-1",
        ])
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.contains("--regoin") && text.contains("--region"),
            "{text}"
        );
        let e = Cli::try_parse_from(["bootstrap", "doctor", "--sourec-bucket", "b"]).unwrap_err();
        assert!(e.to_string().contains("--source-bucket"), "{e}");
    }

    #[test]
    fn doctor_needs_a_bucket_or_a_snapshot_but_not_both() {
        assert!(Cli::try_parse_from(["bootstrap", "doctor"]).is_err());
        assert!(Cli::try_parse_from([
            "bootstrap",
            "doctor",
            "--snapshot",
            "s.json",
            "--source-bucket",
            "b"
        ])
        .is_err());
        assert!(
            Cli::try_parse_from(["bootstrap", "doctor", "--snapshot", "s.json", "--json"]).is_ok()
        );
    }

    #[test]
    fn json_output_is_for_the_diff() {
        assert!(Cli::try_parse_from(["bootstrap", "plan", "--properties", "p", "--json"]).is_err());
        assert!(Cli::try_parse_from([
            "bootstrap",
            "plan",
            "--properties",
            "p",
            "--diff",
            "--json"
        ])
        .is_ok());
    }
}
