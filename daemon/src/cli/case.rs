//! `mzd case open|list|show|act`: the 救急难 case desk from the command line, through the typed
//! client. A refused action exits 1 with the reason on stderr; warnings go to stderr too.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use mz_client::Client;
use mz_shared::case::{Action, CaseState, Source, Urgency};
use mz_shared::protocol::{CaseOpenRequest, CaseView};
use mz_shared::registry::Fen;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum CaseCommand {
    /// Open a case; prints its id.
    Open {
        /// The street (registry id) whose window takes the case.
        #[arg(long)]
        street: String,
        #[arg(long)]
        summary: String,
        #[arg(long)]
        name: Option<String>,
        /// Citizen ID number; only its masked form and a keyed hash are stored.
        #[arg(long)]
        id_number: Option<String>,
        /// walk-in | hotline | grid
        #[arg(long)]
        source: Option<String>,
        /// normal | high
        #[arg(long, default_value = "normal")]
        urgency: String,
        /// The community (社区/村, registry id) of the street the report came from.
        #[arg(long)]
        community: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List cases.
    List {
        /// new | accepted | dispatched | referred | aided | closed
        #[arg(long)]
        state: Option<String>,
        /// At most this many cases (the first in id order).
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Show one case with its history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Act on a case.
    Act {
        id: String,
        #[command(subcommand)]
        action: ActCommand,
    },
}

#[derive(Subcommand)]
pub(super) enum ActCommand {
    /// 受理.
    Accept,
    /// 分办 to a department (registry id).
    Dispatch {
        department: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// 转办 to the person's home street (registry id); ends the case here.
    Refer {
        street: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// 先行救助: pay from the street's reserve fund (yuan); above the case cap it becomes a request.
    Pay {
        amount_yuan: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Approve the pending payment request (supervisor).
    Approve {
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject the pending payment request (supervisor).
    Reject {
        #[arg(long)]
        note: Option<String>,
    },
    /// The after-the-fact explanation of a payment (事后补充说明).
    Paperwork {
        text: String,
    },
    Note {
        text: String,
    },
    /// 办结.
    Close {
        outcome: String,
    },
    /// A dispatched department's reply (部门答复), recorded by an officer.
    Reply {
        department: String,
        text: String,
    },
    /// Reopen a closed case (supervisor), with the reason.
    Reopen {
        reason: String,
    },
}

/// Runs one `mzd case …` command. A refused action exits 1 with the reason on stderr.
pub(super) fn case_command(command: CaseCommand, socket: &std::path::Path) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd case").await?;
        let mut out = std::io::stdout().lock();
        match command {
            CaseCommand::Open { street, summary, name, id_number, source, urgency, community, json } => {
                let request = open_request(street, summary, name, id_number, source, urgency, community)?;
                let reply = c.case_open(request).await?;
                print_warnings(&reply.warnings);
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&reply.case)?)?;
                } else {
                    writeln!(out, "{}", reply.case.id)?;
                }
            }
            CaseCommand::List { state, limit, json } => {
                let state = match state {
                    Some(s) => Some(CaseState::parse(&s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown --state `{s}`: use new, accepted, dispatched, referred, aided or closed"
                        )
                    })?),
                    None => None,
                };
                list_cases(&mut c, state, limit, &mut out, json).await?;
            }
            CaseCommand::Show { id, json } => {
                let case = c.case_show(&id).await?;
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&case)?)?;
                } else {
                    print_case(&mut out, &case)?;
                }
            }
            CaseCommand::Act { id, action } => {
                let action = case_action(action)?;
                let paying = matches!(action, Action::Pay { .. } | Action::Approve { .. });
                // Act on the version seen now: if someone else acts in between, this is refused.
                let version = c.case_show(&id).await?.version;
                let reply = c.case_act(&id, action, version).await?;
                print_warnings(&reply.warnings);
                let case = &reply.case;
                writeln!(out, "{}: {} (version {})", case.id, case.state.as_str(), case.version)?;
                if paying {
                    writeln!(out, "{}", case.payment_words())?;
                }
                if let Some(new) = &case.referred_to {
                    writeln!(out, "referred: new case {new} / 已转办，新案件 {new}")?;
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The warnings of an action (applied nonetheless), on stderr.
pub(super) fn print_warnings(warnings: &[mz_shared::reason::Reason]) {
    for w in warnings {
        eprintln!("mzd: warning: {w}");
    }
}

/// The request of `mzd case open`, its words checked.
pub(super) fn open_request(
    street: String,
    summary: String,
    name: Option<String>,
    id_number: Option<String>,
    source: Option<String>,
    urgency: String,
    community: Option<String>,
) -> Result<CaseOpenRequest> {
    let source = match source {
        Some(s) => Some(
            Source::parse(&s).ok_or_else(|| anyhow::anyhow!("unknown --source `{s}`: use walk-in, hotline or grid"))?,
        ),
        None => None,
    };
    let urgency =
        Urgency::parse(&urgency).ok_or_else(|| anyhow::anyhow!("unknown --urgency `{urgency}`: use normal or high"))?;
    Ok(CaseOpenRequest { street, summary, name, id_number, source, urgency, community })
}

/// The action of `mzd case act`, its amount checked.
pub(super) fn case_action(action: ActCommand) -> Result<Action> {
    Ok(match action {
        ActCommand::Accept => Action::Accept,
        ActCommand::Dispatch { department, note } => Action::Dispatch { department, note },
        ActCommand::Refer { street, note } => Action::Refer { street, note },
        ActCommand::Pay { amount_yuan, note } => {
            let amount = Fen::from_yuan_str(&amount_yuan).map_err(|e| {
                anyhow::anyhow!("amount `{amount_yuan}` is not a sum of yuan with at most two decimals: {e}")
            })?;
            Action::Pay { amount, note }
        }
        ActCommand::Approve { note } => Action::Approve { note },
        ActCommand::Reject { note } => Action::Reject { note },
        ActCommand::Paperwork { text } => Action::Paperwork { text },
        ActCommand::Note { text } => Action::Note { text },
        ActCommand::Close { outcome } => Action::Close { outcome },
        ActCommand::Reply { department, text } => Action::Reply { department, text },
        ActCommand::Reopen { reason } => Action::Reopen { reason },
    })
}

/// Prints a streamed case list as it arrives: a JSON array (one pretty object per element) or
/// one line per case. Nothing is printed before the daemon's first answer, so a refusal prints
/// only the reason.
pub(super) async fn list_cases(
    c: &mut Client,
    state: Option<CaseState>,
    limit: Option<u64>,
    out: &mut impl Write,
    json: bool,
) -> Result<()> {
    let mut chunks = c.case_list(state, limit).await?;
    let mut printed = 0u64;
    while let Some(cases) = chunks.next().await? {
        if json && printed == 0 {
            writeln!(out, "[")?;
        }
        for k in &cases {
            if json {
                let text = serde_json::to_string_pretty(k)?.replace('\n', "\n  ");
                write!(out, "{}  {text}", if printed == 0 { "" } else { ",\n" })?;
            } else {
                print_case_line(out, k)?;
            }
            printed += 1;
        }
        out.flush()?;
    }
    if json {
        writeln!(out, "{}]", if printed == 0 { "" } else { "\n" })?;
    }
    Ok(())
}

pub(super) fn print_case_line(out: &mut impl Write, k: &CaseView) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<17} {:<10} {:<6} {:<8} {:>10} {}{}",
        k.id,
        k.state.as_str(),
        k.street,
        k.urgency.as_str(),
        Fen(k.paid_fen).to_string(),
        if k.overdue { "OVERDUE " } else { "" },
        k.summary,
    )
}

/// A case for a person: every fact and clock that `--json` has.
pub(super) fn print_case(out: &mut impl Write, k: &CaseView) -> std::io::Result<()> {
    let t = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    writeln!(
        out,
        "{}  {}  {}{}",
        k.id,
        k.state.as_str(),
        k.urgency.as_str(),
        if k.overdue { "  OVERDUE" } else { "" }
    )?;
    writeln!(out, "version:  {}", k.version)?;
    writeln!(out, "street:   {} {}", k.street, t(&k.street_name))?;
    if let Some(community) = &k.community {
        writeln!(out, "community: {community} {}", t(&k.community_name))?;
    }
    writeln!(
        out,
        "source:   {}{}",
        k.source.as_str(),
        k.source_record.as_ref().map(|r| format!(" (record {r})")).unwrap_or_default()
    )?;
    if let Some(station) = &k.station {
        writeln!(out, "station:  {station}")?;
    }
    if k.name.is_some() || k.id_number.is_some() || k.person_ref.is_some() {
        writeln!(out, "person:   {} {} {}", t(&k.name), t(&k.id_number), t(&k.person_ref))?;
    }
    if let Some(from) = &k.referred_from {
        writeln!(out, "referred from: {from}")?;
    }
    if let Some(to) = &k.referred_to {
        writeln!(out, "referred to:   {to} ({})", t(&k.referred_to_street))?;
    }
    for d in &k.departments {
        writeln!(
            out,
            "department {} {}: dispatched {}, {}",
            d.id,
            t(&d.name),
            t(&d.dispatched_at),
            department_state(d)
        )?;
    }
    writeln!(out, "summary:  {}", k.summary)?;
    if let Some(en) = &k.summary_en {
        writeln!(out, "          {en}")?;
    }
    writeln!(out, "opened:   {} by {}", t(&k.opened_at), k.opened_by)?;
    writeln!(out, "accepted: {}", t(&k.accepted_at))?;
    writeln!(
        out,
        "limits:   accept by {}, close by {}, paperwork due {}",
        t(&k.accept_by),
        t(&k.close_by),
        t(&k.paperwork_due)
    )?;
    if !k.overdue_items.is_empty() {
        writeln!(out, "overdue items: {}", k.overdue_items.join(", "))?;
    }
    for r in &k.overdue_reasons {
        writeln!(out, "overdue:  {} | {}", r.zh, r.en)?;
    }
    print_money(out, k)?;
    if k.closed_at.is_some() || k.outcome.is_some() {
        writeln!(out, "closed:   {} {}", t(&k.closed_at), t(&k.outcome))?;
    }
    writeln!(out, "history:")?;
    for h in k.history.iter().flatten() {
        writeln!(out, "  {}  {:<10} {:<12} {}", t(&h.at), h.user, h.action, h.detail)?;
        if !h.detail_en.is_empty() && h.detail_en != h.detail {
            writeln!(out, "  {:<25}  {:<10} {:<12} {}", "", "", "", h.detail_en)?;
        }
    }
    Ok(())
}

/// A department's reply clock in words.
pub(super) fn department_state(d: &mz_shared::protocol::DepartmentView) -> String {
    let t = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    if d.replied_at.is_some() {
        format!("replied {}: {}", t(&d.replied_at), t(&d.reply))
    } else if d.overdue {
        format!("OVERDUE, reply was due {}", t(&d.reply_due))
    } else {
        format!("waiting, reply due {}", t(&d.reply_due))
    }
}

/// What was paid from the fund, what waits for approval, and each payment.
pub(super) fn print_money(out: &mut impl Write, k: &CaseView) -> std::io::Result<()> {
    let cap = k.case_cap_fen.map(|c| format!(" (cap {})", Fen(c))).unwrap_or_default();
    writeln!(out, "paid:     {}{cap}", Fen(k.paid_fen))?;
    if let Some(p) = k.pending_fen {
        writeln!(out, "pending:  {} awaiting a supervisor", Fen(p))?;
    }
    for p in k.payments.iter().flatten() {
        let approved = p.approved_by.as_ref().map(|a| format!(", approved by {a}")).unwrap_or_default();
        let paperwork = p.paperwork.as_deref().unwrap_or("paperwork missing");
        writeln!(
            out,
            "  payment {} at {} by {}{approved}: {paperwork}",
            Fen(p.amount_fen),
            p.at.as_deref().unwrap_or("-"),
            p.by
        )?;
    }
    Ok(())
}
