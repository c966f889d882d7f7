//! Seeding the demo region: its institutions and insured people, once, into an empty store.

use yibao_demo::{demo_institutions, demo_persons, DemoPerson, DEMO_ADMDVS};
use yibao_platform::{Platform, PlatformError};
use yibao_store::{ChronicFilingRecord, InstitutionRecord, PersonRecord, WriteOp};

use crate::secrets::SecretKeys;

/// Persons written per batch while seeding.
const SEED_CHUNK_PERSONS: usize = 5_000;

/// The demo institutions, their secrets sealed with `keys` as the store keeps them.
pub fn institution_records(keys: &SecretKeys) -> Result<Vec<InstitutionRecord>, String> {
    demo_institutions()
        .into_iter()
        .map(|i| {
            Ok(InstitutionRecord {
                secret: keys.seal(&i.code, &i.secret)?,
                code: i.code,
                name: i.name,
                hosp_lv: i.hosp_lv.to_owned(),
                admdvs: i.admdvs,
                paas_id: i.paas_id,
                active: true,
            })
        })
        .collect()
}

/// A demo person's record and chronic-disease filings.
pub fn person_ops(p: DemoPerson) -> Vec<WriteOp> {
    let filings: Vec<WriteOp> = p
        .chronic_diseases
        .iter()
        .enumerate()
        .map(|(i, (code, name))| {
            WriteOp::UpsertChronicFiling(ChronicFilingRecord {
                filing_id: format!("{}F{i}", p.person_no),
                person_no: p.person_no.clone(),
                disease_code: (*code).to_owned(),
                disease_name: (*name).to_owned(),
                institution: String::new(),
                begin_date: p.enrolled_on,
                end_date: None,
                active: true,
            })
        })
        .collect();
    let mut ops = vec![WriteOp::UpsertPerson(person_record(p))];
    ops.extend(filings);
    ops
}

pub fn person_record(p: DemoPerson) -> PersonRecord {
    PersonRecord {
        person_no: p.person_no,
        certno: p.certno,
        name: p.name,
        sex: p.sex,
        birth_date: p.birth_date,
        ethnicity: "01".into(),
        insurance: p.insurance,
        person_type: p.person_type,
        tier: p.tier,
        groups: p.groups,
        civil_servant: p.civil_servant,
        insured_admdvs: DEMO_ADMDVS.to_owned(),
        employer_name: p.employer_name,
        status: "1".into(),
        enrolled_on: p.enrolled_on,
        benefits_from: None,
        account_balance: p.account_balance,
        family_payer: None,
    }
}

/// Seeds the demo region (its institutions and first `persons` people) into an empty store:
/// one that holds neither institutions nor people. A store that holds either is left as it is,
/// so that what was changed since (a rotated secret, a suspended institution, a moved person)
/// is not undone by the next start. Returns how many persons were written.
pub async fn seed(platform: &Platform, keys: &SecretKeys, persons: usize) -> Result<usize, PlatformError> {
    if !platform.institutions().await?.is_empty() || platform.person_count().await? > 0 {
        return Ok(0);
    }
    let institutions = institution_records(keys).map_err(PlatformError::internal)?;
    platform.upsert_institutions(institutions).await?;
    let mut chunk = Vec::with_capacity(SEED_CHUNK_PERSONS * 2);
    let mut in_chunk = 0;
    let mut written = 0;
    for person in demo_persons().take(persons) {
        chunk.extend(person_ops(person));
        in_chunk += 1;
        if in_chunk == SEED_CHUNK_PERSONS {
            written += in_chunk;
            in_chunk = 0;
            platform.apply(std::mem::take(&mut chunk)).await?;
        }
    }
    written += in_chunk;
    if !chunk.is_empty() {
        platform.apply(chunk).await?;
    }
    Ok(written)
}
