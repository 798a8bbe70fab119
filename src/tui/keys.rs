//! Which key does what on which view: one table per view plus the global keys, read both to map
//! a key press to an [`Action`] and to draw the help (`?`), so the help never lies.
//!
//! Vim keys and arrow keys both work; `q`/`Esc` go back and `Q`/Ctrl-C quit everywhere, as in
//! k9s and lazygit. No state lives here.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::app::{Action, View};

/// One binding: the keys as the help shows them, what they do, and how they match.
pub struct Binding {
    pub keys: &'static str,
    pub help: &'static str,
    matches: fn(&KeyEvent) -> bool,
    action: fn() -> Action,
}

macro_rules! bind {
    ($keys:expr, $help:expr, |$k:ident| $m:expr, $action:expr) => {
        Binding {
            keys: $keys,
            help: $help,
            matches: |$k: &KeyEvent| $m,
            action: || $action,
        }
    };
}

fn ch(k: &KeyEvent, c: char) -> bool {
    k.code == KeyCode::Char(c) && !k.modifiers.contains(KeyModifiers::CONTROL)
}

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.code == KeyCode::Char(c) && k.modifiers.contains(KeyModifiers::CONTROL)
}

/// Keys that work on every view.
pub static GLOBAL: &[Binding] = &[
    bind!(
        "?",
        "show or hide this help",
        |k| ch(k, '?'),
        Action::ToggleHelp
    ),
    bind!(
        "q Esc",
        "back (quit from the first view)",
        |k| ch(k, 'q') || k.code == KeyCode::Esc,
        Action::Back
    ),
    bind!(
        "Q Ctrl-C",
        "quit",
        |k| ch(k, 'Q') || ctrl(k, 'c'),
        Action::Quit
    ),
    bind!(
        "1",
        "overview",
        |k| ch(k, '1'),
        Action::Goto(View::Overview)
    ),
    bind!("2", "traces", |k| ch(k, '2'), Action::Goto(View::Traces)),
    bind!(
        "3",
        "waterfall of the last trace opened",
        |k| ch(k, '3'),
        Action::Goto(View::Waterfall)
    ),
    bind!(
        "4",
        "the last logs opened",
        |k| ch(k, '4'),
        Action::Goto(View::Logs)
    ),
];

/// Moving in a list.
static LIST: &[Binding] = &[
    bind!(
        "j ↓",
        "next row",
        |k| ch(k, 'j') || k.code == KeyCode::Down,
        Action::Down
    ),
    bind!(
        "k ↑",
        "previous row",
        |k| ch(k, 'k') || k.code == KeyCode::Up,
        Action::Up
    ),
    bind!(
        "PgDn Ctrl-D",
        "page down",
        |k| k.code == KeyCode::PageDown || ctrl(k, 'd') || ctrl(k, 'f'),
        Action::PageDown
    ),
    bind!(
        "PgUp Ctrl-U",
        "page up",
        |k| k.code == KeyCode::PageUp || ctrl(k, 'u') || ctrl(k, 'b'),
        Action::PageUp
    ),
    bind!(
        "g Home",
        "first row",
        |k| ch(k, 'g') || k.code == KeyCode::Home,
        Action::Top
    ),
    bind!(
        "G End",
        "last row",
        |k| ch(k, 'G') || k.code == KeyCode::End,
        Action::Bottom
    ),
];

static OVERVIEW: &[Binding] = &[
    bind!(
        "Enter",
        "open the selected candidate",
        |k| k.code == KeyCode::Enter,
        Action::Open
    ),
    bind!(
        "t",
        "traces: exemplars and followed traces",
        |k| ch(k, 't'),
        Action::Goto(View::Traces)
    ),
];

static CANDIDATE: &[Binding] = &[
    bind!(
        "j k ↓ ↑",
        "next or previous candidate",
        |k| ch(k, 'j') || k.code == KeyCode::Down,
        Action::Down
    ),
    bind!("", "", |k| ch(k, 'k') || k.code == KeyCode::Up, Action::Up),
    bind!(
        "s",
        "shift the candidate by its lag, or show it as measured",
        |k| ch(k, 's'),
        Action::ToggleLagShift
    ),
    bind!(
        "x Enter",
        "its exemplars' traces",
        |k| ch(k, 'x') || k.code == KeyCode::Enter,
        Action::Exemplars
    ),
    bind!(
        "t",
        "all traces",
        |k| ch(k, 't'),
        Action::Goto(View::Traces)
    ),
];

static TRACES: &[Binding] = &[
    bind!(
        "Enter",
        "open the trace's waterfall",
        |k| k.code == KeyCode::Enter || ch(k, 'l') || k.code == KeyCode::Right,
        Action::Open
    ),
    bind!(
        "s",
        "sort by duration, errors, time",
        |k| ch(k, 's'),
        Action::CycleSort
    ),
    bind!(
        "f",
        "filter by service (cycles; all at the end)",
        |k| ch(k, 'f'),
        Action::CycleServiceFilter
    ),
];

static WATERFALL: &[Binding] = &[
    bind!(
        "h ←",
        "collapse the subtree, or go to the parent",
        |k| ch(k, 'h') || k.code == KeyCode::Left,
        Action::Collapse
    ),
    bind!(
        "l →",
        "expand the subtree",
        |k| ch(k, 'l') || k.code == KeyCode::Right,
        Action::Expand
    ),
    bind!(
        "Space",
        "collapse or expand",
        |k| k.code == KeyCode::Char(' '),
        Action::ToggleCollapse
    ),
    bind!(
        "+ -",
        "expand all, collapse all",
        |k| ch(k, '+') || ch(k, '='),
        Action::ExpandAll
    ),
    bind!("", "", |k| ch(k, '-'), Action::CollapseAll),
    bind!(
        "c C",
        "next, previous span on the critical path",
        |k| ch(k, 'c'),
        Action::NextCritical
    ),
    bind!("", "", |k| ch(k, 'C'), Action::PrevCritical),
    bind!(
        "e E",
        "next, previous error span",
        |k| ch(k, 'e'),
        Action::NextError
    ),
    bind!("", "", |k| ch(k, 'E'), Action::PrevError),
    bind!(
        "/",
        "search span names, services, attributes",
        |k| ch(k, '/'),
        Action::StartSearch
    ),
    bind!(
        "n N",
        "next, previous match",
        |k| ch(k, 'n'),
        Action::NextMatch
    ),
    bind!("", "", |k| ch(k, 'N'), Action::PrevMatch),
    bind!(
        "Enter d",
        "span details: attributes, events, exceptions, links, resource",
        |k| k.code == KeyCode::Enter || ch(k, 'd'),
        Action::ToggleDetail
    ),
    bind!(
        "s",
        "logs of the selected span",
        |k| ch(k, 's'),
        Action::SpanLogs
    ),
    bind!(
        "L",
        "logs of the whole trace",
        |k| ch(k, 'L'),
        Action::TraceLogs
    ),
];

static LOGS: &[Binding] = &[
    bind!(
        "w",
        "wrap long lines, or cut them",
        |k| ch(k, 'w'),
        Action::ToggleWrap
    ),
    bind!(
        "Enter",
        "open the trace the line names",
        |k| k.code == KeyCode::Enter,
        Action::Open
    ),
];

/// True for the list-movement keys (the help shows them on one row).
pub fn is_list(b: &Binding) -> bool {
    LIST.iter().any(|l| std::ptr::eq(l, b))
}

/// True for the `1`–`4` view jumps (the help shows them on one row).
pub fn is_jump(b: &Binding) -> bool {
    GLOBAL[3..].iter().any(|l| std::ptr::eq(l, b))
}

/// The bindings of `view`, its own first, then list movement where it is a list.
pub fn bindings(view: View) -> Vec<&'static Binding> {
    let own: &[Binding] = match view {
        View::Overview => OVERVIEW,
        View::Candidate => CANDIDATE,
        View::Traces => TRACES,
        View::Waterfall => WATERFALL,
        View::Logs => LOGS,
    };
    let list: &[Binding] = match view {
        View::Candidate => &[],
        _ => LIST,
    };
    own.iter().chain(list).chain(GLOBAL).collect()
}

/// The action of a key press on `view`, if the key does something there.
pub fn action(view: View, key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    bindings(view)
        .into_iter()
        .find(|b| (b.matches)(key))
        .map(|b| (b.action)())
}

/// While a search is typed: characters go into it; Enter confirms, Esc cancels.
pub fn search_action(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    match key.code {
        KeyCode::Enter => Some(Action::SearchConfirm),
        KeyCode::Esc => Some(Action::SearchCancel),
        KeyCode::Backspace => Some(Action::SearchBackspace),
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Quit),
        KeyCode::Char(c) => Some(Action::SearchInput(c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn vim_and_arrow_keys_both_move() {
        for view in [View::Overview, View::Traces, View::Waterfall, View::Logs] {
            for code in [KeyCode::Char('j'), KeyCode::Down] {
                assert!(
                    matches!(action(view, &key(code)), Some(Action::Down)),
                    "{view:?}"
                );
            }
            for code in [KeyCode::Char('k'), KeyCode::Up] {
                assert!(
                    matches!(action(view, &key(code)), Some(Action::Up)),
                    "{view:?}"
                );
            }
        }
    }

    #[test]
    fn q_goes_back_and_shift_q_and_ctrl_c_quit_everywhere() {
        for view in [
            View::Overview,
            View::Candidate,
            View::Traces,
            View::Waterfall,
            View::Logs,
        ] {
            assert!(matches!(
                action(view, &key(KeyCode::Char('q'))),
                Some(Action::Back)
            ));
            assert!(matches!(
                action(view, &key(KeyCode::Esc)),
                Some(Action::Back)
            ));
            assert!(matches!(
                action(view, &key(KeyCode::Char('Q'))),
                Some(Action::Quit)
            ));
            let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
            assert!(
                matches!(action(view, &ctrl_c), Some(Action::Quit)),
                "{view:?}"
            );
        }
        // `c` alone on the waterfall is the critical path, not quit.
        assert!(matches!(
            action(View::Waterfall, &key(KeyCode::Char('c'))),
            Some(Action::NextCritical)
        ));
    }

    #[test]
    fn every_binding_with_keys_has_help_and_no_key_is_bound_twice_on_a_view() {
        for view in [
            View::Overview,
            View::Candidate,
            View::Traces,
            View::Waterfall,
            View::Logs,
        ] {
            let mut seen = Vec::new();
            for b in bindings(view) {
                assert_eq!(b.keys.is_empty(), b.help.is_empty(), "{view:?} {}", b.keys);
                for k in b.keys.split(' ').filter(|k| !k.is_empty()) {
                    assert!(!seen.contains(&k), "{view:?}: {k} bound twice");
                    seen.push(k);
                }
            }
        }
    }
}
