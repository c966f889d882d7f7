//! Personal accounts (个人账户) after the outpatient mutual-aid reform (门诊共济).
//!
//! An account is credited from contributions (in service: the individual contribution; retirees:
//! a fixed amount from the pooled fund) and pays the personal share of settlements, for its owner
//! or for a bound family member (家庭共济: spouse, parents, children). Every movement is an entry
//! with the balance after it, so the history explains the balance; a payment that would take the
//! balance below zero is refused, never truncated, so the settlement can fall back to cash.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yibao_codes::CitizenId;
use yibao_money::{Money, AMOUNT_FEN_MAX};

use crate::contribution::ContributionCharge;
use crate::ids::citizen_id_serde;

/// The most family members bound to one account.
pub const BOUND_MEMBERS_MAX: usize = 16;
/// The longest reference (settlement id, run id) kept with an entry, in characters.
pub const REFERENCE_CHARS_MAX: usize = 64;

/// Who a bound member is to the owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FamilyRelation {
    Spouse,
    Parent,
    Child,
    /// 其他近亲属, where the region allows it.
    NearRelative,
}

/// A family member bound for mutual aid (共济绑定), with its dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyBinding {
    #[serde(with = "citizen_id_serde")]
    pub member: CitizenId,
    pub relation: FamilyRelation,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl FamilyBinding {
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

/// Why money entered or left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum EntryKind {
    /// 在职划入: from the individual contribution.
    ContributionCredit,
    /// 退休定额划入: from the pooled fund.
    RetireeCredit,
    /// A carried-over balance brought in by a transfer.
    TransferIn,
    /// Paid the personal share of a settlement for the owner.
    Payment,
    /// Paid for a bound family member (共济支付).
    MutualAidPayment {
        #[serde(with = "citizen_id_serde")]
        beneficiary: CitizenId,
    },
    /// The exact inverse of an earlier entry (a reversed settlement).
    Reversal { of_seq: u64 },
}

/// One movement of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// 1, 2, 3… in order.
    pub seq: u64,
    pub on: NaiveDate,
    pub kind: EntryKind,
    /// Positive in, negative out.
    pub amount: Money,
    pub balance_after: Money,
    pub reference: String,
}

/// Why an account operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("个人账户余额{balance}元不足以支付{requested}元")]
    InsufficientBalance { balance: Money, requested: Money },
    #[error("金额必须大于0且不超过10¹²元")]
    InvalidAmount,
    #[error("{member}未与本账户绑定家庭共济")]
    NotBound { member: String },
    #[error("{member}已与本账户绑定")]
    AlreadyBound { member: String },
    #[error("本人无需绑定自己的账户")]
    SelfBinding,
    #[error("绑定的家庭成员超过{max}人")]
    TooManyMembers { max: usize },
    #[error("没有序号为{seq}的账户记录,或该记录不能冲正")]
    NotReversible { seq: u64 },
    #[error("参考号不超过64个字符")]
    ReferenceTooLong,
}

/// A personal account with its whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalAccount {
    #[serde(with = "citizen_id_serde")]
    pub owner: CitizenId,
    pub balance: Money,
    pub bindings: Vec<FamilyBinding>,
    pub entries: Vec<AccountEntry>,
}

impl PersonalAccount {
    pub fn new(owner: CitizenId) -> PersonalAccount {
        PersonalAccount {
            owner,
            balance: Money::ZERO,
            bindings: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Credits the account (contribution, retiree credit, transfer-in).
    pub fn credit(
        &mut self,
        on: NaiveDate,
        kind: EntryKind,
        amount: Money,
        reference: &str,
    ) -> Result<&AccountEntry, AccountError> {
        if matches!(
            kind,
            EntryKind::Payment | EntryKind::MutualAidPayment { .. } | EntryKind::Reversal { .. }
        ) {
            return Err(AccountError::InvalidAmount);
        }
        check_amount(amount)?;
        if self.balance.fen() + amount.fen() > AMOUNT_FEN_MAX {
            return Err(AccountError::InvalidAmount);
        }
        self.push(on, kind, amount, reference)
    }

    /// Credits what a month's contribution charge gives the account: the part of the
    /// contributions booked to it, and a retiree's fixed credit. Returns the entries made.
    pub fn credit_charge(
        &mut self,
        on: NaiveDate,
        charge: &ContributionCharge,
        reference: &str,
    ) -> Result<usize, AccountError> {
        let parts = [
            (EntryKind::ContributionCredit, charge.account_income),
            (EntryKind::RetireeCredit, charge.retiree_credit),
        ];
        let total = charge.account_income + charge.retiree_credit;
        if self.balance.fen() + total.fen() > AMOUNT_FEN_MAX || reference.chars().count() > REFERENCE_CHARS_MAX {
            return Err(AccountError::InvalidAmount);
        }
        let mut made = 0;
        for (kind, amount) in parts.into_iter().filter(|(_, amount)| amount.fen() > 0) {
            self.credit(on, kind, amount, reference)?;
            made += 1;
        }
        Ok(made)
    }

    /// Pays `amount` for the owner or a member bound on `on`; refused if the balance is short.
    pub fn pay(
        &mut self,
        on: NaiveDate,
        beneficiary: &CitizenId,
        amount: Money,
        reference: &str,
    ) -> Result<&AccountEntry, AccountError> {
        check_amount(amount)?;
        let kind = if *beneficiary == self.owner {
            EntryKind::Payment
        } else if self
            .bindings
            .iter()
            .any(|b| b.member == *beneficiary && b.is_active_on(on))
        {
            EntryKind::MutualAidPayment {
                beneficiary: *beneficiary,
            }
        } else {
            return Err(AccountError::NotBound {
                member: beneficiary.masked(),
            });
        };
        if amount > self.balance {
            return Err(AccountError::InsufficientBalance {
                balance: self.balance,
                requested: amount,
            });
        }
        self.push(on, kind, -amount, reference)
    }

    /// Reverses a payment or credit exactly; refused if reversing a credit would go negative or
    /// the entry was already reversed.
    pub fn reverse(&mut self, on: NaiveDate, seq: u64, reference: &str) -> Result<&AccountEntry, AccountError> {
        let original = self
            .entries
            .iter()
            .find(|e| e.seq == seq && !matches!(e.kind, EntryKind::Reversal { .. }))
            .ok_or(AccountError::NotReversible { seq })?;
        let already = self
            .entries
            .iter()
            .any(|e| matches!(e.kind, EntryKind::Reversal { of_seq } if of_seq == seq));
        if already {
            return Err(AccountError::NotReversible { seq });
        }
        let amount = -original.amount;
        if (self.balance + amount).is_negative() {
            return Err(AccountError::InsufficientBalance {
                balance: self.balance,
                requested: -amount,
            });
        }
        self.push(on, EntryKind::Reversal { of_seq: seq }, amount, reference)
    }

    /// Binds a family member from `from`.
    pub fn bind(&mut self, member: CitizenId, relation: FamilyRelation, from: NaiveDate) -> Result<(), AccountError> {
        if member == self.owner {
            return Err(AccountError::SelfBinding);
        }
        if self
            .bindings
            .iter()
            .any(|b| b.member == member && b.to.is_none_or(|to| to >= from))
        {
            return Err(AccountError::AlreadyBound {
                member: member.masked(),
            });
        }
        if self.bindings.iter().filter(|b| b.to.is_none()).count() >= BOUND_MEMBERS_MAX {
            return Err(AccountError::TooManyMembers { max: BOUND_MEMBERS_MAX });
        }
        self.bindings.push(FamilyBinding {
            member,
            relation,
            from,
            to: None,
        });
        Ok(())
    }

    /// Ends a binding: `on` is the first day the member can no longer be paid for.
    pub fn unbind(&mut self, member: &CitizenId, on: NaiveDate) -> Result<(), AccountError> {
        let binding = self
            .bindings
            .iter_mut()
            .find(|b| b.member == *member && b.is_active_on(on))
            .ok_or_else(|| AccountError::NotBound {
                member: member.masked(),
            })?;
        binding.to = on.pred_opt();
        Ok(())
    }

    fn push(
        &mut self,
        on: NaiveDate,
        kind: EntryKind,
        amount: Money,
        reference: &str,
    ) -> Result<&AccountEntry, AccountError> {
        if reference.chars().count() > REFERENCE_CHARS_MAX {
            return Err(AccountError::ReferenceTooLong);
        }
        let balance_after = self.balance + amount;
        assert!(!balance_after.is_negative(), "an account balance never goes negative");
        self.balance = balance_after;
        let seq = self.entries.last().map_or(1, |e| e.seq + 1);
        self.entries.push(AccountEntry {
            seq,
            on,
            kind,
            amount,
            balance_after,
            reference: reference.to_owned(),
        });
        Ok(self.entries.last().expect("just pushed"))
    }

    /// Whether the entries explain the balance: each balance follows from the previous one.
    pub fn history_is_consistent(&self) -> bool {
        let mut balance = Money::ZERO;
        for e in &self.entries {
            balance += e.amount;
            if balance != e.balance_after || balance.is_negative() {
                return false;
            }
        }
        balance == self.balance
    }
}

fn check_amount(amount: Money) -> Result<(), AccountError> {
    if amount.fen() <= 0 || amount.fen() > AMOUNT_FEN_MAX {
        Err(AccountError::InvalidAmount)
    } else {
        Ok(())
    }
}
