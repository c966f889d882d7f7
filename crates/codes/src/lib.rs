//! Typed national codes and validated code formats.
//!
//! Values follow the national interface's dictionaries (定点医药机构接口规范 §6). Each type
//! parses the lenient forms real HIS clients send ("1" for "01", "甲" for "01") and displays the
//! canonical code. Nothing here knows about any region.

mod formats;

pub use formats::{CitizenId, ItemCode, ItemKind};

use std::fmt;
use std::str::FromStr;

/// Why a code was refused. Messages are Chinese: they reach HIS engineers as `err_msg`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("代码“{value}”不是有效的{kind}")]
    Unknown { kind: &'static str, value: String },
    #[error("{kind}“{value}”格式不正确:{rule}")]
    Format {
        kind: &'static str,
        value: String,
        rule: &'static str,
    },
}

fn unknown(kind: &'static str, value: &str) -> CodeError {
    // Cap the echoed value: it comes from outside and ends up in messages and logs.
    let value: String = value.chars().take(40).collect();
    CodeError::Unknown { kind, value }
}

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $variant:ident = $code:literal, $zh:literal $(| $alias:literal)* ; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $( $variant, )+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The national code.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The Chinese name in the national dictionary.
            pub fn name_zh(self) -> &'static str {
                match self { $( $name::$variant => $zh, )+ }
            }

            /// The dictionary: every code with its Chinese name, in code order.
            pub fn table() -> impl Iterator<Item = (&'static str, &'static str)> {
                $name::ALL.iter().map(|c| (c.code(), c.name_zh()))
            }

            /// Parses the national code, its Chinese name, or a known alias.
            pub fn parse(text: &str) -> Result<$name, CodeError> {
                let text = text.trim();
                match text {
                    $( $code | $zh $(| $alias)* => Ok($name::$variant), )+
                    _ => Err(unknown($kind, text)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { $name::parse(s) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = deserialize_code_text(d)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Reads a code sent as a string or as a bare number (`"310"` or `310`).
fn deserialize_code_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a code as a string or integer")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
            // serde_json's arbitrary_precision hands numbers over as a one-entry map.
            match map.next_key::<String>()? {
                Some(_) => map.next_value::<String>(),
                None => Err(serde::de::Error::custom("empty number")),
            }
        }
    }
    d.deserialize_any(Visitor)
}

code_enum! {
    /// 险种类型 `insutype`.
    InsuranceType, "险种类型" {
        EmployeeBasic = "310", "职工基本医疗保险";
        CivilServantSubsidy = "320", "公务员医疗补助";
        LargeExpenseSubsidy = "330", "大额医疗费用补助";
        RetiredCadre = "340", "离休人员医疗保障";
        DisabledVeteran = "350", "一至六级残废军人医疗补助";
        RedArmyVeteran = "360", "老红军医疗保障";
        EnterpriseSupplementary = "370", "企业补充医疗保险";
        NewRuralCooperative = "380", "新型农村合作医疗";
        ResidentBasic = "390", "城乡居民基本医疗保险";
        UrbanResidentBasic = "391", "城镇居民基本医疗保险";
        ResidentCriticalIllness = "392", "城乡居民大病医疗保险";
        OtherSpecial = "399", "其他特殊人员医疗保障";
        LongTermCare = "410", "长期照护保险";
        Maternity = "510", "生育保险";
    }
}

impl InsuranceType {
    /// The basic scheme a person is enrolled in: employee (310) or resident (390/391/380).
    pub fn is_basic(self) -> bool {
        matches!(
            self,
            InsuranceType::EmployeeBasic
                | InsuranceType::ResidentBasic
                | InsuranceType::UrbanResidentBasic
                | InsuranceType::NewRuralCooperative
        )
    }
}

code_enum! {
    /// 收费项目等级 `chrgitm_lv`: 甲类 fully in scope, 乙类 in scope after a first self-pay, 丙类
    /// outside the list (fully self-paid). Clients send "01" or "1".
    ChargeClass, "收费项目等级" {
        A = "01", "甲类" | "1" | "甲";
        B = "02", "乙类" | "2" | "乙";
        C = "03", "丙类" | "3" | "丙" | "自费";
    }
}

code_enum! {
    /// 基金支付类型 `fund_pay_type`.
    FundPayType, "基金支付类型" {
        EmployeePooled = "310100", "城镇职工基本医疗保险统筹基金";
        EmployeeAccount = "310200", "城镇职工基本医疗保险个人账户基金";
        EmployeeMaternity = "310103", "职工生育基金";
        CivilServant = "320100", "公务员医疗补助基金";
        LargeExpense = "330100", "大额医疗费用补助基金";
        RetiredCadre = "340100", "离休人员医疗保障基金";
        DisabledVeteran = "350100", "一至六级残疾军人医疗补助基金";
        EnterpriseSupplementary = "370100", "企业补充医疗保险基金";
        ResidentPooled = "390100", "城乡居民基本医疗保险基金";
        ResidentCriticalIllness = "390200", "城乡居民大病医疗保险基金";
        Maternity = "510100", "生育基金";
        MedicalAssistance = "610100", "医疗救助基金";
        MedicalReassistance = "610102", "医疗再救助基金";
        PovertyHealth = "610103", "健康扶贫基金";
        TargetedPoverty = "610104", "精准脱贫基金";
        HospitalAdvance = "999996", "医院垫付基金";
        Other = "999997", "其他基金";
    }
}

/// Which `setlinfo` amount a fund's payment is reported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SettlementField {
    /// `hifp_pay` 基本医疗保险统筹基金支出 (maternity too: merged with employee insurance since 2019).
    PooledFund,
    /// `cvlserv_pay`.
    CivilServant,
    /// `hifes_pay`.
    EnterpriseSupplementary,
    /// `hifmi_pay`.
    CriticalIllness,
    /// `hifob_pay`.
    LargeExpense,
    /// `maf_pay`.
    MedicalAssistance,
    /// `hifdm_pay`.
    DisabledVeteran,
    /// `acct_pay`.
    PersonalAccount,
    /// `oth_pay`.
    Other,
}

impl FundPayType {
    pub fn settlement_field(self) -> SettlementField {
        use FundPayType::*;
        match self {
            EmployeePooled | ResidentPooled | EmployeeMaternity | Maternity => SettlementField::PooledFund,
            EmployeeAccount => SettlementField::PersonalAccount,
            CivilServant => SettlementField::CivilServant,
            LargeExpense => SettlementField::LargeExpense,
            EnterpriseSupplementary => SettlementField::EnterpriseSupplementary,
            ResidentCriticalIllness => SettlementField::CriticalIllness,
            MedicalAssistance | MedicalReassistance | PovertyHealth | TargetedPoverty => {
                SettlementField::MedicalAssistance
            }
            DisabledVeteran => SettlementField::DisabledVeteran,
            RetiredCadre | HospitalAdvance | Other => SettlementField::Other,
        }
    }
}

code_enum! {
    /// 性别 `gend`.
    Sex, "性别" {
        Male = "1", "男";
        Female = "2", "女";
    }
}

code_enum! {
    /// 特殊人群 (身份类别), the groups benefit tilts name.
    SpecialGroup, "特殊人群类别" {
        Destitute = "特困", "特困人员";
        Dibao = "低保", "低保对象";
        Orphan = "孤儿", "孤儿人员";
        ReturnedToPoverty = "返贫致贫", "返贫致贫人口";
        OutOfPoverty = "脱贫", "脱贫人口";
        DibaoEdge = "低保边缘", "低保边缘家庭成员";
        Monitored = "监测对象", "防止返贫监测对象";
        SevereDisability = "重度残疾", "重度残疾人";
        IllnessPoverty = "因病致贫", "因病致贫重病患者";
        RuralPoor = "农村贫困", "农村贫困人口";
    }
}

/// 人员类别 `psn_type`: the national code, e.g. 11 在职, 1201 退休职工, 151001 (a local 居民一档).
/// The first two digits are the category that benefit rules usually name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonType(u32);

/// The two-digit family of a person type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PersonCategory {
    InService,
    Retired,
    RetiredCadre,
    Minor,
    AdultResident,
    ElderlyResident,
}

impl PersonCategory {
    pub const ALL: &'static [PersonCategory] = &[
        PersonCategory::InService,
        PersonCategory::Retired,
        PersonCategory::RetiredCadre,
        PersonCategory::Minor,
        PersonCategory::AdultResident,
        PersonCategory::ElderlyResident,
    ];

    pub fn code(self) -> u32 {
        match self {
            PersonCategory::InService => 11,
            PersonCategory::Retired => 12,
            PersonCategory::RetiredCadre => 13,
            PersonCategory::Minor => 14,
            PersonCategory::AdultResident => 15,
            PersonCategory::ElderlyResident => 16,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            PersonCategory::InService => "在职",
            PersonCategory::Retired => "退休",
            PersonCategory::RetiredCadre => "离休",
            PersonCategory::Minor => "未成年",
            PersonCategory::AdultResident => "成年居民",
            PersonCategory::ElderlyResident => "老年居民",
        }
    }

    /// Employee categories (在职/退休/离休) versus resident ones.
    pub fn is_employee(self) -> bool {
        matches!(
            self,
            PersonCategory::InService | PersonCategory::Retired | PersonCategory::RetiredCadre
        )
    }

    fn from_code(code: u32) -> Option<PersonCategory> {
        PersonCategory::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Parses a category by its two-digit code or Chinese name ("12", "退休", "居民").
    pub fn parse(text: &str) -> Result<PersonCategory, CodeError> {
        let text = text.trim();
        let by_name = match text {
            "在职" | "在职职工" => Some(PersonCategory::InService),
            "退休" | "退休人员" => Some(PersonCategory::Retired),
            "离休" | "离休人员" => Some(PersonCategory::RetiredCadre),
            "未成年" | "少儿" | "学生" | "未成年人" => Some(PersonCategory::Minor),
            "成年居民" | "居民" | "居民(成年)" => Some(PersonCategory::AdultResident),
            "老年居民" | "老年" | "居民(老年)" => Some(PersonCategory::ElderlyResident),
            _ => None,
        };
        by_name
            .or_else(|| text.parse::<u32>().ok().and_then(PersonCategory::from_code))
            .ok_or_else(|| unknown("人员类别", text))
    }
}

impl PersonType {
    pub fn category(self) -> PersonCategory {
        let mut code = self.0;
        while code >= 100 {
            code /= 10;
        }
        PersonCategory::from_code(code).expect("validated at construction")
    }

    pub fn code(self) -> u32 {
        self.0
    }

    /// Parses a code of 2 to 6 digits whose first two digits are a national category.
    pub fn parse(text: &str) -> Result<PersonType, CodeError> {
        let text = text.trim();
        let valid_shape = (2..=6).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
        if !valid_shape {
            return PersonCategory::parse(text)
                .map(|c| PersonType(c.code()))
                .map_err(|_| unknown("人员类别", text));
        }
        let code: u32 = text.parse().map_err(|_| unknown("人员类别", text))?;
        let family: u32 = text[..2].parse().map_err(|_| unknown("人员类别", text))?;
        PersonCategory::from_code(family).ok_or_else(|| unknown("人员类别", text))?;
        Ok(PersonType(code))
    }

    pub fn from_category(category: PersonCategory) -> PersonType {
        PersonType(category.code())
    }
}

impl fmt::Display for PersonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for PersonType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PersonType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = deserialize_code_text(d)?;
        PersonType::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// How a medical type is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CareSetting {
    Outpatient,
    Inpatient,
    Pharmacy,
}

code_enum! {
    /// 医疗类别 `med_type`: the national core codes and the commonly seen extensions.
    MedicalType, "医疗类别" {
        GeneralOutpatient = "11", "普通门诊";
        OutpatientRegistration = "12", "门诊挂号";
        Emergency = "13", "急诊";
        ChronicOutpatient = "14", "门诊慢特病";
        SpecialDrug = "15", "特药" | "两病";
        TcmOutpatient = "16", "中医特色门诊";
        AccidentOutpatient = "19", "意外伤害门诊";
        GeneralInpatient = "21", "普通住院";
        InjuryInpatient = "22", "外伤住院";
        TransferredInpatient = "23", "转外诊治住院";
        EmergencyToInpatient = "24", "急诊转住院";
        OffsiteInpatient = "25", "异地住院";
        SingleDiseaseInpatient = "26", "单病种住院";
        DaySurgery = "28", "日间手术";
        DeductibleTreatment = "29", "起付线治疗";
        PharmacyPurchase = "41", "定点药店购药";
        MaternityOutpatient = "51", "生育门诊";
        MaternityInpatient = "52", "生育住院";
        FamilyPlanningSurgery = "53", "计划生育手术费";
        HomeBed = "71", "家庭病床";
    }
}

impl MedicalType {
    pub fn setting(self) -> CareSetting {
        use MedicalType::*;
        match self {
            GeneralInpatient
            | InjuryInpatient
            | TransferredInpatient
            | EmergencyToInpatient
            | OffsiteInpatient
            | SingleDiseaseInpatient
            | DaySurgery
            | MaternityInpatient
            | HomeBed => CareSetting::Inpatient,
            PharmacyPurchase => CareSetting::Pharmacy,
            _ => CareSetting::Outpatient,
        }
    }
}

/// 医院等级 as benefit rules use it: 一级 (and below, including unrated clinics), 二级, 三级.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HospitalLevel {
    Level1,
    Level2,
    Level3,
}

impl HospitalLevel {
    pub const ALL: &'static [HospitalLevel] = &[HospitalLevel::Level1, HospitalLevel::Level2, HospitalLevel::Level3];

    pub fn number(self) -> u8 {
        match self {
            HospitalLevel::Level1 => 1,
            HospitalLevel::Level2 => 2,
            HospitalLevel::Level3 => 3,
        }
    }

    pub fn from_number(n: i64) -> Option<HospitalLevel> {
        match n {
            1 => Some(HospitalLevel::Level1),
            2 => Some(HospitalLevel::Level2),
            3 => Some(HospitalLevel::Level3),
            _ => None,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            HospitalLevel::Level1 => "一级",
            HospitalLevel::Level2 => "二级",
            HospitalLevel::Level3 => "三级",
        }
    }

    /// Maps the 14 national grades (`hosp_lv` 01–14) to a level. 11 无等级 counts as 一级:
    /// unrated clinics are primary care in every published rule we have seen.
    pub fn from_hosp_lv(code: &str) -> Result<HospitalLevel, CodeError> {
        let n: u32 = code.trim().parse().map_err(|_| unknown("医院等级", code))?;
        match n {
            1..=4 | 12 => Ok(HospitalLevel::Level3),
            5..=7 | 13 => Ok(HospitalLevel::Level2),
            8..=11 | 14 => Ok(HospitalLevel::Level1),
            _ => Err(unknown("医院等级", code)),
        }
    }

    /// Parses "1"/"2"/"3", "一级"…, or a two-digit `hosp_lv` code ("02" 三级甲等).
    pub fn parse(text: &str) -> Result<HospitalLevel, CodeError> {
        let text = text.trim();
        match text {
            "1" | "一级" => Ok(HospitalLevel::Level1),
            "2" | "二级" => Ok(HospitalLevel::Level2),
            "3" | "三级" => Ok(HospitalLevel::Level3),
            _ if text.len() == 2 => HospitalLevel::from_hosp_lv(text),
            _ => Err(unknown("医院等级", text)),
        }
    }
}

impl fmt::Display for HospitalLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

impl serde::Serialize for HospitalLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> serde::Deserialize<'de> for HospitalLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = deserialize_code_text(d)?;
        HospitalLevel::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Resident contribution tier (一档/二档); employees have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Tier {
    One,
    Two,
}

impl Tier {
    pub fn number(self) -> u8 {
        match self {
            Tier::One => 1,
            Tier::Two => 2,
        }
    }
    pub fn from_number(n: i64) -> Option<Tier> {
        match n {
            1 => Some(Tier::One),
            2 => Some(Tier::Two),
            _ => None,
        }
    }
}

impl TryFrom<u8> for Tier {
    type Error = CodeError;
    fn try_from(n: u8) -> Result<Tier, CodeError> {
        Tier::from_number(i64::from(n)).ok_or_else(|| unknown("缴费档次", &n.to_string()))
    }
}

impl From<Tier> for u8 {
    fn from(t: Tier) -> u8 {
        t.number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_forms_parse_to_canonical_codes() {
        assert_eq!(ChargeClass::parse("1").unwrap(), ChargeClass::A);
        assert_eq!(ChargeClass::parse("02").unwrap(), ChargeClass::B);
        assert_eq!(ChargeClass::parse("丙类").unwrap().code(), "03");
        assert_eq!(InsuranceType::parse("390").unwrap(), InsuranceType::ResidentBasic);
        assert_eq!(MedicalType::parse("21").unwrap().setting(), CareSetting::Inpatient);
        assert_eq!(MedicalType::parse("41").unwrap().setting(), CareSetting::Pharmacy);
    }

    #[test]
    fn unknown_codes_name_the_dictionary() {
        let err = InsuranceType::parse("999").unwrap_err();
        assert_eq!(err.to_string(), "代码“999”不是有效的险种类型");
        assert!(MedicalType::parse("").is_err());
    }

    #[test]
    fn person_types_carry_their_category() {
        assert_eq!(PersonType::parse("1201").unwrap().category(), PersonCategory::Retired);
        assert_eq!(
            PersonType::parse("151001").unwrap().category(),
            PersonCategory::AdultResident
        );
        assert_eq!(PersonType::parse("退休").unwrap().category(), PersonCategory::Retired);
        assert!(PersonType::parse("1701").is_err());
        assert!(PersonType::parse("1").is_err());
    }

    #[test]
    fn hospital_grades_map_to_levels() {
        assert_eq!(HospitalLevel::parse("02").unwrap(), HospitalLevel::Level3);
        assert_eq!(HospitalLevel::parse("06").unwrap(), HospitalLevel::Level2);
        assert_eq!(HospitalLevel::parse("11").unwrap(), HospitalLevel::Level1);
        assert_eq!(HospitalLevel::parse("二级").unwrap(), HospitalLevel::Level2);
        assert!(HospitalLevel::parse("15").is_err());
    }

    #[test]
    fn every_fund_reports_in_one_settlement_field() {
        assert_eq!(
            FundPayType::ResidentCriticalIllness.settlement_field(),
            SettlementField::CriticalIllness
        );
        assert_eq!(
            FundPayType::MedicalReassistance.settlement_field(),
            SettlementField::MedicalAssistance
        );
        for fund in FundPayType::ALL {
            let _ = fund.settlement_field();
        }
    }
}
