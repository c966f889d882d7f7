//! `yibao demo list`: the demo region's people, institutions and catalog items, as JSON.

use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum DemoCommand {
    /// Print demo persons, institutions (with their demo credentials) and catalog items.
    List {
        #[arg(long, default_value_t = 5)]
        persons: usize,
        #[arg(long, default_value_t = 5)]
        institutions: usize,
        #[arg(long, default_value_t = 20)]
        items: usize,
    },
}

pub fn run(command: &DemoCommand) -> Result<(), String> {
    let DemoCommand::List {
        persons,
        institutions,
        items,
    } = command;
    let persons: Vec<Value> = yibao_demo::demo_persons()
        .take(*persons)
        .map(|p| {
            json!({
                "psn_no": p.person_no,
                "certno": p.certno,
                "psn_name": p.name,
                "insutype": p.insurance.code(),
                "psn_type": p.person_type.to_string(),
                "birth_date": p.birth_date.to_string(),
                "tier": p.tier.map(|t| t.number()),
                "groups": p.groups.iter().map(|g| g.code()).collect::<Vec<_>>(),
                "chronic_diseases": p.chronic_diseases.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
                "account_balance": p.account_balance.to_string(),
            })
        })
        .collect();
    let institutions: Vec<Value> = yibao_demo::demo_institutions()
        .into_iter()
        .take(*institutions)
        .map(|i| {
            json!({
                "fixmedins_code": i.code,
                "fixmedins_name": i.name,
                "hosp_lv": i.hosp_lv,
                "admdvs": i.admdvs,
                "x_tif_paasid": i.paas_id,
                "x_tif_secret": i.secret,
            })
        })
        .collect();
    let items: Vec<Value> = yibao_demo::demo_items()
        .into_iter()
        .take(*items)
        .map(|d| {
            json!({
                "med_list_codg": d.item.code.as_str(),
                "name": d.item.name,
                "chrgitm_lv": d.item.class.code(),
                "selfpay_prop": d.item.first_self_pay.to_decimal().to_string(),
                "pric": d.price.to_string(),
            })
        })
        .collect();
    let out = json!({ "persons": persons, "institutions": institutions, "items": items });
    outln!("{}", serde_json::to_string_pretty(&out).expect("json"));
    Ok(())
}
