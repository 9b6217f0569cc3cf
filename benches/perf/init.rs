//! init: process start → first poll of the Runtime API (cold starts of the release
//! `bootstrap` against the fake Runtime API), with the floor under it and trust-store variants.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use s3_replication_provider::plan::names::NOTHING_CREATED_PREFIX;
use serde_json::{json, Value};

use crate::report::{clip, Report, Verdict};
use crate::runtime_api::{lambda_env, FakeRuntime, Progress};
use crate::stats::{list_ms, median, ms, percentile};
use crate::support::{cfn_event, uuid, Receiver};
use crate::Opts;

/// One cold start: (process start → first poll, process start → answer posted).
pub(crate) async fn cold_start(
    opts: &Opts,
    rt: &FakeRuntime,
    rx: &Receiver,
    run: u64,
    extra_env: &[(String, String)],
) -> Result<(Duration, Duration), String> {
    let response_id = uuid();
    let request_id = uuid();
    let physical = format!("{NOTHING_CREATED_PREFIX}Replication:{}", uuid());
    let event = cfn_event(
        "Delete",
        &rx.url(&response_id),
        json!({"SourceBucket": "init-bench", "Destinations": []}),
        Some(&physical),
        None,
    );
    rt.arm(run, &request_id, &event);
    let log = opts.out.join("init-stderr.log");
    let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(&opts.bootstrap)
        .env_clear()
        .envs(lambda_env(rt.port()))
        .envs(extra_env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", opts.bootstrap.display()))?;
    let limit = t0 + Duration::from_secs(15);
    let result = loop {
        let Progress {
            first_poll: first,
            response,
            polling_again,
        } = rt.progress(run);
        if let (Some(first), Some((answered, body)), true) = (first, &response, polling_again) {
            break Ok((first - t0, *answered - t0, body.clone()));
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!(
                "bootstrap exited with {status} (first poll seen: {}); stderr: {}",
                first.is_some(),
                clip(&std::fs::read_to_string(&log).unwrap_or_default(), 400)
            ));
        }
        if Instant::now() > limit {
            break Err(format!(
                "no first poll / answer within 15 s (first poll seen: {})",
                first.is_some()
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let _ = child.start_kill();
    let _ = child.wait().await;
    let (first, answered, body) = result?;
    // The function's own result, and the one answer to CloudFormation.
    let result: Value =
        serde_json::from_slice(&body).map_err(|e| format!("runtime result: {e}"))?;
    if result["Status"] != "SUCCESS" || result["Delivered"] != true {
        return Err(format!("function result {result}"));
    }
    let puts = rx.responses_for(&response_id);
    if puts.len() != 1 || puts[0]["Status"] != "SUCCESS" {
        return Err(format!("expected one SUCCESS PUT, got {puts:?}"));
    }
    Ok((first, answered))
}

/// `bootstrap invoke <missing file>`: process start, tracing and the Tokio runtime, then exit 2
/// before any SDK configuration — the floor under init.
pub(crate) async fn bare_start(opts: &Opts, rt: &FakeRuntime) -> Result<Duration, String> {
    let t0 = Instant::now();
    let status = tokio::process::Command::new(&opts.bootstrap)
        .arg("invoke")
        .arg("/nonexistent/event.json")
        .env_clear()
        .envs(lambda_env(rt.port()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| e.to_string())?;
    let took = t0.elapsed();
    if status.code() != Some(2) {
        return Err(format!("bootstrap invoke <missing> exited {status}"));
    }
    Ok(took)
}

/// A named set of extra environment variables.
pub(crate) type Variant = (&'static str, Vec<(String, String)>);

/// Trust-store variants for the init diagnostic (rustls-native-certs honours `SSL_CERT_FILE`
/// and `SSL_CERT_DIR`): the system bundle file without the hashed per-certificate directory
/// (the layout of Lambda's Amazon Linux 2023), and a single root certificate (≈ no store).
pub(crate) fn trust_store_variants(out: &Path) -> Result<Vec<Variant>, String> {
    let dir = Path::new("/etc/ssl/certs");
    let pem = [dir.join("Amazon_Root_CA_1.pem")]
        .into_iter()
        .chain(
            std::fs::read_dir(dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pem")),
        )
        .find(|p| p.is_file())
        .ok_or("no PEM certificate under /etc/ssl/certs")?;
    let one = out.join("one-root.pem");
    std::fs::copy(&pem, &one).map_err(|e| e.to_string())?;
    let empty = out.join("empty-cert-dir");
    std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
    let var = |k: &str, v: &Path| (k.to_owned(), v.display().to_string());
    let mut variants = Vec::new();
    let bundle = dir.join("ca-certificates.crt");
    if bundle.is_file() {
        variants.push((
            "bundle file only (SSL_CERT_DIR empty; like Amazon Linux 2023)",
            vec![var("SSL_CERT_FILE", &bundle), var("SSL_CERT_DIR", &empty)],
        ));
    }
    variants.push((
        "one root certificate (≈ no trust store to load)",
        vec![var("SSL_CERT_FILE", &one), var("SSL_CERT_DIR", &empty)],
    ));
    Ok(variants)
}

pub(crate) async fn bench_init(opts: &Opts, report: &mut Report) -> Result<(), String> {
    let figure = "init (process start → first poll of the Runtime API)";
    let rt = FakeRuntime::start();
    let rx = Receiver::start().await;
    let variants = trust_store_variants(&opts.out)?;
    // One warm-up so the binary is in the page cache like a provisioned sandbox's.
    cold_start(opts, &rt, &rx, 0, &[]).await?;
    let n = opts.runs(30);
    let (mut first, mut answered, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let mut by_variant: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut run = 0;
    for _ in 0..n {
        run += 1;
        let (f, a) = cold_start(opts, &rt, &rx, run, &[]).await?;
        first.push(ms(f));
        answered.push(ms(a));
        bare.push(ms(bare_start(opts, &rt).await?));
        for (i, (_, env)) in variants.iter().enumerate() {
            run += 1;
            by_variant[i].push(ms(cold_start(opts, &rt, &rx, run, env).await?.0));
        }
    }
    let (med, p90) = (median(&first), percentile(&first, 90.0));
    println!("  {n} cold starts, first poll (ms): {}", list_ms(&first));
    println!(
        "  first poll: median {med:.1} ms, p90 {p90:.1} ms, min {:.1}, max {:.1}",
        percentile(&first, 0.0),
        percentile(&first, 100.0)
    );
    println!(
        "  first invocation (Delete of a never-created resource, no AWS call) answered: median {:.1} ms after process start",
        median(&answered)
    );
    println!(
        "  floor: `bootstrap invoke <missing file>` (exec + tracing + Tokio runtime, no SDK config, exit): median {:.1} ms",
        median(&bare)
    );
    for ((name, _), v) in variants.iter().zip(&by_variant) {
        println!(
            "  trust store = {name}: first poll median {:.1} ms ({:+.1} ms)",
            median(v),
            median(v) - med
        );
    }
    println!(
        "  → the system root store is loaded twice before the first poll: aws_config::load() builds the default credentials chain, whose web-identity provider creates an STS client, whose HTTPS connector loads it; then reqwest::ClientBuilder::build() in Provider::new loads it again through rustls-platform-verifier"
    );
    let small = by_variant.last().cloned().unwrap_or_default();
    report.details.insert(
        "init".into(),
        json!({"runs": n, "first_poll_ms": first, "answered_ms": answered, "bare_start_ms": bare,
               "trust_store_variants": variants.iter().zip(&by_variant)
                   .map(|((name, _), v)| json!({"variant": name, "first_poll_ms": v})).collect::<Vec<_>>(),
               "median_ms": med, "p90_ms": p90}),
    );
    let measured = if n > 1 {
        format!(
            "median {med:.1} ms, p90 {p90:.1} ms (n={n}; {:.1} ms without the root-store loads)",
            median(&small)
        )
    } else {
        format!(
            "{med:.1} ms (n=1, smoke; {:.1} ms without the root-store loads)",
            median(&small)
        )
    };
    report.row(
        figure,
        measured,
        "≤ 20 ms (median)",
        Verdict::of(med <= 20.0),
    );
    Ok(())
}
