//! `mzc`, the duty-floor console: app state, the daemon client, one module per view, widgets
//! and forms. The binary (`main.rs`) owns the terminal and the event loop.
//!
//! Layers, each importing only those above it (checked by the `layering` test): `i18n`,
//! `lists`, `casepage` (the page of the case queue held), `widgets` (with the one form widget) and `client`; the forms (`caseform`,
//! `stationform`); `modal` (the popup stack); `app` (the state); `keymap` and `palette`;
//! `views` (drawing); `control` (keys and events); `demo`.

pub mod app;
pub(crate) mod caseform;
pub mod casepage;
pub mod client;
pub(crate) mod control;
#[cfg(feature = "demo")]
pub mod demo;
pub mod i18n;
pub(crate) mod keymap;
#[cfg(test)]
mod layering;
pub(crate) mod lists;
pub(crate) mod modal;
pub(crate) mod palette;
pub(crate) mod stationform;
pub mod views;
pub mod widgets;
