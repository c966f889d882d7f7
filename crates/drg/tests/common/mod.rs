//! Loads the published tables from the repo's data/ once per test binary.
#![allow(dead_code)]

use std::sync::OnceLock;

use yibao_drg::{Case, DischargeMethod, Sex, TableTexts, Tables};

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data");

pub fn read(path: &str) -> String {
    let full = format!("{DATA}/{path}");
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub struct Texts {
    pub files: [String; 11],
}

pub fn texts() -> Texts {
    Texts {
        files: [
            read("chs-drg-1.1/1_MDC.txt"),
            read("chs-drg-1.1/2_ADRG.txt"),
            read("chs-drg-1.1/3_DRG.txt"),
            read("chs-drg-1.1/4_ADRG_DETAIL.txt"),
            read("chs-drg-1.1/5_MCC.txt"),
            read("chs-drg-1.1/6_CC.txt"),
            read("chs-drg-1.1/7_CCE.txt"),
            read("icd/icd10-yibao-2.0.dat"),
            read("icd/icd10-yibao-2.0-greycodes.dat"),
            read("icd/icd9cm3-yibao-2.0.dat"),
            read("icd/icd9cm3-yibao-2.0-greycodes.dat"),
        ],
    }
}

impl Texts {
    pub fn view(&self) -> TableTexts<'_> {
        let f = &self.files;
        TableTexts {
            mdc: &f[0],
            adrg: &f[1],
            drg: &f[2],
            adrg_detail: &f[3],
            mcc: &f[4],
            cc: &f[5],
            cc_exclusions: &f[6],
            diagnoses: &f[7],
            diagnosis_grey: &f[8],
            procedures: &f[9],
            procedure_grey: &f[10],
        }
    }
}

pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables::load(&texts().view()).expect("tables load"))
}

pub fn case(sex: Sex, age_years: u16, diagnoses: &[&str], procedures: &[&str]) -> Case {
    Case {
        sex,
        age_years,
        age_days: None,
        birth_weight_g: None,
        los_days: 7,
        discharge_method: DischargeMethod::Ordered,
        diagnoses: diagnoses.iter().map(|s| s.to_string()).collect(),
        procedures: procedures.iter().map(|s| s.to_string()).collect(),
        ventilation_hours: 0,
    }
}
