//! Reading one input file as hostile input: a byte budget, only the kinds of file that can
//! hold an input (no device, socket or directory is ever read), a named pipe opened without
//! waiting for a writer, and, for files that an input itself names (Terraform's `file()`),
//! containment in the scan roots after every symbolic link is resolved.
//!
//! Every read of a file in ecrguard goes through here, so a budget or a refusal means the same
//! for a `.tf` file, `--config`, an event or a journal entry.

use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Default budget for one input file: far above any real template, plan or policy (the
/// largest Terraform plans seen in the field are tens of megabytes), far below what a
/// 2 GiB sparse file or `/dev/zero` would cost.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How long a pipe may stay silent before its read is given up: a writer that stalls must
/// not hang a CI job.
const PIPE_IDLE: Duration = Duration::from_secs(30);

/// Which kinds of file a read accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinds {
    /// Regular files only: what a walk finds and what an input names.
    Regular,
    /// Regular files and pipes: a path the user typed, which may be process substitution
    /// (`<(terraform show -json plan)`) or a named pipe.
    RegularOrPipe,
}

/// Why an input file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at that path (or a dangling link).
    NotFound,
    /// A device, socket, directory or (where only regular files are read) a pipe.
    NotAFile(&'static str),
    /// Larger than the byte budget.
    TooLarge {
        /// The budget, in bytes.
        limit: u64,
    },
    /// The path resolves (through `..` or symbolic links) outside every scan root.
    OutsideRoot {
        /// Where it resolves to.
        resolved: PathBuf,
    },
    /// Not UTF-8 text; the line of the first bad byte.
    NotUtf8 {
        /// 1-based line.
        line: usize,
    },
    /// A pipe that stayed silent too long.
    Stalled,
    /// Any other failure of the system call.
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::NotAFile(kind) => write!(f, "is {kind}, not a regular file; not read"),
            ReadError::TooLarge { limit } => write!(
                f,
                "is larger than the input budget of {limit} bytes (`max-file-bytes`); not read"
            ),
            ReadError::OutsideRoot { resolved } => write!(
                f,
                "resolves to `{}`, outside the scanned paths; not read",
                resolved.display()
            ),
            ReadError::NotUtf8 { line } => write!(f, "is not UTF-8 text (line {line})"),
            ReadError::Stalled => write!(
                f,
                "is a pipe that sent nothing for {} s; given up",
                PIPE_IDLE.as_secs()
            ),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::NotFound
        } else {
            ReadError::Io(e)
        }
    }
}

fn kind_name(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// The bytes of an input file, within the budget.
///
/// # Errors
/// See [`ReadError`]: the file is checked (following links) before it is opened, so a device
/// or a named pipe without a writer is never waited on.
pub fn read_bytes(path: &Path, max_bytes: u64, kinds: Kinds) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path)?;
    let pipe = meta.file_type().is_fifo() && kinds == Kinds::RegularOrPipe;
    if let Some(kind) = kind_name(meta.file_type())
        && !pipe
    {
        return Err(ReadError::NotAFile(kind));
    }
    if !pipe && meta.len() > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    if pipe {
        // Opening a named pipe for reading waits for a writer; non-blocking, it does not.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    // The path may have been swapped between the check and the open: check what was opened.
    let opened = file.metadata()?;
    if let Some(kind) = kind_name(opened.file_type())
        && !(pipe && opened.file_type().is_fifo())
    {
        return Err(ReadError::NotAFile(kind));
    }
    if pipe {
        return read_capped(file, max_bytes, true);
    }
    read_regular(file, opened.len(), max_bytes)
}

/// Reads at most `max_bytes` (one more byte tells that the budget was passed). A
/// non-blocking pipe is polled, and given up after [`PIPE_IDLE`] of silence.
fn read_capped(
    reader: impl std::io::Read,
    max_bytes: u64,
    polled: bool,
) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    let mut limited = reader.take(max_bytes + 1);
    let mut buf = [0u8; 64 * 1024];
    let mut last = Instant::now();
    loop {
        match limited.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                last = Instant::now();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if polled && e.kind() == std::io::ErrorKind::WouldBlock => {
                if last.elapsed() > PIPE_IDLE {
                    return Err(ReadError::Stalled);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    if out.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// Standard input, within the budget (it may be `/dev/zero` or an endless stream).
///
/// # Errors
/// Over the budget, not UTF-8, or a failed read.
pub fn read_stdin_text(max_bytes: u64) -> Result<String, ReadError> {
    let bytes = read_capped(std::io::stdin().lock(), max_bytes, false)?;
    utf8(bytes)
}

/// The text of an input file, within the budget.
///
/// # Errors
/// As [`read_bytes`], and [`ReadError::NotUtf8`] with the line of the first bad byte.
pub fn read_text(path: &Path, max_bytes: u64, kinds: Kinds) -> Result<String, ReadError> {
    utf8(read_bytes(path, max_bytes, kinds)?)
}

/// The text of a file the walk found as a regular file: opened without a prior look-up (the
/// walk already looked), non-blocking so that a file swapped for a pipe since cannot hang the
/// read, and checked again on the open handle.
///
/// # Errors
/// As [`read_text`].
pub fn read_walked_text(path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let opened = file.metadata()?;
    if let Some(kind) = kind_name(opened.file_type()) {
        return Err(ReadError::NotAFile(kind));
    }
    utf8(read_regular(file, opened.len(), max_bytes)?)
}

/// Reads an open regular file of `len` bytes straight into a buffer of its size (one more byte
/// tells that it grew past the budget while being read).
fn read_regular(file: std::fs::File, len: u64, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    if len > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    file.take(max_bytes + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// Bytes as UTF-8 text, or the line of the first byte that is not.
///
/// # Errors
/// [`ReadError::NotUtf8`].
pub fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        ReadError::NotUtf8 { line }
    })
}

/// The directories a scan may read files from, each with every symbolic link resolved: for
/// each path given (a file given alone stands for its directory), the checkout it lies in
/// (the nearest directory above it holding `.git`), else the path itself. A file that an input
/// names is read only when it resolves inside one of them.
///
/// The checkout, not just the path: `ecrguard scan envs/prod` must follow
/// `source = "../../modules/ecr"` and `file("${path.module}/../../policies/x.json")` as
/// Terraform does, and everything in the checkout was written by the same author as the code
/// under scan. What lies outside it (the runner's home, `/proc`, `/etc`, other checkouts) is
/// never read.
#[derive(Debug, Clone, Default)]
pub struct ScanRoots {
    roots: Vec<PathBuf>,
}

/// The nearest directory at or above `dir` that holds `.git` (a directory, or the file of a
/// worktree or submodule).
fn checkout_of(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").symlink_metadata().is_ok())
        .map(Path::to_path_buf)
}

impl ScanRoots {
    /// The roots of a scan of `paths` (paths that do not exist are left out).
    #[must_use]
    pub fn new(paths: &[PathBuf]) -> Self {
        let mut roots: Vec<PathBuf> = paths
            .iter()
            .filter_map(|p| {
                let real = std::fs::canonicalize(p).ok()?;
                let dir = if real.is_dir() {
                    real
                } else {
                    real.parent()?.to_path_buf()
                };
                Some(checkout_of(&dir).unwrap_or(dir))
            })
            .collect();
        roots.sort();
        roots.dedup();
        ScanRoots { roots }
    }

    /// The first root, if any.
    #[must_use]
    pub fn first(&self) -> Option<&Path> {
        self.roots.first().map(PathBuf::as_path)
    }

    /// Whether a path with its links resolved lies inside a root.
    #[must_use]
    pub fn contains(&self, real: &Path) -> bool {
        self.roots.iter().any(|r| real.starts_with(r))
    }

    /// The path with its links resolved, if it lies inside a root.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for a missing file or dangling link,
    /// [`ReadError::OutsideRoot`] when it resolves elsewhere.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let real = std::fs::canonicalize(path)?;
        if self.contains(&real) {
            Ok(real)
        } else {
            Err(ReadError::OutsideRoot { resolved: real })
        }
    }

    /// The text of a file that an input names: inside a root, a regular file, within budget.
    ///
    /// # Errors
    /// As [`ScanRoots::resolve`] and [`read_text`].
    pub fn read_named_by_input(&self, path: &Path, max_bytes: u64) -> Result<String, ReadError> {
        let real = self.resolve(path)?;
        read_text(&real, max_bytes, Kinds::Regular)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo {}", path.display());
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ecrguard-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        let e = read_bytes(Path::new("/dev/zero"), 1024, Kinds::RegularOrPipe).unwrap_err();
        assert!(matches!(e, ReadError::NotAFile("a device")), "{e:?}");
        let e = read_bytes(Path::new("/tmp"), 1024, Kinds::Regular).unwrap_err();
        assert!(matches!(e, ReadError::NotAFile("a directory")), "{e:?}");
        assert!(e.to_string().contains("not a regular file"));
    }

    #[test]
    fn a_file_over_the_budget_is_refused_and_one_within_is_read() {
        let d = dir("budget");
        let f = d.join("big.tf");
        std::fs::write(&f, vec![b'a'; 2048]).unwrap();
        assert!(matches!(
            read_bytes(&f, 2047, Kinds::Regular),
            Err(ReadError::TooLarge { limit: 2047 })
        ));
        assert_eq!(read_bytes(&f, 2048, Kinds::Regular).unwrap().len(), 2048);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_sparse_file_of_gigabytes_is_refused_by_its_size() {
        let d = dir("sparse");
        let f = d.join("sparse.tf");
        let file = std::fs::File::create(&f).unwrap();
        file.set_len(2 * 1024 * 1024 * 1024).unwrap();
        assert!(matches!(
            read_text(&f, DEFAULT_MAX_FILE_BYTES, Kinds::Regular),
            Err(ReadError::TooLarge { .. })
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_named_pipe_without_writer_does_not_hang() {
        let d = dir("fifo");
        let f = d.join("pipe.json");
        let status = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .unwrap();
        assert!(status.success());
        // Where only regular files are read, it is refused before it is opened.
        assert!(matches!(
            read_bytes(&f, 1024, Kinds::Regular),
            Err(ReadError::NotAFile("a named pipe"))
        ));
        // A pipe the user named: opened without waiting, read to its end (no writer: empty).
        assert_eq!(read_bytes(&f, 1024, Kinds::RegularOrPipe).unwrap(), b"");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn walked_files_are_read_without_a_lookup_and_still_checked() {
        let d = dir("walked");
        let f = d.join("main.tf");
        std::fs::write(&f, "x = 1\n").unwrap();
        assert_eq!(read_walked_text(&f, 1024).unwrap(), "x = 1\n");
        assert!(matches!(
            read_walked_text(&f, 3),
            Err(ReadError::TooLarge { limit: 3 })
        ));
        // Swapped for a pipe after the walk: refused at once, not waited on.
        std::fs::remove_file(&f).unwrap();
        mkfifo(&f);
        assert!(matches!(
            read_walked_text(&f, 1024),
            Err(ReadError::NotAFile("a named pipe"))
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_pipe_with_a_writer_is_read_within_the_budget() {
        let d = dir("fifo-writer");
        let f = d.join("plan.json");
        mkfifo(&f);
        let writer_path = f.clone();
        let writer = std::thread::spawn(move || {
            use std::io::Write as _;
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .open(&writer_path)
                .unwrap();
            let _ = w.write_all(&[b'x'; 10_000]);
        });
        // The writer opens the pipe; wait until it is there so the read sees its data.
        std::thread::sleep(Duration::from_millis(50));
        let got = read_bytes(&f, 100_000, Kinds::RegularOrPipe);
        writer.join().unwrap();
        // Either the writer was already connected (all of it) or not yet (empty): never a hang.
        let got = got.unwrap();
        assert!(got.is_empty() || got.len() == 10_000, "{}", got.len());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_endless_stream_stops_at_the_budget() {
        let zero = std::fs::File::open("/dev/zero").unwrap();
        assert!(matches!(
            read_capped(zero, 1 << 20, false),
            Err(ReadError::TooLarge { limit }) if limit == 1 << 20
        ));
    }

    #[test]
    fn non_utf8_names_its_line() {
        let e = utf8(b"a\nb\n\xff".to_vec()).unwrap_err();
        assert!(matches!(e, ReadError::NotUtf8 { line: 3 }), "{e:?}");
    }

    #[test]
    fn files_named_by_an_input_stay_inside_the_roots() {
        let d = dir("roots");
        let root = d.join("repo");
        std::fs::create_dir_all(root.join("mod")).unwrap();
        std::fs::write(root.join("mod/policy.json"), "{}").unwrap();
        std::fs::write(d.join("secret.txt"), "AWS_SECRET").unwrap();
        std::os::unix::fs::symlink(d.join("secret.txt"), root.join("mod/link.json")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", root.join("mod/env.json")).unwrap();
        let roots = ScanRoots::new(std::slice::from_ref(&root));
        assert_eq!(
            roots
                .read_named_by_input(&root.join("mod/policy.json"), 1024)
                .unwrap(),
            "{}"
        );
        for escape in [
            root.join("mod/../../secret.txt"),
            root.join("mod/link.json"),
            root.join("mod/env.json"),
            PathBuf::from("/proc/self/environ"),
            PathBuf::from("/etc/passwd"),
        ] {
            let e = roots.read_named_by_input(&escape, 1024).unwrap_err();
            assert!(
                matches!(e, ReadError::OutsideRoot { .. }),
                "{}: {e:?}",
                escape.display()
            );
        }
        // Inside a checkout, its whole tree is readable, and nothing above it.
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let in_checkout = ScanRoots::new(&[root.join("mod")]);
        assert!(
            in_checkout
                .read_named_by_input(&root.join("mod/policy.json"), 1024)
                .is_ok()
        );
        assert!(in_checkout.contains(&std::fs::canonicalize(&root).unwrap()));
        assert!(
            in_checkout
                .read_named_by_input(&d.join("secret.txt"), 1024)
                .is_err()
        );
        std::fs::remove_dir_all(root.join(".git")).unwrap();
        // A file given alone stands for its directory.
        let alone = ScanRoots::new(&[root.join("mod/policy.json")]);
        assert!(alone.contains(&std::fs::canonicalize(root.join("mod")).unwrap()));
        assert!(!alone.contains(&std::fs::canonicalize(&root).unwrap()));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
