//! Performance figures of issue 5, printed as one table.
//!
//! ```text
//! bash scripts/bench.sh            # release build, then every figure (≥ 20 cold starts, repeats)
//! bash scripts/bench.sh --smoke    # every measurement once, quickly (CI)
//! bash scripts/bench.sh --strict   # also exit 1 when a target is missed
//! ```
//!
//! `scripts/bench.sh` builds the product (`cargo build --release --bin bootstrap`), snapshots it to
//! `$BENCH_BOOTSTRAP` and runs this harness with `cargo bench --bench perf`. Process-level
//! figures (init, peak RSS, package size) use that release binary; figures that need the call log
//! (`Outcome.calls`) drive `Provider::handle` in-process through `tests/support` (moto behind the
//! fault proxy, the CloudFormation response receiver) on a current-thread runtime, as `main.rs`
//! does. Every run's answer is checked: delivered, exactly one PUT, SUCCESS (FAILED where the
//! run is meant to fail). An incorrect answer makes the harness exit 1; a missed target only with
//! `--strict`. Without `--bench` (i.e. under `cargo test --all-targets` / nextest) it does
//! nothing, so it stays out of the default test run.
//!
//! # Definitions
//!
//! * **init**: from just before `spawn()` of the release `bootstrap` (no arguments, Lambda
//!   environment, `AWS_LAMBDA_RUNTIME_API` pointing at a fake Runtime API on 127.0.0.1) to the
//!   moment the fake API has read its first `GET /2018-06-01/runtime/invocation/next`. The fake
//!   API then hands out a Delete of a resource that was never created (no AWS call) and checks
//!   the answer, so the runtime loop is exercised end to end.
//! * **critical path** of a Create: the longest chain, weighted by the measured latency
//!   (`end - start` in `Outcome.calls`), through the calls' *necessary* order. Call `v` must
//!   follow call `u` (when `u` ended before `v` started) if:
//!   1. identity/credentials: `u` is GetCallerIdentity and `v` acts in the source account, or `u`
//!      is the AssumeRole of `v`'s (destination) account;
//!   2. check before change (README): `u` is a read of the check phase (a read that ended before
//!      the first mutating call started) and `v` mutates;
//!   3. same object (a bucket; the KMS key of an account+region; the role): GetBucketLocation or
//!      CreateBucket before anything else on the bucket, and in-order on the same aspect
//!      (Get/PutBucketVersioning, …Policy, …Replication, …Encryption); the key lookup
//!      (DescribeKey, ListResourceTags) before CreateKey, DescribeKey before ListResourceTags,
//!      CreateKey before anything else on that key, GetKeyPolicy before PutKeyPolicy,
//!      GetKeyRotationStatus before EnableKeyRotation; GetRole before CreateRole /
//!      UpdateAssumeRolePolicy / TagRole, CreateRole before every later call on the role,
//!      GetRolePolicy before PutRolePolicy;
//!   4. data: CreateRole before PutKeyPolicy and PutBucketPolicy (their principal must exist),
//!      CreateKey before PutRolePolicy (it names the key ARNs) and before PutBucketEncryption in
//!      the same account and region;
//!   5. switch on last: PutBucketReplication after every other mutating call (and after its own
//!      earlier attempts); TagRole after PutBucketReplication (it records what was written).
//!
//!   Everything else may overlap. The **executed chain** is the same longest chain where any
//!   call that ended before another started counts as a predecessor: what the implementation
//!   actually serialised. `wall − executed chain` is time with no AWS call in flight (CPU,
//!   scheduling); `executed chain − critical path` is serialisation the dependencies do not need.
//!   The model identifies a KMS key by account+region, which the scenarios here respect (at
//!   most one key per account and region). Verifying re-reads of a policy after a write, and
//!   waits, are not predecessors of anything. The verdict uses the same path with one wait
//!   added: the configured settle time (`PROVIDER_POLICY_SETTLE_MS`, 400 ms) before each
//!   verifying re-read of a shared policy, because S3 and KMS have no conditional writes and that
//!   re-read is how a concurrent writer's overwrite is caught (without it `tests/concurrency.rs`
//!   loses statements); the calls-only ratio and the ratio with the settle disabled are printed
//!   beside it, and both the settled ratio and the settle-off ratio must be ≤ 1.5.
//! * **peak RSS**: `%M` of GNU `time` (wait4 rusage) around `bootstrap invoke <event>` for a
//!   Create with two destinations (created keys) against moto; the max over the runs.
//! * **package**: `zip -9 -X` of the newest arm64 `bootstrap` found (`.aws-sam/build`, the
//!   cargo-lambda target dirs), else of the x86_64 release snapshot (said in the table).
//! * **scaling**: the same shape (SSE-S3, unversioned existing buckets) with 1 and with 50
//!   destinations over 5 accounts and 3 regions; median wall times. Created keys are not used
//!   here because 50 replica keys overflow IAM's 10 240-character role policy.
//! * **idempotency**: the first world of each scenario gets a second identical Create and a no-op
//!   Update (old = new properties); every mutating call they attempt is counted by verb.
//! * **IAM propagation**: the fault proxy answers the first k PutBucketReplication calls with
//!   S3's `InvalidRequest` "Role … is not valid". PASS when, between CreateRole's end and the
//!   first attempt, no moment longer than 50 ms passes without an AWS call in flight (no sleep
//!   before the first attempt; the dependencies' own minimum is printed), every wait between
//!   attempts lies in the jitter band of `backoff(n)` (0.5–1 × 0.5 s·2^min(n,4)) and the waits
//!   differ, and, with a role that never propagates and a 6 s budget, no attempt starts after
//!   the work deadline and FAILED is answered before the answer deadline.
//! * **what-if** lines rerun a scenario with `PROVIDER_POLICY_SETTLE_MS=0` (read through
//!   `Settings::from_env`, as the product would) to size the policy settle-and-verify wait.
//!
//! The in-process figures use `Harness::start()`'s provider (the product's default settings,
//! 60 s budget). Timings on a shared machine are noisy: the header gives the load average.
//!
//! Files: `runtime_api` (the fake Lambda Runtime API), `init`, `rss`, `package`, `creates` and
//! `propagation` (one figure each), `worlds` (the scenarios' buckets and the in-process Create),
//! `critical_path` (call-log analysis), `stats`, `report` (rows, table, perf.json).

#[path = "../../tests/support/mod.rs"]
mod support;

mod creates;
mod critical_path;
mod init;
mod package;
mod propagation;
mod report;
mod rss;
mod runtime_api;
mod stats;
mod worlds;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use futures::FutureExt;
use serde_json::{json, Value};

use creates::bench_creates;
use init::bench_init;
use package::bench_package;
use propagation::bench_propagation;
use report::{load_average, panic_text, print_table, Report, Verdict};
use rss::bench_rss;
use support::harness::Harness;
use support::DEFAULT_ACCOUNT;

pub(crate) const SRC: &str = DEFAULT_ACCOUNT;
pub(crate) const DEST_ACCOUNTS: [&str; 5] = [
    "222222222222",
    "333333333333",
    "444444444444",
    "555555555555",
    "666666666666",
];
pub(crate) const DEST_REGIONS: [&str; 3] = ["us-west-2", "ap-southeast-2", "eu-central-1"];

// ---------------------------------------------------------------------------------------------
// options, report
// ---------------------------------------------------------------------------------------------

pub(crate) struct Opts {
    pub(crate) smoke: bool,
    pub(crate) strict: bool,
    pub(crate) bootstrap: PathBuf,
    pub(crate) bootstrap_origin: String,
    pub(crate) out: PathBuf,
}

impl Opts {
    pub(crate) fn runs(&self, full: usize) -> usize {
        if self.smoke {
            1
        } else {
            full
        }
    }
}

/// Runs one measurement into its own [`Report`]; a panic (e.g. a harness assertion on an
/// answer) or an error becomes an ERROR row and counts as an incorrect run.
macro_rules! measure {
    ($report:expr, $figure:expr, $target:expr, |$part:ident| $fut:expr) => {{
        println!("\n## {}", $figure);
        let mut $part = Report::default();
        let result = match AssertUnwindSafe($fut).catch_unwind().await {
            Ok(r) => r,
            Err(p) => Err(panic_text(p)),
        };
        $report.absorb($part);
        if let Err(e) = result {
            $report.error($figure, $target, e);
        }
    }};
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        // libtest/nextest listing: this target has no tests.
        return ExitCode::SUCCESS;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("perf: skipped outside `cargo bench` (run `bash scripts/bench.sh [--smoke]`)");
        return ExitCode::SUCCESS;
    }
    let env_flag = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0");
    let (bootstrap, bootstrap_origin) = match std::env::var_os("BENCH_BOOTSTRAP") {
        Some(p) => (PathBuf::from(&p), format!("{} (release)", PathBuf::from(p).display())),
        None => (
            PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")),
            format!(
                "{} (built by cargo bench with dev-dependency features; run scripts/bench.sh for the product build)",
                env!("CARGO_BIN_EXE_bootstrap")
            ),
        ),
    };
    let opts = Opts {
        smoke: args.iter().any(|a| a == "--smoke") || env_flag("BENCH_SMOKE"),
        strict: args.iter().any(|a| a == "--strict") || env_flag("BENCH_STRICT"),
        bootstrap,
        bootstrap_origin,
        out: Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench"),
    };
    if let Err(e) = std::fs::create_dir_all(&opts.out) {
        eprintln!("cannot create {}: {e}", opts.out.display());
        return ExitCode::FAILURE;
    }
    if !opts.bootstrap.exists() {
        eprintln!("no bootstrap at {}", opts.bootstrap.display());
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = Report::default();
    let load_before = load_average();
    runtime.block_on(async {
        let opts = &opts;
        let r = &mut report;
        measure!(r, "init", "≤ 20 ms", |part| bench_init(opts, &mut part));
        measure!(r, "deployment package", "≤ 8 MB", |part| async {
            bench_package(opts, &mut part)
        });
        println!("\n(starting moto)");
        let h = Harness::start().await;
        measure!(r, "peak RSS", "≤ 32 MB", |part| bench_rss(
            opts, &h, &mut part
        ));
        measure!(r, "Create", "see figures", |part| bench_creates(
            opts, &h, &mut part
        ));
        measure!(r, "IAM propagation", "no fixed sleep", |part| {
            bench_propagation(opts, &h, &mut part)
        });
        drop(h);
    });
    print_table(&report, &opts, &load_before);
    let json_rows: Vec<Value> = report
        .rows
        .iter()
        .map(|r| json!({"figure": r.figure, "measured": r.measured, "target": r.target, "result": r.verdict.word()}))
        .collect();
    let doc = json!({"mode": if opts.smoke {"smoke"} else {"full"}, "bootstrap": opts.bootstrap_origin,
                     "rows": json_rows, "details": report.details, "incorrect": report.incorrect});
    let path = opts.out.join("perf.json");
    if std::fs::write(
        &path,
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )
    .is_ok()
    {
        println!("details: {}", path.display());
    }
    let missed = report.rows.iter().any(|r| r.verdict == Verdict::Fail);
    if !report.incorrect.is_empty() || (opts.strict && missed) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
