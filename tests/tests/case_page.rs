//! The case queue in pages (issue 8): with far more cases than one page, `Request::CasePage`
//! over the real socket of a real `mzd` walks every case exactly once, in the console's queue
//! order (open cases by high urgency first, then the nearest running deadline, then the
//! number; ended cases after them, latest ended first), with the right totals; a large `limit`
//! is cut to the page maximum; the dashboard carries the most urgent open cases in the same
//! order; a viewer gets the names masked and no payment records.

use mz_shared::case::{Case, CaseState, Urgency};
use mz_shared::dashboard::{CasePage, CaseQueueView, Dashboard};
use mz_shared::protocol::{ClientMessage, Request, ServerMessage, PROTOCOL_VERSION};
use mz_shared::registry::{Limits, Registry};
use mz_tests::{local_time_ago, registry_as, Daemon, DEFAULT_TIMEOUT};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

/// Cases the rules open from the file (each unidentified arrival opens one, high urgency).
const ARRIVALS: usize = 1_200;
/// Cases opened with `mzd case open` (normal urgency), some then accepted, closed or referred.
const OPENED: usize = 24;

/// The demo registry with every automatic case trigger on and the current user `role`.
fn registry(role: &str) -> String {
    let r = registry_as(role)
        .replace("vulnerable_adult = false", "vulnerable_adult = true")
        .replace("unidentified = false", "unidentified = true");
    assert!(r.contains("unidentified = true"), "[auto_cases] not found");
    r
}

const HEADER: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note";

/// `ARRIVALS` unidentified arrivals, a second apart.
fn arrivals() -> String {
    let mut out = format!("{HEADER}\n");
    for n in 1..=ARRIVALS {
        let at = local_time_ago(4 * 3600 - n as i64);
        out.push_str(&format!("P{n},TZ-JZZ,admit,{at},Q{n},无名氏,,,,,police,,,,,\n"));
    }
    out
}

/// One connection to the daemon's socket, greeted.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn open(d: &Daemon) -> Conn {
        let s = UnixStream::connect(&d.socket).unwrap_or_else(|e| d.fail(&format!("connect: {e}")));
        s.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
        let mut c = Conn { writer: s.try_clone().unwrap(), reader: BufReader::new(s) };
        c.send(&ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: "case_page".into() });
        match c.recv(d) {
            ServerMessage::Welcome { .. } => c,
            other => d.fail(&format!("no welcome: {other:?}")),
        }
    }

    fn send(&mut self, msg: &ClientMessage) {
        let mut line = serde_json::to_vec(msg).unwrap();
        line.push(b'\n');
        self.writer.write_all(&line).unwrap();
    }

    fn recv(&mut self, d: &Daemon) -> ServerMessage {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap_or_else(|e| d.fail(&format!("reading an answer: {e}")));
        serde_json::from_str(&line).unwrap_or_else(|e| d.fail(&format!("not a server message ({e}): {line}")))
    }

    fn page(&mut self, d: &Daemon, view: CaseQueueView, offset: u64, limit: u32) -> CasePage {
        self.send(&ClientMessage::Request(Request::CasePage { view, offset, limit }));
        match self.recv(d) {
            ServerMessage::CasePage(p) => *p,
            other => d.fail(&format!("answer to a case page: {other:?}")),
        }
    }

    /// Every page of `view`, `limit` at a time, until the total: the cases and the totals seen.
    fn walk(&mut self, d: &Daemon, view: CaseQueueView, limit: u32) -> (Vec<Case>, HashSet<u64>) {
        let (mut all, mut totals) = (Vec::new(), HashSet::new());
        loop {
            let p = self.page(d, view, all.len() as u64, limit);
            assert_eq!(p.offset, all.len() as u64);
            assert_eq!(p.view, view);
            totals.insert(p.total);
            let last = p.cases.len() < limit as usize;
            all.extend(p.cases);
            if last || all.len() as u64 >= p.total {
                return (all, totals);
            }
        }
    }

    /// The first dashboard pushed that counts `changes` case changes (a commit may still be
    /// on its way to the publisher).
    fn dashboard_at(mut self, d: &Daemon, changes: u64) -> Dashboard {
        self.send(&ClientMessage::Request(Request::SubscribeDashboard));
        loop {
            if let ServerMessage::Dashboard(dash) = self.recv(d) {
                if dash.cases_changes == changes {
                    return *dash;
                }
            }
        }
    }
}

/// The queue's order of an open case: (not high urgency, earliest running deadline, number).
fn queue_key(c: &Case, limits: &Limits) -> (bool, i64, (i16, u32)) {
    let d = mz_shared::case::deadlines(c, limits);
    let accept = (c.state == CaseState::New).then_some(d.accept_by_ms);
    let earliest = [accept, Some(d.close_by_ms), d.paperwork_due_ms, d.reply_due_ms].into_iter().flatten().min();
    let number = (c.id.year().unwrap_or(0), c.id.seq().unwrap_or(0));
    (c.urgency != Urgency::High, earliest.unwrap_or(i64::MAX), number)
}

fn ids(cases: &[Case]) -> Vec<String> {
    cases.iter().map(|c| c.id.as_str().to_owned()).collect()
}

/// `mzd case list --json`: every case, in id order.
fn list(d: &Daemon) -> Vec<Value> {
    match serde_json::from_str(&case_ok(d, &["list", "--json"])) {
        Ok(Value::Array(all)) => all,
        other => d.fail(&format!("case list: {other:?}")),
    }
}

/// `mzd case ARGS`, which must succeed.
fn case_ok(d: &Daemon, args: &[&str]) -> String {
    let mut all = vec!["case"];
    all.extend_from_slice(args);
    d.mzd_ok(&all)
}

/// Opens the `OPENED` cases by hand and takes them on: some accepted, closed or referred.
fn open_by_hand(d: &Daemon) {
    for i in 0..OPENED {
        let name = if i % 2 == 0 { "李雷" } else { "韩梅梅" };
        let out = case_ok(d, &["open", "--street", "ST-01", "--summary", "来访求助", "--name", name, "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| d.fail(&format!("case open --json ({e}): {out}")));
        let id = v["id"].as_str().unwrap_or_else(|| d.fail(&format!("no id: {out}"))).to_owned();
        match i % 4 {
            0 => {}
            1 => {
                case_ok(d, &["act", &id, "accept"]);
            }
            2 => {
                case_ok(d, &["act", &id, "accept"]);
                case_ok(d, &["act", &id, "close", "已解决"]);
            }
            _ => {
                case_ok(d, &["act", &id, "accept"]);
                case_ok(d, &["act", &id, "refer", "ST-02"]);
            }
        }
    }
}

#[test]
fn pages_walk_every_case_once_in_queue_order_and_viewers_get_names_masked() {
    let tmp = tempfile::tempdir().unwrap();
    let text = registry("supervisor");
    let limits = Registry::parse(&text).expect("the test registry parses").limits;
    let mut d = Daemon::start_with_registry(tmp.path(), &text);
    d.drop_file("admissions", "arrivals.csv", arrivals());
    d.wait_until("every arrival's case open", |s| s["cases"]["open"].as_u64() == Some(ARRIVALS as u64));
    // Accept a few of the rules' cases: their close clock only, so they move down the queue.
    let listed = list(&d);
    for i in [0, 1, 2, 500, 1_000] {
        case_ok(&d, &["act", listed[i]["id"].as_str().unwrap_or_default(), "accept"]);
    }
    open_by_hand(&d);
    let everything = list(&d);
    let is_open = |v: &&Value| !["closed", "referred"].contains(&v["state"].as_str().unwrap_or_default());
    let want_open: HashSet<String> =
        everything.iter().filter(is_open).map(|v| v["id"].as_str().unwrap_or_default().to_owned()).collect();
    let open = want_open.len();
    assert_eq!(everything.len() - open, OPENED / 2, "closed and referred by hand");
    assert!(everything.len() > ARRIVALS + OPENED, "each referral opened a case in the other street");
    d.wait_until("the open cases counted", |s| s["cases"]["open"].as_u64() == Some(open as u64));

    let mut c = Conn::open(&d);
    // The open view, 97 at a time: every open case once, in queue order.
    let (pages, totals) = c.walk(&d, CaseQueueView::Open, 97);
    assert_eq!(totals, HashSet::from([open as u64]), "the total of every page");
    assert_eq!(pages.len(), open);
    let unique: HashSet<String> = ids(&pages).into_iter().collect();
    assert_eq!(unique.len(), open, "no case twice");
    assert_eq!(unique, want_open, "exactly the open cases");
    for w in pages.windows(2) {
        assert!(queue_key(&w[0], &limits) < queue_key(&w[1], &limits), "{} before {}", w[0].id, w[1].id);
    }
    assert!(pages.iter().any(|c| c.urgency == Urgency::Normal) && pages[0].urgency == Urgency::High);
    assert!(pages.iter().any(|c| c.name.as_deref() == Some("李雷")), "an officer sees names");

    // The whole queue, the largest page at a time: the open cases, then the ended ones, latest
    // ended first.
    let (all, totals) = c.walk(&d, CaseQueueView::All, CasePage::MAX);
    assert_eq!(totals, HashSet::from([everything.len() as u64]));
    assert_eq!(all.len(), everything.len());
    assert_eq!(ids(&all[..open]), ids(&pages), "the open cases first, in the same order");
    let tail = &all[open..];
    assert_eq!(tail.len(), OPENED / 2);
    assert!(tail.iter().all(Case::is_terminal));
    for w in tail.windows(2) {
        assert!(w[0].closed_at_ms >= w[1].closed_at_ms, "{} before {}", w[0].id, w[1].id);
    }
    // A limit above the maximum is cut to it; an offset past the end gives no case.
    assert_eq!(c.page(&d, CaseQueueView::All, 0, 100_000).cases.len(), CasePage::MAX as usize);
    let past = c.page(&d, CaseQueueView::Open, 5_000, 10);
    assert!(past.cases.is_empty() && past.total == open as u64, "{past:?}");
    // The middle of the queue as a page of its own equals that slice of the walk.
    assert_eq!(ids(&c.page(&d, CaseQueueView::All, 600, 50).cases), ids(&all[600..650]));

    // The dashboard: the most urgent open cases, in the same order, and the change count.
    let page = c.page(&d, CaseQueueView::Open, 0, 1);
    let dash = Conn::open(&d).dashboard_at(&d, page.changes);
    assert_eq!(ids(&dash.urgent_cases), ids(&pages[..Dashboard::URGENT_CASES]));
    case_ok(&d, &["act", pages[0].id.as_str(), "note", "已回访"]);
    assert_ne!(c.page(&d, CaseQueueView::Open, 0, 1).changes, page.changes, "a change moves the count");

    // The same user as a viewer (the registry reloaded): names masked, no payment records.
    d.change_registry(&registry("viewer"));
    let mut v = Conn::open(&d);
    let (seen, _) = v.walk(&d, CaseQueueView::All, CasePage::MAX);
    assert_eq!(ids(&seen), ids(&all), "a viewer pages the same queue");
    for c in &seen {
        let name = c.name.as_deref().unwrap_or_default();
        assert!(!["李雷", "韩梅梅", "无名氏"].contains(&name), "{} shows a viewer the name {name}", c.id);
    }
    assert!(seen.iter().any(|c| c.name.as_deref().is_some_and(|n| n.starts_with('李') && n != "李雷")));
    assert!(v.page(&d, CaseQueueView::All, 0, 50).aid.is_empty());
    d.terminate();
}
