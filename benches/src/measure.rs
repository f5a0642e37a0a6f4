//! Measuring: wall time of closures on rayon pools of a fixed size, medians
//! over repetitions, and wall time plus peak memory of a child process
//! (`wait4`'s `ru_maxrss`, exact for that one child).
//!
//! Only measures; what is measured and how it is printed is the caller's.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A rayon pool of exactly `threads` threads.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("bench-{threads}t-{i}"))
        .build()
        .expect("build a rayon pool")
}

/// Runs `f` on `pool` and returns its wall time. The result is dropped
/// after the clock stops, so freeing it is not counted.
pub fn time_on<T: Send>(pool: &rayon::ThreadPool, f: impl FnOnce() -> T + Send) -> Duration {
    let (elapsed, value) = pool.install(|| {
        let start = Instant::now();
        let value = f();
        (start.elapsed(), value)
    });
    drop(value);
    elapsed
}

/// CPU time of the calling thread (user + system).
pub fn thread_cpu() -> Duration {
    // SAFETY: an all-zero timespec is valid; clock_gettime only writes it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A timed run on a pool: its wall time, and the CPU time of the busiest
/// pool thread — the critical path, which other processes sharing the
/// cores do not lengthen (they lengthen the wall time instead).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timed {
    pub wall: Duration,
    pub critical_cpu: Duration,
    pub total_cpu: Duration,
}

/// Like [`time_on`], also measuring every pool thread's CPU time.
pub fn time_on_cpu<T: Send>(pool: &rayon::ThreadPool, f: impl FnOnce() -> T + Send) -> Timed {
    let before: Vec<Duration> = pool.broadcast(|_| thread_cpu());
    let (wall, value) = pool.install(|| {
        let start = Instant::now();
        let value = f();
        (start.elapsed(), value)
    });
    let after: Vec<Duration> = pool.broadcast(|_| thread_cpu());
    drop(value);
    let deltas: Vec<Duration> = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.saturating_sub(*b))
        .collect();
    Timed {
        wall,
        critical_cpu: deltas.iter().copied().max().unwrap_or_default(),
        total_cpu: deltas.iter().sum(),
    }
}

/// The median of some durations (the lower middle for an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut v = times.to_vec();
    v.sort();
    v[(v.len() - 1) / 2]
}

/// The shortest of some durations: noise from other processes only ever
/// adds time, so the best run is the closest to the true cost.
pub fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

/// What a child process took.
#[derive(Clone, Copy, Debug)]
pub struct ChildRun {
    pub wall: Duration,
    /// Peak resident set size in bytes.
    pub max_rss: u64,
    pub user: Duration,
    pub system: Duration,
    pub exit_code: Option<i32>,
}

/// How much of a child's standard error [`run_child`] keeps: the tail,
/// where the summary line is (a big corpus can print gigabytes).
const STDERR_TAIL: usize = 64 * 1024;

/// Runs `program args…` to completion with stdout discarded and stderr
/// drained, and measures it. Returns the measurement and the last 64 KiB
/// of stderr.
pub fn run_child(program: &Path, args: &[&std::ffi::OsStr]) -> std::io::Result<(ChildRun, String)> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain stderr on a thread so a chatty child cannot block on a full
    // pipe; keep only its tail.
    let mut err = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut tail: Vec<u8> = Vec::with_capacity(2 * STDERR_TAIL);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match std::io::Read::read(&mut err, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tail.extend_from_slice(&buf[..n]);
                    if tail.len() > 2 * STDERR_TAIL {
                        tail.drain(..tail.len() - STDERR_TAIL);
                    }
                }
            }
        }
        String::from_utf8_lossy(&tail).into_owned()
    });
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (we never call
    // `Child::wait`); `status` and `usage` are valid for writes.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let stderr = reader.join().unwrap_or_default();
    let exit_code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    Ok((
        ChildRun {
            wall,
            // Linux reports ru_maxrss in kilobytes.
            max_rss: usage.ru_maxrss as u64 * 1024,
            user: tv(usage.ru_utime),
            system: tv(usage.ru_stime),
            exit_code,
        },
        stderr,
    ))
}

/// CPU time (user + system) this process has used so far, all threads.
pub fn own_cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is valid; getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// This process's own peak resident set size (VmHWM), in bytes.
pub fn own_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Asks the kernel to drop the page cache (root only), so the next run
/// reads the plan files from disk. Returns whether it worked.
pub fn drop_page_cache() -> bool {
    // SAFETY: sync(2) has no preconditions.
    unsafe { libc::sync() };
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// Jiffies of all CPUs: (busy, total), from the first line of /proc/stat.
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    // idle and iowait are the 4th and 5th fields.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// The share of the whole machine's CPU time that was busy during
/// `window` (0.0 ..= 1.0), this process included.
pub fn machine_busy(window: Duration) -> Option<f64> {
    let (b0, t0) = cpu_jiffies()?;
    std::thread::sleep(window);
    let (b1, t1) = cpu_jiffies()?;
    let dt = t1.saturating_sub(t0);
    (dt > 0).then(|| b1.saturating_sub(b0) as f64 / dt as f64)
}

/// Waits (up to `max_wait`) until the machine is nearly idle, so that a
/// measurement does not share the cores with someone else's build. Returns
/// the busy share seen last: above `threshold` means it gave up waiting.
pub fn wait_until_idle(max_wait: Duration, threshold: f64) -> f64 {
    let start = Instant::now();
    loop {
        let busy = machine_busy(Duration::from_millis(250)).unwrap_or(0.0);
        if busy <= threshold || start.elapsed() >= max_wait {
            return busy;
        }
        std::thread::sleep(Duration::from_millis(750));
    }
}

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1741000), "1,741,000");
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(median(&[ms(4), ms(1), ms(2), ms(3)]), ms(2));
    }

    #[test]
    fn measures_a_child() {
        let (run, _) = run_child(Path::new("/bin/sh"), &["-c".as_ref(), "exit 3".as_ref()])
            .expect("run /bin/sh");
        assert_eq!(run.exit_code, Some(3));
        assert!(run.max_rss > 0);
    }
}
