//! KMS keys as the plan names them: before apply, a key this resource creates exists only as
//! its alias, so documents name it by the alias ARN until apply binds it to the key's ARN.

use crate::spec::{AccountId, BucketName, DestinationKey, Region, SourceKey, Spec};

use super::names::{destination_key_alias, source_key_alias};

/// One key the plan names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A key that exists: named in the properties, discovered from the bucket, or created by
    /// an earlier Create and found again by its alias.
    Existing(String),
    /// A key Create makes under `alias` in `account`/`region`; documents name it by
    /// [`KeyRef::name`], the alias ARN, until apply binds it.
    ToCreate {
        alias: String,
        account: AccountId,
        region: Region,
    },
}

impl KeyRef {
    /// The key's ARN once it exists, else the ARN of the alias it will be created under.
    pub fn name(&self) -> String {
        match self {
            KeyRef::Existing(arn) => arn.clone(),
            KeyRef::ToCreate {
                alias,
                account,
                region,
            } => format!("arn:{}:kms:{region}:{account}:{alias}", region.partition()),
        }
    }

    /// The length of the key's ARN once it exists (a created key's id is a 36-character UUID):
    /// what a document naming it will weigh once bound.
    pub fn bound_len(&self) -> usize {
        match self {
            KeyRef::Existing(arn) => arn.len(),
            KeyRef::ToCreate {
                account, region, ..
            } => format!("arn:{}:kms:{region}:{account}:key/", region.partition()).len() + 36,
        }
    }

    /// The key's ARN, `None` before it is created.
    pub fn arn(&self) -> Option<&str> {
        match self {
            KeyRef::Existing(arn) => Some(arn),
            KeyRef::ToCreate { .. } => None,
        }
    }

    /// The source key this resource creates (`SourceKmsKeyArn: Create`).
    pub fn source_to_create(source: &BucketName, account: &AccountId, region: &Region) -> Self {
        KeyRef::ToCreate {
            alias: source_key_alias(source),
            account: account.clone(),
            region: region.clone(),
        }
    }

    /// The replica key this resource creates for a destination (`KmsKeyArn: Create`).
    pub fn destination_to_create(source: &BucketName, dest: &crate::spec::Destination) -> Self {
        KeyRef::ToCreate {
            alias: destination_key_alias(source, &dest.bucket),
            account: dest.account.clone(),
            region: dest.region.clone(),
        }
    }

    /// A key known to exist when found, else the one this resource would create.
    pub fn found_or(found: Option<String>, to_create: impl FnOnce() -> Self) -> Self {
        found.map_or_else(to_create, KeyRef::Existing)
    }
}

/// Every key the plan names: the source key (objects are SSE-KMS) and each destination's
/// replica key, in destination order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    pub source: Option<KeyRef>,
    pub destinations: Vec<Option<KeyRef>>,
}

impl Keys {
    /// Keys that all exist, by ARN.
    pub fn existing(source: Option<&str>, destinations: &[Option<&str>]) -> Self {
        let known = |k: &Option<&str>| k.map(|k| KeyRef::Existing(k.to_owned()));
        Self {
            source: known(&source),
            destinations: destinations.iter().map(known).collect(),
        }
    }

    /// What the properties alone say, reading nothing (`plan`): named keys as given, keys to
    /// create by alias, and the source key discovered from the bucket as `discovered` (unknown
    /// without AWS).
    pub fn from_spec(
        spec: &Spec,
        account: &AccountId,
        region: &Region,
        discovered: Option<String>,
    ) -> Self {
        let source = match &spec.source.kms_key {
            SourceKey::Existing(k) => Some(KeyRef::Existing(k.to_string())),
            SourceKey::Create => Some(KeyRef::source_to_create(
                &spec.source.bucket,
                account,
                region,
            )),
            SourceKey::Discover => discovered.map(KeyRef::Existing),
        };
        let destinations = spec
            .destinations
            .iter()
            .map(|d| match &d.kms_key {
                DestinationKey::None => None,
                DestinationKey::Existing(k) => Some(KeyRef::Existing(k.to_string())),
                DestinationKey::Create => {
                    Some(KeyRef::destination_to_create(&spec.source.bucket, d))
                }
            })
            .collect();
        Self {
            source,
            destinations,
        }
    }

    /// Keys that exist: `source`, and each `destinations[i]` or else the key the properties
    /// name (as the check phase finds a named key). For tests that give keys by ARN.
    #[cfg(test)]
    pub fn known(spec: &Spec, source: Option<&str>, destinations: &[Option<&str>]) -> Self {
        let named = |i: usize, d: &crate::spec::Destination| {
            destinations
                .get(i)
                .copied()
                .flatten()
                .map(str::to_owned)
                .or(match &d.kms_key {
                    DestinationKey::Existing(k) => Some(k.to_string()),
                    _ => None,
                })
        };
        Self {
            source: source.map(|k| KeyRef::Existing(k.to_owned())),
            destinations: spec
                .destinations
                .iter()
                .enumerate()
                .map(|(i, d)| named(i, d).map(KeyRef::Existing))
                .collect(),
        }
    }

    /// Whether every key exists (apply has bound them).
    pub fn bound(&self) -> bool {
        self.source
            .iter()
            .chain(self.destinations.iter().flatten())
            .all(|k| k.arn().is_some())
    }

    /// Every distinct key.
    pub fn distinct(&self) -> Vec<&KeyRef> {
        let mut out: Vec<&KeyRef> = Vec::new();
        for k in self.source.iter().chain(self.destinations.iter().flatten()) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// Whether `name` names a key Create has not made yet.
    pub fn to_create(&self, name: &str) -> bool {
        self.distinct()
            .iter()
            .any(|k| k.arn().is_none() && k.name() == name)
    }

    /// Destination `index`'s key, if it has one.
    pub fn destination(&self, index: usize) -> Option<&KeyRef> {
        self.destinations.get(index).and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_to_create_is_named_by_its_alias_arn() {
        let k = KeyRef::source_to_create(
            &BucketName::parse("src").unwrap(),
            &AccountId::parse("222222222222").unwrap(),
            &Region::parse("cn-north-1").unwrap(),
        );
        assert_eq!(
            k.name(),
            "arn:aws-cn:kms:cn-north-1:222222222222:alias/s3-replication/src"
        );
        assert_eq!(k.arn(), None);
        let e = KeyRef::Existing("arn:aws:kms:us-east-1:1:key/x".to_owned());
        assert_eq!(e.arn(), Some(e.name().as_str()));
    }

    #[test]
    fn keys_are_bound_when_every_one_exists() {
        let mut keys = Keys::existing(Some("arn:k"), &[None, Some("arn:d")]);
        assert!(keys.bound());
        keys.destinations[0] = Some(KeyRef::ToCreate {
            alias: "alias/a".to_owned(),
            account: AccountId::parse("222222222222").unwrap(),
            region: Region::parse("us-east-1").unwrap(),
        });
        assert!(!keys.bound());
        assert!(keys.destination(0).is_some() && keys.destination(7).is_none());
    }
}
