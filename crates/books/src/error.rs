//! Why a posting, a stored line or a close was refused. Messages are Chinese: they reach bureau
//! finance staff unchanged.

use yibao_money::Money;

use crate::account::Account;
use crate::book::Book;
use crate::period::Month;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BooksError {
    #[error("记账金额不能为负数：{amount}")]
    NegativeAmount { amount: Money },
    #[error("{}借贷不平衡：借方{debit}，贷方{credit}", .book.name_zh())]
    Unbalanced { book: Book, debit: Money, credit: Money },
    #[error("“{code}”不是基金账套代码")]
    UnknownBook { code: String },
    #[error("“{id}”不是会计科目代码")]
    UnknownAccount { id: String },
    #[error("{}没有“{}”科目", .book.name_zh(), .account.name_zh())]
    AccountNotInChart { book: Book, account: Account },
    #[error("基金间转移的转出与转入基金不能相同：{}", .book.name_zh())]
    TransferWithinBook { book: Book },
    #[error("资金只能通过基金间转移在基金之间移动，该记账涉及{count}个账套")]
    CrossBookWithoutTransfer { count: usize },
    #[error("“{}”科目只能由转移记账使用", .account.name_zh())]
    TransferAccountOutsideTransfer { account: Account },
    #[error("结账分录只能由期末结账生成，不能手工记账或冲销")]
    ClosingEntryOutsideClose,
    #[error("分录期间{entry}与记账期间{posting}不一致")]
    MonthMismatch { posting: Month, entry: Month },
    #[error("{month}已结账（已结至{closed_through}），不能再记账")]
    PeriodClosed { month: Month, closed_through: Month },
    #[error("结账期间必须晚于已结账期间{closed_through}")]
    CloseOutOfOrder { closed_through: Month },
    #[error("同一分录借方{debit}与贷方{credit}不能同时有金额")]
    BothSides { debit: Money, credit: Money },
    #[error("“{region}”不是6位医保区划代码")]
    InvalidRegion { region: u32 },
    #[error("无效的会计期间：{year}年{month}月")]
    InvalidMonth { year: u16, month: u8 },
}
