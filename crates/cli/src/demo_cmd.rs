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
    /// Write demo enrolment files: employers (for `yibao enrol employers`) and people (for
    /// `yibao enrol import`), deterministic, at any scale.
    Enrolment {
        /// How many people.
        #[arg(long, default_value_t = 1000)]
        persons: usize,
        /// The first demo person's index (people below it are the ones `serve --demo` seeds).
        #[arg(long, default_value_t = yibao_demo::DEMO_PERSONS)]
        from: usize,
        /// Only people of this scheme (`310` or `390`), e.g. a million employees for the
        /// contribution run.
        #[arg(long)]
        only: Option<String>,
        #[arg(long)]
        employers_out: std::path::PathBuf,
        #[arg(long)]
        persons_out: std::path::PathBuf,
    },
}

pub fn run(command: &DemoCommand) -> Result<(), String> {
    let (persons, institutions, items) = match command {
        DemoCommand::List {
            persons,
            institutions,
            items,
        } => (persons, institutions, items),
        DemoCommand::Enrolment {
            persons,
            from,
            only,
            employers_out,
            persons_out,
        } => return enrolment_files(*persons, *from, only.as_deref(), employers_out, persons_out),
    };
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
    let text = serde_json::to_string_pretty(&out).map_err(|e| format!("无法输出JSON: {e}"))?;
    outln!("{text}");
    Ok(())
}

fn enrolment_files(
    persons: usize,
    from: usize,
    only: Option<&str>,
    employers_out: &std::path::Path,
    persons_out: &std::path::Path,
) -> Result<(), String> {
    use std::io::Write as _;
    if from.saturating_add(persons) > yibao_demo::DEMO_ENROLMENT_PERSONS_MAX {
        return Err(format!(
            "--from + --persons 不能超过{}",
            yibao_demo::DEMO_ENROLMENT_PERSONS_MAX
        ));
    }
    if only.is_some_and(|o| o != "310" && o != "390") {
        return Err("--only 应为310或390".into());
    }
    let err = |p: &std::path::Path, e: std::io::Error| format!("{}: {e}", p.display());
    let mut out = std::io::BufWriter::new(std::fs::File::create(employers_out).map_err(|e| err(employers_out, e))?);
    writeln!(out, "credit_code,name,registered_on").map_err(|e| err(employers_out, e))?;
    for i in 0..yibao_demo::DEMO_EMPLOYERS {
        let e = yibao_demo::demo_employer(i);
        writeln!(out, "{},{},2010-01-01", e.credit_code, e.name).map_err(|e| err(employers_out, e))?;
    }
    out.flush().map_err(|e| err(employers_out, e))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(persons_out).map_err(|e| err(persons_out, e))?);
    writeln!(out, "{}", crate::enrol_cmd::IMPORT_HEADER.join(",")).map_err(|e| err(persons_out, e))?;
    let mut written = 0;
    for i in from..yibao_demo::DEMO_ENROLMENT_PERSONS_MAX {
        if written == persons {
            break;
        }
        let r = yibao_demo::demo_enrolment_row(i);
        if only.is_some_and(|o| o != r.insurance.code()) {
            continue;
        }
        written += 1;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            r.certno,
            r.name,
            r.insurance.code(),
            r.kind,
            r.employer.unwrap_or_default(),
            r.wage_monthly.map(|w| w.to_string()).unwrap_or_default(),
            r.tier.map(|t| t.number().to_string()).unwrap_or_default(),
            r.county_class.unwrap_or_default(),
            r.applied_on
        )
        .map_err(|e| err(persons_out, e))?;
    }
    out.flush().map_err(|e| err(persons_out, e))?;
    outln!(
        "已写出 {} 个参保单位到 {}, {written} 名参保人到 {}",
        yibao_demo::DEMO_EMPLOYERS,
        employers_out.display(),
        persons_out.display()
    );
    Ok(())
}
