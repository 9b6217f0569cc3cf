//! The deployment package: `zip -9` of the newest arm64 `bootstrap` found, else of the release
//! snapshot.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::report::{Report, Verdict};
use crate::Opts;

pub(crate) fn elf_machine(path: &Path) -> Option<&'static str> {
    let mut head = [0u8; 20];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[..4] != b"\x7fELF" {
        return None;
    }
    Some(match u16::from_le_bytes([head[18], head[19]]) {
        0xB7 => "arm64",
        0x3E => "x86_64",
        _ => "other",
    })
}

pub(crate) fn bench_package(opts: &Opts, report: &mut Report) -> Result<(), String> {
    let figure = "deployment package (zip -9 of bootstrap)";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // Where `sam build` (.ci/sam.sh: .aws-sam/build, cargo-lambda with its own target dir) and
    // plain cross builds put an arm64 bootstrap; the newest arm64 one wins.
    let tools = std::env::var_os("S3RP_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| PathBuf::from(c).join("s3-replication-provider-tools"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/s3-replication-provider-tools"))
        })
        .unwrap_or_default();
    let lambda_target = std::env::var_os("S3RP_LAMBDA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools.join("target-lambda"));
    let mut candidates = vec![
        root.join(".aws-sam/build/ProviderFunction/bootstrap"),
        root.join("sam/source-account/.aws-sam/build/ProviderFunction/bootstrap"),
    ];
    for t in [&target, &lambda_target] {
        candidates.push(t.join("lambda/bootstrap/bootstrap"));
        candidates.push(t.join("aarch64-unknown-linux-gnu/release/bootstrap"));
        candidates.push(t.join("aarch64-unknown-linux-musl/release/bootstrap"));
    }
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let arm = candidates
        .iter()
        .filter(|p| elf_machine(p) == Some("arm64"))
        .max_by_key(|p| modified(p));
    let (bin, arch, note) = match arm {
        Some(p) => {
            let age = std::fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .map(|d| format!("{} min old", d.as_secs() / 60))
                .unwrap_or_default();
            (p.clone(), "arm64", format!("{} ({age})", p.display()))
        }
        None => {
            let arch = elf_machine(&opts.bootstrap).unwrap_or("?");
            (
                opts.bootstrap.clone(),
                arch,
                format!(
                    "no arm64 bootstrap found (looked at {}): measured the {arch} release bootstrap instead",
                    candidates
                        .iter()
                        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
    };
    let zip = opts.out.join(format!("bootstrap-{arch}.zip"));
    let _ = std::fs::remove_file(&zip);
    let status = std::process::Command::new("zip")
        .args(["-9", "-X", "-j", "-q"])
        .arg(&zip)
        .arg(&bin)
        .status()
        .map_err(|e| format!("zip: {e} (install the `zip` package; scripts/bench.sh does)"))?;
    if !status.success() {
        return Err(format!("zip exited {status}"));
    }
    let zipped = std::fs::metadata(&zip).map_err(|e| e.to_string())?.len() as f64 / 1e6;
    let raw = std::fs::metadata(&bin).map_err(|e| e.to_string())?.len() as f64 / 1e6;
    println!("  {note}");
    println!(
        "  {arch} bootstrap {raw:.2} MB, zipped {zipped:.2} MB ({})",
        zip.display()
    );
    report.details.insert(
        "package".into(),
        json!({"binary": bin, "arch": arch, "binary_mb": raw, "zip_mb": zipped}),
    );
    let suffix = if arch == "arm64" {
        String::new()
    } else {
        format!(" — {arch}, no arm64 build found")
    };
    report.row(
        figure,
        format!("{zipped:.2} MB zipped ({raw:.2} MB raw){suffix}"),
        "≤ 8 MB (arm64)",
        Verdict::of(zipped <= 8.0),
    );
    Ok(())
}
