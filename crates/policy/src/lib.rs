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
            .map(|(line, message)| PolicyError { file: file.to_owned(), line, column: 1, message })
            .collect())
    }
}
