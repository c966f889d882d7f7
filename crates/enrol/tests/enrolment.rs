//! Relationships: duplicate-enrolment refusals, status history, supplementary schemes,
//! transfers between regions, arrears suspension, and the registry around the pure operations.

mod common;

use common::*;
use yibao_codes::{InsuranceType, SpecialGroup, Tier};
use yibao_enrol::*;
use yibao_money::Money;

const EMPLOYEE: InsuranceType = InsuranceType::EmployeeBasic;
const RESIDENT: InsuranceType = InsuranceType::ResidentBasic;

/// name, existing records, attempted enrolment, policy → conflicting (relationship, insurance, region, status)
type DuplicateCase<'a> = (
    &'static str,
    &'a PersonRecords,
    Enrolment,
    &'a ContributionPolicy,
    (u32, InsuranceType, &'static str, Status),
);

fn employee_records() -> PersonRecords {
    enrol(
        &person("19850615"),
        employee_enrolment("500000", "2024-01-01"),
        &chongqing(),
    )
}

fn refusal(records: &PersonRecords, command: Command, policy: &ContributionPolicy) -> EnrolError {
    apply(records, &command, policy).unwrap_err()
}

#[test]
fn duplicate_enrolment_is_refused_naming_the_record() {
    let cq = chongqing();
    let gx = guangxi();
    let resident_2024 = enrol(&person("19850615"), resident_enrolment("2023-12-01"), &cq);
    let mut suspended = employee_records();
    suspended = apply(
        &suspended,
        &Command::Suspend {
            relationship: 1,
            on: date("2024-03-01"),
            reason: "单位停缴".into(),
        },
        &cq,
    )
    .unwrap()
    .records;

    // existing records, attempted enrolment, policy → conflicting (relationship, insurance, region, status)
    let cases: [DuplicateCase; 5] = [
        (
            "employee, then resident in the same region",
            &employee_records(),
            resident_enrolment("2024-01-10"),
            &cq,
            (1, EMPLOYEE, "500000", Status::Enrolled),
        ),
        (
            "employee in two regions at once",
            &employee_records(),
            Enrolment {
                employer: None,
                kind: PersonKind::Flexible,
                ..employee_enrolment("450100", "2024-06-01")
            },
            &gx,
            (1, EMPLOYEE, "500000", Status::Enrolled),
        ),
        (
            "resident, then employee in the paid year",
            &resident_2024,
            employee_enrolment("500000", "2024-06-01"),
            &cq,
            (1, RESIDENT, "500000", Status::Enrolled),
        ),
        (
            "resident twice for the same year",
            &resident_2024,
            resident_enrolment("2024-02-01"),
            &cq,
            (1, RESIDENT, "500000", Status::Enrolled),
        ),
        (
            "a suspended employee relationship blocks a second employee one",
            &suspended,
            Enrolment {
                employer: None,
                kind: PersonKind::Flexible,
                ..employee_enrolment("500000", "2024-04-01")
            },
            &cq,
            (1, EMPLOYEE, "500000", Status::Suspended),
        ),
    ];
    for (name, records, enrolment, policy, (no, insurance, region_code, status)) in cases {
        let requested = enrolment.insurance;
        let err = refusal(records, Command::Enrol(enrolment), policy);
        let EnrolError::Duplicate {
            conflict,
            requested: got,
            citizen,
            ..
        } = &err
        else {
            panic!("{name}: {err}");
        };
        assert_eq!(
            (
                conflict.relationship,
                conflict.insurance,
                conflict.region.as_str(),
                conflict.status
            ),
            (no, insurance, region_code, status),
            "{name}"
        );
        assert_eq!(*got, requested);
        assert_eq!(citizen, &records.person.id.masked());
        assert!(err.to_string().starts_with("重复参保:500103********"), "{name}: {err}");
        assert!(err.to_string().contains(&format!("参保关系{no}:")), "{name}: {err}");
    }

    let err = refusal(
        &employee_records(),
        Command::Enrol(resident_enrolment("2024-01-10")),
        &cq,
    );
    assert_eq!(
        err.to_string(),
        format!(
            "重复参保:{}已有参保关系1:2024-01-01在500000参加职工基本医疗保险(参保缴费至今),不能再自2024-01-01起在500000参加城乡居民基本医疗保险",
            employee_records().person.id.masked()
        )
    );
}

#[test]
fn a_suspended_employee_may_join_resident_insurance() {
    let cq = chongqing();
    let suspended = apply(
        &employee_records(),
        &Command::Suspend {
            relationship: 1,
            on: date("2024-03-01"),
            reason: "失业".into(),
        },
        &cq,
    )
    .unwrap()
    .records;
    let both = enrol(&suspended, resident_enrolment("2024-03-10"), &cq);
    let resident = coverage_on(&both, RESIDENT, date("2024-03-15")).unwrap();
    assert_eq!(
        resident.benefits_from,
        date("2024-03-01"),
        "left employee insurance within 3 months"
    );
    // Resuming the employee relationship now would overlap the paid resident year.
    let err = refusal(
        &both,
        Command::Resume {
            relationship: 1,
            on: date("2024-06-01"),
        },
        &cq,
    );
    assert!(
        matches!(err, EnrolError::Duplicate { ref conflict, .. } if conflict.insurance == RESIDENT),
        "{err}"
    );
}

#[test]
fn status_history_and_coverage_by_date() {
    let cq = chongqing();
    let mut records = employee_records();
    for command in [
        Command::Suspend {
            relationship: 1,
            on: date("2024-03-01"),
            reason: "单位欠费".into(),
        },
        Command::Resume {
            relationship: 1,
            on: date("2024-05-01"),
        },
        Command::Terminate {
            relationship: 1,
            on: date("2024-09-01"),
            reason: "离职".into(),
        },
    ] {
        records = apply(&records, &command, &cq).unwrap().records;
    }
    let history: Vec<_> = records.relationships[0]
        .history
        .iter()
        .map(|p| (p.status, p.from.to_string(), p.to.map(|d| d.to_string())))
        .collect();
    assert_eq!(
        history,
        vec![
            (Status::Enrolled, "2024-01-01".into(), Some("2024-02-29".into())),
            (Status::Suspended, "2024-03-01".into(), Some("2024-04-30".into())),
            (Status::Enrolled, "2024-05-01".into(), Some("2024-08-31".into())),
            (Status::Terminated, "2024-09-01".into(), None),
        ]
    );
    // date → covered, or the reason
    let cases = [
        ("2023-12-31", Err("职工基本医疗保险自2024-01-01起参保,就诊日尚未参保")),
        ("2024-01-01", Ok(())),
        ("2024-02-29", Ok(())),
        ("2024-03-01", Err("职工基本医疗保险自2024-03-01起暂停参保(单位欠费)")),
        ("2024-05-01", Ok(())),
        ("2024-09-01", Err("职工基本医疗保险自2024-09-01起终止参保(离职)")),
    ];
    for (day, want) in cases {
        let got = coverage_on(&records, EMPLOYEE, date(day))
            .map(|_| ())
            .map_err(|e| e.message_zh());
        assert_eq!(got, want.map_err(str::to_owned), "{day}");
    }
    // Nothing can be done to a terminated relationship.
    let err = refusal(
        &records,
        Command::Resume {
            relationship: 1,
            on: date("2024-10-01"),
        },
        &cq,
    );
    assert_eq!(err.to_string(), "参保关系1在2024-10-01的状态为终止参保,不能恢复参保");
    let err = refusal(
        &records,
        Command::Suspend {
            relationship: 9,
            on: date("2024-10-01"),
            reason: String::new(),
        },
        &cq,
    );
    assert_eq!(err.to_string(), "没有编号为9的参保关系");
}

#[test]
fn supplementary_schemes_follow_their_basic_scheme() {
    let cq = chongqing();
    let large_expense = |on: &str| Enrolment {
        insurance: InsuranceType::LargeExpenseSubsidy,
        ..employee_enrolment("500000", on)
    };
    let err = refusal(&person("19850615"), Command::Enrol(large_expense("2024-01-01")), &cq);
    assert_eq!(
        err.to_string(),
        "参加大额医疗费用补助须先在500000参加职工基本医疗保险并处于参保缴费状态"
    );
    let records = enrol(&employee_records(), large_expense("2024-02-01"), &cq);
    assert!(coverage_on(&records, InsuranceType::LargeExpenseSubsidy, date("2024-02-01")).is_ok());
    let err = refusal(&records, Command::Enrol(large_expense("2024-03-01")), &cq);
    assert!(
        matches!(err, EnrolError::Duplicate { ref conflict, .. } if conflict.relationship == 2),
        "{err}"
    );

    let suspended = apply(
        &records,
        &Command::Suspend {
            relationship: 1,
            on: date("2024-04-01"),
            reason: "欠费".into(),
        },
        &cq,
    )
    .unwrap()
    .records;
    let err = coverage_on(&suspended, InsuranceType::LargeExpenseSubsidy, date("2024-04-02")).unwrap_err();
    assert_eq!(
        err.message_zh(),
        "大额医疗费用补助依附的基本医保不在保:职工基本医疗保险自2024-04-01起暂停参保(欠费)"
    );

    let ended = apply(
        &records,
        &Command::Terminate {
            relationship: 1,
            on: date("2024-06-01"),
            reason: "离职".into(),
        },
        &cq,
    )
    .unwrap();
    assert_eq!(ended.events.len(), 2, "the basic and the dependent scheme end together");
    assert!(ended.records.relationships.iter().all(Relationship::is_terminated));
}

#[test]
fn resident_critical_illness_follows_the_resident_wait() {
    let cq = chongqing();
    let critical = |on: &str| Enrolment {
        insurance: InsuranceType::ResidentCriticalIllness,
        ..resident_enrolment(on)
    };
    let err = refusal(&person("19900101"), Command::Enrol(critical("2024-04-15")), &cq);
    assert_eq!(
        err.to_string(),
        "参加城乡居民大病医疗保险须先在500000参加城乡居民基本医疗保险并处于参保缴费状态"
    );
    let records = enrol(&person("19900101"), resident_enrolment("2024-04-15"), &cq);
    let records = enrol(&records, critical("2024-04-15"), &cq);
    let rel = records.relationship(2).unwrap();
    assert_eq!(rel.history[0].to, Some(date("2024-12-31")));
    // The basic scheme waits 3 months; so does the critical-illness layer.
    let err = coverage_on(&records, InsuranceType::ResidentCriticalIllness, date("2024-06-30")).unwrap_err();
    assert!(matches!(err, NotCovered::InWaitingPeriod { .. }), "{err}");
    assert!(coverage_on(&records, InsuranceType::ResidentCriticalIllness, date("2024-07-01")).is_ok());
    // Civil-servant subsidy on top of employee insurance.
    let civil = Enrolment {
        insurance: InsuranceType::CivilServantSubsidy,
        ..employee_enrolment("500000", "2024-03-01")
    };
    let records = enrol(&employee_records(), civil, &cq);
    assert!(coverage_on(&records, InsuranceType::CivilServantSubsidy, date("2024-03-01")).is_ok());
}

#[test]
fn who_may_enrol_in_what() {
    let cq = chongqing();
    let records = person("19850615");
    let cases = [
        (
            Enrolment {
                kind: PersonKind::Student,
                ..employee_enrolment("500000", "2024-01-01")
            },
            "学生不能参加职工基本医疗保险",
        ),
        (
            Enrolment {
                employer: None,
                ..employee_enrolment("500000", "2024-01-01")
            },
            "在职职工参保须填写参保单位",
        ),
        (
            Enrolment {
                kind: PersonKind::InService,
                ..resident_enrolment("2024-01-01")
            },
            "在职职工不能参加城乡居民基本医疗保险",
        ),
        (
            Enrolment {
                tier: None,
                ..resident_enrolment("2024-01-01")
            },
            "居民医保参保须选择缴费档次,且该档次须适用于成年居民",
        ),
        (
            Enrolment {
                county_class: Some("nowhere".into()),
                ..resident_enrolment("2024-01-01")
            },
            "居民医保参保须填写财政补助分担类别(如脱贫县)",
        ),
        (
            Enrolment {
                tier: Some(Tier::Two),
                kind: PersonKind::Student,
                ..resident_enrolment("2024-01-01")
            },
            "居民医保参保须选择缴费档次,且该档次须适用于学生",
        ),
        (
            employee_enrolment("450100", "2024-01-01"),
            "筹资政策500000/2024.1不适用于医保区划450100",
        ),
        (
            employee_enrolment("500000", "1980-01-01"),
            "日期1980-01-01早于出生日期1985-06-15",
        ),
        (
            Enrolment {
                insurance: InsuranceType::LongTermCare,
                ..employee_enrolment("500000", "2024-01-01")
            },
            "不能办理长期照护保险的参保",
        ),
    ];
    for (enrolment, message) in cases {
        assert_eq!(refusal(&records, Command::Enrol(enrolment), &cq).to_string(), message);
    }
}

#[test]
fn resident_renewal_continues_the_relationship() {
    let cq = chongqing();
    let mut records = person("19850615");
    past_relationship(&mut records, RESIDENT, "500000", "2023-01-01", Some("2023-12-31"));
    let renewed = enrol(&records, resident_enrolment("2023-11-20"), &cq);
    assert_eq!(renewed.relationships.len(), 1);
    assert_eq!(renewed.relationships[0].history.len(), 2);
    assert_eq!(renewed.relationships[0].tier, Some(Tier::One));
}

#[test]
fn transfers_carry_contribution_months() {
    let cq = chongqing();
    let gx = guangxi();
    let mut records = employee_records();
    // Two years of history paid in Chongqing: 2022-01..2023-12 as one back-pay record is refused
    // (before enrolment), so pay 2024-01..2024-06 and carry in 18 months from an earlier transfer.
    records.relationships[0].carried_months = 18;
    let pay = ContributionRecord {
        relationship: 1,
        first_month: YearMonth { year: 2024, month: 1 },
        last_month: YearMonth { year: 2024, month: 6 },
        individual_amount: Money::from_yuan(960),
        employer_amount: Money::from_yuan(4320),
        paid_on: date("2024-06-15"),
        purpose: ContributionPurpose::Regular,
    };
    records = apply(&records, &Command::RecordContribution(pay), &cq).unwrap().records;
    assert_eq!(records.cumulative_months(1), 24);

    let transfer = TransferIn {
        from_relationship: 1,
        region: region("450100"),
        employer: None,
        kind: PersonKind::Flexible,
        on: date("2024-07-15"),
    };
    // Not yet transferred out: refused.
    let err = refusal(&records, Command::TransferIn(transfer.clone()), &gx);
    assert_eq!(err.to_string(), "参保关系1未转出至450100,不能转入");

    let out = Command::TransferOut {
        relationship: 1,
        on: date("2024-07-01"),
        to_region: region("450100"),
    };
    let applied = apply(&records, &out, &cq).unwrap();
    assert_eq!(
        applied.events.last().unwrap().message,
        "参保关系转出至450100,累计缴费24个月"
    );
    records = applied.records;
    let err = coverage_on(&records, EMPLOYEE, date("2024-07-05")).unwrap_err();
    assert_eq!(err.message_zh(), "职工基本医疗保险参保关系已转出至450100");

    let applied = apply(&records, &Command::TransferIn(transfer.clone()), &gx).unwrap();
    assert_eq!(applied.events[0].message, "自500000转入,累计缴费24个月接续计算");
    records = applied.records;
    let moved = records.relationship(2).unwrap();
    assert_eq!(moved.region, region("450100"));
    assert_eq!(moved.carried_months, 24);
    assert_eq!(records.cumulative_months(2), 24);
    let covered = coverage_on(&records, EMPLOYEE, date("2024-07-20")).unwrap();
    assert_eq!((covered.relationship, covered.region.as_str()), (2, "450100"));
    // The old history stays.
    assert_eq!(records.paid_months(1), 6);

    let err = refusal(&records, Command::TransferIn(transfer), &gx);
    assert_eq!(err.to_string(), "参保关系1已转入为参保关系2,不能再次转入");
    let err = refusal(
        &records,
        Command::TransferOut {
            relationship: 2,
            on: date("2024-08-01"),
            to_region: region("450100"),
        },
        &gx,
    );
    assert_eq!(err.to_string(), "转入地与转出地相同(450100)");
}

#[test]
fn a_late_resident_transfer_waits() {
    let cq = chongqing();
    let gx = guangxi();
    let mut records = person("19900101");
    past_relationship(&mut records, RESIDENT, "450100", "2022-01-01", Some("2022-12-31"));
    // Transferred out of Guangxi in March 2022, taken in by Chongqing only in 2024.
    records = apply(
        &records,
        &Command::TransferOut {
            relationship: 1,
            on: date("2022-03-01"),
            to_region: region("500000"),
        },
        &gx,
    )
    .unwrap()
    .records;
    let transfer = TransferIn {
        from_relationship: 1,
        region: region("500000"),
        employer: None,
        kind: PersonKind::AdultResident,
        on: date("2024-04-10"),
    };
    let records = apply(&records, &Command::TransferIn(transfer), &cq).unwrap().records;
    let period = &records.relationship(2).unwrap().history[0];
    let waiting = period.waiting.unwrap();
    // Lapsed 2023 (one year): 3 + 1 months.
    assert_eq!((waiting.branch, waiting.months), (WaitingBranch::FixedPlusLapse, 4));
}

#[test]
fn arrears_suspend_after_the_grace_months() {
    let cq = chongqing();
    let mut records = employee_records();
    let pay = ContributionRecord {
        relationship: 1,
        first_month: YearMonth { year: 2024, month: 1 },
        last_month: YearMonth { year: 2024, month: 1 },
        individual_amount: Money::from_yuan(160),
        employer_amount: Money::from_yuan(720),
        paid_on: date("2024-01-15"),
        purpose: ContributionPurpose::Regular,
    };
    records = apply(&records, &Command::RecordContribution(pay.clone()), &cq)
        .unwrap()
        .records;
    // month checked → suspension due
    let cases = [(2024, 2, false), (2024, 4, false), (2024, 5, true)];
    for (year, month, due) in cases {
        let commands = arrears_suspensions(&records, &cq, YearMonth { year, month });
        assert_eq!(!commands.is_empty(), due, "{year}-{month}");
    }
    let commands = arrears_suspensions(&records, &cq, YearMonth { year: 2024, month: 5 });
    assert_eq!(
        commands,
        vec![Command::Suspend {
            relationship: 1,
            on: date("2024-05-01"),
            reason: "连续欠缴3个月".into()
        }]
    );
    records = apply(&records, &commands[0], &cq).unwrap().records;
    assert!(
        coverage_on(&records, EMPLOYEE, date("2024-04-30")).is_ok(),
        "covered through the grace months"
    );
    assert!(matches!(
        coverage_on(&records, EMPLOYEE, date("2024-05-02")),
        Err(NotCovered::Suspended { .. })
    ));
    assert!(
        arrears_suspensions(&records, &cq, YearMonth { year: 2024, month: 6 }).is_empty(),
        "already suspended"
    );

    // Retirees pay nothing and are never suspended for it.
    let retiree = enrol(
        &person("19580101"),
        Enrolment {
            kind: PersonKind::Retired,
            ..employee_enrolment("500000", "2018-01-01")
        },
        &cq,
    );
    assert!(arrears_suspensions(&retiree, &cq, YearMonth { year: 2024, month: 5 }).is_empty());

    // The same month cannot be paid twice; nonsense records are refused.
    let err = refusal(&records, Command::RecordContribution(pay.clone()), &cq);
    assert_eq!(err.to_string(), "202401至202401的缴费与已有缴费重复");
    let backwards = ContributionRecord {
        first_month: YearMonth { year: 2024, month: 3 },
        last_month: YearMonth { year: 2024, month: 2 },
        ..pay.clone()
    };
    assert!(refusal(&records, Command::RecordContribution(backwards), &cq)
        .to_string()
        .contains("起止月份"));
    let negative = ContributionRecord {
        first_month: YearMonth { year: 2024, month: 2 },
        last_month: YearMonth { year: 2024, month: 2 },
        individual_amount: Money::from_yuan(-1),
        ..pay
    };
    assert!(refusal(&records, Command::RecordContribution(negative), &cq)
        .to_string()
        .contains("金额为负"));
}

#[test]
fn special_groups_have_dates() {
    let cq = chongqing();
    let join = Command::JoinGroup(GroupMembership {
        group: SpecialGroup::Dibao,
        from: date("2024-01-01"),
        to: None,
    });
    let records = apply(&person("19700101"), &join, &cq).unwrap().records;
    assert_eq!(records.groups_on(date("2024-02-01")), vec![SpecialGroup::Dibao]);
    assert_eq!(
        refusal(&records, join, &cq).to_string(),
        "特殊人群身份无效:与已有的同类身份时间重叠"
    );
    let leave = Command::LeaveGroup {
        group: SpecialGroup::Dibao,
        on: date("2024-07-01"),
    };
    let records = apply(&records, &leave, &cq).unwrap().records;
    assert_eq!(records.groups[0].to, Some(date("2024-06-30")));
    assert!(records.groups_on(date("2024-07-01")).is_empty());
}

#[test]
fn registry_checks_employers_and_changes_nothing_on_refusal() {
    let cq = chongqing();
    let mut registry = Registry::new();
    let records = person("19850615");
    let id = records.person.id;
    registry.register_person(records.person.clone()).unwrap();
    assert!(registry.register_person(records.person.clone()).is_err());
    let err = registry
        .enrol(&id, employee_enrolment("500000", "2024-01-01"), &cq)
        .unwrap_err();
    assert!(err.to_string().starts_with("未登记的参保单位"), "{err}");
    let code = chongqing_employer_code();
    registry
        .register_employer(Employer::new(&code, "重庆某某科技有限公司", "500103").unwrap())
        .unwrap();
    let err = registry
        .enrol(&id, employee_enrolment("500000", "2024-01-01"), &cq)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("参保单位{code}登记在500103,不能在500000为职工参保")
    );
    let events = registry
        .enrol(&id, employee_enrolment("500103", "2024-01-01"), &cq)
        .unwrap();
    assert_eq!(events[0].kind, EventKind::Enrolled);
    let before = registry.records(&id).unwrap().clone();
    let err = registry.enrol(&id, resident_enrolment("2024-01-10"), &cq).unwrap_err();
    assert!(matches!(err, RegistryError::Enrol(EnrolError::Duplicate { .. })));
    assert_eq!(registry.records(&id).unwrap(), &before);
    registry.suspend(&id, 1, date("2024-02-01"), "停缴", &cq).unwrap();
    registry.terminate(&id, 1, date("2024-03-01"), "离职", &cq).unwrap();
    assert!(registry.records(&id).unwrap().relationships[0].is_terminated());
}

#[test]
fn records_round_trip_through_json() {
    let cq = chongqing();
    let mut records = employee_records();
    records = enrol(
        &records,
        Enrolment {
            insurance: InsuranceType::Maternity,
            ..employee_enrolment("500000", "2024-02-01")
        },
        &cq,
    );
    let json = serde_json::to_string(&records).unwrap();
    let back: PersonRecords = serde_json::from_str(&json).unwrap();
    assert_eq!(back, records);
    assert!(json.contains("\"insurance\":\"510\""), "{json}");
    assert_eq!(back.person.sex, yibao_codes::Sex::Male);
    assert_eq!(back.person.birth_date, date("1985-06-15"));
}

fn bind(member: &str, on: &str) -> Command {
    Command::BindFamily {
        member: yibao_codes::CitizenId::parse(member).unwrap(),
        relation: FamilyRelation::Child,
        on: date(on),
    }
}

#[test]
fn family_bindings_follow_the_mutual_aid_rules() {
    let cq = chongqing();
    let owner = employee_records();
    let child = citizen_id("500112", "20150301", "123");
    let bound = apply(&owner, &bind(&child, "2024-02-01"), &cq).unwrap();
    assert_eq!(bound.events[0].kind, EventKind::FamilyBound);
    assert_eq!(bound.records.family_on(date("2024-02-01")).count(), 1);
    assert_eq!(bound.records.family_on(date("2024-01-31")).count(), 0);

    // Bound once only; the owner cannot bind themself; a resident has no account to share.
    let again = refusal(&bound.records, bind(&child, "2024-05-01"), &cq);
    assert!(matches!(again, EnrolError::FamilyAlreadyBound { .. }), "{again}");
    let own = owner.person.id.as_str().to_owned();
    assert_eq!(refusal(&owner, bind(&own, "2024-02-01"), &cq), EnrolError::FamilySelf);
    let resident = enrol(&person("19850615"), resident_enrolment("2023-12-01"), &cq);
    assert_eq!(
        refusal(&resident, bind(&child, "2024-02-01"), &cq).to_string(),
        "2024-02-01本人未在职工基本医疗保险参保,没有可用于家庭共济的个人账户"
    );
    // Before the employee relationship began there was no account either.
    assert!(matches!(
        refusal(&owner, bind(&child, "2023-12-01"), &cq),
        EnrolError::FamilyNoAccount { .. }
    ));

    // Unbinding ends the binding the day before; the member can then be bound again.
    let member = yibao_codes::CitizenId::parse(&child).unwrap();
    let unbound = apply(
        &bound.records,
        &Command::UnbindFamily {
            member,
            on: date("2024-06-01"),
        },
        &cq,
    )
    .unwrap();
    assert_eq!(unbound.records.family_on(date("2024-05-31")).count(), 1);
    assert_eq!(unbound.records.family_on(date("2024-06-01")).count(), 0);
    let unbind_again = refusal(
        &unbound.records,
        Command::UnbindFamily {
            member,
            on: date("2024-07-01"),
        },
        &cq,
    );
    assert!(
        matches!(unbind_again, EnrolError::FamilyNotBound { .. }),
        "{unbind_again}"
    );
    apply(&unbound.records, &bind(&child, "2024-07-01"), &cq).unwrap();

    // At most BOUND_MEMBERS_MAX members at once.
    let mut full = owner.clone();
    for n in 0..account::BOUND_MEMBERS_MAX {
        let member = citizen_id("500112", "20100101", &format!("{:03}", 100 + n));
        full = apply(&full, &bind(&member, "2024-02-01"), &cq).unwrap().records;
    }
    let over = citizen_id("500112", "20100101", "200");
    assert!(matches!(
        refusal(&full, bind(&over, "2024-02-01"), &cq),
        EnrolError::TooMany { .. }
    ));

    // The binding survives the stored document's round trip.
    let json = serde_json::to_string(&bound.records).unwrap();
    assert_eq!(serde_json::from_str::<PersonRecords>(&json).unwrap(), bound.records);
}
