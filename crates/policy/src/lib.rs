//! The benefit policy language.
//!
//! A region's rules are a TOML file per version (see `docs/policy-language.md`). [`parse_policy`]
//! checks a file and reports every error with its line; the result is a [`Policy`] the engine
//! runs. Nothing here reads files: callers hand over the text.

mod coverage;
mod model;
mod parse;

pub use coverage::check_coverage;
pub use model::*;
pub use parse::{parse_policy, PolicyError, POLICY_ERRORS_MAX, POLICY_FILE_BYTES_MAX};

/// Parses and checks a policy, including that every value table answers every case its benefit
/// can meet.
pub fn load_policy(file: &str, source: &str) -> Result<Policy, Vec<PolicyError>> {
    let policy = parse_policy(file, source)?;
    let gaps = check_coverage(&policy);
    if gaps.is_empty() {
        Ok(policy)
    } else {
        Err(gaps
            .into_iter()
            .map(|(line, message)| PolicyError {
                file: file.to_owned(),
                line,
                column: 1,
                message,
            })
            .collect())
    }
}

/// The version in force on `date` among a region's versions.
pub fn version_on(versions: &[Policy], date: chrono::NaiveDate) -> Option<&Policy> {
    versions.iter().find(|p| p.is_effective_on(date))
}

/// Problems between versions of the same region: two versions in force on the same day, or
/// two files claiming the same version.
pub fn check_versions(versions: &[Policy]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            if a.region != b.region {
                continue;
            }
            if a.version == b.version {
                problems.push(format!("区划{}的版本{}出现了两次", a.region, a.version));
                continue;
            }
            let a_end = a.effective_to.unwrap_or(chrono::NaiveDate::MAX);
            let b_end = b.effective_to.unwrap_or(chrono::NaiveDate::MAX);
            if a.effective_from <= b_end && b.effective_from <= a_end {
                problems.push(format!(
                    "区划{}的版本{}与{}生效期重叠:同一天只能有一个版本生效",
                    a.region, a.version, b.version
                ));
            }
        }
    }
    problems
}
