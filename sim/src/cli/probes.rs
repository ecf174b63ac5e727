//! `failover-sim probes`: the fidelity probes, for a person.

use std::process::ExitCode;

use crate::fidelity::{probes, real_lab, sim_lab};

pub fn run_probes(names: &[String], real: bool, seed: u64, json: bool) -> ExitCode {
    let all = probes::all();
    for n in names {
        if !all.iter().any(|p| p.name == n) {
            let known: Vec<&str> = all.iter().map(|p| p.name).collect();
            eprintln!(
                "error: no probe named {n:?}; known probes: {}",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut failed = false;
    let mut results = Vec::new();
    for probe in all
        .iter()
        .filter(|p| names.is_empty() || names.iter().any(|n| n == p.name))
    {
        let model = sim_lab::run(probe, seed);
        let mut verdict = serde_json::json!({ "probe": probe.name, "model": model.render() });
        if real {
            match rt.block_on(real_lab::run(probe)) {
                Ok(real) => {
                    let cmp = model.compare(&real, std::time::Duration::from_millis(1500));
                    failed |= cmp.is_err();
                    verdict["real"] = real.render().into();
                    verdict["agree"] = cmp.is_ok().into();
                    verdict["differences"] = cmp.err().unwrap_or_default().into();
                }
                Err(e) => {
                    failed = true;
                    verdict["error"] = e.into();
                }
            }
        }
        if !json {
            println!(
                "=== {} (model, seed {seed})\n{}",
                probe.name,
                model.render()
            );
            if let Some(r) = verdict.get("real").and_then(|r| r.as_str()) {
                println!("=== {} (real)\n{r}", probe.name);
                match verdict["agree"].as_bool() {
                    Some(true) => println!("=== {}: model and real agree\n", probe.name),
                    _ => println!(
                        "=== {}: DIFFERENT\n{}",
                        probe.name,
                        verdict["differences"].as_str().unwrap_or_default()
                    ),
                }
            }
            if let Some(e) = verdict.get("error") {
                println!("=== {}: could not run the real side: {e}", probe.name);
            }
        }
        results.push(verdict);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results).expect("json"));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
