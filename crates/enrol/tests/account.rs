//! Personal accounts: credits, payments, family mutual aid, reversals; the balance never goes
//! negative and the history always explains it, under any sequence of operations.

mod common;

use common::*;
use proptest::prelude::*;
use yibao_codes::CitizenId;
use yibao_enrol::*;
use yibao_money::Money;

fn id(birth: &str, sequence: &str) -> CitizenId {
    CitizenId::parse(&citizen_id("500103", birth, sequence)).unwrap()
}

#[test]
fn credits_payments_and_mutual_aid() {
    let owner = id("19800101", "111");
    let spouse = id("19820202", "222");
    let stranger = id("19900303", "333");
    let mut account = PersonalAccount::new(owner);
    let on = date("2024-05-01");
    // operation → balance after, or the refusal
    account
        .credit(on, EntryKind::ContributionCredit, Money::from_yuan(160), "run-202405")
        .unwrap();
    assert_eq!(account.balance, Money::from_yuan(160));
    account
        .pay(on, &owner, Money::parse_yuan("35.50").unwrap(), "setl-1")
        .unwrap();
    assert_eq!(account.balance.to_string(), "124.50");

    let err = account.pay(on, &spouse, Money::from_yuan(10), "setl-2").unwrap_err();
    assert_eq!(err.to_string(), format!("{}未与本账户绑定家庭共济", spouse.masked()));
    account.bind(spouse, FamilyRelation::Spouse, on).unwrap();
    let entry = account.pay(on, &spouse, Money::from_yuan(100), "setl-3").unwrap();
    assert_eq!(entry.kind, EntryKind::MutualAidPayment { beneficiary: spouse });
    assert_eq!(entry.balance_after.to_string(), "24.50");

    let err = account.pay(on, &owner, Money::from_yuan(25), "setl-4").unwrap_err();
    assert_eq!(err.to_string(), "个人账户余额24.50元不足以支付25.00元");
    assert_eq!(
        account.balance.to_string(),
        "24.50",
        "a refused payment changes nothing"
    );

    assert!(account.pay(on, &stranger, Money::from_yuan(1), "x").is_err());
    assert_eq!(
        account.bind(owner, FamilyRelation::Spouse, on).unwrap_err(),
        AccountError::SelfBinding
    );
    assert!(
        account.bind(spouse, FamilyRelation::Spouse, on).is_err(),
        "already bound"
    );
    assert_eq!(
        account.pay(on, &owner, Money::ZERO, "x").unwrap_err(),
        AccountError::InvalidAmount
    );
    assert!(account
        .credit(on, EntryKind::Payment, Money::from_yuan(1), "x")
        .is_err());

    // Reversal of the mutual-aid payment restores it exactly, once.
    let entry = account.reverse(on, 3, "rev-3").unwrap();
    assert_eq!(entry.amount, Money::from_yuan(100));
    assert_eq!(account.balance.to_string(), "124.50");
    assert!(account.reverse(on, 3, "rev-3").is_err());

    // After unbinding, the spouse can no longer be paid for.
    account.unbind(&spouse, date("2024-06-01")).unwrap();
    assert!(account
        .pay(date("2024-06-01"), &spouse, Money::from_yuan(1), "x")
        .is_err());
    assert!(account
        .pay(date("2024-05-31"), &spouse, Money::from_yuan(1), "x")
        .is_ok());

    account
        .credit(on, EntryKind::RetireeCredit, Money::from_yuan(75), "run")
        .unwrap();
    assert!(account.history_is_consistent());
    let seqs: Vec<u64> = account.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let json = serde_json::to_string(&account).unwrap();
    assert_eq!(serde_json::from_str::<PersonalAccount>(&json).unwrap(), account);
}

#[test]
fn contribution_charges_credit_the_account() {
    let policy = chongqing();
    let month = YearMonth { year: 2024, month: 5 };
    let mut account = PersonalAccount::new(id("19800101", "111"));
    // kind, wage → entries, balance after
    let cases = [
        (EmployeeKind::InService, 8000, 1, "160.00"),
        (EmployeeKind::Retired, 0, 1, "235.00"),
        (EmployeeKind::Flexible, 6000, 1, "355.00"),
    ];
    for (kind, wage, entries, balance) in cases {
        let input = EmployeeContributionInput {
            person_no: 1,
            kind,
            wage_monthly: Money::from_yuan(wage),
        };
        let charge = employee_monthly(&policy, &input, month);
        assert_eq!(
            account
                .credit_charge(date("2024-05-31"), &charge, "run-202405")
                .unwrap(),
            entries
        );
        assert_eq!(account.balance.to_string(), balance, "{kind:?}");
    }
    assert_eq!(account.entries[1].kind, EntryKind::RetireeCredit);
}

#[test]
fn reversing_a_spent_credit_is_refused() {
    let owner = id("19800101", "111");
    let mut account = PersonalAccount::new(owner);
    let on = date("2024-05-01");
    account
        .credit(on, EntryKind::ContributionCredit, Money::from_yuan(100), "c")
        .unwrap();
    account.pay(on, &owner, Money::from_yuan(80), "p").unwrap();
    let err = account.reverse(on, 1, "r").unwrap_err();
    assert_eq!(err.to_string(), "个人账户余额20.00元不足以支付100.00元");
}

#[derive(Clone, Debug)]
enum Op {
    Credit(i64),
    PayOwner(i64),
    PayMember(usize, i64),
    Bind(usize),
    Unbind(usize),
    Reverse(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0i64..50_000).prop_map(Op::Credit),
        (-10i64..60_000).prop_map(Op::PayOwner),
        (0usize..3, 0i64..60_000).prop_map(|(m, a)| Op::PayMember(m, a)),
        (0usize..3).prop_map(Op::Bind),
        (0usize..3).prop_map(Op::Unbind),
        (0u64..40).prop_map(Op::Reverse),
    ]
}

proptest! {
    #[test]
    fn the_balance_never_goes_negative(ops in proptest::collection::vec(op(), 0..60)) {
        let owner = id("19800101", "111");
        let members = [id("19820202", "222"), id("20100505", "444"), id("19550606", "555")];
        let mut account = PersonalAccount::new(owner);
        let mut day = date("2024-01-01");
        for op in ops {
            day = day.succ_opt().unwrap();
            let before = account.clone();
            let result = match op {
                Op::Credit(fen) => account.credit(day, EntryKind::ContributionCredit, Money::from_fen(fen), "c").map(|_| ()),
                Op::PayOwner(fen) => account.pay(day, &owner, Money::from_fen(fen), "p").map(|_| ()),
                Op::PayMember(m, fen) => account.pay(day, &members[m], Money::from_fen(fen), "m").map(|_| ()),
                Op::Bind(m) => account.bind(members[m], FamilyRelation::Child, day),
                Op::Unbind(m) => account.unbind(&members[m], day),
                Op::Reverse(seq) => account.reverse(day, seq, "r").map(|_| ()),
            };
            if result.is_err() {
                prop_assert_eq!(&account, &before, "a refusal changes nothing");
            }
            prop_assert!(!account.balance.is_negative());
            prop_assert!(account.history_is_consistent());
        }
    }
}
