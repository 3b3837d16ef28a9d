//! A moto server on a free port of 127.0.0.1 (from the project's test venv, which
//! `scripts/test.sh` fills), killed on drop, and the environment that keeps the SDK on it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn venv_bin(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.venv-test/bin")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing: `bash scripts/test.sh` installs moto into .venv-test",
        p.display()
    );
    p
}

/// A moto server, killed on drop.
pub(crate) struct Moto {
    child: Child,
    pub(crate) port: u16,
}

impl Moto {
    /// A moto server without AWS managed policies: enough for every test whose seed names
    /// none, and cheaper (moto builds about a thousand of them for each account's IAM, and an
    /// audit pages through them).
    #[allow(dead_code)]
    pub(crate) fn start() -> Moto {
        Moto::start_with(false)
    }

    /// A moto server with AWS managed policies (`AmazonEKSWorkerNodePolicy`...), for seeds
    /// that attach them.
    #[allow(dead_code)]
    pub(crate) fn start_with_aws_managed_policies() -> Moto {
        Moto::start_with(true)
    }

    fn start_with(aws_managed_policies: bool) -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // AWS managed policies (AmazonEKSWorkerNodePolicy...) exist only with this.
            .env(
                "MOTO_IAM_LOAD_MANAGED_POLICIES",
                if aws_managed_policies {
                    "true"
                } else {
                    "false"
                },
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, port }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Two attempts per call, not five: moto answers the reads it lacks (creation
        // templates, pull-through rules, ECR Public) with a 500, which the SDK retries with
        // exponential backoff, and four backoffs per call were most of these tests' time
        // (measured). One attempt was not enough: on a loaded machine moto, busy rendering
        // IAM's managed policies, sometimes left another call past its 20 s read timeout,
        // which a retry covers. Retries and backoff are audit_faults' subject, with a flag.
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("NO_COLOR", "1");
}

/// Runs a seeding script from `tests/aws/` against `endpoint`.
pub(crate) fn seed(script: &str, endpoint: &str) {
    let _ = seed_with(script, endpoint, &[]);
}

/// Runs a seeding script from `tests/aws/` against `endpoint`, with more arguments; returns
/// what it printed.
pub(crate) fn seed_with(script: &str, endpoint: &str, args: &[&str]) -> String {
    let out = Command::new(venv_bin("python"))
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/aws")
                .join(script),
        )
        .arg(endpoint)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `ecrguard audit --format json ARGS` against `endpoint`; returns the parsed report and
/// the process output (for its exit code and standard error).
pub(crate) fn audit_json(
    endpoint: &str,
    args: &[&str],
) -> (serde_json::Value, std::process::Output) {
    audit_json_unset(endpoint, args, &[])
}

/// [`audit_json`] with some of the usual environment variables removed.
pub(crate) fn audit_json_unset(
    endpoint: &str,
    args: &[&str],
    unset: &[&str],
) -> (serde_json::Value, std::process::Output) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args(["audit", "--format", "json"]).args(args);
    aws_env(&mut cmd, endpoint);
    for var in unset {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (v, out)
}

/// The resources (ARNs) a report's findings of rule `code` are on, sorted, once each.
pub(crate) fn resources(v: &serde_json::Value, code: &str) -> Vec<String> {
    let mut r: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == code)
        .map(|f| f["resource"].as_str().unwrap().to_string())
        .collect();
    r.sort();
    r.dedup();
    r
}

/// The ECR state of the server in us-east-1 (see `tests/aws/state.py`).
pub(crate) fn state(endpoint: &str) -> serde_json::Value {
    serde_json::from_str(&seed_with("state.py", endpoint, &[])).unwrap()
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The registry reads moto does not implement (an HTML 500 per region): every audit lists
/// them as errors, never as "no templates" or "no rules".
pub(crate) const MOTO_REGISTRY_GAPS: [&str; 2] = [
    "ecr:DescribeRepositoryCreationTemplates ",
    "ecr:DescribePullThroughCacheRules ",
];

/// Whether an error message is one of [`MOTO_REGISTRY_GAPS`], with or without the ARN it is
/// placed at (`arn:...:registry: ecr:Describe... (region): ...`, as `to_string` shows it).
#[allow(dead_code)]
pub(crate) fn is_moto_registry_gap(message: &str) -> bool {
    let message = message
        .split_once(": ")
        .filter(|(place, _)| place.starts_with("arn:"))
        .map_or(message, |(_, m)| m);
    MOTO_REGISTRY_GAPS.iter().any(|g| message.starts_with(g))
}
