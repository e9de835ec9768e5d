//! A file that appears at its path only once it is complete: written to `FILE.tmp-<pid>` beside it
//! and renamed to `FILE` by [`PendingFile::commit`]. Dropped uncommitted (a failed run), the
//! partial file is removed and a previous `FILE` stays as it was.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use medallion_core::{Error, Result};

/// An output file being written under a temporary name; see the module documentation.
pub struct PendingFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
}

impl PendingFile {
    /// Starts writing `path` (creating its folder). `flag` names the option that gave the path,
    /// for the error when it is not a file path.
    pub fn create(path: &Path, flag: &str) -> Result<Self> {
        let not_a_file = |what: &str| Error::invalid(flag, format!("{} is {what}", path.display()));
        if path.is_dir() {
            return Err(not_a_file("a directory, not a file"));
        }
        let mut name = path
            .file_name()
            .ok_or_else(|| not_a_file("not a file path"))?
            .to_os_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(name);
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The temporary file being written, for error messages.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Appends `bytes`.
    pub fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.write_all(bytes)
            .map_err(|e| Error::io("writing", &self.tmp, e))
    }

    /// Flushes the file to disk and renames it to its final path, which it returns.
    pub fn commit(mut self) -> Result<PathBuf> {
        if let Some(out) = self.out.take() {
            let file = out
                .into_inner()
                .map_err(|e| Error::io("writing", &self.tmp, e.into_error()))?;
            file.sync_all()
                .map_err(|e| Error::io("writing", &self.tmp, e))?;
        }
        fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("renaming", &self.tmp, e))?;
        Ok(std::mem::take(&mut self.path))
    }
}

impl Write for PendingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.out.as_mut() {
            Some(out) => out.write(buf),
            None => Err(io::Error::other("the file is already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("out.csv");
        let mut file = PendingFile::create(&path, "--out").unwrap();
        file.append(b"a,b\n").unwrap();
        assert!(!path.exists());
        assert!(file.tmp_path().exists());
        assert_eq!(file.commit().unwrap(), path);
        assert_eq!(fs::read_to_string(&path).unwrap(), "a,b\n");
    }

    #[test]
    fn an_uncommitted_file_leaves_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        fs::write(&path, "previous").unwrap();
        let mut file = PendingFile::create(&path, "--out").unwrap();
        file.append(b"partial").unwrap();
        let tmp = file.tmp_path().to_path_buf();
        drop(file);
        assert!(!tmp.exists());
        assert_eq!(fs::read_to_string(&path).unwrap(), "previous");
    }

    #[test]
    fn a_folder_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = PendingFile::create(dir.path(), "--rejects").err().unwrap();
        assert!(err.to_string().contains("--rejects"), "{err}");
        assert!(err.to_string().contains("a directory"), "{err}");
    }
}
