//! `ecrguard audit` against a real AWS API emulator: a moto server started here on a free
//! port of 127.0.0.1 (from the project's test venv, `scripts/test.sh` installs it), seeded
//! with boto3, and killed when the test ends. Static dummy credentials, IMDS off, and the
//! global `AWS_ENDPOINT_URL`, so that nothing leaves 127.0.0.1.

use serde_json::Value;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn venv_bin(name: &str) -> PathBuf {
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
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
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

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
}

#[test]
fn audit_reports_every_finding_and_non_finding() {
    let moto = Moto::start();
    let seed = Command::new(venv_bin("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/seed.py"))
        .arg(moto.endpoint())
        .output()
        .unwrap();
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecrguard"));
    cmd.args([
        "audit",
        "--regions",
        "us-east-1,eu-west-1",
        "--format",
        "json",
        "--trusted-account",
        "333333333333",
    ]);
    aws_env(&mut cmd, &moto.endpoint());
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));

    let on = |code: &str| -> Vec<String> {
        let mut r: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == code)
            .map(|f| {
                f["resource"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        r.sort();
        r.dedup();
        r
    };
    assert_eq!(on("ECR002"), ["eu-public", "public"], "public: {text}");
    assert_eq!(on("ECR003"), ["cross-account", "org-scoped"]);
    assert_eq!(on("ECR001"), ["no-policy"]);
    assert_eq!(on("ECR010"), ["mutable"]);
    assert_eq!(on("ECR011"), ["mutable"]);
    assert_eq!(
        on("ECR013"),
        [
            "cross-account",
            "eu-public",
            "mutable",
            "no-policy",
            "org-scoped",
            "public"
        ]
    );
    assert_eq!(on("ECR004"), ["eu-public"], "ecr:* to everyone");
    // Findings carry the ARN; the account and region come from the API.
    let public = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "ECR002")
        .unwrap();
    assert!(
        public["resource"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:ecr:")
    );
    // Every error is listed with its call; nothing was silently dropped.
    for e in v["errors"].as_array().unwrap() {
        let m = e["message"].as_str().unwrap();
        assert!(
            m.starts_with("ecr:") || m.starts_with("sts:") || m.starts_with("missing permission"),
            "{m}"
        );
    }
    let code = out.status.code();
    if v["errors"].as_array().unwrap().is_empty() {
        assert_eq!(code, Some(1));
    } else {
        assert_eq!(code, Some(2), "errors make the result incomplete");
    }
}
