//! `obs doctor` as text: one table row per check (backend, check, state, detail), then what to
//! do about each missing or failed one. Pure: the probing is `source::probe`.

use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};

use crate::model::capabilities::{CheckState, DoctorReport};

pub fn render(report: &DoctorReport, width: u16) -> String {
    let mut t = Table::new();
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─')))
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(["backend", "check", "state", "detail"]);
    let mut fixes = Vec::new();
    for b in &report.backends {
        let version = b.version.as_deref().unwrap_or("version unknown");
        t.add_row([
            format!("{} ({})", b.kind, b.signal),
            "url".into(),
            String::new(),
            format!("{} ({version})", b.url),
        ]);
        for c in &b.checks {
            let state = match (c.state, c.required) {
                (CheckState::Ok, _) => "ok",
                (CheckState::Unknown, _) => "unknown",
                (CheckState::Missing, true) => "MISSING",
                (CheckState::Missing, false) => "missing",
                (CheckState::Failed, true) => "FAILED",
                (CheckState::Failed, false) => "failed",
            };
            t.add_row([
                String::new(),
                c.name.clone(),
                state.into(),
                c.detail.clone(),
            ]);
            if let Some(fix) = &c.fix {
                let need = if c.blocks() { "needed" } else { "optional" };
                fixes.push(format!("- {} {} ({need}): {fix}", b.kind, c.name));
            }
        }
    }
    let mut out = format!("context {}\n{t}\n", report.context);
    if let Some(store) = &report.default_store {
        out.push_str(&format!(
            "default store {store}: read when no backend is configured\n"
        ));
    }
    if !fixes.is_empty() {
        out.push_str("\nwhat to do:\n");
        for f in fixes {
            out.push_str(&f);
            out.push('\n');
        }
    }
    out.push_str(if report.ok {
        "\ninvestigate has what it needs\n"
    } else {
        "\ninvestigate is missing something it needs (see above)\n"
    });
    out
}
