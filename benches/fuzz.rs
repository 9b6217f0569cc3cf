//! Property parsing under a million generated inputs: `cargo bench --bench fuzz [-- CASES]`.
//! No panic, and every rejection names the property and fits CloudFormation's response.

#[path = "../tests/support/fuzz.rs"]
mod fuzz;

use proptest::test_runner::{Config, TestRunner};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Test runners list and run every target: this one runs only under `cargo bench`.
    if args.iter().any(|a| a == "--list") {
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("fuzz: skipped outside `cargo bench` (run `cargo bench --bench fuzz -- CASES`)");
        return;
    }
    let cases: u32 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let start = std::time::Instant::now();
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config.clone())
        .run(&fuzz::json_value(), |v| fuzz::check_parse(&v))
        .expect("arbitrary JSON");
    TestRunner::new(config)
        .run(&fuzz::mutated_properties(), |v| fuzz::check_parse(&v))
        .expect("mutated properties");
    println!(
        "fuzz: {} cases of each strategy passed in {:.1?}",
        cases,
        start.elapsed()
    );
}
