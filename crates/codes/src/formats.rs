//! National code formats: citizen IDs and catalog item codes.

use std::fmt;

use chrono::NaiveDate;

use crate::{CodeError, Sex};

/// An 18-character citizen ID (居民身份证号码, GB 11643) with a valid check character.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId([u8; 18]);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS: &[u8; 11] = b"10X98765432";

impl CitizenId {
    pub fn parse(text: &str) -> Result<CitizenId, CodeError> {
        let text = text.trim();
        let fail = |rule| CodeError::Format {
            kind: "身份证号码",
            value: text.chars().take(40).collect(),
            rule,
        };
        let bytes = text.as_bytes();
        if bytes.len() != 18 {
            return Err(fail("应为18位"));
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(fail("前17位应为数字"));
        }
        let mut id = [0u8; 18];
        id.copy_from_slice(bytes);
        id[17] = id[17].to_ascii_uppercase();
        if id[17] != CitizenId::check_char(&id) {
            return Err(fail("校验位错误"));
        }
        let citizen = CitizenId(id);
        if citizen.birth_date().is_none() {
            return Err(fail("出生日期无效"));
        }
        Ok(citizen)
    }

    /// The check character for the first 17 digits (ISO 7064 MOD 11-2).
    pub fn check_char(id17: &[u8]) -> u8 {
        let sum: u32 = id17[..17]
            .iter()
            .zip(ID_WEIGHTS)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        ID_CHECK_CHARS[(sum % 11) as usize]
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii by construction")
    }

    /// The birth date in digits 7–14.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let digits = |range: std::ops::Range<usize>| self.as_str()[range].parse::<u32>().ok();
        let year = digits(6..10)? as i32;
        NaiveDate::from_ymd_opt(year, digits(10..12)?, digits(12..14)?)
            .filter(|date| year >= 1880 && *date <= NaiveDate::from_ymd_opt(2200, 1, 1).unwrap())
    }

    /// Odd 17th digit: male; even: female.
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The ID with the birth date and sequence hidden, for logs: `500103********123X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.as_str()[..6], &self.as_str()[14..])
    }
}

impl fmt::Debug for CitizenId {
    /// Debug output never prints a whole ID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a catalog code names, told by its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// 西药/中成药: 23 characters beginning X or Z.
    Drug,
    /// 医用耗材: 27 characters beginning C.
    Consumable,
    /// 医疗服务项目: 15 digits, optionally followed by "-" and a local price code.
    ServiceItem,
    /// 中药饮片: T + digits (national 中药饮片 codes).
    HerbalPiece,
}

impl ItemKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            ItemKind::Drug => "药品",
            ItemKind::Consumable => "医用耗材",
            ItemKind::ServiceItem => "医疗服务项目",
            ItemKind::HerbalPiece => "中药饮片",
        }
    }
}

/// A validated national catalog code (`med_list_codg`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ItemCode(Box<str>);

/// The longest code accepted: a 15-digit service code plus a local suffix.
pub const ITEM_CODE_LEN_MAX: usize = 50;

impl ItemCode {
    pub fn parse(text: &str) -> Result<ItemCode, CodeError> {
        let text = text.trim();
        ItemCode::kind_of(text)?;
        Ok(ItemCode(text.into()))
    }

    /// Tells the kind of a code from its shape, or says which rule it breaks.
    pub fn kind_of(text: &str) -> Result<ItemKind, CodeError> {
        let fail = |rule| CodeError::Format {
            kind: "医保目录编码",
            value: text.chars().take(40).collect(),
            rule,
        };
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Err(fail("不能为空"));
        }
        if bytes.len() > ITEM_CODE_LEN_MAX {
            return Err(fail("长度超过50位"));
        }
        let alnum = |s: &[u8]| s.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        match bytes[0] {
            // 西药 codes have 23 characters; 中成药 codes have 20 in the national 医保药品分类与
            // 代码 (the 两库 sheets list 8,281 of them), and 23 in some provincial catalogs.
            b'X' | b'Z' => {
                let len_ok = bytes.len() == 23 || (bytes[0] == b'Z' && bytes.len() == 20);
                if len_ok && alnum(bytes) {
                    Ok(ItemKind::Drug)
                } else {
                    Err(fail("药品编码应为X开头的23位或Z开头的20或23位大写字母数字"))
                }
            }
            b'C' => {
                if bytes.len() == 27 && alnum(bytes) {
                    Ok(ItemKind::Consumable)
                } else {
                    Err(fail("医用耗材编码应为C开头的27位大写字母数字"))
                }
            }
            b'T' => {
                if (10..=20).contains(&bytes.len()) && bytes[1..].iter().all(u8::is_ascii_digit) {
                    Ok(ItemKind::HerbalPiece)
                } else {
                    Err(fail("中药饮片编码应为T开头加数字"))
                }
            }
            b'0'..=b'9' => {
                let (head, tail) = match text.split_once('-') {
                    Some((head, tail)) => (head.as_bytes(), Some(tail.as_bytes())),
                    None => (bytes, None),
                };
                let head_ok = head.len() == 15 && head.iter().all(u8::is_ascii_digit);
                let tail_ok = tail.is_none_or(|t| !t.is_empty() && alnum(t));
                if head_ok && tail_ok {
                    Ok(ItemKind::ServiceItem)
                } else {
                    Err(fail("医疗服务项目编码应为15位数字(可加“-”与本地价格编码)"))
                }
            }
            _ => Err(fail("应以X、Z(药品)、C(耗材)、T(饮片)或数字(服务项目)开头")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ItemKind {
        ItemCode::kind_of(&self.0).expect("validated at construction")
    }
}

impl fmt::Display for ItemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn citizen_id_check_digit() {
        // GB 11643's published example.
        let id = CitizenId::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert!(CitizenId::parse("110105194912310021").is_err());
        assert!(CitizenId::parse("11010519491331002X").is_err(), "month 13");
        assert!(CitizenId::parse("1101051949123100").is_err());
        assert_eq!(
            CitizenId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn item_code_shapes() {
        assert_eq!(ItemCode::kind_of("XB03ACY199B002010104718").unwrap(), ItemKind::Drug);
        assert_eq!(
            ItemCode::kind_of("C02040205800005113250000023").unwrap(),
            ItemKind::Consumable
        );
        assert_eq!(ItemCode::kind_of("003401000230600").unwrap(), ItemKind::ServiceItem);
        assert_eq!(
            ItemCode::kind_of("003107020070000-32040000600").unwrap(),
            ItemKind::ServiceItem
        );
        assert!(ItemCode::kind_of("XB03ACY199B00201010471").is_err());
        assert!(ItemCode::kind_of("00340100023060").is_err());
        assert!(ItemCode::kind_of("003401000230600-").is_err());
        assert!(ItemCode::kind_of("hello").is_err());
    }

    proptest! {
        #[test]
        fn any_17_digits_with_their_check_char_validate(body in "[1-6][0-9]{5}(19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}") {
            let check = CitizenId::check_char(body.as_bytes()) as char;
            let id = format!("{body}{check}");
            prop_assert!(CitizenId::parse(&id).is_ok());
            // Any other check character fails.
            let wrong = if check == '0' { '1' } else { '0' };
            let wrong_id = format!("{body}{wrong}");
            prop_assert!(CitizenId::parse(&wrong_id).is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,60}") {
            let _ = CitizenId::parse(&text);
            let _ = ItemCode::parse(&text);
        }
    }
}
