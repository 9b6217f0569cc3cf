//! Create: wall time against the critical path, 1 vs 50 destinations, and the mutating calls of
//! a repeated Create and a no-op Update (idempotency).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use s3_replication_provider::handler::Settings;
use serde_json::{json, Value};

use crate::critical_path::{
    analyse, analysis_json, mutating_verbs, print_analysis, verbs, Analysis,
};
use crate::report::{Report, Verdict};
use crate::stats::{median, ms};
use crate::support::harness::{Harness, HOME_REGION};
use crate::support::unique;
use crate::worlds::{create_with, provider_with, settings_with_env, timed, world_kms, world_plain};
use crate::{Opts, SRC};

pub(crate) struct ScenarioRuns {
    analyses: Vec<Analysis>,
    /// Mutating calls of the repeated Create and of the no-op Update on the first world.
    repeat: BTreeMap<String, usize>,
    noop_update: BTreeMap<String, usize>,
}

pub(crate) async fn scenario(
    h: &Harness,
    name: &str,
    runs: usize,
    world: impl AsyncFn(&Harness) -> Value,
) -> Result<ScenarioRuns, String> {
    let mut analyses = Vec::new();
    let mut repeat = None;
    let mut noop = None;
    for i in 0..runs {
        let props = world(h).await;
        let (a, wall) = timed(h, "Create", &props, None).await?;
        let an = analyse(
            &a.outcome.calls,
            wall,
            SRC,
            Settings::from_env().policy_settle,
        );
        print_analysis(&format!("{name} run {}", i + 1), &an);
        if i == 0 {
            println!("    mutations: {}", verbs(&an.by_verb));
            println!("    executed chain: {}", an.executed_path.join(" → "));
            println!("    critical path:  {}", an.critical_path.join(" → "));
            let (again, _) = timed(h, "Create", &props, None).await?;
            if again.response["Data"] != a.response["Data"]
                || again.physical_id() != a.physical_id()
            {
                return Err("the repeated Create answered different data".into());
            }
            let (upd, _) = timed(h, "Update", &props, Some(a.physical_id())).await?;
            if upd.physical_id() != a.physical_id() {
                return Err("the no-op Update changed the physical id".into());
            }
            repeat = Some(mutating_verbs(&again));
            noop = Some(mutating_verbs(&upd));
            println!(
                "    repeated Create: {} calls, mutating: {} | no-op Update: {} calls, mutating: {}",
                again.outcome.calls.len(),
                verbs(repeat.as_ref().unwrap()),
                upd.outcome.calls.len(),
                verbs(noop.as_ref().unwrap())
            );
        }
        analyses.push(an);
    }
    Ok(ScenarioRuns {
        analyses,
        repeat: repeat.unwrap_or_default(),
        noop_update: noop.unwrap_or_default(),
    })
}

/// moto's own speed: mean latency of GetBucketLocation one at a time, and throughput with 32 in
/// flight (moto is one Python process; the GIL serialises request handling).
pub(crate) async fn moto_speed(h: &Harness) -> (f64, f64) {
    let b = unique("cal");
    h.emu.create_bucket(SRC, HOME_REGION, &b, false).await;
    let s3 = h.emu.s3(SRC, HOME_REGION).await;
    let one = |s3: aws_sdk_s3::Client, b: String| async move {
        let _ = s3.get_bucket_location().bucket(b).send().await;
    };
    let t = Instant::now();
    for _ in 0..40 {
        one(s3.clone(), b.clone()).await;
    }
    let sequential = ms(t.elapsed()) / 40.0;
    let t = Instant::now();
    futures::stream::iter(0..320)
        .map(|_| one(s3.clone(), b.clone()))
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let per_second = 320.0 / t.elapsed().as_secs_f64();
    (sequential, per_second)
}

/// Median wall time of `runs` Creates on fresh worlds with the policy settle disabled
/// (`PROVIDER_POLICY_SETTLE_MS=0`).
pub(crate) async fn without_settle(
    h: &Harness,
    runs: usize,
    world: impl AsyncFn(&Harness) -> Value,
) -> Result<(f64, f64), String> {
    let provider = provider_with(
        h,
        settings_with_env(&[
            ("PROVIDER_POLICY_SETTLE_MS", "0"),
            ("PROVIDER_TIME_BUDGET_SECONDS", "60"),
        ]),
    )
    .await;
    let (mut walls, mut ratios) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let props = world(h).await;
        let (calls, wall) = create_with(&provider, h, &props).await?;
        let a = analyse(&calls, wall, SRC, Duration::ZERO);
        walls.push(ms(wall));
        ratios.push(ms(wall) / ms(a.critical));
    }
    Ok((median(&walls), median(&ratios)))
}

pub(crate) async fn bench_creates(
    opts: &Opts,
    h: &Harness,
    report: &mut Report,
) -> Result<(), String> {
    let (moto_latency, moto_rps) = moto_speed(h).await;
    println!(
        "  moto: GetBucketLocation {moto_latency:.1} ms one at a time; {moto_rps:.0} requests/s with 32 in flight"
    );
    // 1 destination, created keys: critical path.
    let kms = scenario(
        h,
        "Create 1 dest (KMS)",
        opts.runs(5),
        async |h: &Harness| world_kms(h, 1).await,
    )
    .await?;
    let ratios: Vec<f64> = kms
        .analyses
        .iter()
        .map(|a| ms(a.wall) / ms(a.critical))
        .collect();
    let walls: Vec<f64> = kms.analyses.iter().map(|a| ms(a.wall)).collect();
    let crit: Vec<f64> = kms.analyses.iter().map(|a| ms(a.critical)).collect();
    let exec: Vec<f64> = kms.analyses.iter().map(|a| ms(a.executed)).collect();
    let r = median(&ratios);
    let verified: Vec<f64> = kms
        .analyses
        .iter()
        .map(|a| ms(a.critical_verified))
        .collect();
    let rv = median(
        &kms.analyses
            .iter()
            .map(|a| ms(a.wall) / ms(a.critical_verified))
            .collect::<Vec<_>>(),
    );
    println!(
        "  median: wall {:.1} ms, executed chain {:.1} ms, critical path {:.1} ms, wall/critical ×{r:.2}; with the settle wait before verifying reads: critical path {:.1} ms, ×{rv:.2}",
        median(&walls),
        median(&exec),
        median(&crit),
        median(&verified)
    );
    let (nw, nr) =
        without_settle(h, opts.runs(5), async |h: &Harness| world_kms(h, 1).await).await?;
    println!(
        "  what-if PROVIDER_POLICY_SETTLE_MS=0 (no settle-and-verify wait after policy writes): wall {nw:.1} ms, wall/critical ×{nr:.2}"
    );
    report.details.insert(
        "create_1_kms_settle_0".into(),
        json!({"wall_ms": nw, "wall_over_critical": nr}),
    );
    report.details.insert(
        "create_1_kms".into(),
        json!(kms.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    report.row(
        "Create, 1 destination (created keys), vs its critical path",
        format!(
            "wall {:.0} ms vs {:.0} ms (critical path {:.0} ms + the settle wait before the verifying policy read): ×{rv:.2}; calls only: ×{r:.2}; with PROVIDER_POLICY_SETTLE_MS=0: ×{nr:.2} (executed chain {:.0} ms, n={})",
            median(&walls),
            median(&verified),
            median(&crit),
            median(&exec),
            ratios.len()
        ),
        "≤ 1.5 × critical path",
        Verdict::of(rv <= 1.5 && nr <= 1.5),
    );

    // Scaling: 1 vs 50 destinations of the same shape (SSE-S3).
    let one = scenario(
        h,
        "Create 1 dest (SSE-S3)",
        opts.runs(5),
        async |h: &Harness| world_plain(h, 1).await,
    )
    .await?;
    let fifty = scenario(
        h,
        "Create 50 dest (SSE-S3)",
        opts.runs(3),
        async |h: &Harness| world_plain(h, 50).await,
    )
    .await?;
    let w1 = median(&one.analyses.iter().map(|a| ms(a.wall)).collect::<Vec<_>>());
    let w50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.wall))
            .collect::<Vec<_>>(),
    );
    let c50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.critical))
            .collect::<Vec<_>>(),
    );
    let e50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.executed))
            .collect::<Vec<_>>(),
    );
    let b50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| ms(a.busy))
            .collect::<Vec<_>>(),
    );
    let s50 = median(&fifty.analyses.iter().map(|a| ms(a.sum)).collect::<Vec<_>>());
    let lat1 = one
        .analyses
        .iter()
        .map(|a| ms(a.sum) / a.calls as f64)
        .collect::<Vec<_>>();
    let lat50 = fifty
        .analyses
        .iter()
        .map(|a| ms(a.sum) / a.calls as f64)
        .collect::<Vec<_>>();
    println!(
        "  50 destinations: wall {w50:.0} ms, executed chain {e50:.0} ms, critical path {c50:.0} ms, AWS busy {b50:.0} ms, Σ latency {s50:.0} ms (mean concurrency {:.1})",
        s50 / w50
    );
    let c1 = median(
        &one.analyses
            .iter()
            .map(|a| ms(a.critical))
            .collect::<Vec<_>>(),
    );
    let n50 = median(
        &fifty
            .analyses
            .iter()
            .map(|a| a.calls as f64)
            .collect::<Vec<_>>(),
    );
    let floor = n50 / moto_rps * 1000.0;
    println!(
        "  mean call latency: 1 dest {:.1} ms, 50 dest {:.1} ms (moto is one Python process: concurrent calls queue)",
        median(&lat1),
        median(&lat50)
    );
    println!(
        "  emulator estimate: {n50:.0} calls at moto's {moto_rps:.0} req/s ≈ {floor:.0} ms of emulator time however well the calls overlap (≈ ×{:.1} the 1-destination wall); dependency model: critical path 50 dest {c50:.0} ms vs 1 dest {c1:.0} ms (×{:.1})",
        floor / w1,
        c50 / c1
    );
    let (nw1, _) =
        without_settle(h, opts.runs(3), async |h: &Harness| world_plain(h, 1).await).await?;
    let (nw50, _) = without_settle(h, opts.runs(2), async |h: &Harness| {
        world_plain(h, 50).await
    })
    .await?;
    println!(
        "  what-if PROVIDER_POLICY_SETTLE_MS=0: 1 dest {nw1:.0} ms, 50 dest {nw50:.0} ms (×{:.1})",
        nw50 / nw1
    );
    report.details.insert(
        "create_plain_settle_0".into(),
        json!({"wall_1_ms": nw1, "wall_50_ms": nw50}),
    );
    report.details.insert(
        "moto".into(),
        json!({"get_bucket_location_ms": moto_latency, "requests_per_s_32": moto_rps,
               "estimate_50_dest_ms": floor}),
    );
    report.details.insert(
        "create_1_plain".into(),
        json!(one.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    report.details.insert(
        "create_50_plain".into(),
        json!(fifty.analyses.iter().map(analysis_json).collect::<Vec<_>>()),
    );
    let ratio = w50 / w1;
    report.row(
        "Create, 50 destinations (5 accounts, 3 regions) vs 1",
        format!(
            "{w50:.0} ms vs {w1:.0} ms: ×{ratio:.1} (executed chain {e50:.0} ms, critical path {c50:.0} ms, moto ≈ {floor:.0} ms; n={}/{}; ×{:.1} with PROVIDER_POLICY_SETTLE_MS=0)",
            fifty.analyses.len(),
            one.analyses.len(),
            nw50 / nw1
        ),
        "≤ 3 × Create with 1",
        Verdict::of(ratio <= 3.0),
    );

    // Idempotency.
    let cases = [("1 dest KMS", &kms), ("1 dest", &one), ("50 dest", &fifty)];
    let total: usize = cases
        .iter()
        .map(|(_, s)| s.repeat.values().sum::<usize>() + s.noop_update.values().sum::<usize>())
        .sum();
    let measured = cases
        .iter()
        .map(|(n, s)| {
            format!(
                "{n}: {}/{}",
                s.repeat.values().sum::<usize>(),
                s.noop_update.values().sum::<usize>()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut extra = String::new();
    for (n, s) in cases {
        if !s.repeat.is_empty() || !s.noop_update.is_empty() {
            extra.push_str(&format!(
                " [{n}: Create {} / Update {}]",
                verbs(&s.repeat),
                verbs(&s.noop_update)
            ));
        }
    }
    report.row(
        "repeated Create / no-op Update: mutating calls",
        format!("{measured} (Create/Update){extra}"),
        "0",
        Verdict::of(total == 0),
    );
    Ok(())
}
