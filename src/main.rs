//! `bootstrap`: the Lambda function (no arguments, under a Lambda Runtime API), or one of the
//! commands of [`s3_replication_provider::cli`] (`bootstrap --help`).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use lambda_runtime::{service_fn, LambdaEvent};
use s3_replication_provider::cli::{self, Cli, USAGE_ERROR};
use s3_replication_provider::handler::Provider;
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

/// Serves the Lambda Runtime API until the runtime stops it.
async fn lambda() -> ExitCode {
    let provider = Provider::from_env().await;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_none() && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        // Not under Lambda: there is no Runtime API to serve.
        eprintln!(
            "bootstrap: no command, and not running under Lambda (AWS_LAMBDA_RUNTIME_API is not set)\n\n{}",
            Cli::command().render_help()
        );
        return ExitCode::from(USAGE_ERROR);
    }
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
    runtime.block_on(async {
        match cli.command {
            Some(command) => cli::run(command).await,
            None => lambda().await,
        }
    })
}
