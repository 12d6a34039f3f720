//! `mzc`, the duty-floor console of mz: arguments, logging to a file, terminal setup and
//! restore (also after a panic or SIGTERM), and the event loop that joins key presses, the
//! daemon's pushed dashboards and a one-second clock with `tokio::select!`.
//!
//! Modules: [`app`] the state, `control` keys and events (pure), `keymap` the one key map,
//! `palette` the `:` command line, `modal` the popup stack, [`client`] the daemon connection,
//! [`views`] one module per view, `widgets` drawing pieces (with the one form widget), [`i18n`]
//! labels, [`demo`] the `--demo` mode.

use anyhow::Context as _;
use app::{Action, App};
use clap::Parser;
use crossterm::event::Event;
use crossterm::{cursor, execute, terminal};
#[cfg(feature = "demo")]
use mzc::demo;
use mzc::{app, client, i18n, views};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::Stdout;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Every frame builds and drops thousands of small strings and table rows; with glibc's
/// allocator `malloc` and `free` took a seventh of a frame's instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LangArg {
    Zh,
    En,
}

/// mz duty-floor console: live figures of the rescue stations, burial sites, marriage
/// registration and alerts, pushed by `mzd`.
#[derive(Debug, Parser)]
#[command(name = "mzc", version)]
struct Args {
    /// The daemon's socket [default: $MZ_SOCKET, else ./mz-data/mzd.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Language of the interface.
    #[arg(long, value_enum, default_value = "zh")]
    lang: LangArg,
    /// Run an embedded daemon on a temporary folder with generated data.
    #[arg(long)]
    demo: bool,
    /// Log file, one per day as NAME.YYYY-MM-DD.log [default: $XDG_STATE_HOME/mz/mzc.log, else
    /// ~/.local/state/mz/mzc.log].
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let log = init_logging(args.log.as_deref());
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mzc: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(run(args));
    rt.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "mzc failed");
            eprintln!("mzc: {e:#}");
            if let Some((l, _)) = &log {
                eprintln!("(log: {})", l.display());
            }
            ExitCode::FAILURE
        }
    }
}

/// Where logs go when `--log` is not given.
fn default_log_path() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(s) => s.join("mz").join("mzc.log"),
        None => std::env::temp_dir().join("mzc.log"),
    }
}

/// Daily log files kept (older ones are removed when a new day's file starts).
const LOG_FILES_KEPT: usize = 14;

/// Logs to files, never to the screen: written by a background thread (a slow disk never holds
/// up a frame), one file per day (`mzc.YYYY-MM-DD.log` beside the path asked for), the last
/// [`LOG_FILES_KEPT`] kept. Returns what to name in messages and the guard that flushes the
/// log when dropped, if a log folder could be used.
fn init_logging(path: Option<&Path>) -> Option<(PathBuf, tracing_appender::non_blocking::WorkerGuard)> {
    let wanted = path.map(Path::to_path_buf).unwrap_or_else(default_log_path);
    let appender = |p: &Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let stem = p.file_stem().map_or("mzc".into(), |s| s.to_string_lossy().into_owned());
        let ext = p.extension().map_or("log".into(), |s| s.to_string_lossy().into_owned());
        std::fs::create_dir_all(dir).ok()?;
        let a = tracing_appender::rolling::RollingFileAppender::builder()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(&stem)
            .filename_suffix(&ext)
            .max_log_files(LOG_FILES_KEPT)
            .build(dir)
            .ok()?;
        Some((a, dir.join(format!("{stem}.YYYY-MM-DD.{ext}"))))
    };
    let (appender, shown) = appender(&wanted).or_else(|| appender(&std::env::temp_dir().join("mzc.log")))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).init();
    Some((shown, guard))
}

/// Writes a file only its owner and group may read: exports hold names and case details.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(path)?;
    f.write_all(bytes)
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(std::io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

/// Restores the terminal when dropped (normal end, `?` errors).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal() -> anyhow::Result<(Terminal<CrosstermBackend<Stdout>>, TerminalGuard)> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!(panic = %info, "mzc panicked");
        previous(info);
    }));
    terminal::enable_raw_mode().context("cannot put the terminal in raw mode (is this a terminal?)")?;
    let guard = TerminalGuard;
    execute!(std::io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
    let term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    Ok((term, guard))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `NO_COLOR` set and non-empty disables colours.
fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn export_dir() -> PathBuf {
    std::env::var_os("MZ_EXPORT_DIR").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let lang = match args.lang {
        LangArg::Zh => i18n::Lang::Zh,
        LangArg::En => i18n::Lang::En,
    };
    let demo = if args.demo { Some(start_demo()?) } else { None };
    let socket = match &demo {
        Some(d) => d.socket.clone(),
        None => mz_client::socket_path(args.socket.clone()),
    };
    tracing::info!(socket = %socket.display(), demo = args.demo, "mzc starting");

    if demo.is_none() {
        if let Some(first) = city_status(&socket).await {
            return city_loop(lang, socket, first).await;
        }
    }
    let result = event_loop(lang, socket, demo.is_some()).await;
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}

#[cfg(feature = "demo")]
fn start_demo() -> anyhow::Result<demo::Demo> {
    demo::Demo::start().context("cannot start the demo")
}

/// Without the embedded daemon (`--no-default-features`) there is no demo.
#[cfg(not(feature = "demo"))]
mod demo {
    /// Never made: [`super::start_demo`] refuses.
    pub struct Demo {
        pub socket: std::path::PathBuf,
    }

    impl Demo {
        pub async fn stop(self) {}
    }
}

#[cfg(not(feature = "demo"))]
fn start_demo() -> anyhow::Result<demo::Demo> {
    anyhow::bail!("this mzc was built without the demo (cargo feature `demo`); connect it to a running mzd instead")
}

/// The city status, when `socket` is a city daemon's (SPEC §9); `None` for a district's or
/// when it cannot be reached now (the district console then shows that and retries).
async fn city_status(socket: &Path) -> Option<Box<mz_shared::city::CityStatus>> {
    let ask = async {
        let mut c = mz_client::Client::connect(socket, "mzc").await.ok()?;
        match c.call(mz_shared::protocol::Request::Status).await.ok()? {
            mz_shared::protocol::ServerMessage::CityStatus(s) => Some(s),
            _ => None,
        }
    };
    tokio::time::timeout(Duration::from_secs(5), ask).await.ok().flatten()
}

/// The city's own alerts (cross-district checks), when the city answers now.
async fn city_alerts(socket: &Path) -> Option<Vec<mz_shared::cross_district::CityAlert>> {
    let ask = async { mz_client::Client::connect(socket, "mzc").await.ok()?.city_alerts().await.ok() };
    tokio::time::timeout(Duration::from_secs(5), ask).await.ok().flatten()
}

/// Key presses and resizes, read on their own thread (crossterm's blocking reader) until the
/// terminal fails or the receiver is dropped.
fn read_input() -> std::io::Result<tokio::sync::mpsc::UnboundedReceiver<std::io::Result<Event>>> {
    let (input_tx, input_rx) = tokio::sync::mpsc::unbounded_channel::<std::io::Result<Event>>();
    std::thread::Builder::new().name("mzc-input".into()).spawn(move || loop {
        let ev = crossterm::event::read();
        let failed = ev.is_err();
        if input_tx.send(ev).is_err() || failed {
            break;
        }
    })?;
    Ok(input_rx)
}

/// The city console: the city status every second, keys, drawing (views::city).
async fn city_loop(lang: i18n::Lang, socket: PathBuf, first: Box<mz_shared::city::CityStatus>) -> anyhow::Result<()> {
    let (mut term, _guard) = setup_terminal()?;
    let theme = mzc::widgets::Theme { color: color_enabled() };
    let mut app = views::city::CityApp::new(lang, theme);
    app.on_status(*first);
    if let Some(alerts) = city_alerts(&socket).await {
        app.on_alerts(alerts);
    }
    let mut input_rx = read_input()?;
    let mut term_signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !app.quit {
        app.now_ms = now_ms();
        term.draw(|f| {
            let area = f.area();
            views::city::render(f.buffer_mut(), area, &app)
        })?;
        tokio::select! {
            ev = input_rx.recv() => match ev {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(anyhow::Error::new(e).context("cannot read the terminal")),
                None => break,
            },
            _ = tick.tick() => match city_status(&socket).await {
                Some(s) => {
                    app.on_status(*s);
                    if let Some(alerts) = city_alerts(&socket).await {
                        app.on_alerts(alerts);
                    }
                }
                None => app.error = Some(i18n::DISCONNECTED_BANNER.t(lang).to_owned()),
            },
            _ = term_signal.recv() => break,
        }
    }
    drop(term);
    restore_terminal();
    Ok(())
}

async fn event_loop(lang: i18n::Lang, socket: PathBuf, demo: bool) -> anyhow::Result<()> {
    let (mut term, _guard) = setup_terminal()?;
    let mut app = App::new(lang, color_enabled());
    app.demo = demo;
    app.on_tick(now_ms());

    let (client_tx, mut client_rx) = tokio::sync::mpsc::unbounded_channel();
    let connection = client::spawn(socket.clone(), client_tx.clone());

    let mut input_rx = read_input()?;

    let mut term_signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup_signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    loop {
        // One frame at a time: terminals that support synchronized output show it whole.
        execute!(std::io::stdout(), terminal::BeginSynchronizedUpdate)?;
        let drawn = term.draw(|f| views::draw(f, &app));
        execute!(std::io::stdout(), terminal::EndSynchronizedUpdate)?;
        drawn?;
        let action = tokio::select! {
            ev = input_rx.recv() => match ev {
                Some(Ok(Event::Key(key))) => app.on_key(key),
                Some(Ok(_)) => Action::None, // resize, focus, mouse: redraw only
                Some(Err(e)) => return Err(anyhow::Error::new(e).context("cannot read the terminal")),
                None => Action::Quit,
            },
            msg = client_rx.recv() => {
                if let Some(m) = msg {
                    app.on_client(m);
                }
                Action::None
            }
            _ = tick.tick() => {
                app.on_tick(now_ms());
                Action::None
            }
            _ = term_signal.recv() => Action::Quit,
            _ = hup_signal.recv() => Action::Quit,
        };
        match action {
            Action::None => {}
            Action::Quit => break,
            Action::Ack(id) => client::ack(socket.clone(), id, client_tx.clone()),
            Action::Case(request) => client::case_request(socket.clone(), request, client_tx.clone()),
            Action::Log(request) => client::log_request(socket.clone(), request, client_tx.clone()),
            Action::Task(request) => client::task_request(socket.clone(), request, client_tx.clone()),
            Action::Export => {
                let (name, csv) = app.export_csv();
                let path = export_dir().join(name);
                let result = write_private(&path, &csv).map(|()| path.display().to_string()).map_err(|e| e.to_string());
                tracing::info!(path = %path.display(), ?result, "export");
                app.export_done(result);
            }
            Action::Preview(path) => client::preview(socket.clone(), path, client_tx.clone()),
            Action::Report(kind, period) => views::report::fetch(socket.clone(), kind, period, client_tx.clone()),
        }
        if app.quit {
            break;
        }
        if let Some(ask) = app.wanted_case_page() {
            client::case_page(socket.clone(), ask.view, ask.offset, ask.limit, client_tx.clone());
        }
    }
    connection.abort();
    drop(term);
    restore_terminal();
    tracing::info!("mzc quit");
    Ok(())
}
