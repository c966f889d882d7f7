//! 就诊凭证: a person is found by the certificate an institution presents, never by the person
//! number alone (person numbers are sequential: whoever could look people up by number could
//! list the whole insured population), and a request that names a person by number and carries
//! a certificate is held to it: both must be the same person.
//!
//! The types are the spec's (`mdtrt_cert_type`): 01 医保电子凭证 (an e-voucher token, not issued
//! by this platform yet, so refused with a clear answer), 02 居民身份证 (the citizen ID
//! number), 03 社会保障卡 (its number is the holder's 社会保障号码, which is the citizen ID
//! number; 1101 must also send the card's `card_sn`).

use yibao_codes::CitizenId;

use crate::state::State;
use crate::PlatformError;

/// A certificate as a request presents it.
#[derive(Clone, Copy, Debug)]
pub struct Presented<'a> {
    /// `mdtrt_cert_type`, two digits.
    pub cert_type: &'a str,
    pub cert_no: &'a str,
    /// The node the fields are in, for error paths (`input.data`, `input.mdtrtinfo`).
    pub node: &'a str,
}

impl Presented<'_> {
    /// The citizen ID number the certificate stands for, checked (length, digits, check digit,
    /// birth date); a lower-case `x` check character is read as `X`.
    pub fn citizen_id(&self) -> Result<CitizenId, PlatformError> {
        match self.cert_type {
            "02" | "03" => CitizenId::parse(self.cert_no)
                .map_err(|e| PlatformError::field(&format!("{}.mdtrt_cert_no", self.node), e.to_string())),
            "01" => Err(PlatformError::field(
                &format!("{}.mdtrt_cert_type", self.node),
                "医保电子凭证(01)尚未开通,请使用居民身份证(02)或社会保障卡(03)".into(),
            )),
            other => Err(PlatformError::field(
                &format!("{}.mdtrt_cert_type", self.node),
                format!(
                    "就诊凭证类型“{}”无效,应为01(医保电子凭证)、02(居民身份证)或03(社会保障卡)",
                    other.chars().take(8).collect::<String>()
                ),
            )),
        }
    }
}

/// The person number of whoever holds the certificate, or a refusal naming the field.
pub fn person_no_of(state: &mut State, certificate: &Presented) -> Result<String, PlatformError> {
    let id = certificate.citizen_id()?;
    person_no_by_citizen_id(state, &id, &format!("{}.mdtrt_cert_no", certificate.node))
}

/// The person number of the holder of citizen ID `id`; `field` names where it came from.
pub fn person_no_by_citizen_id(state: &mut State, id: &CitizenId, field: &str) -> Result<String, PlatformError> {
    match state.person_by_certno(id.as_str())? {
        Some(entry) => Ok(entry.record.person_no.clone()),
        None => Err(PlatformError::field(field, "未查询到参保人员信息".into())),
    }
}

/// Refuses a request whose certificate is not `person_no`'s: a certificate of another person, or
/// of nobody, cannot be used to act on `person_no`. The refusal says only that the two differ, so
/// that it tells nothing about whose the certificate is.
pub fn check_holder(state: &mut State, certificate: &Presented, person_no: &str) -> Result<(), PlatformError> {
    let id = certificate.citizen_id()?;
    let holder = state.person_by_certno(id.as_str())?.map(|e| e.record.person_no.clone());
    if holder.as_deref() != Some(person_no) {
        return Err(PlatformError::field(
            &format!("{}.mdtrt_cert_no", certificate.node),
            format!("就诊凭证与人员编号{}不是同一参保人", clip(person_no)),
        ));
    }
    Ok(())
}

fn clip(text: &str) -> String {
    text.chars().take(30).collect()
}
