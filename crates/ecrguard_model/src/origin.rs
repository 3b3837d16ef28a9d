//! Where a value came from: a span of a file, a JSON pointer into a file, or an AWS API call.

pub use ecrguard_iam::json::Span;
use std::fmt;
use std::sync::OnceLock;

/// Index of a file in a [`SourceDb`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// Where a value was written or read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Bytes of a file (`.tf`, `.yaml`, `.json`).
    Span {
        /// The file.
        file: FileId,
        /// The bytes.
        span: Span,
    },
    /// A JSON pointer into a file (plan JSON), with the span when known.
    Pointer {
        /// The file.
        file: FileId,
        /// RFC 6901 pointer, e.g. `/planned_values/root_module/resources/3/values/policy`.
        pointer: String,
        /// The bytes, when known.
        span: Option<Span>,
    },
    /// An AWS API response.
    Aws {
        /// The resource.
        arn: String,
        /// The region asked.
        region: String,
        /// The API call, e.g. `ecr:GetRepositoryPolicy`.
        call: &'static str,
    },
    /// A whole file (nothing narrower is known).
    File(FileId),
}

impl Origin {
    /// The file, for file origins.
    #[must_use]
    pub fn file(&self) -> Option<FileId> {
        match self {
            Origin::Span { file, .. } | Origin::Pointer { file, .. } | Origin::File(file) => {
                Some(*file)
            }
            Origin::Aws { .. } => None,
        }
    }

    /// The byte span, when known.
    #[must_use]
    pub fn span(&self) -> Option<Span> {
        match self {
            Origin::Span { span, .. } => Some(*span),
            Origin::Pointer { span, .. } => *span,
            Origin::Aws { .. } | Origin::File(_) => None,
        }
    }

    /// The same file with a narrower span, when `span` is known; otherwise `self`.
    #[must_use]
    pub fn narrow(&self, span: Option<Span>) -> Origin {
        match (self.file(), span) {
            (Some(file), Some(span)) => Origin::Span { file, span },
            _ => self.clone(),
        }
    }
}

/// One source file: its path as given and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as the user gave it (or `<stdin>`).
    pub path: String,
    /// Full text.
    pub text: String,
    /// Byte offsets where lines start, computed the first time a line is asked for: most files
    /// of a large scan are never reported on, and their line tables were a sixth of its memory.
    line_starts: OnceLock<Vec<u32>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            // Sized for typical lines up front: grown by doubling, the tables of a large scan
            // were copied over and over.
            let mut starts = Vec::with_capacity(self.text.len() / 32 + 1);
            starts.push(0);
            // Offsets are u32 like every span of the model (a file over 4 GiB saturates).
            starts.extend(
                self.text
                    .match_indices('\n')
                    .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
            );
            starts
        })
    }

    /// 1-based line of a byte offset (clamped to the text).
    #[must_use]
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_index(offset.min(self.text.len())) + 1
    }

    fn line_index(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column of a byte offset (clamped to the text).
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts()[line] as usize;
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its line break.
    #[must_use]
    pub fn line(&self, line: usize) -> &str {
        let starts = self.line_starts();
        let Some(&start) = starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let start = start as usize;
        let end = starts.get(line).map_or(self.text.len(), |&e| e as usize);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Number of lines.
    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }
}

/// All files a run read, so origins can be turned into paths and lines.
#[derive(Debug, Clone, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 4 billion files"));
        self.files.push(SourceFile {
            path: path.into(),
            text,
            line_starts: OnceLock::new(),
        });
        id
    }

    /// The file.
    ///
    /// # Panics
    /// When the id did not come from this database.
    #[must_use]
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file id, in the order added.
    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).map(|i| FileId(u32::try_from(i).expect("fewer than 4 billion files")))
    }

    /// Path, first and last line (1-based) of an origin, when it is in a file.
    #[must_use]
    pub fn lines(&self, origin: &Origin) -> Option<Location> {
        let (path, start_line, end_line) = self.line_range(origin)?;
        Some(Location {
            file: path.to_string(),
            start_line,
            end_line,
        })
    }

    /// [`Self::lines`] without copying the path (for sort keys).
    #[must_use]
    pub fn line_range(&self, origin: &Origin) -> Option<(&str, usize, usize)> {
        let file = self.get(origin.file()?);
        let (start_line, end_line) = match origin.span() {
            Some(span) => (
                file.line_of(span.start as usize),
                file.line_of(
                    (span.end as usize)
                        .saturating_sub(1)
                        .max(span.start as usize),
                ),
            ),
            None => (1, file.line_count().max(1)),
        };
        Some((&file.path, start_line, end_line))
    }
}

/// A file and a range of lines, as shown to users.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Path.
    pub file: String,
    /// First line, 1-based.
    pub start_line: usize,
    /// Last line, 1-based.
    pub end_line: usize,
}

impl Location {
    /// A whole file, without a line: where an error is about the file itself (it cannot be
    /// read, it is not UTF-8, it is a pipe). Lines are 0.
    #[must_use]
    pub fn whole_file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            start_line: 0,
            end_line: 0,
        }
    }

    /// The first line, when the location has one.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        (self.start_line > 0).then_some(self.start_line)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line() {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let mut db = SourceDb::default();
        let id = db.add("p.json", "{\n  \"a\": 1\n}\n");
        let f = db.get(id);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 3));
        assert_eq!(f.line(2), "  \"a\": 1");
        assert_eq!(f.line(9), "");
        let loc = db
            .lines(&Origin::Span {
                file: id,
                span: Span::new(4, 12),
            })
            .unwrap();
        assert_eq!((loc.start_line, loc.end_line), (2, 3));
    }
}
