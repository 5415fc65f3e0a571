//! A finished query's rows (`--results`, DLI's `/preview`), as each output shows them: an
//! aligned table or RFC 4180 CSV or JSON lines on stdout, a `result` JSON event, a bounded
//! Markdown table in the step summary, and the one-line notes (rows left out, no result, the
//! default queue). Pure renderers: every cell is outside text and goes through the sanitiser
//! of the output it is written to (`safe`).

use super::limits::cut;
use super::safe::{Scrubber, csv_field_with, json_with, line_with, md_text_with};
use crate::cli::{ResultFormat, flag};
use crate::dli::model::{PREVIEW_CELL_CHARS_KEPT, PREVIEW_COLUMNS_KEPT, PreviewResult};
use crate::wait::record::{JobReport, Results};
use serde_json::{Map, Value, json};

/// How many rows a failed check's message shows (the closing line, the annotation).
pub const CHECK_ROWS_SHOWN: usize = 3;
/// The most characters of a cell in the table format (`…` past it).
pub const TABLE_CELL_CHARS: usize = 40;
/// The most rows and characters per cell of the step summary's table.
pub const SUMMARY_ROWS: usize = crate::wait::record::ROWS_KEPT_UNSHOWN;
pub const SUMMARY_CELL_CHARS: usize = 100;
/// How many rows DLI's preview gives at most.
pub const PREVIEW_ROWS: usize = 1000;

/// `18,204`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A cell as text: a string as it is, `null` as nothing, anything else as JSON.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The column names: the schema's, and `c<N>` for cells past it (or with no name).
fn columns(p: &PreviewResult) -> Vec<String> {
    let width = p
        .rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(p.schema.len());
    (0..width)
        .map(|i| match p.schema.get(i) {
            Some(c) if !c.name.is_empty() => c.name.clone(),
            _ => format!("c{}", i + 1),
        })
        .collect()
}

/// Row `row`'s cells, one per column (missing ones `null`).
fn cells(row: &[Value], n: usize) -> impl Iterator<Item = &Value> {
    (0..n).map(move |i| row.get(i).unwrap_or(&Value::Null))
}

/// The rows as `format` prints them on stdout (human output mode), ending in a newline; empty
/// for a preview with no columns.
pub fn render(scrubber: &Scrubber, p: &PreviewResult, format: ResultFormat) -> String {
    let names = columns(p);
    if names.is_empty() {
        return String::new();
    }
    match format {
        ResultFormat::Table => table(scrubber, p, &names),
        ResultFormat::Csv => csv(scrubber, p, &names),
        ResultFormat::Json => p
            .rows
            .iter()
            .map(|row| json_row(scrubber, &names, row))
            .collect(),
    }
}

/// One row as one JSON object on a line, its keys in the columns' order, types kept.
fn json_row(scrubber: &Scrubber, names: &[String], row: &[Value]) -> String {
    let fields: Vec<String> = names
        .iter()
        .zip(cells(row, names.len()))
        .map(|(n, v)| {
            format!(
                "{}:{}",
                json_with(scrubber, &json!(n)),
                json_with(scrubber, v)
            )
        })
        .collect();
    format!("{{{}}}\n", fields.join(","))
}

fn object(names: &[String], row: &[Value]) -> Map<String, Value> {
    names
        .iter()
        .cloned()
        .zip(cells(row, names.len()).cloned())
        .collect()
}

/// Aligned columns, two spaces apart, under a header and a rule; each cell one line (line
/// breaks as `⏎`, escapes visible) cut to [`TABLE_CELL_CHARS`].
fn table(scrubber: &Scrubber, p: &PreviewResult, names: &[String]) -> String {
    let cell = |t: &str| cut(&line_with(scrubber, t), TABLE_CELL_CHARS).into_owned();
    let mut grid: Vec<Vec<String>> = vec![names.iter().map(|n| cell(n)).collect()];
    for row in &p.rows {
        grid.push(
            cells(row, names.len())
                .map(|v| cell(&cell_text(v)))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..names.len())
        .map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    grid.insert(1, rule);
    let mut out = String::new();
    for row in grid {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// RFC 4180: a header row, fields quoted when they hold `,` `"` or a line break (`"`
/// doubled), records ended by CRLF; `null` is an empty field.
fn csv(scrubber: &Scrubber, p: &PreviewResult, names: &[String]) -> String {
    let record = |fields: Vec<String>| {
        let f: Vec<String> = fields.iter().map(|t| csv_field_with(scrubber, t)).collect();
        f.join(",") + "\r\n"
    };
    let mut out = record(names.to_vec());
    for row in &p.rows {
        out.push_str(&record(cells(row, names.len()).map(cell_text).collect()));
    }
    out
}

/// How many rows the query has in all: DLI's `result_count`, else the preview's.
fn total(r: &JobReport, p: &PreviewResult) -> u64 {
    r.figures()
        .and_then(|f| f.result_rows)
        .or_else(|| p.row_count.and_then(|n| u64::try_from(n).ok()))
        .unwrap_or(p.rows_read() as u64)
}

/// The line said beside the rows (stderr, the JSON event's `note`): rows left out, no
/// result, the default queue, a read that failed; `None` when every row is shown.
pub fn note(r: &JobReport) -> Option<String> {
    let id = &r.job_id;
    match r.results.as_ref()? {
        Results::Rows(p) if p.schema.is_empty() && p.rows.is_empty() => Some(no_result(id)),
        Results::Rows(p) => {
            let (shown, all) = (p.rows.len() as u64, total(r, p));
            let mut said = Vec::new();
            if all > shown {
                said.push(format!(
                    "{} of {} rows shown (DLI's preview gives the first {PREVIEW_ROWS} at most)",
                    fmt_count(shown),
                    fmt_count(all)
                ));
            }
            let left = p.left_out;
            if left.columns > 0 {
                said.push(format!(
                    "the first {} of {} columns shown (dli-wait keeps {} at most)",
                    fmt_count(PREVIEW_COLUMNS_KEPT as u64),
                    fmt_count((PREVIEW_COLUMNS_KEPT + left.columns) as u64),
                    fmt_count(PREVIEW_COLUMNS_KEPT as u64),
                ));
            }
            if left.cells_cut > 0 {
                said.push(format!(
                    "{} cells cut to {} characters",
                    fmt_count(left.cells_cut as u64),
                    fmt_count(PREVIEW_CELL_CHARS_KEPT as u64)
                ));
            }
            (!said.is_empty()).then(|| format!("job {id}: {}", said.join("; ")))
        }
        Results::NoResult => Some(no_result(id)),
        Results::DefaultQueue => Some(default_queue(id)),
        Results::Unreadable(e) => Some(format!("job {id}: its results could not be read: {e}")),
    }
}

fn no_result(id: &str) -> String {
    format!(
        "job {id} has no result to show (an INSERT, DDL or other statement that returns no rows)"
    )
}

/// The default queue's refusal, in one line naming the cause and the fix.
pub fn default_queue(id: &str) -> String {
    format!(
        "job {id} ran on DLI's `default` queue, whose results DLI does not give (\"Do not support use default queue to getJobResult\"): run it on a queue of your own ({} NAME)",
        flag::QUEUE
    )
}

/// The `result` JSON event (before the summary, `--output json`) at `time`: the columns, every
/// row as an object (types kept), how many were shown of how many, and the note.
pub fn event(r: &JobReport, time: &str) -> Option<Value> {
    let results = r.results.as_ref()?;
    let mut v = json!({"event": "result", "time": time, "job_id": r.job_id});
    if let Results::Rows(p) = results {
        let names = columns(p);
        v["columns"] = Value::Array(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"name": n, "type": p.schema.get(i).map(|c| c.kind.as_str())}))
                .collect(),
        );
        v["rows"] = Value::Array(
            p.rows
                .iter()
                .map(|row| Value::Object(object(&names, row)))
                .collect(),
        );
        v["rows_shown"] = json!(p.rows.len());
        v["result_rows"] = json!(total(r, p));
    }
    v["note"] = json!(note(r));
    Some(v)
}

/// The first `n` rows as one line of plain text (`1, alice; 2, bob`), for a failed check's
/// message (each output sanitises it where it writes it).
pub fn first_rows(r: &JobReport, n: usize) -> Option<String> {
    let Some(Results::Rows(p)) = &r.results else {
        return None;
    };
    let width = columns(p).len();
    let rows: Vec<String> = p
        .rows
        .iter()
        .take(n)
        .map(|row| {
            cells(row, width)
                .map(|c| cut(&cell_text(c), TABLE_CELL_CHARS).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    (!rows.is_empty()).then(|| rows.join("; "))
}

/// The step summary's table of a job's first rows ([`SUMMARY_ROWS`], each cell
/// [`SUMMARY_CELL_CHARS`]), or its note; empty when there is nothing to say.
pub fn markdown(scrubber: &Scrubber, r: &JobReport) -> String {
    let mut md = String::new();
    if let Some(Results::Rows(p)) = &r.results {
        let names = columns(p);
        if !names.is_empty() {
            let cell = |t: &str| cut(&md_text_with(scrubber, t), SUMMARY_CELL_CHARS).into_owned();
            md.push_str(&format!(
                "\n**Result of {}**\n\n",
                super::safe::md_code_with(scrubber, &r.job_id)
            ));
            let head: Vec<String> = names.iter().map(|n| cell(n)).collect();
            md.push_str(&format!("| {} |\n", head.join(" | ")));
            md.push_str(&format!("|{}\n", "---|".repeat(names.len())));
            for row in p.rows.iter().take(SUMMARY_ROWS) {
                let line: Vec<String> = cells(row, names.len())
                    .map(|v| cell(&cell_text(v)))
                    .collect();
                md.push_str(&format!("| {} |\n", line.join(" | ")));
            }
            let shown = p.rows.len().min(SUMMARY_ROWS) as u64;
            let all = total(r, p);
            if all > shown {
                md.push_str(&format!(
                    "\n_{} of {} rows shown._\n",
                    fmt_count(shown),
                    fmt_count(all)
                ));
            }
            return md;
        }
    }
    if let Some(n) = note(r) {
        md.push_str(&format!("\n_{}_\n", md_text_with(scrubber, &n)));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dli::model::Column;
    use crate::report::sink::testing::{ID, ended};
    use crate::wait::outcome::Outcome;

    fn preview(rows: usize, cell: &str) -> PreviewResult {
        PreviewResult {
            schema: vec![
                Column {
                    name: "n".into(),
                    kind: "int".into(),
                },
                Column {
                    name: "text".into(),
                    kind: "string".into(),
                },
            ],
            rows: (0..rows).map(|i| vec![json!(i), json!(cell)]).collect(),
            ..PreviewResult::default()
        }
    }

    /// The bounds README states: a table cell is cut to 40 characters; the step summary shows
    /// 20 rows, each cell cut to 100, and says how many of how many.
    #[test]
    fn tables_are_bounded_as_readme_says() {
        let none = Scrubber::new::<&str>([]);
        let long = "y".repeat(500);
        let text = render(&none, &preview(3, &long), ResultFormat::Table);
        for line in text.lines().skip(2) {
            let cell = line.split("  ").last().unwrap_or_default();
            assert!(cell.starts_with(&"y".repeat(TABLE_CELL_CHARS)), "{cell}");
            assert!(cell.ends_with("(460 more characters)"), "{cell}");
        }
        let mut r = ended(ID, Outcome::Finished);
        r.results = Some(Results::Rows(preview(50, &long)));
        let md = markdown(&none, &r);
        let rows = md.lines().filter(|l| l.starts_with("| ")).count();
        assert_eq!(rows, 1 + SUMMARY_ROWS, "{md}");
        assert!(md.contains("_20 of 50 rows shown._"), "{md}");
        assert!(
            md.lines()
                .filter(|l| l.starts_with("| 1"))
                .all(|l| l.chars().count() < 2 * SUMMARY_CELL_CHARS),
            "{md}"
        );
        // A failed check's message shows the first few rows, each cell cut to 40.
        let first = first_rows(&r, CHECK_ROWS_SHOWN).unwrap_or_default();
        assert_eq!(first.matches("; ").count(), CHECK_ROWS_SHOWN - 1, "{first}");
        assert!(first.chars().count() < 3 * 80, "{first}");
    }

    /// Cells past the schema get a name; missing cells are empty; `null` is an empty field.
    #[test]
    fn ragged_rows_keep_their_columns() {
        let none = Scrubber::new::<&str>([]);
        let p = PreviewResult {
            schema: vec![Column {
                name: "a".into(),
                kind: "int".into(),
            }],
            rows: vec![vec![json!(1), json!("x")], vec![], vec![Value::Null]],
            ..PreviewResult::default()
        };
        assert_eq!(
            render(&none, &p, ResultFormat::Csv),
            "a,c2\r\n1,x\r\n,\r\n,\r\n"
        );
        assert_eq!(
            render(&none, &p, ResultFormat::Json),
            "{\"a\":1,\"c2\":\"x\"}\n{\"a\":null,\"c2\":null}\n{\"a\":null,\"c2\":null}\n"
        );
    }

    /// An RFC 4180 reader: records of fields (quoted fields may hold `,`, `""` and line breaks).
    fn read_csv(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let (mut record, mut field) = (Vec::new(), String::new());
        let (mut quoted, mut chars) = (false, text.chars().peekable());
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                (false, c) => field.push(c),
            }
        }
        records
    }

    proptest::proptest! {
        /// Whatever the cells (printable text with commas, quotes, line breaks), the CSV reads
        /// back as the rows it came from, one record per row after the header; and the table
        /// is one line per row, with no character a terminal would act on.
        #[test]
        fn csv_reads_back_and_the_table_keeps_one_line_per_row(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-z ,\"\n|<>é]{0,12}", 2), 0..8)
        ) {
            let none = Scrubber::new::<&str>([]);
            let mut p = preview(0, "");
            p.rows = rows.iter().map(|r| r.iter().map(|c| json!(c)).collect()).collect();
            let csv = render(&none, &p, ResultFormat::Csv);
            let back = read_csv(&csv);
            proptest::prop_assert_eq!(back.len(), rows.len() + 1);
            proptest::prop_assert_eq!(&back[0], &vec!["n".to_string(), "text".to_string()]);
            for (got, want) in back[1..].iter().zip(&rows) {
                proptest::prop_assert_eq!(got, want);
            }
            let table = render(&none, &p, ResultFormat::Table);
            proptest::prop_assert_eq!(table.lines().count(), rows.len() + 2);
            proptest::prop_assert!(!table.chars().any(|c| crate::report::safe::is_hazard(c) && c != '\n'));
        }
    }
}
