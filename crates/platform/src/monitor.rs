//! Supervision at settlement (事中): the region's real-time rules run on the lines about to be
//! settled, and each refused amount goes into the line as a refusal the engine settles as
//! self-pay. The rules themselves are pure (`yibao-monitor`); this module only builds the claim
//! from the stored visit and the region's files.

use chrono::NaiveDateTime;
use yibao_codes::HospitalLevel;
use yibao_money::Money;
use yibao_monitor::{check_claim, refusals, Claim, ClaimLine, Finding};
use yibao_settle::{Refusal, Visit};
use yibao_store::PersonRecord;

use crate::error::PlatformError;
use crate::service::Ctx;
use crate::state::State;

/// Runs the region's real-time rules on `visit`'s lines (occurred at `times`, one per line)
/// and writes each refusal into its line. Returns every finding (refusing or warning). Nothing
/// runs when the region has no rule file in force or no 两库 was imported.
pub fn review_for_settlement(
    state: &mut State,
    ctx: &Ctx,
    person: &PersonRecord,
    level: HospitalLevel,
    visit: &mut Visit,
    times: &[NaiveDateTime],
) -> Result<Vec<Finding>, PlatformError> {
    let Some(policy) = ctx.region.monitor_on(visit.begin_date) else {
        return Ok(Vec::new());
    };
    let Some(kb) = state.knowledge()? else {
        return Ok(Vec::new());
    };
    assert_eq!(times.len(), visit.lines.len(), "one time per line");
    let rounding = ctx.region.policy_on(visit.begin_date)?.rounding;
    let lines: Vec<ClaimLine> = visit
        .lines
        .iter()
        .zip(times)
        .map(|(l, at)| ClaimLine {
            sn: l.sn.clone(),
            code: l.code.clone(),
            quantity: l.quantity,
            price: l.price,
            amount: Money::from_price_quantity(l.price, l.quantity, rounding),
            at: *at,
            list_price: ctx.region.catalog.get(&l.code).and_then(|i| i.price_cap),
        })
        .collect();
    let claim = Claim {
        sex: person.sex,
        birth_date: person.birth_date,
        insurance: person.insurance,
        setting: visit.medical_type.setting(),
        level,
        begin_date: visit.begin_date,
        lines: &lines,
    };
    let findings = check_claim(&kb, policy, &claim, rounding);
    for r in refusals(&findings) {
        visit.lines[r.line].refusal = Some(Refusal {
            rule_id: r.rule.id().to_owned(),
            rule_name: r.rule.name_zh().to_owned(),
            text: r.text,
            amount: r.amount,
        });
    }
    Ok(findings)
}
