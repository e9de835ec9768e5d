//! The interactive SQL shell of `medallion sql`: a rustyline prompt with history in
//! `~/.medallion_history`; a statement may span lines and ends at `;`. `\d` lists the tables,
//! `\d TABLE` describes one, `\?` shows the commands, `\q` (or Ctrl-D) quits, Ctrl-C drops the
//! statement being typed. An error is printed and the shell goes on.

use std::path::PathBuf;

use datafusion::prelude::SessionContext;
use medallion_core::catalog::CatalogTable;
use medallion_core::{Error, Result};
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::catalog::{columns_batch, table_columns, tables_batch};
use super::output::{OutputFormat, ResultWriter};
use super::statements::run_sql;

/// The history file, in the home folder.
pub const HISTORY_FILE: &str = ".medallion_history";

const HELP: &str = "\
  SQL;          run a statement (it may span lines; it ends at ';')
  \\d            list the tables
  \\d TABLE      describe a table: column, type, nullable
  \\?            this help
  \\q            quit (or Ctrl-D); Ctrl-C drops the statement being typed";

/// What the shell does after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(HISTORY_FILE))
}

/// Whether `buffer` holds a complete statement: its last character outside quotes and comments
/// is `;`.
pub fn statement_complete(buffer: &str) -> bool {
    let mut last = None;
    let mut chars = buffer.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // A quoted string or identifier; a doubled quote is an escaped quote.
                let mut closed = false;
                while let Some(q) = chars.next() {
                    if q == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            closed = true;
                            break;
                        }
                    }
                }
                if !closed {
                    return false;
                }
                last = Some(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut previous = ' ';
                let mut closed = false;
                for n in chars.by_ref() {
                    if previous == '*' && n == '/' {
                        closed = true;
                        break;
                    }
                    previous = n;
                }
                if !closed {
                    return false;
                }
            }
            c if c.is_whitespace() => {}
            c => last = Some(c),
        }
    }
    last == Some(';')
}

/// The names of the tables and views registered in `ctx` that are not lake tables.
fn other_tables(ctx: &SessionContext, lake: &[CatalogTable]) -> Vec<String> {
    let state = ctx.state();
    let options = &state.config().options().catalog;
    let mut names = ctx
        .catalog(&options.default_catalog)
        .and_then(|catalog| catalog.schema(&options.default_schema))
        .map(|schema| schema.table_names())
        .unwrap_or_default();
    names.retain(|name| lake.iter().all(|t| t.name() != name));
    names.sort();
    names
}

async fn meta_command(ctx: &SessionContext, lake: &[CatalogTable], line: &str) -> Result<Flow> {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or_default();
    let argument = words.next();
    let mut writer = ResultWriter::stdout(OutputFormat::Table);
    match (command, argument) {
        ("\\q" | "\\quit", _) => return Ok(Flow::Quit),
        ("\\?" | "\\h" | "\\help", _) => println!("{HELP}"),
        ("\\d", None) => {
            let batch = tables_batch(lake)?;
            writer.write_batches(batch.schema(), &[batch]).await?;
            let others = other_tables(ctx, lake);
            if !others.is_empty() {
                println!("views and other tables: {}", others.join(", "));
            }
        }
        ("\\d", Some(table)) => {
            let columns = table_columns(ctx, lake, table).await?;
            let batch = columns_batch(&columns)?;
            writer.write_batches(batch.schema(), &[batch]).await?;
        }
        _ => {
            return Err(Error::invalid(
                "shell command",
                format!("{line} (\\? lists the commands)"),
            ));
        }
    }
    Ok(Flow::Continue)
}

/// Runs the shell until `\q` or end of input.
pub async fn run(ctx: &SessionContext, lake: &[CatalogTable], format: OutputFormat) -> Result<()> {
    let terminal = |e: ReadlineError| Error::invalid("terminal", e.to_string());
    let mut editor = DefaultEditor::new().map_err(terminal)?;
    let history = history_path();
    if let Some(path) = &history {
        // No history yet is fine.
        let _ = editor.load_history(path);
    }
    println!(
        "medallion SQL shell: {} lake table{}. Statements end with ';'; \\d lists tables, \\? helps, \\q quits.",
        lake.len(),
        if lake.len() == 1 { "" } else { "s" }
    );
    let mut writer = ResultWriter::stdout(format);
    writer.report_rows = true;
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "medallion> "
        } else {
            "        -> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if buffer.trim().is_empty() && line.trim_start().starts_with('\\') {
                    let _ = editor.add_history_entry(line.trim());
                    match meta_command(ctx, lake, line.trim()).await {
                        Ok(Flow::Quit) => break,
                        Ok(Flow::Continue) => {}
                        Err(e) => eprintln!("error: {e}"),
                    }
                    continue;
                }
                if buffer.is_empty() && line.trim().is_empty() {
                    continue;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if statement_complete(&buffer) {
                    let sql = std::mem::take(&mut buffer);
                    let _ = editor.add_history_entry(sql.trim());
                    if let Err(e) = run_sql(ctx, &sql, &mut writer).await {
                        eprintln!("error: {e}");
                    }
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(terminal(e)),
        }
    }
    if let Some(path) = &history
        && let Err(e) = editor.save_history(path)
    {
        tracing::warn!(path = %path.display(), error = %e, "could not save the shell history");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_a_semicolon_outside_quotes_and_comments() {
        assert!(statement_complete("SELECT 1;"));
        assert!(statement_complete("SELECT 1;\n"));
        assert!(statement_complete("SELECT\n  1 ; -- done\n"));
        assert!(!statement_complete("SELECT 1"));
        assert!(!statement_complete("SELECT ';"));
        assert!(!statement_complete("SELECT 'a;'"));
        assert!(statement_complete("SELECT 'it''s';"));
        assert!(!statement_complete("SELECT 1 -- ;"));
        assert!(!statement_complete("SELECT 1 /* ; */"));
        assert!(statement_complete("SELECT 1 /* x */;"));
        assert!(!statement_complete("SELECT \"a;"));
        assert!(!statement_complete(""));
    }
}
