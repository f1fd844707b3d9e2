//! Reading the HR export: its encoding, delimiter, header and rows. A row that cannot be read
//! (a wrong number of fields, a control character) is reported with its line, and the rows
//! after it are still read, so one dry run lists every problem.

use crate::domain::text::{TextKind, check_text};

use super::super::FieldError;
use super::super::user_input::UserInput;
use super::COLUMNS;

/// One parsed row: its line number and the fields as a `UserInput`.
pub(super) struct Row {
    pub line: usize,
    pub input: UserInput,
}

/// Decodes and splits the file: the rows that can be read, and a problem with its line for each
/// that cannot. `Err` when nothing can be read (not UTF-8, a wrong header).
pub(super) fn parse(bytes: &[u8]) -> Result<(Vec<Row>, Vec<FieldError>), Vec<FieldError>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(vec![FieldError::at(line, "file", "the file is not UTF-8 (save it as CSV UTF-8)")]);
        }
    };
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.contains(';') && !first.contains(',') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![FieldError::at(1, "header", e.to_string())]),
    };
    if header != COLUMNS {
        let missing: Vec<&str> = COLUMNS.iter().filter(|c| !header.iter().any(|h| h == *c)).copied().collect();
        let unknown: Vec<&str> = header.iter().filter(|h| !COLUMNS.contains(&h.as_str())).map(String::as_str).collect();
        let reason = format!(
            "expected columns {}; missing: [{}], unknown: [{}]",
            COLUMNS.join(","),
            missing.join(","),
            unknown.join(",")
        );
        return Err(vec![FieldError::at(1, "header", reason)]);
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                errors.push(FieldError::at(line, "row", e.to_string()));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.len() != COLUMNS.len() {
            let reason = format!("expected {} fields, found {}", COLUMNS.len(), record.len());
            errors.push(FieldError::at(line, "row", reason));
            continue;
        }
        let cell_errors = record.iter().zip(COLUMNS).filter_map(|(cell, column)| {
            check_text(TextKind::Line, cell.trim()).err().map(|e| FieldError::at(line, column, e.to_string()))
        });
        let before = errors.len();
        errors.extend(cell_errors);
        if errors.len() > before {
            continue;
        }
        let field = |i: usize| Some(record[i].trim().to_owned()).filter(|s| !s.is_empty());
        let input = UserInput {
            nip: field(0),
            name: record[1].trim().to_owned(),
            front_title: field(2),
            back_title: field(3),
            jabatan: field(4),
            golongan: field(5),
            org_unit: field(6),
            email: field(7),
            phone: field(8),
            employment_type: field(9),
            status: field(10),
            ..UserInput::default()
        };
        rows.push(Row { line, input });
    }
    Ok((rows, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_header_names_missing_and_unknown_columns() {
        let errors = parse(b"nip,nama,foo\n").err().unwrap();
        assert_eq!(errors[0].line, Some(1));
        assert!(errors[0].reason.contains("unknown: [foo]"), "{}", errors[0].reason);
    }

    #[test]
    fn ragged_rows_and_bad_encoding_are_reported_with_their_line() {
        let mut file = COLUMNS.join(",").into_bytes();
        file.extend_from_slice(b"\n1,2,3\n");
        file.extend_from_slice(b"199001012015031001,Budi,,,Analis,III/a,DISKOMINFO,,,PNS,aktif\n4,5\n");
        let (rows, errors) = parse(&file).ok().unwrap();
        let lines: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(lines, [(Some(2), "row"), (Some(4), "row")], "every ragged row, not only the first");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3], "the rows between are still read");
        let mut latin1 = COLUMNS.join(";").into_bytes();
        latin1.extend_from_slice(b"\n;Jos\xe9;;;;;;;;;\n");
        let errors = parse(&latin1).err().unwrap();
        assert_eq!((errors[0].line, errors[0].field.as_str()), (Some(2), "file"));
    }

    #[test]
    fn semicolon_files_and_a_byte_order_mark_are_accepted() {
        let file =
            format!("\u{feff}{}\n199001012015031001;Budi;;;Analis;III/a;DISKOMINFO;;;PNS;aktif\n", COLUMNS.join(";"));
        let (rows, _) = parse(file.as_bytes()).ok().unwrap();
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].input.org_unit.as_deref(), Some("DISKOMINFO"));
    }
}
