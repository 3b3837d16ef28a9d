//! What users run ecrguard through: the GitHub Action's step script (with a fake `GITHUB_*`
//! environment), the pre-commit hooks (the manifest validated, the `system` hook run on a
//! repository by pre-commit itself), and the container image's Dockerfile.

// A test that cannot run here says so on standard error.
#![allow(clippy::print_stderr)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecrguard-pipelines-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the action's script as its composite step would; returns (exit code, stdout, the
/// SARIF, the step summary, the step outputs).
fn action(
    name: &str,
    inputs: &[(&str, &str)],
) -> (Option<i32>, String, Option<Value>, String, String) {
    let dir = scratch(name);
    let sarif = dir.join("out.sarif");
    let summary = dir.join("summary.md");
    let outputs = dir.join("outputs");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/github-action.sh"))
        .current_dir(root())
        .env("INPUT_ECRGUARD", env!("CARGO_BIN_EXE_ecrguard"))
        .env("INPUT_SARIF_FILE", &sarif)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_ACTIONS", "true")
        .env("NO_COLOR", "1");
    for (k, v) in inputs {
        cmd.env(format!("INPUT_{}", k.to_uppercase().replace('-', "_")), v);
    }
    let out = cmd.output().unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let sarif_json = std::fs::read_to_string(&sarif)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    let result = (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        sarif_json,
        read(&summary),
        read(&outputs),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    result
}

#[test]
fn the_action_writes_sarif_a_summary_and_annotations_and_fails_per_fail_on() {
    let (code, stdout, sarif, summary, outputs) = action(
        "findings",
        &[
            ("paths", "examples/terraform"),
            ("sarif-category", "ecrguard/infra"),
        ],
    );
    assert_eq!(code, Some(1), "{stdout}");
    let sarif = sarif.expect("a SARIF file");
    let run = &sarif["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "ecrguard/infra/");
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| r["partialFingerprints"]["ecrguardFingerprint/v2"].is_string())
    );
    // The summary: counts by severity and rule, then findings by resource.
    assert!(summary.starts_with("## ecrguard: "), "{summary}");
    assert!(
        summary.contains("| Severity | Findings |") && summary.contains("| ECR002 |"),
        "{summary}"
    );
    assert!(summary.contains("### Findings by resource"), "{summary}");
    // Annotations on the lines of the findings.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=") || l.starts_with("::warning file=")),
        "{stdout}"
    );
    assert!(
        outputs.contains("exit-code=1") && outputs.contains("sarif-file="),
        "{outputs}"
    );

    // `fail-on: never`: the same report, a passing step.
    let (code, _, sarif, _, outputs) = action(
        "never",
        &[("paths", "examples/terraform"), ("fail-on", "never")],
    );
    assert_eq!(code, Some(0));
    assert_eq!(
        sarif.unwrap()["runs"][0]["automationDetails"]["id"],
        "ecrguard/scan/"
    );
    assert!(outputs.contains("exit-code=0"), "{outputs}");
}

#[test]
fn action_paths_are_split_but_never_glob_expanded() {
    // `*` would match every file of the repository if the shell expanded it: ecrguard must be
    // given the literal path, which does not exist (an error, exit 2).
    let (code, stdout, _, _, _) = action("glob", &[("paths", "examples/terraform *")]);
    assert_eq!(code, Some(2), "{stdout}");
}

fn venv_tool(name: &str) -> Option<PathBuf> {
    let p = root().join(".venv-test/bin").join(name);
    p.is_file().then_some(p)
}

#[test]
fn pre_commit_hooks_validate_and_the_system_hook_scans_a_repository() {
    let Some(pre_commit) = venv_tool("pre-commit") else {
        // Past the test harness's capture: a skip is said even when the test passes.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: pre-commit not installed (scripts/test.sh installs it into .venv-test)\n",
        );
        return;
    };
    let validate = Command::new(&pre_commit)
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    if !root().join(".git").exists() {
        // Past the test harness's capture: a skip is said even when the test passes.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: try-repo needs this repository to be a git checkout\n",
        );
        return;
    }
    // A repository with a public repository policy: the hook fails (exit 1) and says why.
    let repo = scratch("pre-commit");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::write(
        repo.join("main.tf"),
        "resource \"aws_ecr_repository\" \"app\" { name = \"app\" }\n\
         resource \"aws_ecr_repository_policy\" \"app\" {\n  repository = aws_ecr_repository.app.name\n  \
         policy = jsonencode({ Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Principal = \"*\", Action = \"ecr:BatchGetImage\" }] })\n}\n",
    )
    .unwrap();
    git(&["add", "main.tf"]);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_ecrguard"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(&pre_commit)
        .args([
            "try-repo",
            root().to_str().unwrap(),
            "ecrguard-system",
            "--all-files",
        ])
        .current_dir(&repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", repo.join(".cache"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&repo).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ECR002"), "{text}");
}

/// No Docker engine runs here (the client alone answers), so the image is checked as text:
/// a multi-stage release build, a minimal runtime as a non-root user, ecrguard as the entry
/// point, and nothing copied that the build does not need.
#[test]
fn the_dockerfile_builds_in_stages_and_runs_as_non_root() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let from: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(from.len(), 2, "{from:?}");
    assert!(from[0].contains(" AS build"), "{from:?}");
    assert!(text.contains("cargo build --release --locked -p ecrguard"));
    assert!(text.contains("COPY --from=build"));
    let user = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    let name = user.split(':').next().unwrap();
    assert!(name != "root" && name != "0", "runs as {user}");
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/ecrguard\"]"));
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l == "target/"),
        "the build context leaves out target/"
    );
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The HTML report in a real headless Chromium (Debian's, installed by scripts/test.sh): the
/// page loads without console errors or blocked requests, the filter in the address applies
/// (every finding of another severity hidden, the count shown), and a screenshot is made.
#[test]
fn the_html_report_loads_filters_and_renders_in_chromium() {
    let Some(chrome) = chromium() else {
        // Past the test harness's capture: a skip is said even when the test passes.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"skipped: chromium not installed (scripts/test.sh installs Debian's chromium)\n",
        );
        return;
    };
    let dir = scratch("html");
    let page = dir.join("report.html");
    let o = Command::new(env!("CARGO_BIN_EXE_ecrguard"))
        .args([
            "scan",
            "--no-config",
            "examples/terraform",
            "--format",
            "html",
            "--output",
        ])
        .arg(&page)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let total = html.matches("class=\"finding\"").count();
    // A severity some findings have and others do not, to filter by.
    let (wanted, picked) = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| (*s, html.matches(&format!("data-severity=\"{s}\"")).count()))
        .find(|(_, n)| *n > 0 && *n < total)
        .expect("findings of more than one severity");
    let browse = |extra: &[&str]| {
        Command::new(&chrome)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(extra)
            .arg(format!("file://{}#severity={wanted}", page.display()))
            .output()
            .unwrap()
    };
    let dom = browse(&["--dump-dom"]);
    let text = String::from_utf8_lossy(&dom.stdout).to_string();
    let log = String::from_utf8_lossy(&dom.stderr).to_string();
    assert!(
        text.contains("data-ready=\"true\""),
        "the script ran: {log}"
    );
    for bad in ["Uncaught", "Refused to", "ERR_"] {
        assert!(!log.contains(bad), "{bad} in the browser's log: {log}");
    }
    let sections: Vec<&str> = text.split("<section ").skip(1).collect();
    assert_eq!(sections.len(), total);
    for s in &sections {
        let kept = s.contains(&format!("data-severity=\"{wanted}\""));
        let hidden = s.contains(" hidden=\"\"") || s.contains(" hidden>") || s.contains(" hidden ");
        assert_eq!(hidden, !kept, "{s}");
    }
    assert!(
        text.contains(&format!("<span id=\"shown\">{picked}</span>")),
        "the count follows the filter"
    );
    let shot = dir.join("report.png");
    let out = browse(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,1400",
    ]);
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 2000,
        "{} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The Lambda packaging script: it says which architectures can be built here and why the
/// others cannot, and zips a binary as an executable `bootstrap` (given one, no build: a
/// release build belongs to the release, not to the test suite).
#[test]
fn the_lambda_package_is_an_executable_bootstrap() {
    let script = root().join("scripts/package-lambda.sh");
    let check = Command::new("bash")
        .arg(&script)
        .arg("--check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(check.status.success(), "{said}");
    for arch in ["x86_64", "arm64"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(&format!("{arch}: can be built"))
                    || l.starts_with(&format!("{arch}: skipped: "))),
            "{said}"
        );
    }
    let bin = env!("CARGO_BIN_EXE_ecrguard");
    let out = Command::new("bash")
        .arg(&script)
        .arg("x86_64")
        .env("ECRGUARD_PACKAGE_BINARY", bin)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zip = root().join("dist/ecrguard-lambda-x86_64.zip");
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); i = z.getinfo('bootstrap'); \
             print(oct(i.external_attr >> 16), len(z.read('bootstrap')), len(z.namelist()))",
        ])
        .arg(&zip)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listing.stdout).to_string();
    let size = std::fs::metadata(bin).unwrap().len();
    assert_eq!(text.trim(), format!("0o100755 {size} 1"), "{text}");
    // With the config the function runs with, beside the binary.
    let config = root().join("examples/enforce/ecrguard.toml");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--config"])
        .arg(&config)
        .arg("x86_64")
        .env("ECRGUARD_PACKAGE_BINARY", bin)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             print(sorted(z.namelist()), oct(z.getinfo('ecrguard.toml').external_attr >> 16)); \
             sys.stdout.flush(); sys.stdout.buffer.write(z.read('ecrguard.toml'))",
        ])
        .arg(&zip)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listing.stdout).to_string();
    let (head, body) = text.split_once('\n').unwrap();
    assert_eq!(head, "['bootstrap', 'ecrguard.toml'] 0o100644", "{text}");
    assert_eq!(body, std::fs::read_to_string(&config).unwrap());
    std::fs::remove_file(&zip).unwrap();
}
