//! Prints the model adapted from Terraform paths (a debugging aid).
#![allow(clippy::print_stdout)]
fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let scan = ecrguard_terraform::scan(&paths, &ecrguard_terraform::TerraformOptions::default());
    for r in &scan.state.repositories {
        let policy = match &r.policy {
            ecrguard_model::PolicyState::Present(d) => format!(
                "present ({} statements, invalid={})",
                d.policy.statements.len(),
                d.policy.is_invalid()
            ),
            other => format!("{other:?}").chars().take(120).collect(),
        };
        println!(
            "{} name={:?} mut={:?} scan={:?} policy={policy}",
            r.id,
            r.name.known(),
            r.tag_mutability.known(),
            r.scan_on_push.known()
        );
    }
    println!("errors: {:?}", scan.errors);
    println!("not evaluated: {:?}", scan.not_evaluated);
}
