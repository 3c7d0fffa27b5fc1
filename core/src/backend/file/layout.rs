//! Where an election lives on the file store: the files of election `<name>` in the directory
//! (see the store's module doc for what each holds). Names are percent-encoded, so that every
//! election and candidate id is exactly one file name.

use std::path::PathBuf;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters kept as they are in file names; everything else is percent-encoded.
const FILE_NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

#[derive(Clone)]
pub(super) struct Paths {
    pub dir: PathBuf,
    pub base: String,
}

impl Paths {
    pub fn new(dir: PathBuf, election: &str) -> Paths {
        Paths {
            dir,
            base: utf8_percent_encode(election, FILE_NAME).to_string(),
        }
    }
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.base))
    }
    pub fn lock(&self) -> PathBuf {
        self.file("lock")
    }
    pub fn leader(&self) -> PathBuf {
        self.file("leader")
    }
    pub fn next(&self) -> PathBuf {
        self.file("next")
    }
    pub fn ceiling(&self) -> PathBuf {
        self.file("ceiling")
    }
    pub fn members(&self) -> PathBuf {
        self.file("members")
    }
    pub fn member(&self, id: &str) -> PathBuf {
        self.members()
            .join(utf8_percent_encode(id, FILE_NAME).to_string())
    }
}
