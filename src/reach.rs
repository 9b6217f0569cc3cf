//! Which destination accounts this provider may reach.
//!
//! The provider stack names them (`DestinationAccountIds` of `sam/source-account/template.yaml`,
//! given to the function as `PROVIDER_DESTINATION_ACCOUNTS`), and its execution role may assume
//! destination roles only there. The function checks the same list before any call, so a
//! destination outside it fails with a reason that names the list, not with AccessDenied halfway
//! through a Create. Without the setting (organization-wide providers, which the template limits
//! with `aws:ResourceOrgID` instead, and runs outside Lambda), every account is reachable as far
//! as the function is concerned and IAM decides.

use std::collections::BTreeSet;

use crate::reconcile::ReconcileError;
use crate::spec::{AccountId, Spec};

pub const DESTINATION_ACCOUNTS_ENV: &str = "PROVIDER_DESTINATION_ACCOUNTS";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reach {
    /// No list: IAM alone decides.
    #[default]
    Any,
    Only(BTreeSet<AccountId>),
    /// The setting is present but not a list of account ids: nothing is reachable until it is
    /// fixed (failing closed), and every request says why.
    Misconfigured(String),
}

impl Reach {
    /// Parses a comma-separated list of 12-digit account ids; blank means no list.
    pub fn parse(setting: &str) -> Self {
        let items: Vec<&str> = setting
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if items.is_empty() {
            return Reach::Any;
        }
        let mut accounts = BTreeSet::new();
        for item in items {
            match AccountId::parse(item) {
                Ok(a) => {
                    accounts.insert(a);
                }
                Err(e) => {
                    return Reach::Misconfigured(format!(
                        "{DESTINATION_ACCOUNTS_ENV} must list 12-digit account ids separated by commas; {item:?}: {e}"
                    ))
                }
            }
        }
        Reach::Only(accounts)
    }

    pub fn from_env() -> Self {
        Self::parse(&std::env::var(DESTINATION_ACCOUNTS_ENV).unwrap_or_default())
    }

    pub fn allows(&self, account: &AccountId) -> bool {
        match self {
            Reach::Any => true,
            Reach::Only(accounts) => accounts.contains(account),
            Reach::Misconfigured(_) => false,
        }
    }

    /// Every destination of `spec` must be reachable; the first that is not is named.
    pub fn check(&self, spec: &Spec) -> Result<(), ReconcileError> {
        if let Reach::Misconfigured(why) = self {
            return Err(ReconcileError::ProviderMisconfigured(why.clone()));
        }
        match spec
            .destinations
            .iter()
            .enumerate()
            .find(|(_, d)| !self.allows(&d.account))
        {
            None => Ok(()),
            Some((index, d)) => Err(ReconcileError::DestinationNotAllowed {
                index,
                bucket: d.bucket.to_string(),
                account: d.account.to_string(),
                allowed: self.listed(),
            }),
        }
    }

    /// `spec` without the destinations this provider may not reach (a Delete skips them: the
    /// function could not have written there).
    pub fn reachable(&self, spec: &Spec) -> Spec {
        let mut kept = spec.clone();
        kept.destinations.retain(|d| {
            let ok = self.allows(&d.account);
            if !ok {
                tracing::warn!(account = %d.account, bucket = %d.bucket, "destination account is not one this provider may reach; skipped");
            }
            ok
        });
        kept
    }

    fn listed(&self) -> String {
        match self {
            Reach::Only(accounts) => accounts
                .iter()
                .map(AccountId::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(accounts: &[&str]) -> Spec {
        let dests: Vec<_> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| json!({"Bucket": format!("dst-{i}"), "AccountId": a, "Region": "us-west-2"}))
            .collect();
        crate::spec::parse(&json!({"SourceBucket": "src", "Destinations": dests})).unwrap()
    }

    #[test]
    fn no_list_reaches_every_account() {
        assert_eq!(Reach::parse(" , "), Reach::Any);
        assert!(Reach::Any.check(&spec(&["999999999999"])).is_ok());
    }

    #[test]
    fn a_destination_outside_the_list_is_named_before_any_call() {
        let reach = Reach::parse("222222222222, 333333333333");
        assert!(reach
            .check(&spec(&["222222222222", "333333333333"]))
            .is_ok());
        let msg = reach
            .check(&spec(&["222222222222", "444444444444"]))
            .unwrap_err()
            .to_string();
        for needle in [
            "destination 1",
            "dst-1",
            "444444444444",
            "222222222222, 333333333333",
            "DestinationAccountIds",
        ] {
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
    }

    #[test]
    fn a_malformed_list_fails_closed() {
        let reach = Reach::parse("222222222222,2222");
        assert!(matches!(reach, Reach::Misconfigured(_)));
        let msg = reach
            .check(&spec(&["222222222222"]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(DESTINATION_ACCOUNTS_ENV) && msg.contains("2222"),
            "{msg}"
        );
    }

    #[test]
    fn delete_skips_what_it_could_not_reach() {
        let reach = Reach::parse("222222222222");
        let kept = reach.reachable(&spec(&["222222222222", "444444444444"]));
        assert_eq!(kept.destinations.len(), 1);
        assert_eq!(kept.destinations[0].account.as_str(), "222222222222");
    }
}
