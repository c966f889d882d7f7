//! The demo region's data, generated deterministically so that every clone of the repo sees the
//! same catalog, institutions and people. Nothing here is random at run time: a fixed-seed
//! generator (SplitMix64) drives every choice.

mod enrolment;
mod people;

pub use enrolment::{
    demo_employer, demo_enrolment_row, DemoEmployer, DemoEnrolmentRow, DEMO_EMPLOYERS, DEMO_ENROLMENT_PERSONS_MAX,
};
pub use people::{
    demo_institutions, demo_person, demo_persons, DemoInstitution, DemoPerson, DEMO_ADMDVS, DEMO_INSTITUTIONS,
    DEMO_PERSONS,
};

use yibao_catalog::{Catalog, CatalogItem, Restriction};
use yibao_codes::{ChargeClass, HospitalLevel, InsuranceType, ItemCode, Sex};
use yibao_money::{Price, Ratio};

/// Items in the demo catalog.
pub const DEMO_CATALOG_ITEMS: usize = 2_400;

/// SplitMix64: tiny, fast and fully deterministic.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Drug name stems with their ATC-like class segment, and whether the item is usually 乙类.
const DRUGS: &[(&str, &str, bool)] = &[
    ("阿莫西林", "J01CA", false),
    ("头孢呋辛", "J01DC", true),
    ("左氧氟沙星", "J01MA", true),
    ("阿奇霉素", "J01FA", false),
    ("奥美拉唑", "A02BC", false),
    ("雷贝拉唑", "A02BC", true),
    ("二甲双胍", "A10BA", false),
    ("格列美脲", "A10BB", false),
    ("胰岛素", "A10AB", true),
    ("阿托伐他汀", "C10AA", false),
    ("瑞舒伐他汀", "C10AA", true),
    ("氨氯地平", "C08CA", false),
    ("缬沙坦", "C09CA", false),
    ("厄贝沙坦", "C09CA", true),
    ("美托洛尔", "C07AB", false),
    ("氯吡格雷", "B01AC", true),
    ("阿司匹林", "B01AC", false),
    ("右旋糖酐铁", "B03AC", true),
    ("布洛芬", "M01AE", false),
    ("对乙酰氨基酚", "N02BE", false),
    ("氯化钠", "B05XA", false),
    ("葡萄糖", "B05BA", false),
    ("地塞米松", "H02AB", false),
    ("甲钴胺", "B03BA", true),
    ("丹参", "C01EB", true),
    ("银杏叶", "N06DX", true),
    ("复方甘草", "R05CA", false),
    ("氨溴索", "R05CB", true),
    ("孟鲁司特", "R03DC", true),
    ("沙丁胺醇", "R03AC", false),
];
const FORMS: &[(&str, char)] = &[
    ("片", 'A'),
    ("胶囊", 'B'),
    ("注射液", 'B'),
    ("颗粒", 'A'),
    ("缓释片", 'A'),
    ("口服液", 'A'),
];
const SERVICES: &[(&str, u32)] = &[
    ("普通门诊诊查费", 10),
    ("副主任医师诊查费", 25),
    ("主任医师诊查费", 35),
    ("床位费(三人间)", 45),
    ("一级护理", 30),
    ("二级护理", 20),
    ("静脉输液", 8),
    ("肌肉注射", 3),
    ("血常规", 20),
    ("尿常规", 10),
    ("肝功能", 60),
    ("肾功能", 40),
    ("血糖测定", 8),
    ("心电图", 25),
    ("胸部X线摄影", 70),
    ("CT平扫", 240),
    ("磁共振平扫", 600),
    ("彩色多普勒超声", 150),
    ("导尿", 15),
    ("牵引", 20),
    ("换药", 18),
    ("清创缝合", 120),
    ("阑尾切除术", 1200),
    ("腹腔镜胆囊切除术", 2800),
    ("血液透析", 420),
];
const CONSUMABLES: &[(&str, u32, bool)] = &[
    ("一次性输液器", 3, false),
    ("医用纱布", 2, false),
    ("导尿管", 15, false),
    ("留置针", 25, true),
    ("冠脉支架", 6800, true),
    ("人工晶体", 3200, true),
    ("骨科内固定钢板", 4200, true),
    ("植入式心脏起搏器", 28000, true),
    ("医用冷敷贴(自费)", 30, false),
];

/// A demo catalog item with the price demo hospitals charge for it.
#[derive(Clone, Debug)]
pub struct DemoItem {
    pub item: CatalogItem,
    pub price: Price,
}

/// The demo region's catalog.
pub fn demo_catalog() -> Catalog {
    let mut catalog = Catalog::new();
    for demo in demo_items().into_iter().chain(supervised_items()) {
        catalog.insert(demo.item);
    }
    catalog
}

/// Real national codes that the 两库 knowledge points name, in the demo catalog so that the
/// demo region's supervision rules have something to find: (code, name, price in fen, with the
/// price as its listed price cap, for the same-incision discount rule).
const SUPERVISED: &[(&str, &str, u64, bool)] = &[
    ("ZD03AAA0043010100166", "艾附暖宫丸", 6_400, false),
    ("ZA04CAE0023010100166", "儿童清肺口服液", 3_000, false),
    ("002101030280000", "阴茎海绵体造影", 30_000, false),
    ("ZH01AAB0066010100716", "疤痕止痒软化膏", 2_550, false),
    ("XB05BAU005B002010101415", "ω-3鱼油脂肪乳注射液", 12_000, false),
    ("ZA05CAC0029010102312", "参附注射液", 4_500, false),
    ("XB01AXA223B002010100156", "奥扎格雷钠注射液", 2_000, false),
    ("001102000050000", "住院诊查费", 1_200, false),
    ("001103000010000", "急诊监护费", 6_000, false),
    ("001102000030000", "急诊诊查费", 1_500, false),
    ("003310010140000", "食管癌根治+结肠代食管术", 500_000, true),
    ("003310010160000", "食管胃吻合口狭窄切开成形术", 200_000, true),
    ("002503020030000", "糖化血红蛋白测定", 5_000, false),
];

/// The demo catalog's items that the 两库 name (甲类, no catalog restriction: the supervision
/// rules, not the catalog, decide what is refused).
pub fn supervised_items() -> Vec<DemoItem> {
    SUPERVISED
        .iter()
        .map(|&(code, name, price_fen, listed)| {
            let price = Price::from_millionths(price_fen as i64 * 10_000);
            DemoItem {
                item: CatalogItem {
                    code: ItemCode::parse(code).expect("two-library codes follow the national formats"),
                    name: name.to_owned(),
                    class: ChargeClass::A,
                    first_self_pay: Ratio::ZERO,
                    first_self_pay_by_insurance: Vec::new(),
                    price_cap: listed.then_some(price),
                    restriction: Restriction::default(),
                },
                price,
            }
        })
        .collect()
}

/// The demo catalog's items in a fixed order: drugs, service items and consumables in national
/// code formats, about 20% 乙类 and 5% 丙类, a few with price caps and payment restrictions.
pub fn demo_items() -> Vec<DemoItem> {
    let mut items = Vec::with_capacity(DEMO_CATALOG_ITEMS);
    let mut rng = SplitMix64::new(0x5942_4130); // "YBA0"
    let mut n: u64 = 0;
    while items.len() < DEMO_CATALOG_ITEMS {
        n += 1;
        let kind = n % 4;
        let item = match kind {
            0 | 1 => {
                let (stem, class_code, usually_b) = *rng.pick(DRUGS);
                let (form, form_letter) = *rng.pick(FORMS);
                let name_code = format!("{}{:03}", (b'A' + (n % 26) as u8) as char, n % 1000);
                // X + 5-char class + 4-char name code + dosage letter + 12 digits = 23.
                let code = format!("X{class_code}{name_code}{form_letter}{:012}", n);
                let class = class_for(&mut rng, usually_b);
                let price_fen = 50 + rng.below(30_000);
                item(
                    &code,
                    &format!("{stem}{form}(规格{})", n % 7 + 1),
                    class,
                    price_fen,
                    &mut rng,
                )
            }
            2 => {
                let (name, base_yuan) = *rng.pick(SERVICES);
                let code = format!("{:015}", 1_000_000_000_000 + n);
                let price_fen = u64::from(base_yuan) * 100 + rng.below(100) * 10;
                let class = if rng.below(20) == 0 {
                    ChargeClass::B
                } else {
                    ChargeClass::A
                };
                item(&code, &format!("{name}(项目{})", n % 97), class, price_fen, &mut rng)
            }
            _ => {
                let (name, base_yuan, usually_b) = *rng.pick(CONSUMABLES);
                // C + 26 digits = 27.
                let code = format!("C{:026}", 10_000_000_000 + n);
                let class = if name.contains("自费") {
                    ChargeClass::C
                } else {
                    class_for(&mut rng, usually_b)
                };
                let price_fen = u64::from(base_yuan) * 100 + rng.below(100) * 100;
                item(
                    &code,
                    &format!("{name}(型号{})", n % 13 + 1),
                    class,
                    price_fen,
                    &mut rng,
                )
            }
        };
        items.push(item);
    }
    items
}

fn class_for(rng: &mut SplitMix64, usually_b: bool) -> ChargeClass {
    match rng.below(100) {
        0..=4 => ChargeClass::C,
        x if usually_b && x < 80 => ChargeClass::B,
        5..=14 => ChargeClass::B,
        _ => ChargeClass::A,
    }
}

fn item(code: &str, name: &str, class: ChargeClass, price_fen: u64, rng: &mut SplitMix64) -> DemoItem {
    let code = ItemCode::parse(code).expect("demo codes follow the national formats");
    let first_self_pay = if class == ChargeClass::B {
        Ratio::percent(*rng.pick(&[5, 10, 10, 15, 20]))
    } else {
        Ratio::ZERO
    };
    let price = Price::from_millionths(price_fen as i64 * 10_000);
    // One item in 25 has a price cap 10% under its usual price: over-cap amounts show up.
    let price_cap = (rng.below(25) == 0).then(|| Price::from_millionths(price.millionths() * 9 / 10));
    let mut restriction = Restriction::default();
    match rng.below(40) {
        0 => restriction.inpatient_only = true,
        1 => restriction.level_min = Some(HospitalLevel::Level2),
        2 => restriction.days_max = Some(14),
        3 => restriction.age_years_max = Some(17),
        4 => restriction.sex = Some(Sex::Female),
        5 => restriction.insurance_types = vec![InsuranceType::EmployeeBasic],
        _ => {}
    }
    DemoItem {
        item: CatalogItem {
            code,
            name: name.to_owned(),
            class,
            first_self_pay,
            first_self_pay_by_insurance: Vec::new(),
            price_cap,
            restriction,
        },
        price,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_is_deterministic_and_varied() {
        let a = demo_catalog();
        let b = demo_catalog();
        assert_eq!(a.len(), DEMO_CATALOG_ITEMS + supervised_items().len());
        let mut codes_a: Vec<_> = a.iter().map(|i| i.code.to_string()).collect();
        let mut codes_b: Vec<_> = b.iter().map(|i| i.code.to_string()).collect();
        codes_a.sort();
        codes_b.sort();
        assert_eq!(codes_a, codes_b);
        let count = |c| a.iter().filter(|i| i.class == c).count();
        assert!(count(ChargeClass::B) > DEMO_CATALOG_ITEMS / 10);
        assert!(count(ChargeClass::C) > 20);
        assert!(a.iter().any(|i| i.price_cap.is_some()));
        assert!(a.iter().any(|i| i.restriction.inpatient_only));
    }
}
