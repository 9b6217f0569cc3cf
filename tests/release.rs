//! The release (`scripts/release.sh`): one version everywhere, and the files a user deploys
//! without a Rust toolchain — reproducible zips, their checksums, and a packaged template that
//! is the source template with its code taken from the zip in S3.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use s3_replication_provider::template::Template;
use serde_json::{json, Value};
use support::templates::{deploy_as, template, SRC};
use support::{bootstrap_path, unique};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    let path = Path::new(REPO).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs a command, panicking with its output unless it succeeds; returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} exited {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn release_sh(args: &[&str]) -> String {
    run(Command::new("bash")
        .arg(Path::new(REPO).join("scripts/release.sh"))
        .args(args))
}

#[test]
fn the_version_is_cargo_tomls_everywhere() {
    let source = template("source-account");
    let sar = &source.doc["Metadata"]["AWS::ServerlessRepo::Application"];
    assert_eq!(
        sar["SemanticVersion"].as_str(),
        Some(VERSION),
        "the SAR application's SemanticVersion"
    );
    assert_eq!(
        run(Command::new(bootstrap_path()).arg("--version")).trim(),
        format!("bootstrap {VERSION}")
    );
    assert_eq!(release_sh(&["--version"]).trim(), VERSION);
    assert!(
        read("CHANGELOG.md")
            .lines()
            .any(|l| l.starts_with(&format!("## [{VERSION}]"))),
        "CHANGELOG.md has no `## [{VERSION}]` entry"
    );
}

#[test]
fn the_sar_metadata_names_files_that_exist() {
    let source = template("source-account");
    let sar = &source.doc["Metadata"]["AWS::ServerlessRepo::Application"];
    for key in ["LicenseUrl", "ReadmeUrl"] {
        let rel = sar[key].as_str().unwrap_or_else(|| panic!("{key} missing"));
        let path = Path::new(REPO).join("sam/source-account").join(rel);
        assert!(path.is_file(), "{key} {rel}: no {}", path.display());
    }
    assert_eq!(sar["SpdxLicenseId"], "Apache-2.0");
    assert!(read("Cargo.toml").contains("license = \"Apache-2.0\""));
    let labels = sar["Labels"].as_array().expect("Labels");
    assert!(!labels.is_empty() && labels.len() <= 10, "{labels:?}");
}

/// A stand-in binary: an ELF header of the architecture, and some bytes.
fn fake_elf(dir: &Path, arch: &str) -> PathBuf {
    let machine: u16 = if arch == "arm64" { 0xB7 } else { 0x3E };
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(16, 0);
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&machine.to_le_bytes());
    bytes.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    let path = dir.join(format!("bootstrap-{arch}"));
    std::fs::write(&path, bytes).unwrap();
    run(Command::new("chmod").arg("755").arg(&path));
    path
}

/// `release.sh` with the given binaries (as CI runs it, after `.ci/sam.sh` built them).
fn release_into(out: &Path, arm64: &Path, x86_64: &Path) {
    release_sh(&[
        "--out",
        out.to_str().unwrap(),
        "--bootstrap",
        &format!("arm64={}", arm64.display()),
        "--bootstrap",
        &format!("x86_64={}", x86_64.display()),
    ]);
}

#[test]
fn the_release_is_reproducible_checksummed_and_packaged() {
    let dir = std::env::temp_dir().join(unique("release"));
    std::fs::create_dir_all(&dir).unwrap();
    let (arm64, x86_64) = (fake_elf(&dir, "arm64"), fake_elf(&dir, "x86_64"));
    let (first, second) = (dir.join("first"), dir.join("second"));
    release_into(&first, &arm64, &x86_64);
    release_into(&second, &arm64, &x86_64);

    let zips = [
        format!("s3-replication-provider-{VERSION}-arm64.zip"),
        format!("s3-replication-provider-{VERSION}-x86_64.zip"),
    ];
    for name in &zips {
        let (a, b) = (
            std::fs::read(first.join(name)).unwrap(),
            std::fs::read(second.join(name)).unwrap(),
        );
        assert_eq!(
            a, b,
            "{name} differs between two releases of the same binary"
        );
    }
    let sums = std::fs::read_to_string(first.join("SHA256SUMS")).unwrap();
    for name in &zips {
        assert!(sums.contains(&format!("  {name}\n")), "{sums}");
    }
    run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&first));
    assert_eq!(
        std::fs::read(first.join("destination-account.yaml")).unwrap(),
        std::fs::read(Path::new(REPO).join("sam/destination-account/template.yaml")).unwrap(),
        "the destination template ships unchanged"
    );

    let packaged = Template::parse(
        &std::fs::read_to_string(first.join("source-account.packaged.yaml")).unwrap(),
    )
    .unwrap();
    let release = &packaged.doc["Metadata"]["S3ReplicationProvider::Release"];
    assert_eq!(release["Version"], VERSION);
    for artifact in release["Artifacts"].as_array().unwrap() {
        let line = format!(
            "{}  {}\n",
            artifact["Sha256"].as_str().unwrap(),
            artifact["Key"].as_str().unwrap()
        );
        assert!(
            sums.contains(&line),
            "{artifact} is not in SHA256SUMS:\n{sums}"
        );
    }
    let sar = &packaged.doc["Metadata"]["AWS::ServerlessRepo::Application"];
    for key in ["LicenseUrl", "ReadmeUrl"] {
        let file = sar[key].as_str().unwrap();
        assert!(
            first.join(file).is_file(),
            "{key} {file} is not beside the template"
        );
    }
}

/// Every resource `template` deploys in the source account with `params`.
fn resources(template: &Template, params: &[(&str, &str)]) -> BTreeMap<String, Value> {
    deploy_as(template, "source-account", SRC, params).resources
}

fn code_of(template: &Template, params: &[(&str, &str)]) -> Value {
    resources(template, params)["ProviderFunction"]["Properties"]["CodeUri"].clone()
}

#[test]
fn the_packaged_template_is_the_source_template_with_code_from_s3() {
    let dir = std::env::temp_dir().join(unique("packaged"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("dist");
    release_into(&out, &fake_elf(&dir, "arm64"), &fake_elf(&dir, "x86_64"));
    let text = std::fs::read_to_string(out.join("source-account.packaged.yaml")).unwrap();
    let packaged = Template::parse(&text).unwrap();
    let source = template("source-account");

    let base = [("DestinationAccountIds", "222222222222")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p = base.to_vec();
        p.push(("CodeBucket", "releases-eu-west-1"));
        p.extend_from_slice(extra);
        p
    };
    assert_eq!(
        code_of(&packaged, &with(&[])),
        json!({"Bucket": "releases-eu-west-1", "Key": format!("s3-replication-provider-{VERSION}-arm64.zip")}),
        "the default: the template's default Architecture's zip"
    );
    assert_eq!(
        code_of(&packaged, &with(&[("Architecture", "x86_64")])),
        json!({"Bucket": "releases-eu-west-1", "Key": format!("s3-replication-provider-{VERSION}-x86_64.zip")})
    );
    assert_eq!(
        code_of(&packaged, &with(&[("CodeKey", "mirror/provider.zip")])),
        json!({"Bucket": "releases-eu-west-1", "Key": "mirror/provider.zip"})
    );

    // Everything else deploys exactly as the source template does.
    let mut a = resources(&packaged, &with(&[]));
    let mut b = resources(&source, &base);
    for r in [&mut a, &mut b] {
        r.get_mut("ProviderFunction").unwrap()["Properties"]
            .as_object_mut()
            .unwrap()
            .remove("CodeUri");
    }
    assert_eq!(a, b);
}
