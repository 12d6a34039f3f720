//! `mzc`, the duty-floor console: app state, the daemon client, one module per view, widgets
//! and forms. The binary (`main.rs`) owns the terminal and the event loop.

pub mod app;
pub mod caseform;
pub mod client;
#[cfg(feature = "demo")]
pub mod demo;
pub mod i18n;
pub mod stationform;
pub mod views;
pub mod widgets;
