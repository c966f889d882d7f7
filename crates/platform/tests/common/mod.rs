//! What the platform's tests share: the demo hospital they settle at, and a HIS call through the
//! national interface's parser, as the server makes it.

use std::time::Instant;

use serde_json::{json, Value};
use yibao_fsi::{parse_envelope, TransactionInput};
use yibao_platform::{NationalRequest, Platform};
use yibao_store::InstitutionRecord;

/// A demo 三级 hospital.
pub const INSTITUTION: &str = "H50010100001";

/// Registers [`INSTITUTION`] with the platform.
pub async fn register_institution(platform: &Platform) {
    let institution = yibao_demo::demo_institutions()
        .into_iter()
        .find(|i| i.code == INSTITUTION)
        .unwrap();
    platform
        .upsert_institutions(vec![InstitutionRecord {
            code: institution.code,
            name: institution.name,
            hosp_lv: institution.hosp_lv.to_owned(),
            admdvs: institution.admdvs,
            paas_id: institution.paas_id,
            secret: institution.secret,
            active: true,
        }])
        .await
        .unwrap();
}

/// Sends transaction `infno` from [`INSTITUTION`] with a fresh msgid; the answer as JSON.
pub async fn call(platform: &Platform, serial: &mut u32, infno: &str, input: Value) -> Value {
    *serial += 1;
    let now = yibao_platform::now();
    let msgid = format!("{INSTITUTION}{}{:04}", now.format("%Y%m%d%H%M%S"), *serial % 10_000);
    let body = json!({ "infno": infno, "msgid": msgid, "fixmedins_code": INSTITUTION, "input": input }).to_string();
    let envelope = parse_envelope(body.as_bytes(), None).unwrap();
    let input = TransactionInput::parse(&envelope.infno, &envelope.input).unwrap();
    let request = NationalRequest {
        envelope,
        input,
        received_at: now,
        started: Instant::now(),
    };
    serde_json::from_slice(&platform.national(request).await.unwrap()).unwrap()
}
