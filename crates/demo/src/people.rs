//! Demo institutions and insured people of the demo pooling region (重庆市, 500000).

use chrono::NaiveDate;
use yibao_codes::{CitizenId, InsuranceType, PersonType, Sex, SpecialGroup, Tier};
use yibao_money::Money;

use crate::SplitMix64;

/// The demo pooling region.
pub const DEMO_ADMDVS: &str = "500000";
pub const DEMO_INSTITUTIONS: usize = 50;
pub const DEMO_PERSONS: usize = 100_000;

/// Districts of the demo region (real division codes of Chongqing).
const DISTRICTS: &[(&str, &str)] = &[
    ("500101", "万州区"),
    ("500102", "涪陵区"),
    ("500103", "渝中区"),
    ("500104", "大渡口区"),
    ("500105", "江北区"),
    ("500106", "沙坪坝区"),
    ("500107", "九龙坡区"),
    ("500108", "南岸区"),
    ("500109", "北碚区"),
    ("500112", "渝北区"),
    ("500113", "巴南区"),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoInstitution {
    /// 定点医药机构编号: H (hospital) or P (pharmacy) + district + 5-digit serial.
    pub code: String,
    pub name: String,
    /// National grade `hosp_lv`.
    pub hosp_lv: &'static str,
    pub admdvs: String,
    /// The `x-tif-paasid` and secret the demo institution signs with.
    pub paas_id: String,
    pub secret: String,
}

/// The demo institutions: a few 三级, more 二级, many 一级/community clinics, and pharmacies.
pub fn demo_institutions() -> Vec<DemoInstitution> {
    let mut out = Vec::with_capacity(DEMO_INSTITUTIONS);
    for i in 0..DEMO_INSTITUTIONS {
        let (district, district_name) = DISTRICTS[i % DISTRICTS.len()];
        let (prefix, hosp_lv, kind) = match i {
            0..=4 => ('H', ["01", "02", "02", "03", "02"][i], "人民医院"),
            5..=16 => ('H', if i % 2 == 0 { "05" } else { "06" }, "中医院"),
            17..=39 => ('H', if i % 3 == 0 { "11" } else { "08" }, "社区卫生服务中心"),
            _ => ('P', "11", "大药房"),
        };
        let code = format!("{prefix}{district}{:05}", i + 1);
        out.push(DemoInstitution {
            name: format!("重庆市{district_name}第{}{kind}", i + 1),
            hosp_lv,
            admdvs: district.to_owned(),
            paas_id: format!("demo-{}", code.to_lowercase()),
            secret: format!("demo-secret-{:02}", i + 1),
            code,
        });
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoPerson {
    /// 人员编号: the region code + 'P' + a 12-digit serial.
    pub person_no: String,
    pub certno: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub insurance: InsuranceType,
    pub person_type: PersonType,
    pub tier: Option<Tier>,
    pub groups: Vec<SpecialGroup>,
    pub civil_servant: bool,
    pub employer_name: String,
    pub admdvs: String,
    pub enrolled_on: NaiveDate,
    pub account_balance: Money,
    /// Filed chronic diseases (codes of the demo policy).
    pub chronic_diseases: Vec<(&'static str, &'static str)>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "胡", "朱", "郭", "何", "罗", "高",
    "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
    "桂英", "建华", "志强", "晓红", "德明", "玉兰",
];
const EMPLOYERS: &[&str] = &[
    "重庆长安汽车股份有限公司",
    "重庆市渝中区人民政府办公室",
    "重庆银行股份有限公司",
    "重庆建工集团股份有限公司",
    "重庆医科大学附属第一医院",
    "重庆钢铁股份有限公司",
    "灵活就业人员",
];
const CHRONIC: &[(&str, &str)] = &[
    ("M03900", "高血压"),
    ("M01600", "糖尿病"),
    ("M00500", "慢性肾功能衰竭透析"),
    ("M00100", "恶性肿瘤门诊治疗"),
];

/// The `index`-th demo person (0-based), the same on every run.
pub fn demo_person(index: usize) -> DemoPerson {
    let mut rng = SplitMix64::new(0x5045_5253_4f4e ^ (index as u64).wrapping_mul(0x9E37_79B9));
    let (district, _) = DISTRICTS[index % DISTRICTS.len()];
    // 35% employees (in service 70%, retired 30%), 65% residents (minors 25%, adults 55%, elderly 20%).
    let employee = rng.below(100) < 35;
    let (insurance, person_type, age_years) = if employee {
        if rng.below(100) < 70 {
            (InsuranceType::EmployeeBasic, "1101", 20 + rng.below(40))
        } else {
            (InsuranceType::EmployeeBasic, "1201", 60 + rng.below(30))
        }
    } else {
        match rng.below(100) {
            0..=24 => (InsuranceType::ResidentBasic, "1403", rng.below(18)),
            25..=79 => (InsuranceType::ResidentBasic, "1501", 18 + rng.below(42)),
            _ => (InsuranceType::ResidentBasic, "1601", 60 + rng.below(35)),
        }
    };
    // Ages count back from 2026, but nobody is born after the demo's enrolment date (2026-01-01),
    // so that a visit on any later day is after the person's birth.
    let birth_year = (2026 - age_years as i32).min(2025);
    let birth_date = NaiveDate::from_ymd_opt(birth_year, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
        .expect("valid demo date");
    let sex = if rng.below(2) == 0 { Sex::Male } else { Sex::Female };
    let certno = citizen_id(district, birth_date, sex, index);
    let tier = (!employee).then(|| if rng.below(100) < 30 { Tier::Two } else { Tier::One });
    let mut groups = Vec::new();
    if !employee && rng.below(100) < 4 {
        groups.push(*rng.pick(&[
            SpecialGroup::Dibao,
            SpecialGroup::Destitute,
            SpecialGroup::DibaoEdge,
            SpecialGroup::RuralPoor,
            SpecialGroup::OutOfPoverty,
        ]));
    }
    let civil_servant = employee && person_type == "1101" && rng.below(100) < 3;
    let chronic_diseases = if age_years >= 45 && rng.below(100) < 12 {
        vec![*rng.pick(CHRONIC)]
    } else {
        Vec::new()
    };
    let account_balance = if employee {
        Money::from_fen(rng.below(800_000) as i64)
    } else {
        Money::ZERO
    };
    DemoPerson {
        person_no: format!("{DEMO_ADMDVS}P{:012}", index + 1),
        name: format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN)),
        sex,
        birth_date,
        insurance,
        person_type: PersonType::parse(person_type).expect("demo person types are national codes"),
        tier,
        groups,
        civil_servant,
        employer_name: if employee {
            rng.pick(EMPLOYERS).to_string()
        } else {
            String::new()
        },
        admdvs: district.to_owned(),
        enrolled_on: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        account_balance,
        chronic_diseases,
        certno,
    }
}

/// All demo persons, in order.
pub fn demo_persons() -> impl Iterator<Item = DemoPerson> {
    (0..DEMO_PERSONS).map(demo_person)
}

/// A valid 18-character citizen ID: district, birth date, a sequence that keeps IDs unique and
/// carries the sex (odd: male), and the check character.
fn citizen_id(district: &str, birth: NaiveDate, sex: Sex, index: usize) -> String {
    let mut sequence = (index % 500) as u32 * 2;
    if sex == Sex::Male {
        sequence += 1;
    }
    // The area code carries index / 500 and the sequence index % 500, so that no two demo
    // persons can share an ID whatever their birth dates: 5001xx–5003xx, Chongqing-shaped.
    let area = format!("{}{:04}", &district[..2], 100 + (index / 500) % 9_900);
    let body = format!("{area}{}{sequence:03}", birth.format("%Y%m%d"));
    let check = CitizenId::check_char(body.as_bytes()) as char;
    let id = format!("{body}{check}");
    debug_assert!(CitizenId::parse(&id).is_ok());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_people_are_valid_unique_and_deterministic() {
        let persons: Vec<DemoPerson> = demo_persons().collect();
        assert_eq!(persons.len(), DEMO_PERSONS);
        let mut ids: Vec<&str> = persons.iter().map(|p| p.certno.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), DEMO_PERSONS, "citizen IDs are unique");
        for p in persons.iter().step_by(997) {
            let id = CitizenId::parse(&p.certno).expect("valid ID");
            assert_eq!(id.birth_date(), Some(p.birth_date));
            assert_eq!(id.sex(), p.sex);
        }
        assert_eq!(demo_person(42), persons[42]);
        let enrolment = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(
            persons.iter().all(|p| p.birth_date < enrolment),
            "nobody is born after the demo's enrolment date"
        );
        let employees = persons
            .iter()
            .filter(|p| p.insurance == InsuranceType::EmployeeBasic)
            .count();
        assert!(
            (30_000..40_000).contains(&employees),
            "about 35% employees, got {employees}"
        );
        assert!(persons.iter().any(|p| !p.groups.is_empty()));
        assert!(persons.iter().any(|p| !p.chronic_diseases.is_empty()));
    }

    #[test]
    fn demo_institutions_cover_every_level() {
        let all = demo_institutions();
        assert_eq!(all.len(), DEMO_INSTITUTIONS);
        for lv in ["01", "02", "05", "08", "11"] {
            assert!(all.iter().any(|i| i.hosp_lv == lv), "grade {lv}");
        }
        assert!(all.iter().any(|i| i.code.starts_with('P')));
        assert!(all.iter().all(|i| i.code.len() == 12));
    }
}
