//! Whether a file sink's folder could take a run, found without writing anything: it is a writable
//! folder, or would be created under one.

use std::path::Path;

use crate::error::{Error, Result};

/// The nearest existing ancestor of `path` (itself included).
fn existing_ancestor(path: &Path) -> Option<&Path> {
    path.ancestors()
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .or_else(|| path.is_relative().then_some(Path::new(".")))
}

/// Checks the sink folder `dir`; returns what was found, in words.
pub(crate) fn check_folder(dir: &Path) -> Result<String> {
    let not_writable = |message: String| Error::invalid("sink URL", message);
    let Some(existing) = existing_ancestor(dir) else {
        return Err(not_writable(format!(
            "{}: no existing parent folder",
            dir.display()
        )));
    };
    let meta = std::fs::metadata(existing).map_err(|e| Error::io("checking", existing, e))?;
    if !meta.is_dir() {
        return Err(not_writable(format!(
            "{} is a file, not a folder",
            existing.display()
        )));
    }
    if meta.permissions().readonly() {
        return Err(not_writable(format!("{} is read-only", existing.display())));
    }
    Ok(if existing == dir {
        format!("folder {} exists and is writable", dir.display())
    } else {
        format!(
            "folder {} would be created under {}",
            dir.display(),
            existing.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_sink_is_checked_without_being_created() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("a/b/gold");
        let said = check_folder(&missing).unwrap();
        assert!(said.contains("would be created"), "{said}");
        assert!(!missing.exists());
        let said = check_folder(root.path()).unwrap();
        assert!(said.contains("exists"), "{said}");
        let file = root.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = check_folder(&file.join("gold")).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
    }
}
