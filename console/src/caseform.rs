//! The small keyboard-only forms of the case desk (救急难, view 7) and their confirmations. Pure:
//! a [`CaseForm`] says which fields (of the one form widget, [`crate::widgets::form`]) each
//! action has and what its confirmation says, takes keys and, once filled in and confirmed,
//! yields the [`Request`] to send.
//!
//! Every form ends with a confirmation that says in plain words what will happen (for a
//! payment: the amount, the street's fund, the balance after, and whether it becomes a request
//! for a supervisor because it is above the case cap). Actions carry the case version shown
//! when the form was opened, so a case changed meanwhile is refused by the daemon.
//!
//! Warnings come before the confirmation: a payment to a person aided on another case within 30
//! days (from the cases the dashboard holds; the daemon checks all of them again and records the
//! warning in the case's history), a community of another street.

use crate::i18n::{self, Lang, L};
pub use crate::widgets::form::parse_amount;
use crate::widgets::form::{Choice, Field, Form, Kind, Step};
use crossterm::event::KeyEvent;
use mz_shared::case::AidRecord;
use mz_shared::case::{Action as CaseAction, ActionKind, Case, Source, Urgency};
use mz_shared::dashboard::{Dashboard, FundRow};
use mz_shared::id_number::IdNumber;
use mz_shared::protocol::{CaseOpenRequest, Request};
use mz_shared::registry::{Community, Department, Fen};

/// What a form does: open a case, or one action on the selected case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Open,
    Accept,
    Dispatch,
    Refer,
    Pay,
    Approve,
    Reject,
    Paperwork,
    Note,
    Close,
    /// A dispatched department's reply.
    Reply,
    /// Reopen a closed case (supervisor).
    Reopen,
}

impl Op {
    /// In the order of the key line and the help (their keys: [`crate::keymap`]).
    pub const ALL: [Op; 12] = [
        Op::Accept,
        Op::Dispatch,
        Op::Reply,
        Op::Refer,
        Op::Pay,
        Op::Approve,
        Op::Reject,
        Op::Paperwork,
        Op::Note,
        Op::Close,
        Op::Reopen,
        Op::Open,
    ];

    /// The kind `role_allows` is asked about.
    pub fn kind(self) -> ActionKind {
        match self {
            Op::Open => ActionKind::Open,
            Op::Accept => ActionKind::Accept,
            Op::Dispatch => ActionKind::Dispatch,
            Op::Refer => ActionKind::Refer,
            Op::Pay => ActionKind::Pay,
            Op::Approve => ActionKind::Approve,
            Op::Reject => ActionKind::Reject,
            Op::Paperwork => ActionKind::Paperwork,
            Op::Note => ActionKind::Note,
            Op::Close => ActionKind::Close,
            Op::Reply => ActionKind::Reply,
            Op::Reopen => ActionKind::Reopen,
        }
    }

    /// The short word of the key line.
    pub fn short(self) -> L {
        match self {
            Op::Open => L("登记", "open"),
            Op::Accept => L("受理", "accept"),
            Op::Dispatch => L("分办", "dispatch"),
            Op::Refer => L("转办", "refer"),
            Op::Pay => L("拨付", "pay"),
            Op::Approve => L("审批", "approve"),
            Op::Reject => L("驳回", "reject"),
            Op::Paperwork => L("说明", "paperwork"),
            Op::Note => L("备注", "note"),
            Op::Close => L("办结", "close"),
            Op::Reply => L("答复", "reply"),
            Op::Reopen => L("重办", "reopen"),
        }
    }

    pub fn label(self) -> L {
        match self {
            Op::Open => L("登记新案件", "open a case"),
            Op::Accept => L("受理", "accept"),
            Op::Dispatch => L("分办", "dispatch"),
            Op::Refer => L("转办", "refer"),
            Op::Pay => L("拨付救助金", "pay"),
            Op::Approve => L("审批通过", "approve"),
            Op::Reject => L("驳回申请", "reject"),
            Op::Paperwork => L("补充说明", "paperwork"),
            Op::Note => L("备注", "note"),
            Op::Close => L("办结", "close"),
            Op::Reply => L("登记部门答复", "record a department's reply"),
            Op::Reopen => L("重新办理", "reopen"),
        }
    }
}

/// `¥3,000` (whole yuan) or `¥12.50`.
pub fn yuan(f: Fen) -> String {
    let s = f.to_string();
    s.strip_suffix(".00").map(str::to_string).unwrap_or(s)
}

/// What happened to a filled-in form after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    Cancel,
    Send(Request),
}

/// A case form on screen: the op, the case it acts on, its fields (the one form widget) and
/// what its confirmation needs from the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseForm {
    pub op: Op,
    /// The case acted on (its state when the form was opened); `None` when opening one.
    pub case: Option<Case>,
    pub form: Form,
    funds: Vec<FundRow>,
    departments: Vec<Department>,
    communities: Vec<Community>,
    /// Payments of the other cases the dashboard holds, for the duplicate-aid warning.
    other_aid: Vec<AidRecord>,
    /// The dashboard's time, when the form was opened.
    now_ms: i64,
    /// Open cases with a person: (masked ID number, case id), for the possible-duplicate warning.
    open_people: Vec<(String, String)>,
}

fn street_choices(funds: &[FundRow], except: Option<&str>) -> Vec<Choice> {
    funds
        .iter()
        .filter(|f| Some(f.street.as_str()) != except)
        .map(|f| Choice { value: f.street.clone(), label: format!("{} ({})", f.name, f.street) })
        .collect()
}

/// The fields of the form of `op` on `case` (or a new case), with choices from the dashboard.
fn fields(op: Op, case: Option<&Case>, dashboard: &Dashboard, lang: Lang) -> Vec<Field> {
    let funds = &dashboard.funds;
    let note = || Field::text("note", i18n::F_NOTE, false);
    match op {
        Op::Open => {
            let sources = [Source::WalkIn, Source::Hotline, Source::Grid]
                .into_iter()
                .map(|s| Choice { value: s.as_str().to_string(), label: i18n::source(s, lang) })
                .collect();
            let urgencies = [Urgency::Normal, Urgency::High]
                .into_iter()
                .map(|u| Choice { value: u.as_str().to_string(), label: i18n::urgency(u, lang).to_string() })
                .collect();
            let mut communities = vec![Choice { value: String::new(), label: L("（无）", "(none)").t(lang).into() }];
            communities.extend(
                dashboard
                    .communities
                    .iter()
                    .map(|k| Choice { value: k.id.clone(), label: format!("{} ({}, {})", k.name, k.id, k.street) }),
            );
            vec![
                Field::choice("street", i18n::F_STREET, street_choices(funds, None), 0),
                Field::text("summary", i18n::F_SUMMARY, true).hint(i18n::HINT_SUMMARY.t(lang)),
                Field::text("name", i18n::F_NAME, false),
                Field::new("id_number", i18n::F_ID_NUMBER, Kind::IdNumber).hint(i18n::HINT_ID.t(lang)),
                Field::choice("source", i18n::F_SOURCE, sources, 0),
                Field::choice("urgency", i18n::F_URGENCY, urgencies, 0),
                Field::choice("community", COMMUNITY, communities, 0),
            ]
        }
        Op::Reply => {
            let waiting = case.into_iter().flat_map(|c| c.ext.dispatches.iter()).filter(|d| d.replied_at_ms.is_none());
            let opts = waiting
                .map(|d| {
                    let name =
                        dashboard.departments.iter().find(|x| x.id == d.id).map_or(d.id.as_str(), |x| x.name.as_str());
                    Choice { value: d.id.clone(), label: format!("{name} ({})", d.id) }
                })
                .collect();
            vec![
                Field::choice("department", i18n::F_DEPARTMENT, opts, 0),
                Field::text("reply", L("答复内容", "Reply"), true),
            ]
        }
        Op::Reopen => vec![Field::text("reason", L("重新办理原因", "Reason"), true)],
        Op::Accept => Vec::new(),
        Op::Dispatch if dashboard.departments.is_empty() => {
            // An older daemon that does not push the registry's departments: free text.
            let hint =
                format!("{} police health housing education hrss charity disabled", i18n::HINT_DEPARTMENT.t(lang));
            vec![Field::text("department", i18n::F_DEPARTMENT, true).hint(hint), note()]
        }
        Op::Dispatch => {
            let opts = dashboard
                .departments
                .iter()
                .map(|d| Choice { value: d.id.clone(), label: format!("{} ({})", d.name, d.id) })
                .collect();
            vec![Field::choice("department", i18n::F_DEPARTMENT, opts, 0), note()]
        }
        Op::Refer => {
            let streets = street_choices(funds, case.map(|c| c.street.as_str()));
            vec![Field::choice("street", i18n::F_TO_STREET, streets, 0), note()]
        }
        Op::Pay => {
            let mut amount = Field::new("amount", i18n::F_AMOUNT, Kind::Amount);
            if let Some(f) = case.and_then(|c| funds.iter().find(|f| f.street == c.street)) {
                amount = amount.hint(format!(
                    "{} {}  {} {}",
                    i18n::CASE_CAP.t(lang),
                    yuan(f.case_cap),
                    i18n::BALANCE.t(lang),
                    yuan(f.balance)
                ));
            }
            vec![amount, note()]
        }
        Op::Approve | Op::Reject => vec![note()],
        Op::Paperwork => vec![Field::text("text", i18n::F_PAPERWORK, true)],
        Op::Note => vec![Field::text("text", i18n::F_NOTE_TEXT, true)],
        Op::Close => vec![Field::text("outcome", i18n::F_OUTCOME, true)],
    }
}

/// The community field's label.
const COMMUNITY: L = L("社区/村", "Community");

impl CaseForm {
    /// The form of `op` on `case` (or a new case), with choices from the dashboard. `known`
    /// are the cases the console holds and `aid` the payments the daemon sent with them (on
    /// any case, to the people of the page held): the duplicate-aid and same-person warnings
    /// before the confirmation come from these; the daemon checks every case again when it
    /// applies the action and says what it found in its answer.
    pub fn new(
        op: Op,
        case: Option<&Case>,
        dashboard: &Dashboard,
        known: &[&Case],
        aid: &[AidRecord],
        lang: Lang,
    ) -> CaseForm {
        let tz = crate::widgets::text::zone(&dashboard.timezone);
        let mut other_aid: Vec<AidRecord> = Vec::new();
        let held = known.iter().filter(|c| case.is_none_or(|x| x.id != c.id)).flat_map(|c| c.aid_records());
        for record in aid.iter().cloned().chain(held) {
            if !other_aid.contains(&record) {
                other_aid.push(record);
            }
        }
        CaseForm {
            op,
            case: case.cloned(),
            form: Form::new(fields(op, case, dashboard, lang), tz),
            funds: dashboard.funds.clone(),
            departments: dashboard.departments.clone(),
            communities: dashboard.communities.clone(),
            other_aid,
            now_ms: dashboard.generated_at_ms,
            open_people: known
                .iter()
                .filter(|c| !c.is_terminal())
                .filter_map(|c| c.person.as_ref().map(|p| (p.masked.clone(), c.id.to_string())))
                .collect(),
        }
    }

    /// Open cases whose masked ID number is the one typed: possibly the same person (the daemon
    /// checks the keyed hash and records the warning in the new case's history).
    fn possible_duplicates(&self, masked: &str) -> Vec<&str> {
        self.open_people.iter().filter(|(m, _)| m == masked).map(|(_, id)| id.as_str()).collect()
    }

    /// Warnings the daemon would give for paying this case now (same person aided elsewhere).
    fn aid_warnings(&self) -> Vec<mz_shared::reason::Reason> {
        let Some(c) = &self.case else { return Vec::new() };
        let Some(person) = c.person_key() else { return Vec::new() };
        mz_shared::case::duplicate_aid(&person, &c.id, &c.street, self.now_ms, &self.other_aid)
            .iter()
            .map(|w| w.reason())
            .collect()
    }

    /// The fund of the street money would come from.
    fn fund(&self) -> Option<&FundRow> {
        let street = self.case.as_ref()?.street.as_str();
        self.funds.iter().find(|f| f.street == street)
    }

    fn street_name(&self, id: &str) -> String {
        self.funds.iter().find(|f| f.street == id).map_or_else(|| id.to_string(), |f| f.name.clone())
    }

    /// Field `name` as shown.
    fn shown(&self, name: &str, lang: Lang) -> String {
        self.form.field(name).map(|f| f.shown(lang)).unwrap_or_default()
    }

    /// Handles one key.
    pub fn on_key(&mut self, key: KeyEvent, lang: Lang) -> Outcome {
        match self.form.on_key(key, lang, &|_, _| None) {
            Step::Stay => Outcome::Stay,
            Step::Cancel => Outcome::Cancel,
            Step::Send => Outcome::Send(self.request()),
        }
    }

    /// The request this form sends (call once every field is valid).
    pub fn request(&self) -> Request {
        let f = |name: &str| self.form.get(name);
        let opt = |name: &str| self.form.value(name);
        let action = match self.op {
            Op::Open => {
                return Request::CaseOpen(CaseOpenRequest {
                    street: f("street"),
                    summary: f("summary"),
                    name: opt("name"),
                    id_number: opt("id_number"),
                    source: Source::parse(&f("source")),
                    urgency: Urgency::parse(&f("urgency")).unwrap_or_default(),
                    community: opt("community"),
                })
            }
            Op::Accept => CaseAction::Accept,
            Op::Dispatch => CaseAction::Dispatch { department: f("department"), note: opt("note") },
            Op::Refer => CaseAction::Refer { street: f("street"), note: opt("note") },
            Op::Pay => CaseAction::Pay { amount: parse_amount(&f("amount")).unwrap_or_default(), note: opt("note") },
            Op::Approve => CaseAction::Approve { note: opt("note") },
            Op::Reject => CaseAction::Reject { note: opt("note") },
            Op::Paperwork => CaseAction::Paperwork { text: f("text") },
            Op::Note => CaseAction::Note { text: f("text") },
            Op::Close => CaseAction::Close { outcome: f("outcome") },
            Op::Reply => CaseAction::Reply { department: f("department"), text: f("reply") },
            Op::Reopen => CaseAction::Reopen { reason: f("reason") },
        };
        let case = self.case.as_ref();
        Request::CaseAct {
            id: case.map(|c| c.id.as_str().to_string()).unwrap_or_default(),
            action,
            expected_version: case.map_or(0, |c| c.version),
        }
    }

    /// The confirmation: what will happen, in plain words, and whether each line is a warning.
    pub fn confirmation(&self, lang: Lang) -> Vec<(String, bool)> {
        let zh = lang == Lang::Zh;
        let mut out: Vec<(String, bool)> = Vec::new();
        let mut say = |s: String| out.push((s, false));
        let case = self.case.as_ref();
        let id = case.map(|c| c.id.as_str().to_string()).unwrap_or_default();
        let summary = case.map(|c| c.summary.clone()).unwrap_or_default();
        let fund_name =
            self.fund().map_or_else(|| case.map(|c| c.street.clone()).unwrap_or_default(), |f| f.name.clone());
        let note_line = self.form.value("note").map(|n| format!("{}: {n}", i18n::F_NOTE.t(lang)));
        let mut warn: Vec<String> = Vec::new();
        match self.op {
            Op::Open => {
                let street = self.street_name(&self.form.get("street"));
                say(if zh {
                    format!("登记新案件，由{street}办理。")
                } else {
                    format!("Open a new case handled by {street}.")
                });
                say(format!("{}: {}", i18n::F_SUMMARY.t(lang), self.form.get("summary")));
                if let Some(n) = self.form.value("name") {
                    say(format!("{}: {n}", i18n::F_NAME.t(lang)));
                }
                if let Some(Ok(idn)) = self.form.value("id_number").map(|v| IdNumber::parse(&v)) {
                    say(format!("{}: {} ({})", i18n::F_ID_NUMBER.t(lang), idn.masked(), i18n::ID_MASKED.t(lang)));
                    for other in self.possible_duplicates(&idn.masked()) {
                        warn.push(if zh {
                            format!("注意：此人可能已有未办结的案件 {other}，请核实是否重复立案（仍可登记）。")
                        } else {
                            format!("Note: this person may already have the open case {other}; check this is not a duplicate (you may still open it).")
                        });
                    }
                }
                say(format!(
                    "{}: {}   {}: {}",
                    i18n::F_SOURCE.t(lang),
                    self.shown("source", lang),
                    i18n::F_URGENCY.t(lang),
                    self.shown("urgency", lang)
                ));
                if let Some(k) = self.form.value("community") {
                    say(format!("{}: {}", COMMUNITY.t(lang), self.shown("community", lang)));
                    let street = self.form.get("street");
                    if self.communities.iter().any(|c| c.id == k && c.street != street) {
                        warn.push(if zh {
                            format!("社区/村 {k} 不属于所选街道，将被拒绝：请改选街道或社区。")
                        } else {
                            format!("Community {k} is not of the chosen street: it will be refused.")
                        });
                    }
                }
            }
            Op::Reply => {
                let d = self.form.get("department");
                let name = self.departments.iter().find(|x| x.id == d).map_or_else(|| d.clone(), |x| x.name.clone());
                say(if zh {
                    format!("登记 {name}（{d}）对案件 {id} 的答复：")
                } else {
                    format!("Record the reply of {name} ({d}) on case {id}:")
                });
                say(self.form.get("reply"));
            }
            Op::Reopen => {
                say(if zh {
                    format!("重新办理已办结的案件 {id}（回到已受理）。")
                } else {
                    format!("Reopen closed case {id} (back to accepted).")
                });
                say(format!("{}: {}", L("原因", "Reason").t(lang), self.form.get("reason")));
            }
            Op::Accept => {
                say(if zh { format!("受理案件 {id}：{summary}") } else { format!("Accept case {id}: {summary}") });
                say(if zh {
                    "受理后由您负责办理，办结时限开始计算。".into()
                } else {
                    "You take the case on.".into()
                });
            }
            Op::Dispatch => {
                let d = self.form.get("department");
                let name = self.departments.iter().find(|x| x.id == d).map_or_else(|| d.clone(), |x| x.name.clone());
                say(if zh {
                    format!("将案件 {id} 分办至 {name}（{d}）。")
                } else {
                    format!("Dispatch case {id} to {name} ({d}).")
                });
            }
            Op::Refer => {
                let to = self.street_name(&self.form.get("street"));
                say(if zh {
                    format!("将案件 {id} 转办至 {to}，本街道不再办理（案件在此结束）。")
                } else {
                    format!("Refer case {id} to {to}; it ends here.")
                });
                if case.is_some_and(|c| c.pending.is_some() || c.payments_missing_paperwork().next().is_some()) {
                    warn.push(i18n::WILL_BE_REFUSED_PAPERWORK.t(lang).to_string());
                }
            }
            Op::Pay => {
                let amount = parse_amount(&self.form.get("amount")).unwrap_or_default();
                let paid = case.map_or(Fen(0), Case::paid_total);
                let fund = self.fund();
                let balance = fund.map_or(Fen(0), |f| f.balance);
                let after = Fen(balance.0 - amount.0);
                let cap = fund.map(|f| f.case_cap);
                let above = cap.is_some_and(|c| paid.0 + amount.0 > c.0);
                if above {
                    let cap = cap.unwrap_or_default();
                    say(if zh {
                        format!("申请从{fund_name}备用金拨付 {} 给案件 {id}。", yuan(amount))
                    } else {
                        format!("Ask to pay {} from the {fund_name} fund on case {id}.", yuan(amount))
                    });
                    warn.push(if zh {
                        format!(
                            "超过单案上限 {}（已拨付 {}）：将成为待主管审批的申请（一事一议），暂不拨付。",
                            yuan(cap),
                            yuan(paid)
                        )
                    } else {
                        format!(
                            "Above the case cap {} (paid so far {}): becomes a request for a supervisor, not paid yet.",
                            yuan(cap),
                            yuan(paid)
                        )
                    });
                    say(if zh {
                        format!("批准后余额 {}", yuan(after))
                    } else {
                        format!("Balance after approval {}", yuan(after))
                    });
                } else {
                    say(if zh {
                        format!("从{fund_name}备用金拨付 {} 给案件 {id}，拨付后余额 {}。", yuan(amount), yuan(after))
                    } else {
                        format!(
                            "Pay {} from the {fund_name} fund on case {id}, balance after {}.",
                            yuan(amount),
                            yuan(after)
                        )
                    });
                    say(i18n::PAPERWORK_DUE_AFTER.t(lang).to_string());
                }
                if after.0 < 0 {
                    warn.push(i18n::FUND_SHORT.t(lang).to_string());
                }
            }
            Op::Approve | Op::Reject => {
                let p = case.and_then(|c| c.pending.as_ref());
                let (amount, by) = p.map_or((Fen(0), String::new()), |p| (p.amount, p.by.clone()));
                let balance = self.fund().map_or(Fen(0), |f| f.balance);
                if self.op == Op::Approve {
                    say(if zh {
                        format!(
                            "批准 {by} 的超额拨付申请 {}：从{fund_name}备用金拨付，拨付后余额 {}。",
                            yuan(amount),
                            yuan(Fen(balance.0 - amount.0))
                        )
                    } else {
                        format!(
                            "Approve {by}'s request of {}: paid from the {fund_name} fund, balance after {}.",
                            yuan(amount),
                            yuan(Fen(balance.0 - amount.0))
                        )
                    });
                } else {
                    say(if zh {
                        format!("驳回 {by} 的超额拨付申请 {}，不拨付。", yuan(amount))
                    } else {
                        format!("Reject {by}'s request of {}; nothing is paid.", yuan(amount))
                    });
                }
                if p.is_none() {
                    warn.push(i18n::NO_PENDING.t(lang).to_string());
                }
            }
            Op::Paperwork => {
                let missing = case.and_then(|c| c.payments_missing_paperwork().next());
                match missing {
                    Some(p) => say(if zh {
                        format!("为 {} 的拨付（{}）补充事后说明。", yuan(p.amount), p.by)
                    } else {
                        format!("File the paperwork of the {} payment (by {}).", yuan(p.amount), p.by)
                    }),
                    None => warn.push(i18n::NO_PAPERWORK_MISSING.t(lang).to_string()),
                }
                say(format!("{}: {}", i18n::F_PAPERWORK.t(lang), self.form.get("text")));
            }
            Op::Note => {
                say(if zh { format!("为案件 {id} 添加备注：") } else { format!("Add a note to case {id}:") });
                say(self.form.get("text"));
            }
            Op::Close => {
                say(if zh { format!("办结案件 {id}。") } else { format!("Close case {id}.") });
                say(format!("{}: {}", i18n::F_OUTCOME.t(lang), self.form.get("outcome")));
                if case.is_some_and(|c| c.pending.is_some() || c.payments_missing_paperwork().next().is_some()) {
                    warn.push(i18n::WILL_BE_REFUSED_PAPERWORK.t(lang).to_string());
                }
            }
        }
        if matches!(self.op, Op::Pay | Op::Approve) {
            warn.extend(self.aid_warnings().into_iter().map(|r| r.text(lang).to_string()));
        }
        let needs_accepted = matches!(self.op, Op::Dispatch | Op::Pay | Op::Close);
        if needs_accepted && case.is_some_and(|c| c.state == mz_shared::case::CaseState::New) {
            warn.push(i18n::NOT_ACCEPTED_YET.t(lang).to_string());
        }
        if let Some(n) =
            note_line.filter(|_| matches!(self.op, Op::Dispatch | Op::Refer | Op::Pay | Op::Approve | Op::Reject))
        {
            say(n);
        }
        out.extend(warn.into_iter().map(|w| (w, true)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(form: &mut CaseForm, s: &str) {
        for c in s.chars() {
            form.on_key(k(KeyCode::Char(c)), Lang::Zh);
        }
    }

    fn problem(f: &CaseForm, name: &str) -> Option<String> {
        f.form.field(name).unwrap().problem(Lang::Zh, false, &f.form.tz)
    }

    #[test]
    fn amounts_in_yuan() {
        assert_eq!(yuan(Fen(300_000)), "¥3,000");
        assert_eq!(yuan(Fen(1250)), "¥12.50");
    }

    #[test]
    fn pay_above_the_cap_becomes_a_request_in_the_confirmation() {
        let d = crate::views::cases::tests::dashboard();
        let cases = crate::views::cases::tests::queue_cases();
        let case = cases.iter().find(|c| c.state == mz_shared::case::CaseState::Accepted).unwrap().clone();
        let known: Vec<&Case> = cases.iter().collect();
        let mut f = CaseForm::new(Op::Pay, Some(&case), &d, &known, &[], Lang::Zh);
        typed(&mut f, "12.345");
        assert!(problem(&f, "amount").is_some());
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(!f.form.confirming);
        assert!(f.form.error.as_deref().unwrap().contains("两位小数"), "{:?}", f.form.error);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "000");
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.form.confirming);
        let text: Vec<String> = f.confirmation(Lang::Zh).into_iter().map(|(s, _)| s).collect();
        let all = text.join("\n");
        assert!(all.contains("¥12,000") && all.contains("北苑街道") && all.contains("超过单案上限 ¥5,000"), "{all}");
        match f.on_key(k(KeyCode::Enter), Lang::Zh) {
            Outcome::Send(Request::CaseAct { action: CaseAction::Pay { amount, .. }, expected_version, .. }) => {
                assert_eq!(amount, Fen(1_200_000));
                assert_eq!(expected_version, case.version);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn id_number_is_checked_as_typed() {
        let d = crate::views::cases::tests::dashboard();
        let mut f = CaseForm::new(Op::Open, None, &d, &[], &[], Lang::Zh);
        f.form.focus_on("id_number");
        typed(&mut f, "11010519491231002");
        assert!(problem(&f, "id_number").unwrap().contains("18位"));
        typed(&mut f, "0");
        assert!(problem(&f, "id_number").unwrap().contains("校验位"), "{:?}", problem(&f, "id_number"));
        f.on_key(k(KeyCode::Backspace), Lang::Zh);
        typed(&mut f, "X");
        assert_eq!(problem(&f, "id_number"), None);
    }

    #[test]
    fn warnings_come_before_the_confirmation() {
        use mz_shared::case::{Dispatch, Payment};
        use mz_shared::id_number::{IdHash, ProtectedId};
        let d = crate::views::cases::tests::dashboard();
        let mut cases = crate::views::cases::tests::queue_cases();
        let person = ProtectedId { masked: "110105********002X".into(), hash: IdHash([9; 16]) };
        let idx = cases.iter().position(|c| c.state == mz_shared::case::CaseState::Accepted).unwrap();
        cases[idx].person = Some(person.clone());
        let other = cases.iter().position(|c| !c.is_terminal() && c.id != cases[idx].id).unwrap();
        cases[other].person = Some(person);
        cases[other].payments.push(Payment {
            amount: Fen(50_000),
            at_ms: d.generated_at_ms - 86_400_000,
            by: "duty2".into(),
            approved_by: None,
            note: None,
            paperwork: None,
            paperwork_at_ms: None,
        });
        let other_id = cases[other].id.to_string();
        let case = cases[idx].clone();
        let warned = |known: &[&Case], aid: &[AidRecord]| {
            let mut f = CaseForm::new(Op::Pay, Some(&case), &d, known, aid, Lang::Zh);
            typed(&mut f, "300");
            f.on_key(k(KeyCode::Enter), Lang::Zh);
            let lines = f.confirmation(Lang::Zh);
            lines.iter().filter(|(s, warn)| *warn && s.contains(&other_id) && s.contains("30 天内")).count()
        };
        // From a case the console holds; from the payments the daemon sent with the page (a
        // case not held); once when both say it.
        let known: Vec<&Case> = cases.iter().collect();
        let aid: Vec<AidRecord> = cases[other].aid_records();
        assert_eq!(warned(&known, &[]), 1);
        assert_eq!(warned(&[&case], &aid), 1);
        assert_eq!(warned(&known, &aid), 1);
        assert_eq!(warned(&[&case], &[]), 0, "nothing known, nothing said");

        // Opening a case for an ID number an open case has: a possible duplicate.
        let mut f = CaseForm::new(Op::Open, None, &d, &known, &[], Lang::Zh);
        typed(&mut f, "");
        f.form.focus_on("summary");
        typed(&mut f, "来访");
        f.form.focus_on("id_number");
        typed(&mut f, "11010519491231002X");
        f.on_key(k(KeyCode::Enter), Lang::Zh);
        assert!(f.form.confirming, "{:?}", f.form.error);
        let lines = f.confirmation(Lang::Zh);
        assert!(lines.iter().any(|(s, warn)| *warn && s.contains("可能已有未办结的案件")), "{lines:?}");

        // A reply is offered for the departments still waiting only.
        let mut c = case.clone();
        for (id, replied) in [("police", Some(1)), ("health", None)] {
            c.departments.push(id.into());
            c.ext.dispatches.push(Dispatch {
                id: id.into(),
                dispatched_at_ms: 0,
                reply_due_ms: 1,
                replied_at_ms: replied,
                reply: None,
            });
        }
        let f = CaseForm::new(Op::Reply, Some(&c), &d, &known, &[], Lang::Zh);
        match &f.form.field("department").unwrap().kind {
            Kind::Choice { options, .. } => {
                assert_eq!(options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>(), ["health"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
