//! Performance harness (placeholder until the harness lands): `cargo bench --bench perf`.
fn main() {
    println!("perf harness not written yet");
}
