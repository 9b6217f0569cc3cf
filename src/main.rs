//! `bootstrap`: the Lambda function (no arguments), or `bootstrap invoke <event.json|->` to run
//! one request outside Lambda against whatever endpoint the standard AWS environment names.

use std::io::Read;
use std::process::ExitCode;

use lambda_runtime::{service_fn, LambdaEvent};
use s3_replication_provider::cli;
use s3_replication_provider::handler::{Provider, Settings};
use serde_json::Value;

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder
            .json()
            .with_current_span(false)
            .without_time()
            .init();
    } else {
        builder.with_ansi(false).init();
    }
}

async fn provider() -> Provider {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    Provider::new(base, Settings::from_env())
}

fn read_event(path: &str) -> Result<Value, String> {
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

async fn invoke(path: &str) -> ExitCode {
    let event = match read_event(path) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = provider().await.handle(event, None).await;
    if let Some(r) = &outcome.response {
        println!("{}", r.body());
    }
    if outcome.delivered {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().collect();
    runtime.block_on(async {
        match args.get(1).map(String::as_str) {
            Some("invoke") => invoke(args.get(2).map_or("-", String::as_str)).await,
            Some("plan") if args.iter().any(|a| a == "--diff") => cli::plan_diff(&args[2..]).await,
            Some("plan") => cli::plan(&args[2..]),
            Some("doctor") => cli::doctor(&args[2..]).await,
            Some("help" | "--help" | "-h") => {
                println!("{}", cli::USAGE);
                ExitCode::SUCCESS
            }
            Some(other) => {
                eprintln!("unknown command {other:?}\n{}", cli::USAGE);
                ExitCode::from(2)
            }
            None => {
                let provider = provider().await;
                let provider = &provider;
                let handler = service_fn(move |event: LambdaEvent<Value>| async move {
                    let deadline = event.context.deadline();
                    let outcome = provider.handle(event.payload, Some(deadline)).await;
                    let status = outcome.response.map(|r| r.status);
                    Ok::<_, lambda_runtime::Error>(
                        serde_json::json!({ "Status": status, "Delivered": outcome.delivered }),
                    )
                });
                match lambda_runtime::run(handler).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "runtime loop ended");
                        ExitCode::FAILURE
                    }
                }
            }
        }
    })
}
