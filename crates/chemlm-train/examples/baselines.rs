//! Runs the ECFP baselines on one data set and writes a run directory, the same library calls as
//! `chemlm baseline`: `cargo run --release -p chemlm-train --example baselines -- DATASET OUT
//! [MODELS] [SEEDS]`.

use chemlm_train::baselines::{
    open_dataset, run_baselines, write_run, BaselineConfig, BaselineKind,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dataset), Some(out)) = (args.first(), args.get(1)) else {
        return Err("usage: baselines DATASET OUT [MODELS] [SEEDS]".into());
    };
    let (ds, source) = open_dataset(dataset, None, None, None)?;
    let mut cfg = BaselineConfig {
        models: BaselineKind::parse_list(args.get(2).map_or("all", |s| s), ds.task_type)?,
        ..Default::default()
    };
    if let Some(s) = args.get(3) {
        cfg.seeds = s
            .split(',')
            .map(|x| x.trim().parse())
            .collect::<Result<_, _>>()?;
    }
    let report = run_baselines(&ds, &cfg, Some(source.clone()), &mut |l| eprintln!("{l}"))?;
    for (line, reason) in &report.skipped {
        eprintln!("skipped line {line}: {reason}");
    }
    write_run(std::path::Path::new(out), &report, &cfg, &source)?;
    print!("{}", report.to_markdown());
    Ok(())
}
