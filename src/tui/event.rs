//! The one event stream: terminal input (read on a thread of its own), the clock, and fetched
//! data, on one channel; and how an event becomes an [`Action`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{self as ct, MouseButton, MouseEventKind};

use crate::tui::app::{Action, App, Data};
use crate::tui::{keys, ui};

#[derive(Debug)]
pub enum Event {
    Key(ct::KeyEvent),
    Mouse(ct::MouseEvent),
    Resize(u16, u16),
    Tick,
    Data(Data),
    /// SIGTERM or SIGHUP: quit (and restore the terminal) as `Q` does.
    Terminate,
}

/// The mouse wheel moves this many rows.
const WHEEL_ROWS: usize = 3;

/// What `ev` means on the app's current view, if anything.
pub fn to_action(app: &App, ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if app.search_input.is_some() => keys::search_action(&k),
        Event::Key(k) if app.help => {
            // The help is a modal: any key that would act closes it instead (but `Q` quits).
            match keys::action(app.view(), &k) {
                Some(Action::Quit) => Some(Action::Quit),
                Some(_) => Some(Action::ToggleHelp),
                None => None,
            }
        }
        Event::Key(k) => keys::action(app.view(), &k),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => Some(Action::Scroll(WHEEL_ROWS as isize)),
            MouseEventKind::ScrollUp => Some(Action::Scroll(-(WHEEL_ROWS as isize))),
            MouseEventKind::Down(MouseButton::Left) => {
                ui::layout::list_row_at(app, m.row).map(Action::ClickRow)
            }
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::Tick => Some(Action::Tick),
        Event::Data(d) => Some(Action::Data(d)),
        Event::Terminate => Some(Action::Quit),
    }
}

/// Sends [`Event::Terminate`] on SIGTERM or SIGHUP (a closed terminal window), so the loop
/// quits through the same path as `Q` and the terminal guard restores the terminal. In raw mode
/// Ctrl-C is a key, not SIGINT.
pub fn forward_termination(runtime: &tokio::runtime::Handle, tx: Sender<Event>) {
    use tokio::signal::unix::{SignalKind, signal};
    runtime.spawn(async move {
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        let _ = tx.send(Event::Terminate);
    });
}

/// Reads terminal input on its own thread until stopped or the channel closes.
pub struct InputThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl InputThread {
    pub fn spawn(tx: Sender<Event>) -> InputThread {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("obs-tui-input".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // Poll with a timeout so that the thread notices `stop`.
                    match ct::poll(Duration::from_millis(50)) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(_) => break,
                    }
                    let ev = match ct::read() {
                        Ok(ct::Event::Key(k)) => Event::Key(k),
                        Ok(ct::Event::Mouse(m)) => Event::Mouse(m),
                        Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                        Ok(_) => continue,
                        Err(_) => break,
                    };
                    if tx.send(ev).is_err() {
                        break;
                    }
                }
            })
            .ok();
        InputThread { stop, handle }
    }

    /// Stops the thread and waits for it briefly. When the terminal is gone (a closed window,
    /// a killed tmux server) crossterm's read never returns, so the thread is left to end with
    /// the process rather than holding the exit up.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let deadline = std::time::Instant::now() + Duration::from_millis(300);
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}
