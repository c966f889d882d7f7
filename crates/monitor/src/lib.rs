//! Fund supervision (智能监控), the pure part: rules as data and the checks that run on claims.
//!
//! - [`knowledge`]: the national 两库 knowledge points (batches 1–8), read all or nothing from the
//!   sheets NHSA published.
//! - [`rules`]: the stable rule ids, their severity, and a region's rule file (which rules warn,
//!   which refuse the line, which only feed after-the-fact screening, and their thresholds).
//! - [`check`]: the real-time check of one claim (3101 事前, 3102 事中, and settlement).
//! - [`cases`]: a suspicion's case from clue to decision, Regulation 735's fines, doctors' points.
//! - [`screen`]: after-the-fact screening (事后) of stored settlements, with the rules that need
//!   a person's history.
//!
//! No I/O: the edges read the files and the store and pass text and values in.

pub mod cases;
pub mod check;
pub mod knowledge;
pub mod rules;
pub mod screen;

pub use check::{age_years, check_claim, Claim, ClaimLine, Finding, FindingLine, Role, CLAIM_LINES_MAX};
pub use knowledge::{Constraint, DuplicatePair, FileCount, KnowledgeBase, KnowledgeError, Point, Source};
pub use rules::{check_versions, Action, CreditScale, MonitorPolicy, RuleFileError, RuleId, Severity, Thresholds};
pub use screen::{screen, ScreenVisit, Suspicion, SCREEN_VISITS_MAX};

use yibao_money::Money;

/// What settlement does with a line the region refuses: `amount` of it (at most the line's
/// amount) moves to self-pay because of `rule`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRefusal {
    pub line: usize,
    pub rule: RuleId,
    pub amount: Money,
    pub text: String,
}

/// The refusals that findings make: for each line, the refusing finding with the most at stake
/// on it (two rules refusing one line do not refuse it twice). In line order.
pub fn refusals(findings: &[Finding]) -> Vec<LineRefusal> {
    let mut out: Vec<LineRefusal> = Vec::new();
    for f in findings.iter().filter(|f| f.action == Action::Refuse) {
        for l in f
            .lines
            .iter()
            .filter(|l| l.role == Role::Violating && !l.amount.is_zero())
        {
            match out.iter_mut().find(|r| r.line == l.line) {
                Some(r) if r.amount >= l.amount => {}
                Some(r) => {
                    r.rule = f.rule;
                    r.amount = l.amount;
                    r.text.clone_from(&f.text);
                }
                None => out.push(LineRefusal {
                    line: l.line,
                    rule: f.rule,
                    amount: l.amount,
                    text: f.text.clone(),
                }),
            }
        }
    }
    out.sort_by_key(|r| r.line);
    out
}
