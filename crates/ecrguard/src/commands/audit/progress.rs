//! One progress line on a terminal's standard error while an audit runs: accounts, regions
//! and repositories done. Reads the collector's counters; the collector never waits on it.

use ecrguard_aws::collect::Progress;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub(crate) struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Display {
    /// Starts drawing when `enabled` (a terminal, not `--quiet`); otherwise does nothing.
    pub(crate) fn start(
        enabled: bool,
        progress: Arc<Progress>,
        accounts_total: usize,
        regions_total: usize,
    ) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut err = std::io::stderr();
                while !stop.load(Ordering::Relaxed) {
                    let _ = write!(
                        err,
                        "\r\x1b[2Kaudit: accounts {}/{accounts_total}, regions {}/{regions_total}, repositories {}/{}",
                        progress.accounts_done.load(Ordering::Relaxed),
                        progress.regions_done.load(Ordering::Relaxed),
                        progress.repositories_done.load(Ordering::Relaxed),
                        progress.repositories_found.load(Ordering::Relaxed),
                    );
                    let _ = err.flush();
                    std::thread::sleep(Duration::from_millis(150));
                }
                // Leave the terminal as it was.
                let _ = write!(err, "\r\x1b[2K");
                let _ = err.flush();
            })
        });
        Display { stop, thread }
    }

    /// Stops drawing and clears the line.
    pub(crate) fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
