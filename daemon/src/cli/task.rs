//! `mzd task list|done`: station tasks (SPEC §7) through the typed client.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use mz_client::Client;
use mz_shared::protocol::TaskView;
use mz_shared::task::TaskFilter;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum TaskCommand {
    /// Station tasks, soonest due first.
    List {
        /// Only this station's tasks (registry id).
        #[arg(long)]
        station: Option<String>,
        /// open | done | void | overdue
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Complete an open task by its id (station staff of its station, officer or above).
    Done {
        id: String,
        /// What was done (ID numbers in it are masked).
        #[arg(long)]
        note: Option<String>,
    },
}

/// Runs one `mzd task …` command. A refused completion exits 1 with the reason on stderr.
pub(super) fn task_command(command: TaskCommand, socket: &std::path::Path) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd task").await?;
        let mut out = std::io::stdout().lock();
        match command {
            TaskCommand::List { station, state, json } => {
                let state = match state {
                    Some(s) => Some(
                        TaskFilter::parse(&s)
                            .ok_or_else(|| anyhow::anyhow!("unknown --state `{s}`: use open, done, void or overdue"))?,
                    ),
                    None => None,
                };
                let tasks = c.task_list(station, state).await?;
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&tasks)?)?;
                } else {
                    print_tasks(&mut out, &tasks)?;
                }
            }
            TaskCommand::Done { id, note } => {
                let task = c.task_done(&id, note).await?;
                let done_at = task.done_at.as_deref().unwrap_or_default();
                let done_by = task.done_by.as_deref().unwrap_or_default();
                writeln!(out, "{}: 已完成 done ({done_at} {done_by})", task.id)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The task list as a table, headings in Chinese and English.
pub(super) fn print_tasks(out: &mut impl Write, tasks: &[TaskView]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36} {:<24} {:<10} {:<16} {:<25} 状态 state",
        "编号 id", "事项 kind", "救助站", "受助人 person", "到期 due"
    )?;
    for t in tasks {
        let kind = format!("{} {}", t.kind_zh, t.kind.as_str());
        let overdue = if t.overdue { "  逾期 OVERDUE" } else { "" };
        let done = match (&t.done_at, &t.voided_at) {
            (Some(at), _) => format!(" {at} {}", t.done_by.as_deref().unwrap_or("-")),
            (None, Some(at)) => format!(" {at}"),
            (None, None) => String::new(),
        };
        writeln!(
            out,
            "{:<36} {:<24} {:<10} {:<16} {:<25} {}{done}{overdue}",
            t.id,
            kind,
            t.station,
            t.person_ref,
            t.due_at.as_deref().unwrap_or("-"),
            t.state.as_str()
        )?;
    }
    if tasks.is_empty() {
        writeln!(out, "（无事项）no tasks")?;
    }
    Ok(())
}
