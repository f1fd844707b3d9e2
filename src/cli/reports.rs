//! `pintu admin periodic-report`: the monthly report from the command line, as the office.

use anyhow::bail;

use pintu::app::App;
use pintu::clock::{Clock, SystemClock};
use pintu::directory::{Actor, Month, periodic_csv};
use pintu::web::views::PeriodicReportView;

use super::{print_json, refused_dir};

pub async fn periodic(
    app: &App,
    actor: &Actor,
    month: Option<String>,
    format: &str,
    lang: &str,
    list: bool,
) -> anyhow::Result<()> {
    let d = &app.state.directory;
    if list {
        return print_json(&d.periodic_reports(actor).await.map_err(refused_dir)?);
    }
    let offset = app.state.reports.utc_offset_hours;
    let month = match month {
        Some(text) => Month::parse(&text).map_err(refused_dir)?,
        None => Month::last_complete(SystemClock.now(), offset),
    };
    let (report, _) = d.periodic_report_for(actor, month, offset).await.map_err(refused_dir)?;
    match format {
        "json" => print_json(&report),
        "csv" => {
            print!("{}", periodic_csv(&report));
            Ok(())
        }
        "html" => {
            if !matches!(lang, "id" | "en") {
                bail!("--lang: use id or en");
            }
            print!("{}", app.state.views.render("report.html", lang, &PeriodicReportView::new(&report))?);
            Ok(())
        }
        other => bail!("--format {other}: use json, csv or html"),
    }
}
