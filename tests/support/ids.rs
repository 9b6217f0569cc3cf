//! Fresh names and ids for test resources, and reading ids out of ARNs.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes values made within one nanosecond (and moto log files).
pub(super) static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random 64-bit number from std's randomly seeded hasher (no extra crates).
pub fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

/// A unique, bucket-name-safe name: `unique("src")` -> `src-1a2b3c4d5e`.
pub fn unique(prefix: &str) -> String {
    format!("{}-{:010x}", prefix, random_u64() & 0xff_ffff_ffff)
}

/// A fresh UUID-looking id (version 4 layout).
pub fn uuid() -> String {
    let a = random_u64();
    let b = random_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// `(account, region)` of an ARN such as `arn:aws:kms:us-west-2:222222222222:key/...`.
pub fn arn_account_region(arn: &str) -> (String, String) {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    assert!(parts.len() == 6 && parts[0] == "arn", "not an ARN: {arn:?}");
    (parts[4].to_string(), parts[3].to_string())
}

/// A key id from a key ARN (moto's ScheduleKeyDeletion & co. need the bare id).
pub fn key_id_of(key: &str) -> &str {
    match key.rsplit_once(":key/") {
        Some((_, id)) => id,
        None => key,
    }
}
