//! Tests of the doctor: the evaluator, the combination rules, the seed recipes, and the
//! provider's own plan as an oracle check.

mod combine;
mod evaluator;
mod oracle;
mod seeds;
